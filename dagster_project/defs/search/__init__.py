"""Search: each published ASIN's entry in the search index, and the nightly full rebuild."""
