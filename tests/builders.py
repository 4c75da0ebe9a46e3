"""Real inputs for tests: deliveries built with the project's own tools, then broken on purpose."""

from __future__ import annotations

import json
import struct
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from shazam_assets.ingest.delivery.pack import PackRequest, pack_delivery
from shazam_assets.platform import layout
from shazam_demo.products import DemoProduct, make_product

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ASIN = "B0TESTAAA1"

_products: dict[tuple[str, float], DemoProduct] = {}


def store_delivery(store: Any, zip_path: Path, *, asin: str = ASIN, name: str | None = None) -> int:
    """Upload, validate and store one delivery as the ingest stage does; the version number."""
    from shazam_assets.ingest import pipeline as ingest

    key = f"uploads/{asin}/{name or zip_path.name}"
    store.put_file(key, zip_path)
    upload = ingest.resolve_upload(store, asin, key=key)
    verdict = ingest.validate_upload(store, upload)
    assert verdict.report.ok, verdict.report.to_json()
    return ingest.store_upload(store, upload).version


def publish_legacy(store: Any, asin: str, zip_path: Path, *, version: int = 1) -> None:
    """An ASIN as an older SHAZAM left it: an upload, a version manifest naming it (no files,
    no verdict with a rules version) and a published pointer. Re-validation can judge it;
    every stage finds its result missing, so it is stale everywhere."""
    from shazam_assets.ingest import pipeline as ingest

    key = f"uploads/{asin}/delivery.zip"
    store.put_file(key, zip_path)
    upload = ingest.resolve_upload(store, asin, key=key)
    manifest = {"upload": {"key": key, "upload_id": upload.upload_id}, "validation": {}}
    store.put_bytes(f"assets/{asin}/v{version}/version.json", json.dumps(manifest).encode())
    store.put_bytes(
        layout.published_pointer_key(asin), json.dumps({"asin": asin, "version": version}).encode()
    )


def product(tmp_root: Path, slug: str = "speaker", *, scale: float = 1.0) -> DemoProduct:
    """A procedural demo product (cached per session folder: building one costs ~0.5 s)."""
    key = (slug, scale)
    if key not in _products or not _products[key].model.exists():
        _products[key] = make_product(slug, out_dir=tmp_root / f"{slug}-{scale:g}", scale=scale)
    return _products[key]


def pack(
    tmp_path: Path,
    prod: DemoProduct,
    *,
    asin: str = ASIN,
    name: str = "delivery.zip",
    **overrides: Any,
) -> Path:
    fields: dict[str, Any] = dict(
        asin=asin,
        artist="Test Artist",
        model=prod.model,
        photos=prod.photos,
        scan=prod.scan_obj,
        title=prod.title,
        dimensions=prod.dimensions_m,
        signoff_date=date(2026, 11, 1),
    )
    fields.update(overrides)
    return pack_delivery(PackRequest(**fields), out=tmp_path / name)


def rewrite_zip(
    src: Path,
    dst: Path,
    *,
    edit: dict[str, Callable[[bytes], bytes | None]] | None = None,
    add: dict[str, bytes] | None = None,
    stored: frozenset[str] = frozenset(),
) -> Path:
    """Copy a ZIP, transforming members (an edit returning None drops the member); members
    named in `stored` are written uncompressed, as `shazam pack` stores images."""
    edit, add = edit or {}, add or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename in edit:
                data = edit[info.filename](data)
                if data is None:
                    continue
            zout.writestr(
                info.filename,
                data,
                compress_type=zipfile.ZIP_STORED if info.filename in stored else None,
            )
        for name, data in add.items():
            zout.writestr(name, data)
    return dst


def edit_manifest(change: Callable[[dict[str, Any]], None]) -> Callable[[bytes], bytes]:
    def apply(raw: bytes) -> bytes:
        manifest = json.loads(raw)
        change(manifest)
        return json.dumps(manifest).encode()

    return apply


def read_glb(data: bytes) -> tuple[dict[str, Any], bytes]:
    """(JSON document, BIN chunk) of a GLB."""
    json_len = struct.unpack_from("<I", data, 12)[0]
    document = json.loads(data[20 : 20 + json_len])
    rest = 20 + json_len
    binary = b""
    if rest + 8 <= len(data):
        bin_len = struct.unpack_from("<I", data, rest)[0]
        binary = data[rest + 8 : rest + 8 + bin_len]
    return document, binary


def write_glb(document: dict[str, Any], binary: bytes) -> bytes:
    """A well-formed GLB (chunks padded to 4 bytes, lengths consistent)."""
    payload = json.dumps(document, separators=(",", ":")).encode()
    payload += b" " * (-len(payload) % 4)
    binary += b"\0" * (-len(binary) % 4)
    if document.get("buffers"):
        document["buffers"][0]["byteLength"] = max(document["buffers"][0]["byteLength"], 0)
    chunks = struct.pack("<II", len(payload), 0x4E4F534A) + payload
    if binary:
        chunks += struct.pack("<II", len(binary), 0x004E4942) + binary
    return struct.pack("<III", 0x46546C67, 2, 12 + len(chunks)) + chunks


def edit_glb(
    change: Callable[[dict[str, Any], bytearray], bytes | None],
) -> Callable[[bytes], bytes]:
    """An edit for `rewrite_zip` that changes a GLB's JSON (and optionally replaces its BIN)."""

    def apply(raw: bytes) -> bytes:
        document, binary = read_glb(raw)
        new_bin = change(document, bytearray(binary))
        binary = bytes(new_bin) if new_bin is not None else binary
        if document.get("buffers"):
            document["buffers"][0]["byteLength"] = len(binary)
        return write_glb(document, binary)

    return apply


PWN_HTML = b"<!doctype html><title>pwn</title><script src='pwn.js'></script><p>owned</p>"
PWN_JS = b"window.PWNED = 1; fetch('/pwned-beacon'); document.title = 'PWNED';"


def gltf_delivery(
    tmp_root: Path, *, asin: str = ASIN, slug: str = "lamp", name: str = "gltf.zip"
) -> Path:
    """A demo product delivered as a .gltf whose buffer is a separate `model/<slug>.bin`."""
    prod = product(tmp_root, slug)
    document, binary = read_glb(prod.model.read_bytes())
    document["buffers"][0]["uri"] = f"{slug}.bin"
    folder = tmp_root / f"{slug}-gltf-{asin}"
    folder.mkdir(exist_ok=True)
    (folder / f"{slug}.bin").write_bytes(binary)
    model = folder / f"{slug}.gltf"
    model.write_text(json.dumps(document), encoding="utf-8")
    return pack(tmp_root, prod, asin=asin, name=name, model=model, scan=None)


def hostile_gltf_delivery(tmp_root: Path, *, asin: str = ASIN) -> Path:
    """A valid .gltf delivery that also carries an unlisted web page and its script beside the
    model (`model/pwn.html` + `model/pwn.js`): validation only warns about unlisted files, so
    everything after it must use the closed list of files the manifest and the model name."""
    clean = gltf_delivery(tmp_root, asin=asin, name=f"clean-{asin}.zip")
    return rewrite_zip(
        clean,
        tmp_root / f"hostile-{asin}.zip",
        add={"model/pwn.html": PWN_HTML, "model/pwn.js": PWN_JS},
    )


def upload_scan(
    store: Any, tmp_root: Path, *, asin: str = ASIN, slug: str = "speaker"
) -> list[str]:
    """Copy a demo product's scan data (its photos, the scan OBJ, .mtl and texture) to
    `scans/<ASIN>/` as the scanning team would; the keys written."""
    made = product(tmp_root, slug)
    keys = []
    for path in (*made.photos, *made.scan_files):
        folder = "photos/" if path in made.photos else "scan/"
        keys.append(layout.scan_file_key(asin, folder + path.name))
        store.put_file(keys[-1], path)
    return keys


def assign_to(store: Any, tmp_root: Path, asin: str, artist: Any, *, lead: Any = None) -> None:
    """The ASIN as a lead leaves it for `artist` (a Person): its scan data uploaded and
    registered, then assigned through production tracking (what the studio's Assign does)."""
    from datetime import UTC, datetime

    from shazam_assets.ingest.scans import register_scan
    from shazam_assets.platform.identity import Person
    from shazam_assets.production import tracking

    now = datetime.now(UTC)
    if tracking.read_assignment(store, asin) is None:
        upload_scan(store, tmp_root, asin=asin)
        register_scan(store, asin, now=now)
    by = lead or Person(sub="leo@example.com", name="Leo Lead", email="leo@example.com")
    tracking.assign(store, asin, artist=artist, by=by, now=now)


VARIANT_BLUE = [0.05, 0.2, 0.9, 1.0]


def with_variants(glb: Path, out: Path) -> Path:
    """`glb` with KHR_materials_variants: "Natural" (its own materials, the default) and
    "Blue" (every primitive a plain, untextured blue), written to `out`."""
    document, binary = read_glb(glb.read_bytes())
    materials = document.setdefault("materials", [])
    blue = len(materials)
    materials.append(
        {
            "name": "blue",
            "pbrMetallicRoughness": {
                "baseColorFactor": VARIANT_BLUE,
                "metallicFactor": 0.0,
                "roughnessFactor": 0.6,
            },
        }
    )
    for mesh in document["meshes"]:
        for primitive in mesh["primitives"]:
            own = primitive.get("material")
            mappings = [{"material": blue, "variants": [1]}]
            if own is not None:
                mappings.insert(0, {"material": own, "variants": [0]})
            primitive.setdefault("extensions", {})["KHR_materials_variants"] = {
                "mappings": mappings
            }
    document.setdefault("extensions", {})["KHR_materials_variants"] = {
        "variants": [{"name": "Natural"}, {"name": "Blue"}]
    }
    used = document.setdefault("extensionsUsed", [])
    if "KHR_materials_variants" not in used:
        used.append("KHR_materials_variants")
    out.write_bytes(write_glb(document, binary))
    return out
