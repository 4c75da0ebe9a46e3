"""Publish: the product page (and, in the same run, the turntable and search entry) whenever
an ASIN's published version changes."""
