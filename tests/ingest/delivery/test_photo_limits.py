"""A reference photo whose header declares an enormous picture is a verdict, not a crash:
`shazam validate` rejects it with a code and a hint, without decoding its pixels."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from tests.builders import edit_manifest, pack, product, rewrite_zip
from tests.image_bombs import png_bomb
from tests.test_cli import shazam


@pytest.fixture(scope="module")
def good_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("photo-limits")
    return pack(root, product(root))


def _with_photo(good: Path, out: Path, data: bytes, name: str = "photos/front.png") -> Path:
    """The delivery with its photos replaced by one photo `name` holding `data`, stored
    uncompressed as `shazam pack` stores images (so the ZIP's own bomb check stays quiet)."""
    with zipfile.ZipFile(good) as z:
        old = json.loads(z.read("manifest.json"))["files"]["photos"]

    def repoint(manifest: dict) -> None:
        manifest["files"]["photos"] = [name]

    dropped = {photo: (lambda _: None) for photo in old}
    rewrite_zip(good, out, edit={**dropped, "manifest.json": edit_manifest(repoint)})
    with zipfile.ZipFile(out, "a") as z:
        z.writestr(name, data, compress_type=zipfile.ZIP_STORED)
    return out


@pytest.mark.parametrize("side", [13000, 30000])  # 30000: Pillow's DecompressionBombError
def test_validate_rejects_a_photo_with_too_many_pixels(
    tmp_path: Path, good_zip: Path, side: int
) -> None:
    bomb = _with_photo(good_zip, tmp_path / "bomb.zip", png_bomb(side, side))
    rejected = shazam("validate", str(bomb), "--json", check_code=1)  # no traceback either
    (issue,) = [e for e in json.loads(rejected.stdout)["errors"] if e["path"] == "photos/front.png"]
    assert issue["code"] == "PHOTO_TOO_LARGE"
    assert f"{side * side:,} pixels" in issue["message"] and "8192" in issue["hint"]


def test_validate_still_accepts_a_large_photo_within_the_limit(
    tmp_path: Path, good_zip: Path
) -> None:
    big = _with_photo(good_zip, tmp_path / "big.zip", png_bomb(6000, 4000))
    report = json.loads(shazam("validate", str(big), "--json").stdout)
    assert not [e for e in report["errors"] if e["path"] == "photos/front.png"]
