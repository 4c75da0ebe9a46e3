"""The scan source check: an OBJ streamed in chunks, its MTL files and textures resolved.

Inputs are small OBJ/MTL texts built here; one test goes through a real ZIP and
`zipsafety.open_entry`, as `validate` does. The vectorised path and the line-by-line path are
compared on random tokens so that the fast path can never accept what the exact one rejects.
"""

from __future__ import annotations

import contextlib
import io
import random
import tracemalloc
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pytest

from shazam_assets.ingest.delivery import scan, zipsafety
from shazam_assets.ingest.delivery.report import Issue, Severity
from shazam_assets.ingest.delivery.scan import ScanStats, check_obj_scan

CUBE = b"""# a unit cube with UVs and normals
mtllib cube.mtl
o Cube
v 0 0 0
v 1 0 0
v 1 1 0
v 0 1 0
v 0 0 1
v 1 0 1
v 1 1 1
v 0 1 1
vt 0 0
vt 1 0
vt 1 1
vt 0 1
vn 0 0 -1
vn 0 0 1
vn 0 -1 0
vn 0 1 0
vn -1 0 0
vn 1 0 0
usemtl scan
s off
f 1/1/1 4/4/1 3/3/1 2/2/1
f 5/1/2 6/2/2 7/3/2 8/4/2
f 1/1/3 2/2/3 6/3/3 5/4/3
f 4/1/4 8/2/4 7/3/4 3/4/4
f 1//5 5//5 8//5
f 1//5 8//5 4//5
f -7/-3/-1 -6/-2/-1 -2/-1/-1 -3/-4/-1
"""
MTL = b"""newmtl scan
Kd 1 1 1
map_Kd -s 1 1 1 -bm 0.5 textures/albedo.jpg
map_Bump textures\\normal.png
"""


def members(files: dict[str, bytes]):
    """An `open_member` over in-memory files, as zipsafety.open_entry behaves for a real ZIP."""

    def open_member(name: str) -> contextlib.AbstractContextManager[BinaryIO]:
        return contextlib.nullcontext(io.BytesIO(files[name]))

    return open_member


def check(obj: bytes, *, extra: dict[str, bytes] | None = None, name: str = "scan/scan.obj"):
    files = {
        name: obj,
        "scan/cube.mtl": MTL,
        "scan/textures/albedo.jpg": b"jpg",
        "scan/textures/normal.png": b"png",
        **(extra or {}),
    }
    return check_obj_scan(obj_name=name, open_member=members(files), member_names=frozenset(files))


def codes(issues: list[Issue]) -> list[str]:
    return [i.code for i in issues]


def test_a_good_scan_is_counted_and_its_materials_resolved() -> None:
    stats, issues = check(CUBE)
    assert issues == []
    assert stats is not None
    assert (stats.vertices, stats.texcoords, stats.normals) == (8, 4, 6)
    assert (stats.faces, stats.triangles) == (7, 2 + 2 + 2 + 2 + 1 + 1 + 2)
    assert stats.material_libraries == ("scan/cube.mtl",)
    assert stats.textures == ("scan/textures/albedo.jpg", "scan/textures/normal.png")
    assert stats.bytes_read == len(CUBE)
    assert stats.mb_per_s > 0


def test_crlf_tabs_comments_and_leading_spaces_are_accepted() -> None:
    odd = CUBE.replace(b"\n", b"\r\n").replace(b"v 0 0 0", b"  v\t0 0 0   # origin")
    stats, issues = check(odd)
    assert issues == []
    assert stats is not None and (stats.vertices, stats.faces) == (8, 7)


def test_a_file_without_a_final_newline_is_read_to_the_end() -> None:
    stats, issues = check(CUBE.rstrip(b"\n"))
    assert issues == [] and stats is not None and stats.faces == 7


@dataclass(frozen=True)
class Case:
    id: str
    code: str
    obj: bytes
    line: int | None = None  # the line the message must name
    extra: tuple[tuple[str, bytes], ...] = ()


def replace_line(number: int, text: bytes) -> bytes:
    lines = CUBE.split(b"\n")
    lines[number - 1] = text
    return b"\n".join(lines)


CASES = [
    Case("letters in a vertex", "SCAN_OBJ_UNPARSEABLE", replace_line(5, b"v 1 0 x"), line=5),
    Case("two numbers in a vertex", "SCAN_OBJ_UNPARSEABLE", replace_line(5, b"v 1 0"), line=5),
    Case("a bare v", "SCAN_OBJ_UNPARSEABLE", replace_line(5, b"v"), line=5),
    Case("nan normal", "SCAN_OBJ_UNPARSEABLE", replace_line(15, b"vn nan 0 1"), line=15),
    Case("double point", "SCAN_OBJ_UNPARSEABLE", replace_line(13, b"vt 0.5.1 0"), line=13),
    Case("face with two corners", "SCAN_OBJ_UNPARSEABLE", replace_line(23, b"f 1 2"), line=23),
    Case(
        "face with four slots",
        "SCAN_OBJ_UNPARSEABLE",
        replace_line(23, b"f 1/1/1/1 2/2/2 3/3/3"),
        line=23,
    ),
    Case("face with a float", "SCAN_OBJ_UNPARSEABLE", replace_line(23, b"f 1 2.5 3"), line=23),
    Case("no faces", "SCAN_OBJ_EMPTY", b"v 0 0 0\nv 1 0 0\nv 0 1 0\n"),
    Case("no vertices", "SCAN_OBJ_EMPTY", b"# nothing here\no Empty\n"),
    Case("a binary file", "SCAN_OBJ_EMPTY", bytes(range(256)) * 16),
    Case(
        "vertex index past the end",
        "SCAN_OBJ_INDEX_OUT_OF_RANGE",
        replace_line(23, b"f 1/1/1 4/4/1 9/3/1"),
        line=23,
    ),
    Case(
        "normal index past the end",
        "SCAN_OBJ_INDEX_OUT_OF_RANGE",
        replace_line(23, b"f 1/1/1 4/4/1 3/3/7"),
        line=23,
    ),
    Case(
        "relative index before the start",
        "SCAN_OBJ_INDEX_OUT_OF_RANGE",
        replace_line(23, b"f -1 -2 -9"),
        line=23,
    ),
    Case(
        "relative index to a later vertex",
        "SCAN_OBJ_INDEX_OUT_OF_RANGE",
        b"v 0 0 0\nv 1 0 0\nf -1 -2 -3\nv 0 1 0\n",
        line=3,
    ),
    Case("index zero", "SCAN_OBJ_INDEX_OUT_OF_RANGE", replace_line(23, b"f 0 1 2"), line=23),
    Case("mtl missing", "SCAN_MTL_MISSING", CUBE.replace(b"mtllib cube.mtl", b"mtllib other.mtl")),
    Case(
        "mtl in another folder",
        "SCAN_MTL_MISSING",
        CUBE.replace(b"mtllib cube.mtl", b"mtllib materials/cube.mtl"),
    ),
    Case(
        "texture missing",
        "SCAN_TEXTURE_MISSING",
        CUBE,
        extra=(("scan/cube.mtl", MTL + b"map_Ks textures/spec.png\n"),),
    ),
    Case(
        "absolute texture path",
        "SCAN_TEXTURE_MISSING",
        CUBE,
        extra=(("scan/cube.mtl", b"newmtl scan\nmap_Kd C:\\Users\\me\\albedo.jpg\n"),),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
@pytest.mark.parametrize("chunk", [scan.CHUNK_BYTES, 64], ids=["one chunk", "many chunks"])
def test_each_broken_scan_reports_its_code(
    case: Case, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scan, "CHUNK_BYTES", chunk)
    stats, issues = check(case.obj, extra=dict(case.extra))
    found = [i for i in issues if i.code == case.code]
    assert found, f"expected {case.code}, got {[(i.code, i.message) for i in issues]}"
    assert stats is not None
    expected = Severity.WARNING if case.code == "SCAN_TEXTURE_MISSING" else Severity.ERROR
    assert all(i.severity is expected and i.hint and i.path == "scan/scan.obj" for i in found)
    if case.line is not None:
        assert found[0].details["line"] == case.line
        assert found[0].message.startswith(f"line {case.line}:")


def test_the_table_covers_every_scan_code() -> None:
    assert {c.code for c in CASES} == {rule.code for rule in scan.rules}


def test_many_bad_lines_are_summarised_not_listed() -> None:
    obj = b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n" + b"v 1 x 2\n" * 500
    _, issues = check(obj)
    assert codes(issues) == ["SCAN_OBJ_UNPARSEABLE"] * (scan.REPORT_LIMIT + 1)
    assert issues[-1].details["count"] == 500


def test_mtllib_names_with_spaces_are_found() -> None:
    obj = CUBE.replace(b"mtllib cube.mtl", b"mtllib my scan.mtl")
    stats, issues = check(obj, extra={"scan/my scan.mtl": MTL})
    assert issues == [] and stats is not None
    assert stats.material_libraries == ("scan/my scan.mtl",)


def test_an_unreadable_obj_gives_no_stats() -> None:
    def broken(name: str) -> contextlib.AbstractContextManager[BinaryIO]:
        raise zipsafety.ZipReadError("CRC mismatch")

    stats, issues = check_obj_scan(
        obj_name="scan/a.obj", open_member=broken, member_names=frozenset({"scan/a.obj"})
    )
    assert stats is None
    assert codes(issues) == ["SCAN_OBJ_UNPARSEABLE"]


def test_a_line_longer_than_the_cap_stops_the_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan, "MAX_LINE_BYTES", 1000)
    monkeypatch.setattr(scan, "CHUNK_BYTES", 4096)
    stats, issues = check(CUBE + b"#" * 10_000)
    assert stats is None
    assert codes(issues) == ["SCAN_OBJ_UNPARSEABLE"]
    assert "longer than" in issues[0].message


def test_a_scan_inside_a_real_zip(tmp_path: Path) -> None:
    path = tmp_path / "delivery.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("scan/scan.obj", CUBE)
        archive.writestr("scan/cube.mtl", MTL)
        archive.writestr("scan/textures/albedo.jpg", b"jpg")
    entries, zip_issues = zipsafety.inspect_zip(path)
    assert zip_issues == []
    stats, issues = check_obj_scan(
        obj_name="scan/scan.obj",
        open_member=lambda name: zipsafety.open_entry(path, name),
        member_names=frozenset(e.name for e in entries),
    )
    assert stats is not None and stats.vertices == 8
    assert [(i.code, i.details["missing"]) for i in issues] == [
        ("SCAN_TEXTURE_MISSING", "scan/textures/normal.png")
    ]


# --- the fast path agrees with the exact one -----------------------------------------------


def run_path(buf: bytes, *, fast: bool) -> tuple | None:
    tally = scan._Tally(findings=scan._Findings("x.obj"))
    if fast:
        if not scan._fast_chunk(buf, tally):
            return None
    else:
        scan._slow_chunk(buf, tally)
    scan._finish_obj(tally)
    found = [(i.code, i.message) for i in tally.findings.finish()]
    return tally.counts, tally.faces, tally.triangles, found


def test_fast_path_float_grammar_matches_the_exact_parser() -> None:
    rng = random.Random(7)
    for _ in range(4000):
        token = "".join(rng.choice("0123456789.+-eE") for _ in range(rng.randint(1, 6))).encode()
        buf = b"v 1 2 " + token + b"\nf 1 1 1\n"
        fast, exact = run_path(buf, fast=True), run_path(buf, fast=False)
        valid = scan._FLOAT.fullmatch(token) is not None
        assert (fast is not None) == valid, token
        assert fast is None or fast == exact, token


def test_fast_path_face_grammar_and_indices_match_the_exact_parser() -> None:
    rng = random.Random(11)
    head = b"v 1 2 3\nv 1 2 3\nvt 0 0\nvn 0 0 1\n"
    for _ in range(4000):
        token = "".join(rng.choice("0123456789-/") for _ in range(rng.randint(1, 7))).encode()
        buf = head + b"f 1 2 " + token + b"\n"
        fast, exact = run_path(buf, fast=True), run_path(buf, fast=False)
        if scan._REF.fullmatch(token) is None:
            assert fast is None, token
        assert fast is None or fast == exact, token


def test_fast_path_handles_a_realistic_chunk_itself() -> None:
    assert run_path(CUBE.replace(b"mtllib", b"#mtllib"), fast=True) is not None


# --- streaming -----------------------------------------------------------------------------


class GeneratedObj(io.RawIOBase):
    """A large OBJ produced on the fly, so the test holds no copy of it."""

    def __init__(self, vertices: int) -> None:
        self.parts: Iterator[bytes] = self._parts(vertices)
        self.pending = b""
        self.size = 0

    @staticmethod
    def _parts(n: int) -> Iterator[bytes]:
        step = 10_000
        for start in range(0, n, step):
            yield b"".join(
                b"v %d.125 %d.5 -%d.25\n" % (i, i % 97, i % 89)
                for i in range(start, min(n, start + step))
            )
        for start in range(1, n - 1, step):
            yield b"".join(
                b"f %d %d -1\n" % (i, i + 1) for i in range(start, min(n - 1, start + step))
            )

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while len(self.pending) < len(buffer):
            part = next(self.parts, None)
            if part is None:
                break
            self.pending += part
        count = min(len(buffer), len(self.pending))
        buffer[:count] = self.pending[:count]
        self.pending = self.pending[count:]
        self.size += count
        return count


def test_memory_stays_flat_while_a_large_obj_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    """An OBJ of about 10 MB is checked in 64 KiB chunks with a peak far below its size."""
    monkeypatch.setattr(scan, "CHUNK_BYTES", 64 * 1024)
    source = GeneratedObj(250_000)
    tracemalloc.start()
    stats, issues = check_obj_scan(
        obj_name="big.obj",
        open_member=lambda name: contextlib.nullcontext(io.BufferedReader(source)),  # type: ignore[arg-type]
        member_names=frozenset({"big.obj"}),
    )
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert issues == []
    assert isinstance(stats, ScanStats)
    assert (stats.vertices, stats.faces) == (250_000, 249_998)
    assert stats.bytes_read == source.size > 9e6
    assert peak < 4e6
