"""How often the sensors look and how many ASINs one backfill run takes."""

from shazam_assets.platform.settings import Settings

# Seconds between two ticks of the store-watching sensors (decisions, published pointers, scan
# data): `SHAZAM_SENSOR_INTERVAL_S`, 15 by default, 5 on the embedded default (settings.py).
SENSOR_INTERVAL_S = Settings.from_env(only=("sensor_interval_s",)).sensor_interval_s

# The upload sensors' minimum interval. Dagster's sensor daemon starts an evaluation at most every
# 5 s (its loop), and an upload tick that finds nothing waits up to SHAZAM_UPLOAD_WAIT_S (4 s)
# for an upload, so a tick is already looking when most uploads land. 1 s rather than 5: with
# 5, a tick that started a moment later in its loop than the previous one would be skipped
# (under the interval) and the uploads would wait a whole extra loop.
UPLOAD_SENSOR_INTERVAL_S = 1

# ASINs per run when a backfill re-renders many: the run's start (on Kubernetes a pod, a GPU
# node, the Filament engine) is paid once per batch; 20 renders take about a minute on a GPU.
# The product pages of a render backfill batch with their turntables.
RENDER_BATCH = 20

# ASINs per re-validation run: the per-run cost (process start, code load, run bookkeeping,
# ~2-4 s) is shared by the batch, and one batch still finishes in a minute or so (~30 ms each).
REVALIDATION_BATCH = 200
