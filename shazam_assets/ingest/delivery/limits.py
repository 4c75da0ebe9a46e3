"""What validating one delivery may cost: every cap in one place, each checked from what the
input declares before anything is materialized.

A delivery is written by someone outside the company. Its few kilobytes of JSON can declare
billions of elements, thousands of channels on one node, or one mesh drawn by every node;
validation must reach a verdict on all of them in bounded time and memory. So each cap is
compared with a declared number (a count, a length, a nesting depth) first, and going over
one is an issue with a stable code, never an attempt to read what was declared.
The caps sit far above anything a commerce model needs (the profiles' budgets are much
smaller), so a valid delivery never meets them. See docs/delivery-spec.md, "Limits".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from shazam_assets.ingest.delivery.report import Issue, RuleBook

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Caps on the work one validation may do (profile-independent)."""

    issues_per_code: int = 100  # the first N issues of a code are kept, then one summary
    objects_per_collection: int = 65_536  # nodes, accessors, meshes, ... declared in one glTF
    nested_objects: int = 65_536  # all skin joints, animation channels/samplers, primitives
    extensions_declared: int = 256  # extensionsUsed / extensionsRequired (about 60 exist)
    scenes: int = 64  # each scene walks its nodes; a product model has one
    accessor_bytes: int = 256 * MB  # all accessors decoded, count x element size, summed
    glb_chunks: int = 1024
    json_depth: int = 64  # nesting of manifest.json and of the glTF JSON
    json_values: int = 4_000_000  # arrays, objects and values in one JSON text (~80 B each parsed)
    scene_vertices: int = 8_000_000  # vertices the budget stage transforms, instances counted


LIMITS = Limits()

rules = RuleBook("limits")
ISSUES_CAPPED = rules.info(
    "VALIDATION_LIMIT_ISSUES",
    "More issues of one code were found than a report lists",
    hint="Fix the issues listed; the rest are the same problem repeated. The count is in the message.",
)
TOO_MANY_OBJECTS = rules.error(
    "VALIDATION_LIMIT_OBJECTS",
    "The model declares more objects than can be validated",
    hint="Merge nodes and meshes, bake animation, and remove unused objects: a product model needs far fewer.",
)
ACCESSOR_DATA = rules.error(
    "VALIDATION_LIMIT_ACCESSOR_DATA",
    "The model's accessors declare more data than can be validated",
    hint="Remove unused accessors and check accessor counts (a wrong count on a sparse accessor declares billions of elements).",
)
JSON_TOO_DEEP = rules.error(
    "VALIDATION_LIMIT_JSON_DEPTH",
    "JSON nested deeper than allowed",
    hint="Write the JSON file with the exporter or `shazam pack`; nothing in a delivery nests this deep.",
)
JSON_TOO_LARGE = rules.error(
    "VALIDATION_LIMIT_JSON_VALUES",
    "JSON with more values than can be parsed",
    hint="Store geometry and animation in binary buffers, not in JSON arrays; remove unused objects.",
)
GLB_CHUNKS = rules.error(
    "VALIDATION_LIMIT_GLB_CHUNKS",
    "The GLB has more chunks than can be read",
    hint="Re-export the GLB: a valid one has a JSON chunk and at most one BIN chunk.",
)
SCENE_TOO_LARGE = rules.error(
    "VALIDATION_LIMIT_SCENE",
    "The scene draws more vertices (instances counted) than can be checked",
    hint="Decimate the meshes or reduce how many nodes draw them; commerce models need far fewer vertices.",
)


def cap_issues(issues: Iterable[Issue], per_code: int = LIMITS.issues_per_code) -> list[Issue]:
    """Keep the first `per_code` issues of each code, then one VALIDATION_LIMIT_ISSUES per
    code saying how many more there were. Issues that were capped already are counted too."""
    kept: list[Issue] = []
    seen: dict[str, int] = {}
    dropped: dict[str, int] = {}
    for issue in issues:
        if issue.code == ISSUES_CAPPED.code and "capped_code" in issue.details:
            code = issue.details["capped_code"]
            dropped[code] = dropped.get(code, 0) + int(issue.details["more"])
            continue
        seen[issue.code] = seen.get(issue.code, 0) + 1
        if seen[issue.code] <= per_code:
            kept.append(issue)
        else:
            dropped[issue.code] = dropped.get(issue.code, 0) + 1
    return kept + [capped_summary(code, more) for code, more in dropped.items()]


def capped_summary(code: str, more: int) -> Issue:
    return ISSUES_CAPPED(
        f"{more:,} more {code} issue(s) were found and not listed", capped_code=code, more=more
    )


_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?')  # a JSON string (unrolled: fast on long ones)
_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = np.zeros(256, dtype=np.int8)
_STEP[[ord("["), ord("{")]] = 1
_STEP[[ord("]"), ord("}")]] = -1
_CHUNK = 1 << 22


def json_shape(raw: bytes | str) -> tuple[int, int]:
    """(nesting depth, number of values) of a JSON text, without parsing it.

    Strings are cut out first (a bracket or comma inside a string is text), then brackets
    and commas are counted, the depth with numpy a few MB at a time: linear time, little
    memory, no recursion and no objects built, so a 45 MB text of sixteen million empty
    objects is refused before it costs a gigabyte."""
    text = _STRING.sub(b"0", raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw)
    values = text.count(b",") + text.count(b"[") + text.count(b"{") + 1
    brackets = text.translate(None, delete=_BRACKETS)
    depth = level = 0
    for start in range(0, len(brackets), _CHUNK):
        steps = _STEP[
            np.frombuffer(
                brackets, dtype=np.uint8, count=min(_CHUNK, len(brackets) - start), offset=start
            )
        ]
        levels = np.cumsum(steps, dtype=np.int64) + level
        depth, level = max(depth, int(levels.max())), int(levels[-1])
    return depth, values


def json_too_big(raw: bytes | str, what: str, *, path: str | None = None) -> Issue | None:
    """A VALIDATION_LIMIT_JSON_* issue when `raw` nests too deep or holds too many values."""
    depth, values = json_shape(raw)
    if depth > LIMITS.json_depth:
        return JSON_TOO_DEEP(
            f"{what} nests {depth:,} levels deep; at most {LIMITS.json_depth} are allowed",
            path=path,
            depth=depth,
        )
    if values > LIMITS.json_values:
        return JSON_TOO_LARGE(
            f"{what} holds about {values:,} values; at most {LIMITS.json_values:,} are parsed",
            path=path,
            values=values,
        )
    return None
