"""Ingest: an uploaded ZIP becomes a validated delivery, then a stored, immutable version."""
