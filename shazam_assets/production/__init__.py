"""Production tracking: the work on an ASIN before its delivery ZIP exists.

Scan data arrives, a lead assigns the ASIN to an artist, the artist marks cleanup, UV and
texturing done, then uploads the delivery (the ingest stage takes it from there).
"""
