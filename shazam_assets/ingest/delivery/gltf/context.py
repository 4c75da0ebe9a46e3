"""The running state of one validation: where we are in the JSON, and what we found.

Issues carry a JSON pointer built from the current path, exactly as the Khronos validator
builds it, so a finding can be located in the document. The context also holds what later
stages need from earlier ones: which extensions are active, which accessor formats they
allow, and the data checks registered for each accessor while objects were linked.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from shazam_assets.ingest.delivery import limits
from shazam_assets.ingest.delivery.gltf import catalog
from shazam_assets.ingest.delivery.report import Issue, Rule

# Accessor formats: (type, componentType, normalized).
Format = tuple[str | None, int, bool]

FLOAT, BYTE, UBYTE, SHORT, USHORT, UINT = 5126, 5120, 5121, 5122, 5123, 5125

_BASE_ATTRIBUTE_FORMATS: dict[str, set[Format]] = {
    "POSITION": {("VEC3", FLOAT, False)},
    "NORMAL": {("VEC3", FLOAT, False)},
    "TANGENT": {("VEC4", FLOAT, False)},
    "TEXCOORD": {("VEC2", FLOAT, False), ("VEC2", UBYTE, True), ("VEC2", USHORT, True)},
    "COLOR": {
        (t, c, n)
        for t in ("VEC3", "VEC4")
        for c, n in ((FLOAT, False), (UBYTE, True), (USHORT, True))
    },
    "JOINTS": {("VEC4", UBYTE, False), ("VEC4", USHORT, False)},
    "WEIGHTS": {("VEC4", FLOAT, False), ("VEC4", UBYTE, True), ("VEC4", USHORT, True)},
}

_SIGNED_NORMALIZED = ((BYTE, True), (UBYTE, True), (SHORT, True), (USHORT, True))
_BASE_MORPH_FORMATS: dict[str, set[Format]] = {
    "POSITION": {("VEC3", FLOAT, False)},
    "NORMAL": {("VEC3", FLOAT, False)},
    "TANGENT": {("VEC3", FLOAT, False)},
    "TEXCOORD": {("VEC2", FLOAT, False)} | {("VEC2", c, n) for c, n in _SIGNED_NORMALIZED},
    "COLOR": {(t, FLOAT, False) for t in ("VEC3", "VEC4")}
    | {(t, c, n) for t in ("VEC3", "VEC4") for c, n in _SIGNED_NORMALIZED},
}


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class Context:
    """Issues found so far, the JSON path being read, and cross-stage registries."""

    def __init__(self) -> None:
        self.path: list[str] = []
        self.issues: list[Issue] = []
        self.is_glb = False
        self.extensions_used: list[str] = []
        self.extensions_loaded: list[str] = []
        self.image_mime_types: list[str] = ["image/jpeg", "image/png"]
        self.animation_paths: list[str] = ["translation", "rotation", "scale", "weights"]
        self.attribute_formats = {k: set(v) for k, v in _BASE_ATTRIBUTE_FORMATS.items()}
        self.morph_formats = {k: set(v) for k, v in _BASE_MORPH_FORMATS.items()}
        self.checks: dict[int, Any] = {}  # id(accessor) -> AccessorChecks (see data_checks)
        self.view_accessors: dict[int, set[int]] = {}  # id(bufferView) -> ids of accessors
        self.owners: dict[int, Any] = {}  # id(texture info or extension) -> owning object
        # Issues per code: past the cap an issue is only counted (see `limits.cap_issues`),
        # so a file repeating one mistake a million times costs a counter, not a million issues.
        self.counts: dict[str, int] = {}
        self.node_roots: dict[int, int] = {}  # id(node) -> id of its root (see scenegraph)
        self.mesh_skinning: dict[int, tuple[bool, bool]] = {}  # id(mesh) -> (no, any) skinned prims
        self.dropped: dict[str, int] = {}

    def full(self, rule: Rule) -> bool:
        """Whether issues of `rule` are only counted from now on."""
        return self.counts.get(rule.code, 0) >= limits.LIMITS.issues_per_code

    def drop(self, rule: Rule, more: int) -> None:
        """Count `more` issues of `rule` that a check found without listing them."""
        if more > 0:
            self.counts[rule.code] = self.counts.get(rule.code, 0) + more
            self.dropped[rule.code] = self.dropped.get(rule.code, 0) + more

    def capped(self) -> list[Issue]:
        """One summary issue per code whose issues went over the cap."""
        return [limits.capped_summary(code, more) for code, more in self.dropped.items()]

    def pointer(self, token: str | None = None) -> str:
        """The JSON pointer of the current path (plus `token`), like '/meshes/0/primitives/1'."""
        if not self.path and token is not None and token.startswith("/"):
            return token
        parts = [*self.path, token] if token is not None else self.path
        return "/" + "/".join(_escape(p) for p in parts)

    @contextlib.contextmanager
    def at(self, *tokens: str | int) -> Iterator[None]:
        """Descend into `tokens` for the duration of a `with` block."""
        self.path.extend(str(t) for t in tokens)
        try:
            yield
        finally:
            del self.path[len(self.path) - len(tokens) :]

    def add(
        self,
        rule: Rule,
        message: str | None = None,
        *,
        name: str | None = None,
        index: int | None = None,
        offset: int | None = None,
        root: bool = False,
    ) -> None:
        """Record one finding at the current path (`name`/`index` add a last token)."""
        if self.full(rule):
            self.drop(rule, 1)
            return
        self.counts[rule.code] = self.counts.get(rule.code, 0) + 1
        details: dict[str, Any] = {}
        if rule.code.startswith(catalog.PREFIX) and rule is not catalog.URI_OUTSIDE_DELIVERY:
            details["khronos_code"] = rule.code[len(catalog.PREFIX) :]
        pointer: str | None
        if offset is not None:
            pointer = None
            details["offset"] = offset
        elif root:
            pointer = "/"
        else:
            pointer = self.pointer(str(index) if index is not None else name)
        self.issues.append(rule(message, pointer=pointer, **details))
