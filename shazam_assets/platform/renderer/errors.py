"""The render stage's refusal: a stable code and a message (see docs/error-codes.md)."""

from __future__ import annotations


class RenderError(ValueError):
    """A model that cannot be rendered, or a render that did not finish; `code` is stable.

    Codes of the studio renderer: RENDER_MODEL_UNREADABLE (the file cannot be loaded),
    RENDER_UNSUPPORTED_EXTENSION (it requires an extension the renderer cannot draw, such as
    Draco or meshopt geometry or KTX2 textures), RENDER_NO_GEOMETRY (nothing to draw),
    RENDER_TIMEOUT (the render ran past its deadline and was stopped) and RENDER_CRASHED (the
    render process died). The turntable adds its own (turntable.TurntableError).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    def __reduce__(self) -> tuple[type[RenderError], tuple[str, str]]:
        """Picklable with its code (it crosses from the render process to its parent)."""
        return (type(self), (self.code, self.message))
