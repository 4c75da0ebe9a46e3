"""The manifest's plain reader agrees with its schema (pydantic) on every input.

`contract.parse_manifest` reads a canonical manifest without pydantic and hands everything else
to `manifest_schema`. Whatever the input, the outcome must be the schema's alone: the same record
when it is accepted (and the same JSON a version records), the same issues, in the same order and
words, when it is not. The inputs: what `shazam pack` writes, then every field of it deleted,
given an extra neighbour, or replaced by each value of a table of awkward JSON values.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from shazam_assets.ingest.delivery import contract, manifest_schema
from shazam_assets.ingest.delivery.pack import PackRequest, build_manifest

BASE = build_manifest(
    PackRequest(
        asin="B0TESTTEST",
        artist="Zoë Ärtist",
        model=Path("lamp.glb"),
        photos=(Path("front.jpg"), Path("side.png")),
        scan=Path("scan.obj"),
        title="Desk lamp",
        dimensions=(0.3, 0.5, 2),
        unit="cm",
        signoff_date=date(2026, 3, 1),
    )
)
BASE["stages"]["uv"]["notes"] = "seams hidden\r\nunder the base"
BASE["artist"]["email"] = "zoe@example.com"

PROBES: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    -1,
    2,
    0.0,
    -0.5,
    1.5,
    2**53,
    2**53 + 1,
    10**400,
    float("inf"),
    float("-inf"),
    float("nan"),
    "",
    " ",
    "x",
    "yes",
    "off",
    "true",
    "1",
    "1.5",
    "inf",
    "2026-03-01",
    "2026-03-01T00:00:00",
    "2026-03-01T10:00:00",
    "2026-02-30",
    "0000-01-01",
    "20260301",
    "\uff12\uff10\uff12\uff16-03-01",
    "m",
    "mm",
    "km",
    "shazam.delivery/1",
    "uv",
    "a/../b.glb",
    "./x//y.png",
    "\u0301e\u0301",
    "Jose\u0301",
    "a\x00b",
    "a\u202eb",
    "line\nbreak",
    "\ud800",
    "\udcc3\udca9",
    "\U0001f600",
    "\u0958" * 150,
    "e\u0301" * 150,
    " " + "x" * 200,
    "x" * 201,
    "x" * 501,
    "x" * 4001,
    [],
    ["x"],
    ["a.jpg", 3],
    {},
    {"a": 1},
    {"cleanup": None},
]


def _paths(node: Any, at: tuple = ()) -> Iterator[tuple]:
    yield at
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*at, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*at, index))


def _edited(path: tuple, how: str, value: Any = None) -> Any:
    data = copy.deepcopy(BASE)
    if not path:
        return value
    parent = data
    for step in path[:-1]:
        parent = parent[step]
    if how == "set":
        parent[path[-1]] = value
    elif how == "delete":
        del parent[path[-1]]
    elif isinstance(parent[path[-1]], dict):  # "extra": a key nobody expects
        parent[path[-1]]["colour"] = "red"
    return data


def _cases() -> Iterator[Any]:
    yield BASE
    for path in _paths(BASE):
        yield _edited(path, "extra")
        if path:
            yield _edited(path, "delete")
        for value in PROBES:
            yield _edited(path, "set", value)
    for stage in contract.PRODUCTION_STAGES:  # a stage missing, or named twice in other words
        yield {**BASE, "stages": {k: v for k, v in BASE["stages"].items() if k != stage}}
    yield {**BASE, "stages": {**BASE["stages"], "rigging": BASE["stages"]["uv"]}}


CASES = list(_cases())


def _schema_verdict(data: Any) -> tuple[dict | None, list[tuple[str | None, str]]]:
    checked, problems = manifest_schema.check(data)
    if checked is None:
        return None, [(p, f"manifest.json{p}: {m}") for p, m in problems]
    return checked.model_dump(mode="json", by_alias=True), []


@pytest.mark.parametrize("data", CASES, ids=[str(i) for i in range(len(CASES))])
def test_parse_manifest_gives_the_schemas_verdict(data: Any) -> None:
    raw = json.dumps(data).encode()
    manifest, issues = contract.parse_manifest(raw)
    expected, problems = _schema_verdict(json.loads(raw))
    assert [(i.pointer, i.message) for i in issues] == problems
    assert {i.code for i in issues} <= {"CONTRACT_MANIFEST_SCHEMA"}
    if expected is None:
        assert manifest is None
    else:
        assert manifest is not None and _same(manifest.to_dict(), expected)


def _same(ours: Any, theirs: Any) -> bool:
    """Equal, with the types the schema gives (1.0 is not 1, True is not 1)."""
    if type(ours) is not type(theirs):
        return False
    if isinstance(ours, dict):
        return list(ours) == list(theirs) and all(_same(ours[k], theirs[k]) for k in ours)
    if isinstance(ours, list):
        return len(ours) == len(theirs) and all(
            _same(a, b) for a, b in zip(ours, theirs, strict=True)
        )
    return bool(ours == theirs)


def test_the_plain_reader_takes_what_pack_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The common case never needs the schema (so `shazam validate` does not import pydantic)."""
    monkeypatch.setattr(manifest_schema, "check", lambda data: pytest.fail("the schema was asked"))
    manifest, issues = contract.parse_manifest(json.dumps(BASE).encode())
    assert issues == [] and manifest is not None
    assert manifest.product.dimensions.in_metres() == pytest.approx((0.003, 0.005, 0.02))
    assert manifest.stages["uv"].notes == "seams hidden\nunder the base"


def test_the_corpus_reaches_both_readers() -> None:
    plain = schema = 0
    for data in CASES:
        try:
            contract._read_manifest(json.loads(json.dumps(data)))
            plain += 1
        except contract._NotCanonical:
            schema += manifest_schema.check(data)[0] is not None
    assert plain > 50 and schema > 20  # accepted by each reader in turn, beyond the rejections
