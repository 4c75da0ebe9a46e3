"""Render: 360° turntables of each ASIN's published version, on GPU nodes in production."""
