"""Bounded image decoding: a header that declares too many pixels is refused before any pixel
is decoded, everywhere a picture from outside is read (here: the module and QA's photo reader;
validation and search are tested through `shazam validate` and `shazam serve`)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

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
def test_refusals_have_a_code_and_name_no_stream(data: bytes, limits: ImageLimits, code: str) -> None:
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
    done = subprocess.run([sys.executable, "-c", _PEAK, str(photo)], capture_output=True,
                          text=True, check=True, timeout=300)
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
