"""How often the sensors look and how many ASINs one backfill run takes."""

# Seconds between two ticks of the store-watching sensors (uploads, decisions, published pointers).
SENSOR_INTERVAL_S = 15

# ASINs per run when a backfill re-renders many: the run's start (on Kubernetes a pod, a GPU
# node, the Filament engine) is paid once per batch; 20 renders take about a minute on a GPU.
# The product pages of a render backfill batch with their turntables.
RENDER_BATCH = 20

# ASINs per re-validation run: the per-run cost (process start, code load, run bookkeeping,
# ~2-4 s) is shared by the batch, and one batch still finishes in a minute or so (~30 ms each).
REVALIDATION_BATCH = 200
