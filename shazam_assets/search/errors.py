"""The error types of the search stage: a stable code a caller can branch on, and a message."""

from __future__ import annotations

from shazam_assets.platform.errors import ShazamError, TransientError


class SearchError(ShazamError, ValueError):
    """Search cannot do what was asked; `code` is stable (SEARCH_*), nothing was changed."""


class IndexConflict(SearchError, TransientError):
    """Another writer updated the index first; nothing is lost, the write can be redone from
    the new index."""

    code = "SEARCH_INDEX_CONFLICT"

    def __init__(self, message: str) -> None:
        super().__init__(self.code, message)
