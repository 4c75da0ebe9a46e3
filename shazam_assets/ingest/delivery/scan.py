"""The optional scan source: an OBJ with its MTL files and textures, checked as a stream.

Scan OBJs run to hundreds of megabytes, so the file is read in 1 MiB chunks of whole lines and
never held in memory. Each chunk goes through a vectorised numpy pass that checks number syntax,
statement arity and face indices for the common case (lines that start with ``v``, ``vt``,
``vn``, ``f`` or anything else ignored by the checks). A chunk with anything unusual (inline
comments, leading spaces, a bad token) is handed to a plain line-by-line parser that pins each
problem to its line number; both passes apply the same grammar.

Index rules: negative (relative) indices must point at an element defined before the face;
positive indices must exist somewhere in the file (the way trimesh and Blender resolve them);
zero is never valid. Line continuations (a trailing backslash) are not supported.
"""

from __future__ import annotations

import contextlib
import posixpath
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np

from shazam_assets.ingest.delivery.report import Issue, Rule, RuleBook

CHUNK_BYTES = 1024**2  # whole lines per vectorised pass; peak memory is about 20x this
MAX_LINE_BYTES = 1024**2  # a longer "line" means the file is not a text OBJ
MTL_MAX_BYTES = 16 * 1024**2
REPORT_LIMIT = 10  # issues listed per code; the rest are counted in one closing issue

rules = RuleBook("scan")
OBJ_UNPARSEABLE = rules.error(
    "SCAN_OBJ_UNPARSEABLE",
    "A line of the scan OBJ cannot be read",
    hint="Re-export the scan as OBJ from the scanning software; the message names the line.",
)
OBJ_EMPTY = rules.error(
    "SCAN_OBJ_EMPTY",
    "The scan OBJ has no vertices or no faces",
    hint="Export the scan as a meshed model with faces, not as a point cloud.",
)
OBJ_INDEX_OUT_OF_RANGE = rules.error(
    "SCAN_OBJ_INDEX_OUT_OF_RANGE",
    "A face refers to a vertex, texture coordinate or normal the OBJ does not define",
    hint="The OBJ is truncated or was edited by hand; re-export it in one piece.",
)
MTL_MISSING = rules.error(
    "SCAN_MTL_MISSING",
    "A material library (.mtl) named by the OBJ is not in the archive",
    hint="Put the .mtl in the ZIP at the path the OBJ's mtllib line gives (usually beside the .obj).",
)
TEXTURE_MISSING = rules.warning(
    "SCAN_TEXTURE_MISSING",
    "A texture named by the MTL is not in the archive",
    hint="Include the scan's texture images beside the .mtl and use relative paths in map_Kd lines.",
)


@dataclass(frozen=True)
class ScanStats:
    """What the scan holds and how fast it was read."""

    vertices: int
    texcoords: int
    normals: int
    faces: int
    triangles: int  # faces fan-triangulated (a quad counts 2)
    material_libraries: tuple[str, ...]  # archive names of the .mtl files found
    textures: tuple[str, ...]  # archive names of the texture maps found
    bytes_read: int
    seconds: float
    mb_per_s: float


class _Findings:
    """Issues about one file, at most REPORT_LIMIT per code, the rest counted."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.issues: list[Issue] = []
        self.seen: Counter[str] = Counter()
        self.rules: dict[str, Rule] = {}

    def add(self, rule: Rule, message: str, **details: Any) -> None:
        self.more(rule, 1)
        if self.seen[rule.code] <= REPORT_LIMIT:
            self.issues.append(rule(message, path=self.path, **details))

    def more(self, rule: Rule, count: int) -> None:
        """Count occurrences without describing them (past the limit anyway)."""
        self.seen[rule.code] += count
        self.rules[rule.code] = rule

    def finish(self) -> list[Issue]:
        extra = [
            self.rules[code](
                f"... and {n - REPORT_LIMIT:,} more like these", path=self.path, count=n
            )
            for code, n in self.seen.items()
            if n > REPORT_LIMIT
        ]
        return self.issues + extra


_KINDS = ("vertex", "texture coordinate", "normal")


@dataclass
class _Tally:
    """Running counts while the OBJ streams past (private and mutable by design)."""

    findings: _Findings
    counts: list[int] = field(default_factory=lambda: [0, 0, 0])  # v, vt, vn
    faces: int = 0
    triangles: int = 0
    lines: int = 0
    max_ref: list[int] = field(default_factory=lambda: [0, 0, 0])  # largest positive index
    max_ref_line: list[int] = field(default_factory=lambda: [0, 0, 0])
    mtllibs: list[str] = field(default_factory=list)  # raw mtllib arguments

    def positive(self, kind: int, value: int, line: int) -> None:
        if value > self.max_ref[kind]:
            self.max_ref[kind], self.max_ref_line[kind] = value, line

    def out_of_range(self, kind: int, value: int, *, line: int, defined: int) -> None:
        self.findings.add(
            OBJ_INDEX_OUT_OF_RANGE,
            f"line {line}: {_KINDS[kind]} index {value} does not exist "
            f"({defined:,} defined before this face)",
            line=line,
        )


# --- the line-by-line path (exact, slow) -------------------------------------------------

_FLOAT = re.compile(rb"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_REF = re.compile(rb"(-?\d+)(?:/(-?\d+)(?:/(-?\d+))?|//(-?\d+))?")
_ARITY = {b"v": (0, 3, 7), b"vt": (1, 1, 3), b"vn": (2, 3, 3)}  # kind, fewest, most numbers


def _slow_line(line: bytes, number: int, tally: _Tally) -> None:
    words = line.split(b"#", 1)[0].split()
    if not words:
        return
    key, args = words[0], words[1:]
    if key in _ARITY:
        kind, fewest, most = _ARITY[key]
        tally.counts[kind] += 1  # counted even when broken, so later indices stay aligned
        if not fewest <= len(args) <= most or not all(map(_FLOAT.fullmatch, args)):
            _unparseable(
                tally, number, line, f"a {key.decode()} statement needs {fewest}-{most} numbers"
            )
    elif key == b"f":
        _slow_face(args, number, line, tally)
    elif key == b"mtllib":
        tally.mtllibs.append(line.split(b"#", 1)[0].strip()[6:].strip().decode("utf-8", "replace"))


def _slow_face(args: list[bytes], number: int, line: bytes, tally: _Tally) -> None:
    tally.faces += 1
    tally.triangles += max(len(args) - 2, 0)
    refs = [_REF.fullmatch(a) for a in args]
    if len(args) < 3 or not all(refs):
        _unparseable(
            tally, number, line, "a face needs 3 or more v, v/vt, v//vn or v/vt/vn references"
        )
        return
    for ref in refs:
        assert ref is not None
        v, vt, vn, vn_only = ref.groups()
        for kind, text in ((0, v), (1, vt), (2, vn or vn_only)):
            if text is None:
                continue
            value = int(text)
            if value > 0:
                tally.positive(kind, value, number)
            elif value == 0 or -value > tally.counts[kind]:
                tally.out_of_range(kind, value, line=number, defined=tally.counts[kind])


def _unparseable(tally: _Tally, number: int, line: bytes, why: str) -> None:
    shown = line.strip()[:80].decode("utf-8", "replace")
    tally.findings.add(OBJ_UNPARSEABLE, f"line {number}: {shown!r}: {why}", line=number)


def _slow_chunk(buf: bytes, tally: _Tally) -> None:
    for offset, line in enumerate(buf.split(b"\n")[:-1]):
        _slow_line(line, tally.lines + offset + 1, tally)


# --- the vectorised path (common case) ---------------------------------------------------

_FEWEST = np.array([0, 3, 1, 3, 3])  # by line kind: other, v, vt, vn, f
_MOST = np.array([1 << 30, 7, 3, 3, 1 << 30])
_MTLLIB = re.compile(rb"^mtllib[ \t]+([^\r\n]*)", re.MULTILINE)
_NL, _CR, _SPACE, _TAB = 10, 13, 32, 9
_PLUS, _MINUS, _DOT, _SLASH, _LOWER_E, _UPPER_E = 43, 45, 46, 47, 101, 69


def _before(mask: np.ndarray) -> np.ndarray:
    """mask shifted right: element i is mask[i - 1]."""
    return np.concatenate(([False], mask[:-1]))


def _after(mask: np.ndarray) -> np.ndarray:
    """mask shifted left: element i is mask[i + 1]."""
    return np.concatenate((mask[1:], [False]))


@dataclass(frozen=True)
class _Chunk:
    """One chunk's bytes, its lines, and character classes shared by the checks."""

    a: np.ndarray  # (N,) uint8, ends with a newline
    ends: np.ndarray  # (L,) newline positions
    kind: np.ndarray  # (L,) int8: 0 other, 1 v, 2 vt, 3 vn, 4 f
    byte_kind: np.ndarray  # (N,) int8 line kind of each byte, 0 on the keyword itself
    space: np.ndarray  # (N,) bool: space, tab, CR or LF
    digit: np.ndarray  # (N,) bool
    tstart: np.ndarray  # (N,) bool: first byte of an argument token
    per_line: np.ndarray  # (L,) argument tokens per line


def _line_kinds(a: np.ndarray, starts: np.ndarray) -> np.ndarray | None:
    """Line kinds from their first bytes, or None for lines only the slow path handles."""
    padded = np.concatenate((a, np.zeros(3, np.uint8)))
    b0, b1, b2 = padded[starts], padded[starts + 1], padded[starts + 2]
    space1, space2 = (b1 == _SPACE) | (b1 == _TAB), (b2 == _SPACE) | (b2 == _TAB)
    is_v, is_f = b0 == ord("v"), b0 == ord("f")
    tn = (b1 == ord("t")) | (b1 == ord("n"))
    eol1, eol2 = (b1 == _NL) | (b1 == _CR), (b2 == _NL) | (b2 == _CR)
    bare = ((is_v | is_f) & eol1) | (is_v & tn & eol2)
    if ((b0 == _SPACE) | (b0 == _TAB) | bare).any():
        return None
    kind = np.zeros(len(starts), np.int8)
    kind[is_v & space1] = 1
    kind[is_v & (b1 == ord("t")) & space2] = 2
    kind[is_v & (b1 == ord("n")) & space2] = 3
    kind[is_f & space1] = 4
    return kind


def _layout(buf: bytes) -> _Chunk | None:
    a = np.frombuffer(buf, np.uint8)
    ends = np.flatnonzero(a == _NL)
    starts = np.concatenate(([0], ends[:-1] + 1))
    kind = _line_kinds(a, starts)
    if kind is None:
        return None
    byte_kind = np.repeat(kind, ends - starts + 1)
    byte_kind[starts[kind > 0]] = 0
    byte_kind[starts[(kind == 2) | (kind == 3)] + 1] = 0
    space = (a == _SPACE) | (a == _TAB) | (a == _CR) | (a == _NL)
    token = (byte_kind > 0) & (a > _SPACE)
    tstart = token & ~_before(token)
    return _Chunk(
        a=a,
        ends=ends,
        kind=kind,
        byte_kind=byte_kind,
        space=space,
        digit=(a - 48) < 10,
        tstart=tstart,
        per_line=np.add.reduceat(tstart, starts, dtype=np.int32),
    )


def _floats_ok(c: _Chunk) -> bool:
    """Every token of v/vt/vn lines matches [-+]?(digits[.digits]|.digits)([eE][-+]?digits)?

    Neighbour rules place signs, points and exponents; the sequence of non-digit bytes (the
    "skeleton") rules out a second point or exponent in one token.
    """
    a, d = c.a, c.digit
    floaty = (c.byte_kind.view(np.uint8) - 1) < 3
    is_p, is_e = a == _DOT, (a == _LOWER_E) | (a == _UPPER_E)
    is_s = (a == _PLUS) | (a == _MINUS)
    if (floaty & ~(d | is_p | is_e | is_s | c.space)).any():
        return False
    sign, point, exp = floaty & is_s, floaty & is_p, floaty & is_e
    d_before, d_after, p_before = _before(d), _after(d), _before(is_p)
    if (sign & ~(c.tstart | _before(is_e))).any() or (sign & ~(d_after | _after(is_p))).any():
        return False
    if (point & ~(d_before | d_after)).any():
        return False
    if (exp & ~(d_before | p_before)).any() or (exp & p_before & ~_before(d_before)).any():
        return False
    if (exp & ~(d_after | (_after(is_s) & _after(d_after)))).any():
        return False
    sk = a[np.flatnonzero(floaty & ~d)]  # (M,) non-digit bytes in order
    p, e = sk == _DOT, (sk == _LOWER_E) | (sk == _UPPER_E)
    s, w = (sk == _PLUS) | (sk == _MINUS), sk <= _SPACE
    prev, cur = slice(None, -1), slice(1, None)
    twice = (p[prev] & (p[cur] | s[cur])) | (s[prev] & s[cur]) | (e[prev] & (e[cur] | p[cur]))
    after_exp_sign = e[:-2] & s[1:-1] & ~w[2:]
    return not twice.any() and not after_exp_sign.any()


def _faces_ok(c: _Chunk) -> bool:
    """Every face token is I, I/I, I/I/I or I//I with I = -?digits."""
    a, d = c.a, c.digit
    facey = c.byte_kind == 4
    is_sl, is_m = a == _SLASH, a == _MINUS
    if (facey & ~(d | is_sl | is_m | c.space)).any():
        return False
    slash, minus = facey & is_sl, facey & is_m
    if (slash & (c.tstart | _after(c.space))).any():
        return False
    if (minus & ~_after(d)).any() or (minus & ~(c.tstart | _before(is_sl))).any():
        return False
    sk = a[np.flatnonzero(slash | (facey & c.space))] == _SLASH  # (M,) slashes between spaces
    return not (sk[:-2] & sk[1:-1] & sk[2:]).any()


def _fast_chunk(buf: bytes, tally: _Tally) -> bool:
    """Record a chunk in one vectorised pass; False (nothing recorded) sends it to the slow path."""
    c = _layout(buf)
    if c is None:
        return False
    if ((c.per_line < _FEWEST[c.kind]) | (c.per_line > _MOST[c.kind])).any():
        return False
    faces = c.kind == 4
    has_faces = bool(faces.any())
    if (c.kind[~faces] > 0).any() and not _floats_ok(c):
        return False
    refs = _face_refs(c) if has_faces and _faces_ok(c) else None
    if has_faces and refs is None:
        return False
    if refs is not None:
        _check_refs(c, refs, tally)
    tally.faces += int(faces.sum())
    tally.triangles += int((c.per_line[faces] - 2).sum())
    for k in (1, 2, 3):
        tally.counts[k - 1] += int((c.kind == k).sum())
    if b"mtllib" in buf:
        tally.mtllibs += [
            m.split(b"#", 1)[0].strip().decode("utf-8", "replace") for m in _MTLLIB.findall(buf)
        ]
    return True


@dataclass(frozen=True)
class _Refs:
    """The indices of a chunk's faces, located but not yet converted to numbers."""

    starts: np.ndarray  # (R,) position of each index's first digit
    length: np.ndarray  # (R,) its digits
    negative: np.ndarray  # (R,) bool
    slot: np.ndarray  # (R,) 0 vertex, 1 texcoord, 2 normal


def _face_refs(c: _Chunk) -> _Refs | None:
    """Locate every face index; None (slow path) for zeros, leading zeros or huge numbers."""
    a = c.a
    digit = (c.byte_kind == 4) & c.digit
    starts = np.flatnonzero(digit & ~_before(digit))
    length = np.flatnonzero(digit & ~_after(digit)) - starts + 1
    if (a[starts] == ord("0")).any() or length.max(initial=0) > 18:
        return None
    negative = a[starts - 1] == _MINUS
    lead = starts - negative  # first byte of the index, its sign included
    first = a[lead - 1] <= _SPACE  # the token's first index: a vertex
    slot = np.where(first, 0, np.where(a[lead - 2] == _SLASH, 2, np.where(_before(first), 1, 2)))
    return _Refs(starts=starts, length=length, negative=negative, slot=slot)


def _values(a: np.ndarray, starts: np.ndarray, length: np.ndarray) -> np.ndarray:
    """(R,) int64 values of the digit runs at `starts` (only ever a few of a chunk's indices)."""
    value = np.zeros(len(starts), np.int64)
    for k in range(int(length.max(initial=0))):
        place = a[np.minimum(starts + k, len(a) - 1)].astype(np.int64) - 48
        value = np.where(length > k, value * 10 + place, value)
    return value


def _largest(a: np.ndarray, starts: np.ndarray, length: np.ndarray) -> int:
    """Index of the largest digit run (no leading zeros): longest first, then digit by digit."""
    pool = np.flatnonzero(length == length.max())
    for k in range(int(length.max())):
        digits = a[starts[pool] + k]
        pool = pool[digits == digits.max()]
        if len(pool) == 1:
            break
    return int(pool[0])


def _check_refs(c: _Chunk, refs: _Refs, tally: _Tally) -> None:
    """Relative indices now; the largest absolute index per kind for the end-of-file check."""
    first_line = tally.lines + 1
    if refs.negative.any():
        _check_relative(c, refs, tally)
    for kind in range(3):
        mine = np.flatnonzero(~refs.negative & (refs.slot == kind))
        if not len(mine):
            continue
        starts, length = refs.starts[mine], refs.length[mine]
        top = _largest(c.a, starts, length)
        value = int(_values(c.a, starts[top : top + 1], length[top : top + 1])[0])
        line = int(np.searchsorted(c.ends, starts[top]))
        tally.positive(kind, value, first_line + line)


def _check_relative(c: _Chunk, refs: _Refs, tally: _Tally) -> None:
    """Each negative index must point at an element defined before its face."""
    neg = np.flatnonzero(refs.negative)
    value = _values(c.a, refs.starts[neg], refs.length[neg])
    line = np.searchsorted(c.ends, refs.starts[neg])
    slot = refs.slot[neg]
    so_far = np.stack([np.cumsum(c.kind == k) + tally.counts[k - 1] for k in (1, 2, 3)])  # (3, L)
    defined = so_far[slot, line]
    bad = np.flatnonzero(value > defined)
    for i in bad[:REPORT_LIMIT]:
        tally.out_of_range(
            int(slot[i]),
            -int(value[i]),
            line=tally.lines + 1 + int(line[i]),
            defined=int(defined[i]),
        )
    tally.findings.more(OBJ_INDEX_OUT_OF_RANGE, max(len(bad) - REPORT_LIMIT, 0))


# --- streaming the OBJ -------------------------------------------------------------------


class _LineTooLong(ValueError):
    pass


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    """Whole lines, about CHUNK_BYTES at a time; the last one gets a newline if it lacks one."""
    carry = b""
    while block := stream.read(CHUNK_BYTES):
        block = carry + block
        cut = block.rfind(b"\n") + 1
        carry = block[cut:]
        if len(carry) > MAX_LINE_BYTES:
            raise _LineTooLong(f"a line longer than {MAX_LINE_BYTES:,} bytes")
        if cut:
            yield block[:cut]
    if carry:
        yield carry + b"\n"


def _scan_obj(stream: BinaryIO, tally: _Tally) -> int:
    """Stream the OBJ into the tally; returns bytes read."""
    read = 0
    for buf in _chunks(stream):
        read += len(buf)
        if not _fast_chunk(buf, tally):
            _slow_chunk(buf, tally)
        tally.lines += buf.count(b"\n")
    return read


def _finish_obj(tally: _Tally) -> None:
    """Checks that need the whole file: forward indices and emptiness."""
    for kind in range(3):
        if tally.max_ref[kind] > tally.counts[kind]:
            tally.findings.add(
                OBJ_INDEX_OUT_OF_RANGE,
                f"line {tally.max_ref_line[kind]}: {_KINDS[kind]} index {tally.max_ref[kind]:,} "
                f"but the file defines {tally.counts[kind]:,}",
                line=tally.max_ref_line[kind],
            )
    if not tally.counts[0] or not tally.faces:
        tally.findings.add(
            OBJ_EMPTY,
            f"{tally.counts[0]:,} vertices and {tally.faces:,} faces",
            vertices=tally.counts[0],
            faces=tally.faces,
        )


# --- materials and textures --------------------------------------------------------------

_MAP_KEYS = {
    "map_ka",
    "map_kd",
    "map_ks",
    "map_ke",
    "map_ns",
    "map_d",
    "map_bump",
    "bump",
    "disp",
    "decal",
    "refl",
    "norm",
    "map_pr",
    "map_pm",
    "map_ps",
    "map_rma",
    "map_orm",
}
_OPTION_ARGS = {
    "-blendu": 1,
    "-blendv": 1,
    "-bm": 1,
    "-boost": 1,
    "-cc": 1,
    "-clamp": 1,
    "-imfchan": 1,
    "-mm": 2,
    "-texres": 1,
    "-type": 1,
    "-o": 3,
    "-s": 3,
    "-t": 3,
}


def _map_file(words: list[str]) -> str | None:
    """The file name of a map statement's arguments, skipping its options (-s 1 1 1, -bm 0.5)."""
    i = 0
    while i < len(words) and words[i].lower() in _OPTION_ARGS:
        most = _OPTION_ARGS[words[i].lower()]
        i += 1
        taken = 0
        while (
            i < len(words) and taken < most and (taken == 0 or _FLOAT.fullmatch(words[i].encode()))
        ):
            i, taken = i + 1, taken + 1
    return " ".join(words[i:]) or None


def _resolve(folder: str, ref: str) -> str:
    return posixpath.normpath(posixpath.join(folder, ref.replace("\\", "/")))


def mtl_texture_names(text: str) -> list[str]:
    """Texture files an MTL names (map_Kd, bump, norm, ...), options such as -s 1 1 1 skipped."""
    found = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) > 1 and words[0].lower() in _MAP_KEYS:
            name = _map_file(words[1:])
            if name:
                found.append(name)
    return found


def _library_names(raw: str, folder: str, members: frozenset[str]) -> list[str]:
    """mtllib arguments: one name with spaces if that exists, else space-separated names."""
    whole = raw.strip()
    if whole and _resolve(folder, whole) in members:
        return [whole]
    return whole.split()


OpenMember = Callable[[str], contextlib.AbstractContextManager[BinaryIO]]


def _check_materials(
    *, obj_name: str, tally: _Tally, open_member: OpenMember, members: frozenset[str]
) -> tuple[list[str], list[str]]:
    """(material libraries found, textures found); missing ones become findings."""
    folder = posixpath.dirname(obj_name)
    libraries, textures = [], []
    for raw in tally.mtllibs:
        for ref in _library_names(raw, folder, members):
            name = _resolve(folder, ref)
            if name not in members:
                tally.findings.add(
                    MTL_MISSING, f"mtllib {ref!r} ({name}) is not in the archive", missing=name
                )
                continue
            libraries.append(name)
            textures += _check_textures(name, tally, open_member, members, obj_folder=folder)
    return libraries, textures


def _check_textures(
    mtl: str, tally: _Tally, open_member: OpenMember, members: frozenset[str], *, obj_folder: str
) -> list[str]:
    try:
        with open_member(mtl) as stream:
            text = stream.read(MTL_MAX_BYTES).decode("utf-8", "replace")
    except (OSError, KeyError) as exc:
        tally.findings.add(MTL_MISSING, f"{mtl} cannot be read: {exc}", missing=mtl)
        return []
    found = []
    for ref in mtl_texture_names(text):
        here = [_resolve(posixpath.dirname(mtl), ref), _resolve(obj_folder, ref)]
        name = next((n for n in here if n in members), None)
        if name is None:
            tally.findings.add(
                TEXTURE_MISSING,
                f"{mtl} names texture {ref!r}, which is not in "
                "the archive (use a path relative to the .mtl)",
                missing=here[0],
            )
        else:
            found.append(name)
    return found


def check_obj_scan(
    *,
    obj_name: str,
    open_member: OpenMember,
    member_names: frozenset[str],
) -> tuple[ScanStats | None, list[Issue]]:
    """Check a scan OBJ inside a judged archive: syntax, indices, materials and textures.

    `open_member(name)` opens an archive member as a binary stream (`zipsafety.open_entry`);
    `member_names` are the archive's file names. Stats are None only when the OBJ cannot be
    read at all.
    """
    started = time.perf_counter()
    tally = _Tally(findings=_Findings(obj_name))
    try:
        with open_member(obj_name) as stream:
            read = _scan_obj(stream, tally)
        _finish_obj(tally)
        libraries, textures = _check_materials(
            obj_name=obj_name, tally=tally, open_member=open_member, members=member_names
        )
    except (OSError, KeyError, _LineTooLong) as exc:
        where = f" after line {tally.lines}" if tally.lines else ""
        tally.findings.add(OBJ_UNPARSEABLE, f"cannot read {obj_name}{where}: {exc}")
        return None, tally.findings.finish()
    seconds = time.perf_counter() - started
    stats = ScanStats(
        vertices=tally.counts[0],
        texcoords=tally.counts[1],
        normals=tally.counts[2],
        faces=tally.faces,
        triangles=tally.triangles,
        material_libraries=tuple(libraries),
        textures=tuple(textures),
        bytes_read=read,
        seconds=round(seconds, 4),
        mb_per_s=round(read / 1e6 / max(seconds, 1e-9), 1),
    )
    return stats, tally.findings.finish()
