"""Shrink a crashing input by its structure, to write the regression test from.

    python -m tests.fuzz.minimize gltf|delivery INPUT [OUTPUT]

libFuzzer's -minimize_crash flips bytes; a glTF crash is easier to read when the JSON is
small. This deletes JSON members and array items (and, in a GLB, the binary chunk; in a ZIP,
whole members) as long as the input still fails with the same crash signature.
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.fuzz import harness, mutate

Check = Callable[[bytes], bool]


def crash_signature(target: harness.Target, data: bytes) -> str | None:
    try:
        harness.check_verdict(target(data))
    except Exception as exc:  # the crash being minimised
        return harness.signature(exc)
    return None


def _shrink_json(doc: Any, still_fails: Callable[[Any], bool]) -> Any:
    """Greedy: drop each member or item whose removal keeps the failure; then recurse."""
    queue = [doc]
    while queue:
        node = queue.pop()
        keys = list(node.keys()) if isinstance(node, dict) else list(range(len(node)))[::-1]
        for key in keys:
            removed = node[key]
            del node[key]
            if still_fails(doc):
                continue
            if isinstance(node, dict):
                node[key] = removed
            else:
                node.insert(key, removed)
        values = node.values() if isinstance(node, dict) else node
        queue.extend(v for v in values if isinstance(v, dict | list))
    return doc


def minimize_model(data: bytes, check: Check) -> bytes:
    chunks = mutate.split_glb(data)
    if chunks is None:
        try:
            doc = json.loads(data)
        except (ValueError, RecursionError):
            return data
        doc = _shrink_json(doc, lambda d: check(mutate.dump_json(d)))
        return mutate.dump_json(doc)
    if len(chunks) > 1 and check(mutate.join_glb(chunks[:1])):
        chunks = chunks[:1]
    kind, raw = chunks[0]
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        return mutate.join_glb(chunks)

    def glb(d: Any) -> bytes:
        return mutate.join_glb([(kind, mutate.dump_json(d)), *chunks[1:]])

    return glb(_shrink_json(doc, lambda d: check(glb(d))))


def minimize_delivery(data: bytes, check: Check) -> bytes:
    members = mutate.read_zip(data) or []
    for member in list(members):
        trial = [m for m in members if m is not member]
        if check(mutate.write_zip(trial)):
            members = trial
    for at, (info, raw) in enumerate(members):
        smaller = minimize_model(
            raw,
            lambda r, at=at, info=info: check(
                mutate.write_zip([*members[:at], (info, r), *members[at + 1 :]])
            ),
        )
        members[at] = (info, smaller)
    return mutate.write_zip(members)


def main(argv: list[str]) -> int:
    kind, source = argv[0], Path(argv[1])
    if kind == "gltf":
        from tests.fuzz.fuzz_gltf import test_one_input as target

        shrink = minimize_model
    else:
        from tests.fuzz.fuzz_delivery import test_one_input as target

        shrink = minimize_delivery
    data = source.read_bytes()
    wanted = crash_signature(target, data)
    if wanted is None:
        print("the input does not crash", file=sys.stderr)
        return 1
    smaller = shrink(data, lambda d: crash_signature(target, d) == wanted)
    out = Path(argv[2]) if len(argv) > 2 else source.with_suffix(".min")
    out.write_bytes(smaller)
    print(f"{wanted}: {len(data)} -> {len(smaller)} bytes, {out}")
    if zipfile.is_zipfile(io.BytesIO(smaller)):
        for info, raw in mutate.read_zip(smaller) or []:
            print(f"  {info.filename}: {raw[:400]!r}")
    else:
        print(f"  {smaller[:1200]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
