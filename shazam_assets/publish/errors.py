"""The one exception of the publish stage: a refusal with a stable code."""

from __future__ import annotations


class PublishError(RuntimeError):
    """A product page that cannot be published; `code` is stable, and the live page (if any)
    was left as it was."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# Every code `PublishError` is raised with, and what it means.
CODES = {
    "PUBLISH_BAD_ASIN": "the ASIN is malformed, so it names no store folder",
    "PUBLISH_NOT_APPROVED": "the ASIN has no approved version pointer (pointers/published/<ASIN>.json)",
    "PUBLISH_VERSION_MISSING": "the approved version has no version.json (deleted or never stored)",
    "PUBLISH_NO_MODEL": "the version's delivery manifest names no stored model",
    "PUBLISH_NO_TURNTABLE": "the approved version has no turntable yet (render it first)",
    "PUBLISH_SOURCE_MISSING": "a file the manifests list is not in the store",
    "PUBLISH_COPY_INCOMPLETE": "a copied file has another size than its source",
    "PUBLISH_VIEWER_MISSING": "model-viewer is not installed (run `make setup`)",
}
