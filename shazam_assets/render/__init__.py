"""Stage 3: the 360° turntable of an approved version, drawn with the platform's studio renderer."""
