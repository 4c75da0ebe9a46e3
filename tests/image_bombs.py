"""Generators of hostile images: tiny files that declare enormous pictures.

Built by code, never committed as blobs. Rows of zero bytes compress about 1000:1 with zlib, so
a PNG that decodes to gigabytes is a few hundred kilobytes to a few megabytes.
"""

from __future__ import annotations

import struct
import zlib

_ROWS_PER_BLOCK = 64


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _zero_rows_zlib(row: bytes, height: int) -> bytes:
    """zlib stream of `row` repeated `height` times, without compressing every row: after a
    full flush deflate forgets its history, so the bytes for one block of rows, flushed, stand
    for every later identical block. Only the Adler-32 checksum still reads all the data."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate; header and checksum below
    blocks, rest = divmod(height, _ROWS_PER_BLOCK)
    block = row * _ROWS_PER_BLOCK
    parts = []
    adler = 1
    if blocks:
        first = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
        again = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH) if blocks > 1 else b""
        parts = [first, again * (blocks - 1)]
        for _ in range(blocks):
            adler = zlib.adler32(block, adler)
    tail = row * rest
    parts.append(packer.compress(tail) + packer.flush(zlib.Z_FINISH))
    adler = zlib.adler32(tail, adler)
    return b"\x78\xda" + b"".join(parts) + struct.pack(">I", adler)


def png_bomb(width: int, height: int) -> bytes:
    """A valid, black, 8-bit RGB PNG of `width` x `height` pixels (CRCs, zlib stream and its
    checksum intact). 13000 x 13000 is 493 KB and 507 MB of pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    row = b"\x00" * (1 + 3 * width)  # filter byte "None" + black pixels
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", _zero_rows_zlib(row, height))
        + _chunk(b"IEND", b"")
    )
