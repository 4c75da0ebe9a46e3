"""Who did something: the signed-in person and the roles the studio grants.

A `Person` is what an OpenID Connect ID token says about the signed-in user (`sub`, `name`,
`email`). Records that say who assigned, marked, decided or uploaded something keep the whole
person, so a log stays readable after someone changes their display name; `sub` is the stable
identity. `artist_id(sub)` turns a subject (which may hold any character a provider likes:
`|`, `@`, `/`) into a store-safe path segment.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    """What a signed-in person may do (from the ID token's groups)."""

    ARTIST = "artist"
    REVIEWER = "reviewer"
    LEAD = "lead"
    OPERATOR = "operator"


@dataclass(frozen=True)
class Person:
    """A signed-in person: the ID token's subject, name and email."""

    sub: str
    name: str = ""
    email: str = ""

    @property
    def display(self) -> str:
        """How pages and records show the person: 'Name <email>', or what there is of it (two
        people may share a name; the e-mail tells them apart)."""
        if self.name and self.email:
            return f"{self.name} <{self.email}>"
        return self.name or self.email or self.sub

    @property
    def id(self) -> str:
        """The store-safe id of the person (`artist_id`)."""
        return artist_id(self.sub)

    def to_json(self) -> dict[str, Any]:
        return {"sub": self.sub, "name": self.name, "email": self.email}

    @classmethod
    def from_json(cls, data: Any) -> Person:
        if not isinstance(data, dict) or not isinstance(data.get("sub"), str) or not data["sub"]:
            raise ValueError("a person needs a non-empty 'sub'")
        return cls(
            sub=data["sub"], name=str(data.get("name") or ""), email=str(data.get("email") or "")
        )


def artist_id(sub: str) -> str:
    """A stable, store-safe id for a subject: the first 24 hex digits of its sha256."""
    return hashlib.sha256(sub.encode("utf-8")).hexdigest()[:24]
