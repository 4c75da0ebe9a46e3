"""Reading across the stages: status, metrics, backfills and the metrics report."""
