"""The files each sales channel gets, made from an approved master: compressed derivatives and
the USDZ for iOS Quick Look.

`publish_channels(store, asin, version)` reads the version's model files (the closed list its
manifest records), makes every channel's derivative (`derivatives.derive`: smaller geometry and
textures, shipped only when the Khronos validator and a render comparison against the master
pass) and the USDZ (`usdz.make_usdz`, checked for ARKit compliance), and commits them like a
turntable: the files into `channels/<ASIN>/v<N>/<set>/`, then `manifest.json` last. `set` is a
fingerprint of the master, the channel profiles and the tools, so publishing again with nothing
changed does nothing, and a new tool or profile writes a new set beside the old one.

A channel whose derivative is refused (invalid, visibly different, over its budget) is recorded
with its code and ships nothing: its pages serve the master. The same goes for a USDZ that cannot
be made: the page offers AR without Quick Look's file. Only a missing tool (a broken install)
fails the call, because then nothing was judged.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from shazam_assets.platform import freetext, gltf_tools, layout
from shazam_assets.platform import versions as platform_versions
from shazam_assets.platform.storage import ObjectNotFound, ObjectStore, sha256_file
from shazam_assets.publish.errors import PublishError

SCHEMA = "shazam.channel-files/1"
# Part of every set's fingerprint: bump it when what a set holds changes for the same inputs.
CHANNELS_FORMAT = 1
USDZ_NAME = "model.usdz"
MAX_VARIANTS = 32  # a switcher with more entries is not a switcher; the rest stay in the model
VARIANT_NAME = freetext.TextField("variant name", 64)

Log = Callable[[str], None]


@dataclass(frozen=True)
class ChannelFile:
    """One shipped file of a set: its path inside the set, sha256 and size."""

    path: str
    sha256: str
    size: int


@dataclass(frozen=True)
class ChannelFiles:
    """A committed set, as a release reads it: what each channel ships."""

    asin: str
    version: int
    set: str
    derivatives: dict[str, ChannelFile]  # channel name -> its shipped derivative
    usdz: ChannelFile | None
    variants: tuple[str, ...]  # KHR_materials_variants names a page may offer
    manifest: dict[str, Any] = field(repr=False, compare=False)

    @property
    def prefix(self) -> str:
        return layout.channel_set_prefix(self.asin, self.version, self.set)


@dataclass(frozen=True)
class ChannelsResult:
    files: ChannelFiles
    made: bool  # False: the same set was committed already (nothing was done)
    uploaded_bytes: int = 0


def _stored_model(store: ObjectStore, asin: str, version: int) -> tuple[str, tuple[str, ...], str]:
    manifest = platform_versions.read_version_manifest(store, asin, version)
    if manifest is None:
        raise PublishError("PUBLISH_VERSION_MISSING", f"{asin} v{version} is not stored")
    stored = manifest.stored_model()
    if stored is None:
        raise PublishError(
            "PUBLISH_NO_MODEL",
            f"{asin} v{version} records no model files (stored before they were recorded): "
            "re-validate and store it again",
        )
    return stored


def fingerprint(model_sha256: str) -> str:
    """The set name for this master with today's profiles and tools."""
    from shazam_assets.publish import derivatives

    content = json.dumps(
        [
            CHANNELS_FORMAT,
            model_sha256,
            [asdict(p) for p in derivatives.PROFILES.values()],
            gltf_tools.fingerprint(),
            importlib.metadata.version("usd-core"),
        ],
        sort_keys=True,
    )
    return "c" + hashlib.sha256(content.encode()).hexdigest()[:16]


def variant_names(model: Path) -> tuple[str, ...]:
    """The KHR_materials_variants names of a model that a page can offer: readable, short,
    unique, at most MAX_VARIANTS. A name that is not (control characters, too long) is left
    out of the switcher rather than shown altered, since the viewer selects by exact name."""
    from shazam_assets.platform.renderer.source import read_source

    document = read_source(model).document
    extension = (document.get("extensions") or {}).get("KHR_materials_variants") or {}
    found: list[str] = []
    for variant in extension.get("variants") or []:
        name = variant.get("name") if isinstance(variant, dict) else None
        if not isinstance(name, str) or name in found:
            continue
        try:
            if name and freetext.normalize(name, VARIANT_NAME) == name:
                found.append(name)
        except freetext.TextError:
            continue
    return tuple(found[:MAX_VARIANTS])


def _make(model: Path, out: Path, *, log: Log) -> dict[str, Any]:
    """Every channel's derivative and the USDZ, into `out`; the manifest's body. (The tools
    are imported here: releases read channel files through this module, and every run process
    loads the publish stage, which need not pay for trimesh, scikit-image and usd-core.)"""
    from shazam_assets.publish import derivatives, usdz

    made = []
    for done in derivatives.derive_channels(model, out / "derive", log=log):
        entry = done.to_json()
        entry["path"] = None
        if done.path is not None:  # named by its channel: no name from the delivery in a URL
            entry["path"] = f"{done.channel}.glb"
            done.path.rename(out / entry["path"])
        entry["refused"] = {"code": done.code, "message": done.message} if done.code else None
        made.append(entry)
    try:
        converted = usdz.make_usdz(model, out / USDZ_NAME, log=log)
        usdz_entry: dict[str, Any] = {**converted.to_json(), "path": USDZ_NAME, "refused": None}
    except PublishError as exc:  # the page offers AR without Quick Look's file
        log(f"USDZ refused: {exc}")
        usdz_entry = {"path": None, "refused": {"code": exc.code, "message": exc.message}}
    return {"derivatives": made, "usdz": usdz_entry, "variants": list(variant_names(model))}


def _shipped(out: Path, body: dict[str, Any]) -> list[tuple[Path, ChannelFile]]:
    paths = [d["path"] for d in body["derivatives"] if d.get("path")]
    if body["usdz"].get("path"):
        paths.append(body["usdz"]["path"])
    return [
        (out / p, ChannelFile(p, sha256_file(out / p), (out / p).stat().st_size)) for p in paths
    ]


def read_channel_files(store: ObjectStore, asin: str, version: int) -> ChannelFiles | None:
    """The committed set of a version, or None when none was made (or it cannot be read)."""
    try:
        data = json.loads(store.get_bytes(layout.channel_manifest_key(asin, version)))
    except (ObjectNotFound, ValueError):
        return None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        return None
    files = {f["path"]: ChannelFile(f["path"], f["sha256"], int(f["size"])) for f in data["files"]}
    shipped = {d["channel"]: files[d["path"]] for d in data["derivatives"] if d.get("path")}
    usdz_path = (data.get("usdz") or {}).get("path")
    return ChannelFiles(
        asin=asin,
        version=version,
        set=str(data["set"]),
        derivatives=shipped,
        usdz=files.get(usdz_path) if usdz_path else None,
        variants=tuple(str(v) for v in data.get("variants") or ()),
        manifest=data,
    )


def publish_channels(
    store: ObjectStore, asin: str, version: int, *, log: Log = lambda _: None
) -> ChannelsResult:
    """Make and commit the channel files of a stored version unless the same set is committed."""
    model_path, paths, model_sha = _stored_model(store, asin, version)
    name = fingerprint(model_sha)
    current = read_channel_files(store, asin, version)
    if current is not None and current.set == name:
        log(f"{asin} v{version}: channel files {name} already made; nothing to do")
        return ChannelsResult(current, made=False)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="shazam-channels-") as tmp:
        work = Path(tmp)
        platform_versions.download_files(
            store, asin=asin, version=version, paths=paths, dest=work / "model"
        )
        model = work / "model" / Path(*model_path.split("/"))
        body = _make(model, work / "out", log=log)
        shipped = _shipped(work / "out", body)
        prefix = layout.channel_set_prefix(asin, version, name)
        uploaded = 0
        for path, item in shipped:
            info = store.put_file(prefix + item.path, path)
            if info.size != item.size:
                raise PublishError(
                    "PUBLISH_COPY_INCOMPLETE",
                    f"{prefix + item.path}: {info.size} bytes stored, {item.size} written",
                )
            uploaded += info.size
    manifest = {
        "schema": SCHEMA,
        "asin": asin,
        "version": version,
        "set": name,
        "model": {"path": model_path, "sha256": model_sha},
        **body,
        "files": [asdict(item) for _, item in shipped],
        "seconds": round(time.perf_counter() - started, 2),
    }
    store.put_bytes(
        layout.channel_manifest_key(asin, version),
        json.dumps(manifest, indent=2).encode(),
        content_type="application/json",
    )
    log(
        f"{asin} v{version}: channel files {name}: "
        + ", ".join(
            f"{d['channel']} {'refused ' + d['refused']['code'] if d.get('refused') else 'shipped'}"
            for d in body["derivatives"]
        )
        + f"; USDZ {'refused' if body['usdz']['refused'] else 'made'}"
    )
    files = read_channel_files(store, asin, version)
    assert files is not None  # just written
    return ChannelsResult(files, made=True, uploaded_bytes=uploaded)
