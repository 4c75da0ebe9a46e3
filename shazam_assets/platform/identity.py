"""Who did something: a signed-in person and the roles their identity provider gave them.

The studio reads both from the OpenID Connect ID token (`sub`, `name`, `email` and the groups
claim); the audit log, assignments and production events record the `Person`."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from typing import Any


class Role(enum.StrEnum):
    """The studio's roles, named as the identity provider's groups are."""

    ARTIST = "artist"  # works on the ASINs assigned to them: scan download, stages, uploads
    REVIEWER = "reviewer"  # decides versions
    LEAD = "lead"  # assigns work, rolls back, unpublishes, reads the audit log
    OPERATOR = "operator"  # everything, and the read-only metrics


def artist_id(sub: str) -> str:
    """A stable, store-safe id for a person (their `sub` may hold any character)."""
    return hashlib.sha256(sub.encode("utf-8")).hexdigest()[:24]


@dataclass(frozen=True)
class Person:
    """A person as their identity provider names them; `sub` is the stable id."""

    sub: str
    name: str = ""
    email: str = ""

    @property
    def display(self) -> str:
        """How pages and records show the person: 'Name <email>', or what there is of it."""
        if self.name and self.email:
            return f"{self.name} <{self.email}>"
        return self.name or self.email or self.sub

    @property
    def id(self) -> str:
        return artist_id(self.sub)

    def to_json(self) -> dict[str, Any]:
        return {"sub": self.sub, "name": self.name, "email": self.email}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Person:
        return cls(
            sub=str(data["sub"]), name=str(data.get("name", "")), email=str(data.get("email", ""))
        )
