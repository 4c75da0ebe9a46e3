"""Production: the work before the delivery (an artist's cleanup, UV and texturing of a scan)."""
