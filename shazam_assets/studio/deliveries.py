"""Where each delivery of an ASIN is on its way to the shop, for the artist's status page.

Read from the same facts `shazam status` prints (`operations.status.asin_status`), so the page,
the CLI and the notifications never disagree:

    received -> validating -> rejected (every code, with its hint)
                           -> stored as vN -> waiting for QA -> approved | rejected (the notes)
                                                             -> published
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shazam_assets.operations.status import asin_status
from shazam_assets.platform.storage import ObjectStore

STEPS = ("received", "validating", "stored", "waiting for QA", "decided", "published")


@dataclass(frozen=True)
class Step:
    name: str
    state: str  # done | current | failed | todo
    detail: str = ""


@dataclass(frozen=True)
class Delivery:
    name: str  # the ZIP's name under the ASIN's upload folder
    key: str
    size: int
    uploaded_at: str
    outcome: str  # validating | rejected | waiting-for-qa | approved | rejected-by-qa | published | superseded
    version: int | None = None
    steps: tuple[Step, ...] = ()
    errors: tuple[dict[str, str], ...] = ()  # the validator's codes, messages, hints
    decision: dict[str, Any] | None = None

    @property
    def finished(self) -> bool:
        """No further change is expected without someone acting (a decision or a new upload)."""
        return self.outcome in ("rejected", "rejected-by-qa", "published", "superseded")

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "key": self.key,
            "size": self.size,
            "uploaded_at": self.uploaded_at,
            "outcome": self.outcome,
            "version": self.version,
            "finished": self.finished,
            "steps": [{"name": s.name, "state": s.state, "detail": s.detail} for s in self.steps],
            "errors": list(self.errors),
            "decision": self.decision,
        }


@dataclass(frozen=True)
class AsinDeliveries:
    asin: str
    published_version: int | None
    deliveries: tuple[Delivery, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "asin": self.asin,
            "published_version": self.published_version,
            "deliveries": [d.to_json() for d in self.deliveries],
        }


def _steps(done: int, *, failed_at: int | None = None, details: dict[int, str]) -> tuple[Step, ...]:
    out = []
    for i, name in enumerate(STEPS):
        if failed_at is not None and i == failed_at:
            state = "failed"
        elif i < done:
            state = "done"
        elif i == done and failed_at is None:
            state = "current"
        else:
            state = "todo"
        out.append(Step(name, state, details.get(i, "")))
    return tuple(out)


def _from_version(
    entry: dict[str, Any], upload: dict[str, Any] | None, published: int | None
) -> Delivery:
    number = int(entry["version"])
    state = entry["state"]
    decision = entry.get("decision")
    stored = f"v{number}"
    base = dict(
        name=entry["upload_key"].rsplit("/", 1)[-1],
        key=entry["upload_key"],
        size=int(upload["size"]) if upload else int(entry.get("total_bytes", 0)),
        uploaded_at=upload["last_modified"] if upload else str(entry.get("created_at", "")),
        version=number,
        decision=decision,
    )
    if state == "published" or published == number:
        steps = _steps(6, details={2: stored, 4: "approved"})
        return Delivery(outcome="published", steps=steps, **base)
    if state == "approved":
        steps = _steps(5, details={2: stored, 4: "approved"})
        return Delivery(outcome="approved", steps=steps, **base)
    if state == "rejected":
        note = (decision or {}).get("notes", "")
        steps = _steps(4, failed_at=4, details={2: stored, 4: note})
        return Delivery(outcome="rejected-by-qa", steps=steps, **base)
    if state == "deleted":  # retention removed it; a decision taken before it still shows
        removed = "removed by retention"
        verdict = (decision or {}).get("verdict")
        if verdict == "reject":
            steps = _steps(4, failed_at=4, details={2: stored, 4: f"rejected; {removed}"})
        elif verdict == "approve":
            steps = _steps(5, failed_at=5, details={2: stored, 4: "approved", 5: removed})
        else:
            steps = _steps(3, failed_at=3, details={2: stored, 3: removed})
        return Delivery(outcome="superseded", steps=steps, **base)
    if state == "storing":
        return Delivery(outcome="validating", steps=_steps(2, details={1: "storing"}), **base)
    return Delivery(outcome="waiting-for-qa", steps=_steps(3, details={2: stored}), **base)


def deliveries(store: ObjectStore, asin: str) -> AsinDeliveries:
    """Every delivery of `asin`, newest first, each with the step it is at: every stored
    version and every rejection (an upload replaced later under the same name included), then
    the uploads still being validated."""
    status = asin_status(store, asin)
    published = status["published_version"]
    uploads = {(u["key"], u["etag"]): u for u in status["uploads"]}
    seen = set()
    found = []
    for entry in status["versions"]:
        if entry["state"] == "abandoned":
            continue
        ident = (entry["upload_key"], entry["etag"])
        seen.add(ident)
        found.append(_from_version(entry, uploads.get(ident), published))
    for rejection in status["rejections"]:
        ident = (rejection["upload_key"], rejection["etag"])
        if ident in seen:
            continue
        seen.add(ident)
        upload = uploads.get(ident)
        errors = tuple(rejection["errors"])
        found.append(
            Delivery(
                name=rejection["upload_key"].rsplit("/", 1)[-1],
                key=rejection["upload_key"],
                size=int(upload["size"]) if upload else 0,
                uploaded_at=upload["last_modified"] if upload else rejection["rejected_at"],
                outcome="rejected",
                steps=_steps(1, failed_at=1, details={1: ", ".join(e["code"] for e in errors)}),
                errors=errors,
            )
        )
    for ident, upload in uploads.items():
        if ident in seen:
            continue
        found.append(
            Delivery(
                name=upload["key"].rsplit("/", 1)[-1],
                key=upload["key"],
                size=int(upload["size"]),
                uploaded_at=upload["last_modified"],
                outcome="validating",
                steps=_steps(1, details={}),
            )
        )
    found.sort(key=lambda d: d.uploaded_at, reverse=True)
    return AsinDeliveries(asin=asin, published_version=published, deliveries=tuple(found))
