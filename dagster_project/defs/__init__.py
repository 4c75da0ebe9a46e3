"""One folder per stage of the pipeline, each holding only its definitions (assets, checks,
jobs, sensors, schedules); `dagster_project/definitions.py` loads them all. Shared keys,
configs, intervals and helpers are in `dagster_project/lib/`: a stage imports nothing from
another stage."""
