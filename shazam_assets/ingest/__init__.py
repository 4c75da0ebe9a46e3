"""Stage 1: an upload is found, its delivery validated, and it is stored as a new immutable version."""
