"""Operations: staleness backfills, re-validation, run-failure notifications, store
housekeeping and the pipeline's own metrics."""
