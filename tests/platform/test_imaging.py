"""Bounded image decoding: a header that declares too many pixels is refused before any pixel
is decoded, everywhere a picture from outside is read (here: the module and QA's photo reader;
validation and search are tested through `shazam validate` and `shazam serve`)."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from shazam_assets.platform import imaging
from shazam_assets.platform.imaging import ImageLimits, ImageRefused
from tests.image_bombs import png_bomb


def _encoded(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "limits", "code"),
    [
        (png_bomb(13000, 13000), imaging.DEFAULT_LIMITS, "IMAGE_TOO_MANY_PIXELS"),
        (png_bomb(30000, 30000), imaging.DEFAULT_LIMITS, "IMAGE_TOO_MANY_PIXELS"),  # > Pillow's own
        (png_bomb(300, 300), ImageLimits(max_pixels=300 * 299), "IMAGE_TOO_MANY_PIXELS"),
        (png_bomb(300, 300), ImageLimits(max_bytes=100), "IMAGE_TOO_LARGE"),
        (b"\x89PNG\r\n\x1a\n garbage", imaging.DEFAULT_LIMITS, "IMAGE_UNREADABLE"),
        (png_bomb(300, 300)[:-200], imaging.DEFAULT_LIMITS, "IMAGE_UNREADABLE"),
        (_encoded(Image.new("RGB", (64, 64)), "TIFF"), imaging.DEFAULT_LIMITS, "IMAGE_UNREADABLE"),
        (_encoded(Image.new("RGB", (64, 64)), "EPS"), imaging.DEFAULT_LIMITS, "IMAGE_UNREADABLE"),
    ],
    ids=["13000px", "30000px", "one-row-over", "bytes", "garbage", "truncated", "tiff", "eps"],
)
def test_refusals_have_a_code_and_name_no_stream(
    data: bytes, limits: ImageLimits, code: str
) -> None:
    with pytest.raises(ImageRefused) as refused:
        imaging.decode(data, limits=limits)
    assert refused.value.code == code
    assert "BytesIO" not in refused.value.message and "0x" not in refused.value.message


def test_decode_reduces_to_what_the_caller_needs(tmp_path: Path) -> None:
    photo = Image.linear_gradient("L").resize((4000, 3000)).convert("RGB")
    jpeg = imaging.decode(_encoded(photo, "JPEG"), longest=500)  # DCT scaling: 1/8
    assert jpeg.mode == "RGB" and jpeg.size == (500, 375)
    png = tmp_path / "p.png"
    photo.save(png)
    assert imaging.decode(png, longest=600).size == (667, 500)  # reduce(6): never below 600
    assert imaging.decode(png).size == (4000, 3000)
    cutout = Image.new("RGBA", (64, 64), (255, 0, 0, 0))
    cutout.paste((0, 0, 255, 255), (17, 17, 47, 47))
    small = imaging.decode(_encoded(cutout, "PNG"), longest=32)
    assert small.mode == "RGBA" and small.size == (32, 32)
    # premultiplied reduce: the transparent red never bleeds into the blue square's edge
    red, _, blue, alpha = small.getpixel((8, 8))  # 1 of its 4 source pixels is blue
    assert red == 0 and blue > 250 and alpha in (63, 64)


_PEAK = """
import sys
from pathlib import Path
from shazam_assets.qa.scoring import read_photo
try:
    read_photo(Path(sys.argv[1]))
    outcome = "decoded"
except Exception as exc:
    outcome = getattr(exc, "code", type(exc).__name__)
# VmHWM, not ru_maxrss: Linux carries the forking parent's high-water mark into ru_maxrss.
status = Path("/proc/self/status").read_text()
print(outcome, int(next(l.split()[1] for l in status.splitlines() if l.startswith("VmHWM"))) // 1024)
"""


def _qa_peak(photo: Path) -> tuple[str, int]:
    """QA's photo reader in a fresh process: its outcome and the process's peak RSS in MB."""
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, str(photo)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    outcome, peak_mb = done.stdout.split()
    return outcome, int(peak_mb)


def test_qa_refuses_a_decompression_bomb_without_decoding_it(tmp_path: Path) -> None:
    bomb = tmp_path / "front.png"
    bomb.write_bytes(png_bomb(13000, 13000))  # 493 KB; 3.6 GB of RSS before the fix
    baseline = tmp_path / "small.png"
    baseline.write_bytes(png_bomb(64, 64))
    _, base_mb = _qa_peak(baseline)
    outcome, peak_mb = _qa_peak(bomb)
    assert outcome == "IMAGE_TOO_MANY_PIXELS"
    assert peak_mb - base_mb < 50, (base_mb, peak_mb)


def test_qa_reads_a_large_jpeg_at_reduced_scale(tmp_path: Path) -> None:
    photo = tmp_path / "front.jpg"
    Image.new("RGB", (8000, 6000), (120, 80, 40)).save(photo, quality=80)  # 48 MP: allowed
    baseline = tmp_path / "small.jpg"
    Image.new("RGB", (256, 192), (120, 80, 40)).save(baseline)
    _, base_mb = _qa_peak(baseline)
    outcome, peak_mb = _qa_peak(photo)
    assert outcome == "decoded"
    assert peak_mb - base_mb < 60, (base_mb, peak_mb)  # 1/8 DCT scale; full decode is ~190 MB


# `sound_png_size` vouches for a PNG without Pillow: whatever it accepts, Pillow must open as a
# PNG of that size and verify; whatever else (a fault anywhere, an unusual chunk) it leaves to
# Pillow. The corpus: PNGs Pillow writes in every colour format, with the chunks the plain reader
# knows and some it does not, then truncated, with bytes flipped, with header fields rewritten.


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    out, at = [], 8
    while at < len(png):
        (length,) = struct.unpack_from(">I", png, at)
        out.append((png[at + 4 : at + 8], png[at + 8 : at + 8 + length]))
        at += 12 + length
    return out


def _png(chunks: list[tuple[bytes, bytes]]) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"".join(_chunk(kind, body) for kind, body in chunks)


def _png_corpus() -> list[bytes]:
    bases = [
        _encoded(Image.new(mode, (37, 21), 90), "PNG")
        for mode in ("RGB", "RGBA", "L", "LA", "P", "1", "I;16")
    ]
    bases.append(_encoded(Image.new("RGB", (300, 200), (10, 200, 30)), "PNG"))
    extra = [
        (b"pHYs", struct.pack(">IIB", 2835, 2835, 1)),
        (b"sRGB", b"\x00"),
        (b"gAMA", struct.pack(">I", 45455)),
        (b"cHRM", bytes(32)),
        (b"pHYs", bytes(8)),
        (b"sRGB", b""),
        (b"gAMA", b"\x01"),
        (b"cHRM", bytes(31)),
        (b"tEXt", b"Software\x00x"),
        (b"PLTE", bytes(9)),
        (b"PLTE", b""),
        (b"IEND", b""),
        (b"IHDR", bytes(13)),
        (b"abcd", b"x"),
        (b"a-cd", b"x"),
    ]
    corpus = list(bases)
    for base in bases[:3]:
        chunks = _chunks(base)
        for kind, body in extra:
            corpus.append(_png([chunks[0], (kind, body), *chunks[1:]]))  # before the image data
            corpus.append(_png([*chunks[:-1], (kind, body), chunks[-1]]))  # after it
        ihdr = chunks[0][1]
        for depth, colour in ((8, 2), (16, 2), (8, 1), (3, 0), (8, 3), (1, 6)):
            corpus.append(
                _png([(b"IHDR", ihdr[:8] + bytes([depth, colour]) + ihdr[10:]), *chunks[1:]])
            )
        for at, value in ((0, 0), (4, 0), (10, 1), (11, 1), (12, 1), (3, 0xFF)):
            changed = bytearray(ihdr)
            changed[at] = value
            corpus.append(_png([(b"IHDR", bytes(changed)), *chunks[1:]]))
        corpus.append(_png([(b"IHDR", ihdr + b"\x00"), *chunks[1:]]))
        corpus.append(_png(chunks[:-1]))  # no IEND
        corpus.append(base[:-4] + b"\x00\x00\x00\x00")  # IEND's CRC (Pillow does not read it)
        corpus.append(base + b"trailing bytes")
        corpus.append(_png([chunks[0], *chunks[2:]]))  # no image data
        ends = [8]
        for _, body in chunks:
            ends.append(ends[-1] + 12 + len(body))
        for end in ends:
            for cut in (end - 5, end - 4, end - 1, end, end + 3, end + 4, end + 7):
                if 0 < cut < len(base):
                    corpus.append(base[:cut])
            for flip in (end, end + 4, end + 9):
                if flip < len(base):
                    corpus.append(base[:flip] + bytes([base[flip] ^ 0x20]) + base[flip + 1 :])
        corpus += [base[:i] + bytes([base[i] ^ 1]) + base[i + 1 :] for i in range(0, len(base), 7)]
    return corpus


PNG_CORPUS = _png_corpus()


def _pillow_size(data: bytes) -> tuple[int, int] | None:
    try:
        with imaging.open_image(data) as image:
            fmt, size = image.format, image.size
            image.verify()
    except (ImageRefused, OSError, SyntaxError, ValueError, EOFError, IndexError):
        return None
    return size if fmt == "PNG" else None


def _outcome(check: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return check(*args, **kwargs)
    except Exception as exc:  # Pillow's faults, compared by type and message
        return type(exc), str(exc)


def test_a_png_vouched_for_without_pillow_is_one_pillow_opens_and_verifies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from shazam_assets.ingest.delivery import photos

    vouched = 0
    for data in PNG_CORPUS:
        ours = imaging.sound_png_size(data)
        assert ours is None or ours == _pillow_size(data), data[:40]
        vouched += ours is not None
        plain = _outcome(photos.check_photo, "photo.png", data, min_px=30)
        with monkeypatch.context() as m:
            m.setattr(imaging, "sound_png_size", lambda data, **_: None)
            assert _outcome(photos.check_photo, "photo.png", data, min_px=30) == plain
    assert vouched > 60 and len(PNG_CORPUS) - vouched > 150
    limits = ImageLimits(max_pixels=37 * 21 - 1)
    assert imaging.sound_png_size(PNG_CORPUS[0], limits=limits) is None
    assert (
        imaging.sound_png_size(PNG_CORPUS[0], limits=ImageLimits(max_bytes=len(PNG_CORPUS[0]) - 1))
        is None
    )
    assert imaging.sound_png_size(PNG_CORPUS[0], limits=ImageLimits(formats=("JPEG",))) is None
