"""The one error type of the search stage: a stable code a caller can branch on, and a message."""

from __future__ import annotations


class SearchError(ValueError):
    """Search cannot do what was asked; `code` is stable (SEARCH_*), nothing was changed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
