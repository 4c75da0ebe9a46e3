"""The audit log: every change a signed-in person makes, with who, when and what.

One object per event under `audit/<day>/`, written once with a create-only write and never
changed or deleted by SHAZAM (the studio's IAM role has no delete either), so the log is
append-only. Keys sort by time, so a day's events list in order.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from shazam_assets.platform import layout
from shazam_assets.platform.identity import Person
from shazam_assets.platform.storage import ObjectNotFound, ObjectStore


@dataclass(frozen=True)
class AuditEvent:
    """One recorded action: `action` is a stable verb ("qa.decide", "production.assign"...),
    `target` what it acted on ("B0XXXXXXXX v3"), `details` what the action needs to be read back."""

    at: datetime
    actor: Person
    roles: tuple[str, ...]
    action: str
    target: str
    details: Mapping[str, Any] = field(default_factory=dict)
    event_id: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "at": self.at.isoformat(),
            "actor": self.actor.to_json(),
            "roles": list(self.roles),
            "action": self.action,
            "target": self.target,
            "details": dict(self.details),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AuditEvent:
        return cls(
            at=datetime.fromisoformat(data["at"]),
            actor=Person.from_json(data["actor"]),
            roles=tuple(data.get("roles", ())),
            action=str(data["action"]),
            target=str(data["target"]),
            details=dict(data.get("details", {})),
            event_id=str(data.get("event_id", "")),
        )


def stamp(at: datetime) -> str:
    """A UTC time as a key segment that sorts in time order: 20261207T071500123456Z."""
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def record(
    store: ObjectStore,
    *,
    actor: Person,
    roles: tuple[str, ...] | frozenset[str],
    action: str,
    target: str,
    details: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> AuditEvent:
    """Append one event to the log (a new object; an existing one is never replaced)."""
    at = (now or datetime.now(UTC)).astimezone(UTC)
    event = AuditEvent(
        at=at,
        actor=actor,
        roles=tuple(sorted(roles)),
        action=action,
        target=target,
        details=dict(details or {}),
        event_id=uuid.uuid4().hex,
    )
    key = layout.audit_event_key(at.strftime("%Y-%m-%d"), stamp(at), event.event_id)
    payload = json.dumps(event.to_json(), sort_keys=True).encode()
    while not store.put_if_absent(key, payload):  # a uuid4 collision: take another id
        event = AuditEvent(**{**event.__dict__, "event_id": uuid.uuid4().hex})
        key = layout.audit_event_key(at.strftime("%Y-%m-%d"), stamp(at), event.event_id)
        payload = json.dumps(event.to_json(), sort_keys=True).encode()
    return event


def events(
    store: ObjectStore, *, since: datetime, until: datetime | None = None
) -> Iterator[AuditEvent]:
    """The events from `since` to `until` (now), oldest first, listing one day's folder at a time."""
    until = until or datetime.now(UTC)
    day = since.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    while day <= until:
        for info in store.list(layout.audit_prefix(day.strftime("%Y-%m-%d"))):
            try:
                event = AuditEvent.from_json(json.loads(store.get_bytes(info.key)))
            except (ObjectNotFound, ValueError, KeyError, TypeError):
                continue  # not an event this module wrote: the log is read, never repaired
            if since <= event.at <= until:
                yield event
        day += timedelta(days=1)


def recent(store: ObjectStore, *, days: int = 7, limit: int = 200) -> list[AuditEvent]:
    """The newest `limit` events of the last `days` days, newest first."""
    now = datetime.now(UTC)
    found = list(events(store, since=now - timedelta(days=days), until=now))
    return sorted(found, key=lambda e: e.at, reverse=True)[:limit]
