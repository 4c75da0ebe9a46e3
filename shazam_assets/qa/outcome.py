"""What a recorded decision does: approval publishes (then retention), rejection notifies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shazam_assets.platform import versions as platform_versions
from shazam_assets.platform.notify import Channel, Notification, notify_once
from shazam_assets.platform.storage import ObjectStore
from shazam_assets.qa.decisions import Decision, Promotion, Verdict, promote, read_decision


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    promotion: Promotion | None  # set for an approval
    notified: str | None  # the notification receipt, for a rejection sent now


def notification_for(store: ObjectStore, decision: Decision) -> Notification:
    manifest = platform_versions.read_version_manifest(store, decision.asin, decision.version)
    delivery = {} if manifest is None else manifest.delivery or {}
    return Notification(
        asin=decision.asin,
        version=decision.version,
        verdict=str(decision.verdict),
        reviewer=decision.reviewer,
        notes=decision.notes,
        artist=(delivery.get("artist") or {}).get("name", "artist"),
        title=(delivery.get("product") or {}).get("title", decision.asin),
        upload_key="" if manifest is None else manifest.upload.key,
        comments=decision.comments,
    )


def apply_decision(
    store: ObjectStore,
    asin: str,
    version: int,
    *,
    channel: Channel,
    keep_approved: int,
    log: Callable[[str], None] = lambda _: None,
) -> Outcome:
    """Carry out a decision; safe to repeat (promotion and notification are idempotent)."""
    decision = read_decision(store, asin, version)
    if decision is None:
        raise LookupError(f"{asin} v{version} has no decision to apply")
    if decision.verdict is Verdict.APPROVE:
        return Outcome(
            decision, promote(store, asin, version, keep_approved=keep_approved, log=log), None
        )
    receipt = notify_once(store, channel, notification_for(store, decision))
    if receipt:
        log(f"notified the artist of the rejection of {asin} v{version}: {receipt}")
    return Outcome(decision, None, receipt)
