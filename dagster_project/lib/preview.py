"""Dagster's Beta/Preview notices for the few non-stable APIs the code location uses on purpose.

- partitioned asset checks (`AssetCheckSpec(partitions_def=...)`, `@dg.asset_check(partitions_def=...)`):
  preview; every check here runs per ASIN;
- `backfill_policy` on `@dg.asset`: beta; a backfill batches ASINs into one run;
- an asset job over assets of different backfill policies (a publish run with its turntable);
- a sensor that requests runs of two jobs (`jobs=[ingest_job, ingest_batch_job]`): Dagster
  rebuilds it with its resources through an initializer whose `owners` parameter is beta, even
  though no owner is set;
- `load_definitions_from_package_module`: preview; it loads the `defs/` folder without the
  components machinery, whose plugin discovery (every installed integration's components)
  cost each run process about 1.5 s of its start.
They would print on every load of the code location (`dagster`, `dagster-daemon`, `shazam`):
a notice nobody can act on. The lock file pins the Dagster version these APIs were tested with,
so a release that changes them is a deliberate upgrade, run through the test suite.
"""

import warnings

KNOWN_NOTICES = (
    r"Specifying a partitions_def on an AssetCheckSpec is currently in preview",
    r"Parameter `partitions_def` of .* is currently in (beta|preview)",
    r"Parameter `backfill_policy` of function `asset` is currently in beta",
    r"Asset job \w+ materializes assets with varying BackfillPolicies",
    r"Function `load_definitions_from_(package_module|modules)` is currently in preview",
    r"Parameter `owners` of initializer `SensorDefinition.__init__` is currently in beta",
)


def silence_known_notices() -> None:
    """Ignore exactly the notices above (once per process; other warnings still print)."""
    for notice in KNOWN_NOTICES:
        warnings.filterwarnings("ignore", message=notice)
