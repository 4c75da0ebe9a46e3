"""The one exception of the publish stage: a refusal with a stable code (listed, with its
meaning and hint, in `shazam_assets.platform.errors`)."""

from __future__ import annotations

from shazam_assets.platform.errors import ShazamError


class PublishError(ShazamError, RuntimeError):
    """A product page that cannot be published; `code` is stable, and the live page (if any)
    was left as it was."""
