"""How often the sensors look and how many ASINs one backfill run takes."""

from shazam_assets.platform.settings import Settings

# Seconds between two ticks of the store-watching sensors (decisions, published pointers, scan
# data): `SHAZAM_SENSOR_INTERVAL_S`, 15 by default, 5 on the embedded default (settings.py).
SENSOR_INTERVAL_S = Settings.from_env(only=("sensor_interval_s",)).sensor_interval_s

# Seconds between two ticks of the upload sensors: what an artist waits for before the run
# starts. Dagster's sensor daemon evaluates sensors at most every 5 s (its loop), so a lower
# value gains nothing. A tick costs one cursor-based listing pass (a few ms for a few thousand
# uploads, ~5 s at 100k on a local disk: bench_sensor_scan.py) or one SQS poll.
UPLOAD_SENSOR_INTERVAL_S = 5

# ASINs per run when a backfill re-renders many: the run's start (on Kubernetes a pod, a GPU
# node, the Filament engine) is paid once per batch; 20 renders take about a minute on a GPU.
# The product pages of a render backfill batch with their turntables.
RENDER_BATCH = 20

# ASINs per re-validation run: the per-run cost (process start, code load, run bookkeeping,
# ~2-4 s) is shared by the batch, and one batch still finishes in a minute or so (~30 ms each).
REVALIDATION_BATCH = 200
