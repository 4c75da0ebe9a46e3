"""What the Dagster stages under `defs/` share, so that no stage imports another: asset and
check `keys`, run `configs`, `cadence` (sensor interval, batch sizes), `code_versions`,
`partitions`, `resources`, `retries`, `runs` (what a run's tags say), `k8s`, the `preview`
notices; and the operator tools the CLI and the staleness schedules call (`backfills`,
`failures`), which get the code location's asset graph passed in. Dagster's private API is
used in `dagster_internals` only."""
