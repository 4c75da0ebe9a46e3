"""Build a delivery ZIP that follows the contract, from an artist's files.

Artists use it to check their work before upload; tests and the demo use it to make real
deliveries. The archive is written beside the target and renamed into place last, and an
existing file is never overwritten unless the caller asks.
"""

from __future__ import annotations

import json
import os
import posixpath
import urllib.parse
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from shazam_assets.ingest.delivery.contract import MANIFEST_NAME, MANIFEST_SCHEMA, PRODUCTION_STAGES
from shazam_assets.ingest.delivery.scan import mtl_texture_names
from shazam_assets.platform.errors import ShazamError

_FIXED_TIME = (2020, 1, 1, 0, 0, 0)  # stable bytes: the same inputs pack to the same ZIP
# Already-compressed media is stored, not deflated again (as `zip -n .png:.jpg` does): it
# barely shrinks, and storing it makes the delivery faster to check and to unpack.
_STORED_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".ktx2", ".zip")


class PackError(ShazamError, ValueError):
    """The inputs cannot make a delivery: PACK_MISSING_INPUT, PACK_OUTPUT_EXISTS."""


@dataclass(frozen=True)
class PackRequest:
    asin: str
    artist: str
    model: Path
    photos: tuple[Path, ...]
    title: str
    dimensions: tuple[float, float, float]  # width (X), height (Y), depth (Z)
    unit: str = "m"
    scan: Path | None = None
    signoffs: dict[str, str] = field(default_factory=dict)  # stage -> who; default the artist
    signoff_date: date | None = None


def gltf_resources(model: Path) -> list[str]:
    """Relative URIs (percent-decoded) a .gltf file loads: buffers and images, not data: URIs."""
    document = json.loads(model.read_text(encoding="utf-8"))
    uris = [item.get("uri") for key in ("buffers", "images") for item in document.get(key, [])]
    return [urllib.parse.unquote(u) for u in uris if u and not u.startswith("data:")]


def obj_resources(obj: Path) -> list[str]:
    """Files an OBJ pulls in: its mtllib files and the texture maps those name."""
    found: list[str] = []
    with open(obj, encoding="utf-8", errors="replace") as lines:
        libraries = [line.split(None, 1)[1].strip() for line in lines if line.startswith("mtllib ")]
    for mtl in libraries:
        found.append(mtl)
        if (obj.parent / mtl).is_file():
            found += mtl_texture_names(
                (obj.parent / mtl).read_text(encoding="utf-8", errors="replace")
            )
    return found


def _members(request: PackRequest) -> list[tuple[Path, str]]:
    """(local file, archive name) pairs, in a stable order."""
    out = [(request.model, f"model/{request.model.name}")]
    if request.model.suffix.lower() == ".gltf":
        out += [
            (request.model.parent / r, posixpath.normpath(f"model/{r}"))
            for r in gltf_resources(request.model)
        ]
    out += [(p, f"photos/{p.name}") for p in request.photos]
    if request.scan is not None:
        out.append((request.scan, f"scan/{request.scan.name}"))
        out += [
            (request.scan.parent / r, posixpath.normpath(f"scan/{r}"))
            for r in obj_resources(request.scan)
        ]
    missing = [str(p) for p, _ in out if not p.is_file()]
    if missing:
        raise PackError("PACK_MISSING_INPUT", "missing input file(s): " + ", ".join(missing))
    return list(dict((name, (p, name)) for p, name in out).values())


def build_manifest(request: PackRequest) -> dict[str, Any]:
    when = (request.signoff_date or date.today()).isoformat()
    width, height, depth = request.dimensions
    return {
        "schema": MANIFEST_SCHEMA,
        "asin": request.asin,
        "artist": {"name": request.artist},
        "product": {
            "title": request.title,
            "dimensions": {"width": width, "height": height, "depth": depth, "unit": request.unit},
        },
        "files": {
            "model": f"model/{request.model.name}",
            "photos": [f"photos/{p.name}" for p in request.photos],
            "scan": f"scan/{request.scan.name}" if request.scan else None,
        },
        "stages": {
            stage: {
                "signed_off": True,
                "by": request.signoffs.get(stage, request.artist),
                "date": when,
            }
            for stage in PRODUCTION_STAGES
        },
    }


def pack_delivery(request: PackRequest, *, out: Path, overwrite: bool = False) -> Path:
    """Write the delivery ZIP to `out` (atomically) and return it."""
    if out.exists() and not overwrite:
        raise PackError(
            "PACK_OUTPUT_EXISTS", f"{out} already exists; choose another --out or pass --force"
        )
    members = _members(request)
    manifest = json.dumps(build_manifest(request), indent=2).encode()
    partial = out.with_name(f".{out.name}.partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            zipfile.ZipInfo(MANIFEST_NAME, _FIXED_TIME), manifest, zipfile.ZIP_DEFLATED
        )
        for path, name in members:
            info = zipfile.ZipInfo(name, _FIXED_TIME)
            stored = name.lower().endswith(_STORED_SUFFIXES)
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with open(path, "rb") as src, archive.open(info, "w") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
    os.replace(partial, out)
    return out
