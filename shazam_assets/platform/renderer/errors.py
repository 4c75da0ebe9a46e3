"""The render stage's refusals: a stable code and a message (see docs/error-codes.md)."""

from __future__ import annotations

from shazam_assets.platform.errors import ShazamError, TransientError


class RenderError(ShazamError, ValueError):
    """A model that cannot be rendered, or a render that did not finish; `code` is stable.

    Codes of the studio renderer: RENDER_MODEL_UNREADABLE (the file cannot be loaded),
    RENDER_UNSUPPORTED_EXTENSION (it requires an extension the renderer cannot draw, such as
    Draco or meshopt geometry or KTX2 textures), RENDER_NO_GEOMETRY (nothing to draw),
    RENDER_TIMEOUT (the render ran past its deadline and was stopped) and RENDER_CRASHED (the
    render process died: `RenderCrashed`). The turntable adds its own (turntable.TurntableError).
    """


class RenderCrashed(RenderError, TransientError):
    """The render process died without answering (a driver fault, the node's OOM killer): the
    model is not to blame, another try may succeed."""

    code = "RENDER_CRASHED"

    def __init__(self, message: str) -> None:
        super().__init__(self.code, message)
