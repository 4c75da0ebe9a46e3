"""What happened to an ASIN: its uploads, their verdicts, and its versions with their state.

Version states: ``pending_qa`` (stored, awaiting review), ``approved`` / ``rejected`` (a
reviewer decided), ``published`` (the version product pages show), ``deleted`` (removed by
retention; its tombstone says when and how many bytes were reclaimed), ``storing`` (a number
is reserved and files are being written; a re-run of the upload resumes it), ``abandoned`` (a
number reserved by a run that lost a race to store the same upload; numbers are never reused).
"""

from __future__ import annotations

from typing import Any

from shazam_assets.ingest import pipeline as ingest
from shazam_assets.platform import layout
from shazam_assets.platform import versions as platform_versions
from shazam_assets.platform.storage import ObjectStore, read_json
from shazam_assets.qa import decisions


def _version_entry(
    store: ObjectStore, asin: str, number: int, claim: dict[str, Any], published: int | None
) -> dict[str, Any]:
    manifest = platform_versions.read_version_manifest(store, asin, number)
    upload = claim["upload"] if manifest is None else manifest.upload.to_json()
    entry: dict[str, Any] = {
        "version": number,
        "upload_key": upload["key"],
        "etag": upload["etag"],
        "upload_id": upload["upload_id"],
    }
    decision = decisions.read_decision(store, asin, number)
    if decision is not None:
        entry["decision"] = {
            k: v for k, v in decision.to_json().items() if k not in ("asin", "version")
        }
    tombstone = platform_versions.tombstone(store, asin, number)
    if tombstone is not None:
        entry.update(
            state="deleted",
            deleted_at=tombstone["deleted_at"],
            bytes_reclaimed=tombstone["bytes_reclaimed"],
            reason=tombstone["reason"],
        )
        return entry
    if manifest is not None:
        report = manifest.validation
        entry.update(
            state=_qa_state(number, decision, published),
            created_at=manifest.created_at,
            uri=store.uri(layout.version_prefix(asin, number)),
            files=len(manifest.files),
            total_bytes=manifest.total_bytes,
            validation={
                "ok": report["ok"],
                "warnings": [w["code"] for w in report["warnings"]],
                "stats": report.get("stats", {}),
            },
            turntable=_turntable(store, asin, number),
        )
        return entry
    index = read_json(store, layout.upload_index_key(asin, upload["upload_id"]))
    entry["state"] = "storing" if index and int(index["version"]) == number else "abandoned"
    entry["claimed_at"] = claim.get("claimed_at")
    return entry


def _turntable(store: ObjectStore, asin: str, number: int) -> dict[str, Any] | None:
    """The committed 360° turntable of a version (see `shazam_assets.render.turntable`), or None."""
    manifest = platform_versions.read_turntable_manifest(store, asin, number)
    if manifest is None:
        return None
    folder = layout.render_set_prefix(asin, number, str(manifest.set))
    return {
        "frames": len(manifest.frames),
        "size": manifest.size,
        "renderer": manifest.renderer,
        "rendered_at": manifest.rendered_at,
        "poster": store.uri(folder + manifest.poster),
        "video": store.uri(folder + manifest.video.path),
        "manifest": store.uri(layout.turntable_manifest_key(asin, number)),
    }


def _qa_state(number: int, decision: decisions.Decision | None, published: int | None) -> str:
    if published == number:
        return "published"
    if decision is None:
        return "pending_qa"
    return "approved" if decision.verdict is decisions.Verdict.APPROVE else "rejected"


def asin_status(store: ObjectStore, asin: str) -> dict[str, Any]:
    """The whole story of one ASIN, as `shazam status ASIN --json` prints it."""
    claims = {
        claim.version: info.key
        for info in store.list(layout.claims_prefix(asin))
        if (claim := layout.parse_claim_key(info.key)) is not None
    }
    published = platform_versions.published_version(store, asin)
    version_list = [
        _version_entry(store, asin, number, read_json(store, key) or {}, published)
        for number, key in sorted(claims.items())
    ]
    rejections = []
    for info in store.list(layout.rejections_prefix(asin)):
        record = read_json(store, info.key) or {}
        rejections.append(
            {
                "upload_key": record["upload"]["key"],
                "etag": record["upload"]["etag"],
                "rejected_at": record["validated_at"],
                "codes": record["codes"],
                "errors": [
                    {k: e[k] for k in ("code", "message", "hint") if k in e}
                    | ({"path": e["path"]} if "path" in e else {})
                    for e in record["report"]["errors"]
                ],
                "report_uri": store.uri(info.key),
            }
        )
    rejections.sort(key=lambda r: r["rejected_at"])
    by_upload = {v["upload_id"]: v for v in version_list if v["state"] != "abandoned"}
    rejected = {r["upload_key"] + "\0" + r["etag"] for r in rejections}
    uploads = []
    for upload in ingest.list_uploads(store, asin):
        if upload.upload_id in by_upload:
            outcome = f"stored as v{by_upload[upload.upload_id]['version']}"
        elif upload.key + "\0" + upload.etag in rejected:
            outcome = "rejected"
        else:
            outcome = "pending"
        uploads.append(
            {
                "key": upload.key,
                "etag": upload.etag,
                "size": upload.size,
                "last_modified": upload.last_modified.isoformat(),
                "outcome": outcome,
            }
        )
    page = layout.page_key(asin)
    return {
        "asin": asin,
        "published_version": published,
        "page": store.uri(page) if store.exists(page) else None,
        "versions": version_list,
        "rejections": rejections,
        "uploads": uploads,
    }
