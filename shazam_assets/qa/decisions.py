"""Human QA decisions, promotion to published, rollback and retention.

The keys are `shazam_assets.platform.layout`'s: the reviewer's decision (written once, in one
conditional write, never overwritten; the QA sensor lists them), the automatic QA result
(`qa.checks`), the pointer to the published version (written last) and the tombstone of a
version removed by retention.

A decision is one object, so it is all or nothing: a failure while writing it (a full disk, a
lost connection) leaves no decision, and the retry records it; a failure after the write
reached the store leaves the whole decision, and the retry (same verdict, reviewer and notes)
returns it. Releases before this one wrote a `decision.json` beside the QA scores first and the log
entry second; a `decision.json` without its log entry was never acted on, is not read, and the
version can be decided again.

A decision is refused, with a stable code and nothing written, when the version is unknown,
already decided, superseded by a newer version, deleted, or (for approval) blocked by an
ERROR from the automatic checks; reviewer names, notes and comments are checked by
`shazam_assets.platform.freetext` (TEXT_* codes).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from shazam_assets.platform import freetext, layout, review_queue
from shazam_assets.platform import versions as platform_versions
from shazam_assets.platform.errors import ShazamError, TransientError
from shazam_assets.platform.settings import DEFAULTS
from shazam_assets.platform.storage import ObjectStore, read_json
from shazam_assets.qa.result import read_scores


class Verdict(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"

    @property
    def past(self) -> str:
        return f"{self.value}d" if self.value.endswith("e") else f"{self.value}ed"


class DecisionError(ShazamError, ValueError):
    """A decision that cannot be recorded; `code` is stable, nothing was written."""


class DecisionContended(DecisionError, TransientError):
    """Another decision for the version is being written right now; the same call again settles it."""

    code = "QA_DECISION_CONTENDED"

    def __init__(self, message: str) -> None:
        super().__init__(self.code, message)


@dataclass(frozen=True)
class Decision:
    asin: str
    version: int
    verdict: Verdict
    reviewer: str
    decided_at: str  # ISO 8601 UTC
    notes: str = ""
    comments: tuple[dict[str, str], ...] = ()  # optional per-issue comments: {"issue", "comment"}
    source: str = "cli"  # "cli", "studio" (signed in), or "review-page" (before the studio)

    def to_json(self) -> dict[str, Any]:
        """The decision as its one stored object holds it."""
        data = asdict(self)
        data["verdict"] = str(self.verdict)
        data["comments"] = list(self.comments)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Decision:
        """The stored record; free text stored before `freetext` existed is made showable."""
        comments = tuple(
            {k: freetext.readable(v) for k, v in c.items()} for c in data.get("comments", ())
        )
        return cls(
            **{
                **data,
                "verdict": Verdict(data["verdict"]),
                "comments": comments,
                "reviewer": freetext.readable(data["reviewer"]),
                "notes": freetext.readable(data.get("notes", "")),
            }
        )

    def repeats(self, other: Decision) -> bool:
        """Whether `other` is this decision asked for again (a retry), whatever its time."""
        same = ("asin", "version", "verdict", "reviewer", "notes", "comments")
        return all(getattr(self, name) == getattr(other, name) for name in same)


def decision_log_prefix() -> str:
    """The prefix the QA sensor lists for new decisions."""
    return layout.decisions_prefix()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def read_decision(store: ObjectStore, asin: str, version: int) -> Decision | None:
    data = read_json(store, layout.decision_key(asin, version))
    return None if data is None else Decision.from_json(data)


def _check_decidable(store: ObjectStore, decision: Decision) -> Decision | None:
    """Raise DecisionError when `decision` cannot be recorded; the stored decision when it
    already was (a retry); None when it is to be written."""
    asin, version, verdict = decision.asin, decision.version, decision.verdict
    stored = platform_versions.list_versions(store, asin)
    if version not in stored:
        gone = platform_versions.is_deleted(store, asin, version)
        raise DecisionError(
            "QA_VERSION_DELETED" if gone else "QA_UNKNOWN_VERSION",
            f"{asin} v{version} {'was deleted' if gone else 'does not exist'}; "
            f"stored versions: {', '.join(f'v{v}' for v in stored) or 'none'}",
        )
    existing = read_decision(store, asin, version)
    if existing is not None:
        return _settled(existing, decision)
    newer = [v for v in stored if v > version and not platform_versions.is_deleted(store, asin, v)]
    if newer:
        raise DecisionError(
            "QA_SUPERSEDED",
            f"{asin} v{version} is superseded by v{max(newer)}; review the newest version",
        )
    scores = read_scores(store, asin, version)
    if verdict is Verdict.APPROVE and scores is not None and scores.blocking_errors:
        raise DecisionError(
            "QA_BLOCKED_BY_CHECKS",
            f"{asin} v{version} cannot be approved: automatic QA found "
            + ", ".join(scores.blocking_errors),
        )
    return None


def _settled(existing: Decision, asked: Decision) -> Decision:
    """The stored decision when `asked` repeats it (a retry after a failure that hid a
    successful write), else QA_ALREADY_DECIDED naming who decided."""
    if existing.repeats(asked):
        return existing
    raise DecisionError(
        "QA_ALREADY_DECIDED",
        f"{existing.asin} v{existing.version} was already {existing.verdict.past} by {existing.reviewer} "
        f"at {existing.decided_at}",
    )


def _clean(value: str, field: freetext.TextField) -> str:
    try:
        return freetext.normalize(value, field)
    except freetext.TextError as exc:
        raise DecisionError(exc.code, exc.message) from None


def record_decision(
    store: ObjectStore,
    *,
    asin: str,
    version: int,
    verdict: Verdict | str,
    reviewer: str,
    notes: str = "",
    comments: tuple[dict[str, str], ...] = (),
    source: str = "cli",
) -> Decision:
    """Write a reviewer's decision once, in one conditional write; the QA sensor turns it into
    the `qa_approved` check. A retry of a decision that was written returns it."""
    verdict = Verdict(verdict)
    reviewer = _clean(reviewer, freetext.REVIEWER_NAME)
    notes = _clean(notes, freetext.NOTE)
    if not reviewer:
        raise DecisionError("QA_REVIEWER_REQUIRED", "a decision needs the reviewer's name")
    if verdict is Verdict.REJECT and not notes:
        raise DecisionError(
            "QA_NOTE_REQUIRED", "a rejection needs a note telling the artist what to fix"
        )
    decision = Decision(
        asin=asin,
        version=version,
        verdict=verdict,
        reviewer=reviewer,
        decided_at=_now(),
        notes=notes,
        comments=tuple(
            {
                "issue": _clean(c["issue"], freetext.COMMENT_ISSUE),
                "comment": _clean(c["comment"], freetext.COMMENT),
            }
            for c in comments
        ),
        source=source,
    )
    if (existing := _check_decidable(store, decision)) is not None:
        return existing
    payload = json.dumps(decision.to_json(), indent=2, ensure_ascii=False).encode()
    if store.put_if_absent(layout.decision_key(asin, version), payload):
        review_queue.clear_pending(store, asin, version)
        review_queue.record_decided(store, asin, version, at=datetime.now(UTC))
        return decision
    existing = read_decision(store, asin, version)
    if existing is None:  # the writer that won was deleted meanwhile: only a retry can tell
        raise DecisionContended(f"{asin} v{version} is being decided right now; try again")
    return _settled(existing, decision)


# --- promotion, rollback, retention ---------------------------------------------------------


@dataclass(frozen=True)
class Deletion:
    version: int
    files: int
    bytes_reclaimed: int


@dataclass(frozen=True)
class Promotion:
    asin: str
    version: int
    previous: int | None
    deletions: tuple[Deletion, ...] = field(default_factory=tuple)


def _write_pointer(
    store: ObjectStore, asin: str, version: int | None, *, reason: str
) -> int | None:
    """Point the ASIN at `version` (its files are already durable), or at nothing (None:
    unpublished); returns the previous one. The pointer keeps its history either way."""
    pointer = read_json(store, layout.published_pointer_key(asin)) or {"history": []}
    previous = pointer.get("version")
    history = [*pointer.get("history", []), {"version": version, "at": _now(), "reason": reason}]
    record = {"asin": asin, "version": version, "published_at": _now(), "history": history[-50:]}
    store.put_bytes(layout.published_pointer_key(asin), json.dumps(record, indent=2).encode())
    return previous


def unpublish(store: ObjectStore, asin: str, *, reason: str) -> int:
    """Take the ASIN off the shop: the pointer names no version (its history stays, versions
    stay approved and stored, so `shazam qa approve` of a new upload or a re-publish can follow).
    Returns the version that was published."""
    current = platform_versions.published_version(store, asin)
    if current is None:
        raise DecisionError("QA_NOTHING_PUBLISHED", f"{asin} has no published version to unpublish")
    _write_pointer(store, asin, None, reason=reason)
    return current


def approved_versions(store: ObjectStore, asin: str) -> list[int]:
    """Stored (not deleted) versions a reviewer approved, ascending."""
    return [
        v
        for v in platform_versions.list_versions(store, asin)
        if not platform_versions.is_deleted(store, asin, v)
        and (d := read_decision(store, asin, v))
        and d.verdict is Verdict.APPROVE
    ]


def promote(
    store: ObjectStore,
    asin: str,
    version: int,
    *,
    keep_approved: int = DEFAULTS.keep_approved,
    log: Callable[[str], None] = lambda _: None,
) -> Promotion:
    """Publish an approved version (pointer last), then apply retention to older versions."""
    decision = read_decision(store, asin, version)
    if decision is None or decision.verdict is not Verdict.APPROVE:
        raise DecisionError(
            "QA_NOT_APPROVED", f"{asin} v{version} is not approved; it cannot be published"
        )
    _verify_files(store, asin, version)
    previous = platform_versions.published_version(store, asin)
    if previous != version:
        _write_pointer(store, asin, version, reason=f"approved by {decision.reviewer}")
    deletions = apply_retention(store, asin, keep_approved=keep_approved, log=log)
    return Promotion(asin=asin, version=version, previous=previous, deletions=deletions)


def _verify_files(store: ObjectStore, asin: str, version: int) -> None:
    manifest = platform_versions.read_version_manifest(store, asin, version)
    if manifest is None:
        raise DecisionError(
            "QA_UNKNOWN_VERSION", f"{asin} v{version} has no {layout.VERSION_MANIFEST}"
        )
    missing = [
        f.path
        for f in manifest.files
        if not store.exists(layout.version_file_key(asin, version, f.path))
    ]
    if missing:
        raise DecisionError(
            "QA_VERSION_INCOMPLETE", f"{asin} v{version} is missing {', '.join(missing[:5])}"
        )


def rollback(store: ObjectStore, asin: str) -> Promotion:
    """Publish the newest approved version older than the published one."""
    current = platform_versions.published_version(store, asin)
    if current is None:
        raise DecisionError("QA_NOTHING_PUBLISHED", f"{asin} has no published version to roll back")
    older = [v for v in approved_versions(store, asin) if v < current]
    if not older:
        raise DecisionError(
            "QA_NO_ROLLBACK_TARGET", f"{asin} has no earlier approved version kept for rollback"
        )
    target = max(older)
    _verify_files(store, asin, target)
    _write_pointer(store, asin, target, reason=f"rollback from v{current}")
    return Promotion(asin=asin, version=target, previous=current)


def apply_retention(
    store: ObjectStore,
    asin: str,
    *,
    keep_approved: int = DEFAULTS.keep_approved,
    log: Callable[[str], None] = lambda _: None,
) -> tuple[Deletion, ...]:
    """Delete versions older than the published one that nobody can still need.

    Never the published version, never one without a decision (pending), never a version
    newer than the published one, and never the `keep_approved` newest older approved ones.
    """
    current = platform_versions.published_version(store, asin)
    if current is None:
        return ()
    older = [
        v
        for v in platform_versions.list_versions(store, asin)
        if v < current and not platform_versions.is_deleted(store, asin, v)
    ]
    keep = set(
        sorted(v for v in older if _verdict(store, asin, v) is Verdict.APPROVE)[-keep_approved:]
        if keep_approved
        else []
    )
    deletions = []
    for version in older:
        if version in keep or _verdict(store, asin, version) is None:
            continue
        deletions.append(
            delete_version(store, asin, version, reason=f"retention after publishing v{current}")
        )
        log(
            f"deleted {asin} v{version}: {deletions[-1].files} files, {deletions[-1].bytes_reclaimed:,} bytes reclaimed"
        )
    return tuple(deletions)


def _verdict(store: ObjectStore, asin: str, version: int) -> Verdict | None:
    decision = read_decision(store, asin, version)
    return None if decision is None else decision.verdict


def delete_version(store: ObjectStore, asin: str, version: int, *, reason: str) -> Deletion:
    """Remove everything the layout says belongs to a version (its files, its renders):
    tombstone first, then the derived data's manifests, the files, and the version manifest
    last, so an interrupted deletion is finished by the next one."""
    if platform_versions.published_version(store, asin) == version:
        raise DecisionError(
            "QA_DELETE_PUBLISHED", f"{asin} v{version} is published; it is never deleted"
        )
    manifest = platform_versions.read_version_manifest(store, asin, version)
    first, last = layout.version_commit_markers(asin, version)
    found = [
        info
        for prefix in layout.version_data_prefixes(asin, version)
        for info in store.list(prefix)
    ]
    found.sort(key=lambda info: 0 if info.key in first else 2 if info.key == last else 1)
    counted = [info for info in found if info.key != last]
    files, reclaimed = len(counted), sum(info.size for info in counted)
    tombstone = {
        "asin": asin,
        "version": version,
        "deleted_at": _now(),
        "reason": reason,
        "files": files,
        "bytes_reclaimed": reclaimed,
        "upload": None if manifest is None else manifest.upload.to_json(),
    }
    store.put_bytes(layout.tombstone_key(asin, version), json.dumps(tombstone, indent=2).encode())
    review_queue.clear_pending(store, asin, version)
    for info in found:
        store.delete(info.key)
    review_queue.requeue_newest(
        store, asin, decided=lambda v: read_decision(store, asin, v) is not None
    )
    return Deletion(version=version, files=files, bytes_reclaimed=reclaimed)
