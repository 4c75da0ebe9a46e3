"""The one exception of the publish stage: a refusal with a stable code (listed, with its
meaning and hint, in `shazam_assets.platform.errors`)."""

from __future__ import annotations


class PublishError(RuntimeError):
    """A product page that cannot be published; `code` is stable, and the live page (if any)
    was left as it was."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

