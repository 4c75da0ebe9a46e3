"""Who may do what in the studio: one table, checked on the server for every request.

A signed-in `Identity` carries the roles its ID token's groups named. An artist acts only on
the ASINs assigned to them; every other role's permissions hold for every ASIN. The table is
the whole policy: routes name the `Action` they perform, nothing else decides.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime

from shazam_assets.platform.identity import Person, Role


class Action(enum.StrEnum):
    HOME = "home"  # one's own start page: every role has one
    VIEW_ASIN = "view-asin"  # an ASIN's production state, deliveries and their status
    DOWNLOAD_SCAN = "download-scan"
    MARK_STAGE = "mark-stage"  # cleanup / UV / texturing done
    UPLOAD = "upload"  # a delivery ZIP, straight to the store
    VIEW_BOARD = "view-board"  # every ASIN, not only one's own
    REVIEW = "review"  # the review pages: model, photos, scores, comparison
    DECIDE = "decide"  # approve or reject a version
    ASSIGN = "assign"
    ROLLBACK = "rollback"
    UNPUBLISH = "unpublish"
    VIEW_AUDIT = "view-audit"
    VIEW_METRICS = "view-metrics"


# Actions an artist may take on an ASIN assigned to them (and only then).
OWN_ASIN = frozenset({Action.VIEW_ASIN, Action.DOWNLOAD_SCAN, Action.MARK_STAGE, Action.UPLOAD})

POLICY: dict[Role, frozenset[Action]] = {
    Role.ARTIST: OWN_ASIN | {Action.HOME},
    Role.REVIEWER: frozenset(
        {
            Action.HOME,
            Action.VIEW_ASIN,
            Action.DOWNLOAD_SCAN,
            Action.VIEW_BOARD,
            Action.REVIEW,
            Action.DECIDE,
        }
    ),
    Role.LEAD: frozenset(
        {
            Action.HOME,
            Action.VIEW_ASIN,
            Action.DOWNLOAD_SCAN,
            Action.VIEW_BOARD,
            Action.REVIEW,
            Action.DECIDE,
            Action.ASSIGN,
            Action.ROLLBACK,
            Action.UNPUBLISH,
            Action.VIEW_AUDIT,
            Action.VIEW_METRICS,
        }
    ),
    Role.OPERATOR: frozenset(Action),
}


@dataclass(frozen=True)
class Identity:
    """A signed-in person: who, with which roles, until when (their ID token's expiry)."""

    person: Person
    roles: frozenset[Role]
    expires_at: datetime

    def expired(self, now: datetime | None = None) -> bool:
        return (now or datetime.now(UTC)) >= self.expires_at

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def role_names(self) -> tuple[str, ...]:
        return tuple(sorted(r.value for r in self.roles))


def roles_from_groups(groups: object) -> frozenset[Role]:
    """The roles named by an ID token's groups claim (a list of names, or one name); every
    other group is ignored."""
    names = [groups] if isinstance(groups, str) else groups if isinstance(groups, list) else []
    known = {role.value for role in Role}
    return frozenset(Role(name) for name in names if isinstance(name, str) and name in known)


def allowed(identity: Identity, action: Action, *, assignee: str | None = None) -> bool:
    """Whether `identity` may take `action`; `assignee` is the `sub` of the artist the ASIN is
    assigned to (None when unassigned or when the action names no ASIN)."""
    for role in identity.roles:
        if action not in POLICY[role]:
            continue
        if (
            role is Role.ARTIST
            and action in OWN_ASIN
            and (assignee is None or assignee != identity.person.sub)
        ):
            continue
        return True
    return False


def actions_for(identity: Identity, *, assignee: str | None = None) -> frozenset[Action]:
    """Every action `identity` may take on an ASIN assigned to `assignee` (for pages to show
    only the buttons that will work)."""
    return frozenset(a for a in Action if allowed(identity, a, assignee=assignee))
