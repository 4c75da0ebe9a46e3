"""Seed inputs for the fuzz harnesses, built from code at fuzz time (never committed).

glTF seeds: the broken file of every error code in tests/ingest/delivery/gltf_cases.py (each reaches
a different rule), its valid base model as .glb and .gltf, a demo product, the Khronos
validator's samples and the JSON of the Khronos 3D Commerce models from ../shared/data.
Delivery seeds: a demo product packed as a real delivery, a slim one around the small base
model, and one with a .gltf and its .bin.
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

from PIL import Image

from tests.builders import SHARED_DATA, edit_manifest, pack, product, read_glb, rewrite_zip

Seed = tuple[str, bytes]  # (name saying where it comes from, the input)


def _gltf_cases() -> Iterator[Seed]:
    from tests.ingest.delivery.gltf_cases import ERROR_CASES, Model

    yield "base.glb", Model().glb()
    yield "base.gltf", Model().gltf()
    for case in ERROR_CASES:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "delivery"
            folder.mkdir()
            yield f"case-{case.code}", case.build(folder).read_bytes()


def _shared_models() -> Iterator[Seed]:
    if not SHARED_DATA.is_dir():
        return
    for path in sorted((SHARED_DATA / "gltf-validator-samples").rglob("*.gl*")):
        if path.suffix in (".gltf", ".glb"):
            yield f"sample-{path.parent.name}-{path.name}", path.read_bytes()
    for path in sorted((SHARED_DATA / "khronos-3dc").rglob("*.gltf")):
        yield f"khronos-{path.name}", path.read_bytes()
    for path in sorted((SHARED_DATA / "khronos-3dc").rglob("*.glb")):
        # the JSON only, as a .gltf: megabytes of mesh data slow the fuzzer down
        document, _binary = read_glb(path.read_bytes())
        yield f"khronos-{path.name}-json", json.dumps(document).encode()


def gltf_seeds(work: Path) -> Iterator[Seed]:
    yield from _gltf_cases()
    yield "demo-mug.glb", product(work, "mug").model.read_bytes()
    yield from _shared_models()


_SCAN_OBJ = b"""mtllib scan.mtl
v 0 0 0
v 1 0 0
v 1 1 0
v 0 1 0
vt 0 0
vt 1 0
vt 1 1
vt 0 1
vn 0 0 1
usemtl scan
f 1/1/1 2/2/1 3/3/1
f 1/1/1 3/3/1 4/4/1
"""
_SCAN_MTL = b"newmtl scan\nKd 1 1 1\nmap_Kd scan.png\n"


def _png(size: int = 16) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (60, 90, 120)).save(out, "PNG")
    return out.getvalue()


def _jpeg(size: int = 64) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (120, 90, 60)).save(out, "JPEG")
    return out.getvalue()


def delivery_seeds(work: Path) -> Iterator[Seed]:
    from tests.ingest.delivery.gltf_cases import Model

    full = pack(work, product(work, "speaker"), name="full.zip")
    yield "demo-speaker.zip", full.read_bytes()
    prod = product(work, "speaker")
    model_name = f"model/{prod.model.name}"
    photos = {f"photos/{p.name}": (lambda _raw: _jpeg()) for p in prod.photos}
    slim = rewrite_zip(
        full, work / "slim.zip",
        edit={model_name: lambda _raw: Model().glb(), **photos,
              "manifest.json": edit_manifest(lambda m: m["files"].pop("scan")),
              "scan/speaker_scan.obj": lambda _raw: None, "scan/speaker_scan.mtl": lambda _raw: None,
              "scan/speaker_scan.png": lambda _raw: None},
    )  # fmt: skip
    yield "slim-glb.zip", slim.read_bytes()

    scanned = rewrite_zip(
        slim, work / "scanned.zip",
        edit={"manifest.json": edit_manifest(lambda m: m["files"].update(scan="scan/scan.obj"))},
        add={"scan/scan.obj": _SCAN_OBJ, "scan/scan.mtl": _SCAN_MTL, "scan/scan.png": _png()},
    )  # fmt: skip
    yield "slim-scan.zip", scanned.read_bytes()

    def png_photo(manifest: dict) -> None:
        manifest["files"]["photos"] = ["photos/front.png"]

    with_png = rewrite_zip(
        slim, work / "png.zip", edit={"manifest.json": edit_manifest(png_photo), **{
            name: (lambda _raw: None) for name in photos}},
        add={"photos/front.png": _png(64)},
    )  # fmt: skip
    yield "slim-png-photo.zip", with_png.read_bytes()

    def to_gltf(manifest: dict) -> None:
        manifest["files"]["model"] = "model/model.gltf"

    split = rewrite_zip(
        slim, work / "split.zip",
        edit={model_name: lambda _raw: None, "manifest.json": edit_manifest(to_gltf)},
        add={"model/model.gltf": Model().gltf(buffer_uri="model.bin"),
             "model/model.bin": bytes(Model().bin)},
    )  # fmt: skip
    yield "slim-gltf-bin.zip", split.read_bytes()


SEEDS = {"gltf": gltf_seeds, "delivery": delivery_seeds}


def seeds(harness: str) -> list[Seed]:
    """Every seed of one harness, built now."""
    with tempfile.TemporaryDirectory() as tmp:
        return list(SEEDS[harness](Path(tmp)))


def write_seeds(harness: str, folder: Path) -> int:
    """Write the seeds of one harness into `folder` (named by content); how many."""
    folder.mkdir(parents=True, exist_ok=True)
    built = seeds(harness)
    for _name, data in built:
        (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)
    return len(built)
