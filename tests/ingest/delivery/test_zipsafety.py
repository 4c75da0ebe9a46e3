"""ZIP safety: one real, deliberately broken archive per rejection code, judged without extraction.

Archives are written into tmp_path, with `zipfile` where it can make the defect and with raw
struct-packed headers where it refuses to (wrong flags, lying sizes, overlapping entries).
"""

from __future__ import annotations

import gzip
import io
import os
import struct
import time
import tracemalloc
import unicodedata
import warnings
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import pytest

from shazam_assets.ingest.delivery import zipsafety
from shazam_assets.ingest.delivery.report import Severity
from shazam_assets.ingest.delivery.zipsafety import (
    EntryTooLarge,
    ZipEntry,
    ZipLimits,
    ZipReadError,
    inspect_zip,
    open_entry,
    read_entry,
)

MiB = 1024**2
UTF8 = 0x0800


# --- a raw ZIP writer, for the defects zipfile will not write ------------------------------


@dataclass(frozen=True)
class Raw:
    """One entry exactly as it will sit in the archive; sizes and CRC default to the truth."""

    name: bytes
    payload: bytes  # the bytes in the archive (already deflated when method is 8)
    size: int  # declared uncompressed size
    crc: int
    method: int = 0
    flags: int = 0
    mode: int = 0o100644
    declared_compressed: int | None = None

    @property
    def compressed(self) -> int:
        return len(self.payload) if self.declared_compressed is None else self.declared_compressed


def stored(name: str | bytes, data: bytes, **kw: object) -> Raw:
    raw = name.encode() if isinstance(name, str) else name
    return Raw(name=raw, payload=data, size=len(data), crc=zlib.crc32(data), **kw)  # type: ignore[arg-type]


def deflated(name: str | bytes, data: bytes, **kw: object) -> Raw:
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    payload = packer.compress(data) + packer.flush()
    raw = name.encode() if isinstance(name, str) else name
    return Raw(name=raw, payload=payload, size=len(data), crc=zlib.crc32(data), method=8, **kw)  # type: ignore[arg-type]


def local_header(e: Raw) -> bytes:
    return (
        struct.pack(
            "<4s5H3L2H",
            b"PK\x03\x04",
            20,
            e.flags,
            e.method,
            0,
            0x21,
            e.crc,
            e.compressed,
            e.size,
            len(e.name),
            0,
        )
        + e.name
    )


def central_record(e: Raw, offset: int) -> bytes:
    return (
        struct.pack(
            "<4s6H3L5H2L",
            b"PK\x01\x02",
            0x031E,
            20,
            e.flags,
            e.method,
            0,
            0x21,
            e.crc,
            e.compressed,
            e.size,
            len(e.name),
            0,
            0,
            0,
            0,
            e.mode << 16,
            offset,
        )
        + e.name
    )


def end_record(count: int, cd_size: int, cd_offset: int) -> bytes:
    return struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, cd_size, cd_offset, 0)


def raw_zip(path: Path, entries: list[Raw]) -> Path:
    body, directory = b"", b""
    for e in entries:
        directory += central_record(e, len(body))
        body += local_header(e) + e.payload
    path.write_bytes(body + directory + end_record(len(entries), len(directory), len(body)))
    return path


def real_zip(path: Path, members: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def zeros_deflate(mib: int) -> bytes:
    """A raw deflate stream of `mib` MiB of zeros, about 1 KiB per MiB, built in milliseconds.

    After a sync flush the compressor's window is all zeros, so one flushed block that encodes
    a MiB of zeros can be repeated: each copy decodes to another MiB of zeros.
    """
    zeros = bytes(MiB)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = packer.compress(zeros) + packer.flush(zlib.Z_SYNC_FLUSH)
    again = packer.compress(zeros) + packer.flush(zlib.Z_SYNC_FLUSH)
    return first + again * (mib - 1) + packer.flush(zlib.Z_FINISH)


def zeros_crc(mib: int) -> int:
    crc, zeros = 0, bytes(MiB)
    for _ in range(mib):
        crc = zlib.crc32(zeros, crc)
    return crc


def bomb(name: str, mib: int, *, declared_size: int | None = None) -> Raw:
    """`mib` MiB of zeros; `declared_size` lets the header lie about how much."""
    return Raw(
        name=name.encode(),
        payload=zeros_deflate(mib),
        method=8,
        size=mib * MiB if declared_size is None else declared_size,
        crc=zeros_crc(mib),
    )


# --- one broken archive per code -----------------------------------------------------------


def flip_byte(path: Path, offset: int) -> Path:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def quoted_overlap(path: Path) -> Path:
    """Entry a.bin's data *is* b.bin's local header and data (the overlapping-files bomb)."""
    inner = stored("b.bin", b"payload " * 8)
    inner_bytes = local_header(inner) + inner.payload
    outer = stored("a.bin", inner_bytes)
    body = local_header(outer) + outer.payload
    directory = central_record(outer, 0) + central_record(inner, len(local_header(outer)))
    path.write_bytes(body + directory + end_record(2, len(directory), len(body)))
    return path


def symlink_zip(path: Path) -> Path:
    info = zipfile.ZipInfo("model/link.glb")
    info.create_system = 3
    info.external_attr = 0o120777 << 16
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(info, "../../etc/passwd")
    return path


def _exact_duplicate(path: Path, name: str) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(name, b"1")
            archive.writestr(name, b"2")
    return path


def nested_zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as inner:
        inner.writestr("x.txt", "x")
    return buffer.getvalue()


def truncated_deflate(path: Path) -> Path:
    whole = deflated("scan/a.obj", os.urandom(50_000))
    cut = whole.payload[: len(whole.payload) // 2]
    return raw_zip(
        path, [Raw(name=whole.name, payload=cut, size=whole.size, crc=whole.crc, method=8)]
    )


def runs_past_end(path: Path) -> Path:
    entry = stored("a.txt", b"hello" * 20)
    return raw_zip(
        path,
        [
            Raw(
                name=entry.name,
                payload=entry.payload,
                size=entry.size,
                crc=entry.crc,
                declared_compressed=entry.size + 500,
            )
        ],
    )


@dataclass(frozen=True)
class Case:
    id: str
    code: str
    build: Callable[[Path], Path]
    limits: ZipLimits = field(default_factory=ZipLimits)


CASES = [
    Case("random bytes", "ZIP_NOT_A_ZIP", lambda p: (p.write_bytes(os.urandom(4096)), p)[1]),
    Case(
        "cut before the directory",
        "ZIP_NOT_A_ZIP",
        lambda p: (p.write_bytes(real_zip(p, {"a.bin": os.urandom(9000)}).read_bytes()[:5000]), p)[
            1
        ],
    ),
    Case(
        "flipped data byte",
        "ZIP_CRC_MISMATCH",
        lambda p: flip_byte(
            real_zip(p, {"a.txt": b"hello world " * 40}, method=zipfile.ZIP_STORED),
            30 + len("a.txt") + 7,
        ),
    ),
    Case("deflate stream cut in half", "ZIP_TRUNCATED", truncated_deflate),
    Case("data runs into the directory", "ZIP_TRUNCATED", runs_past_end),
    Case(
        "local header overwritten",
        "ZIP_CORRUPT_ENTRY",
        lambda p: flip_byte(real_zip(p, {"a.txt": b"hello"}), 0),
    ),
    Case("overlapping entries", "ZIP_CORRUPT_ENTRY", quoted_overlap),
    Case(
        "header lies about the size",
        "ZIP_CORRUPT_ENTRY",
        lambda p: raw_zip(
            p, [Raw(name=b"a.txt", payload=b"hello", size=4, crc=zlib.crc32(b"hello"))]
        ),
    ),
    *(
        Case(
            f"traversal {name!r}",
            "ZIP_PATH_TRAVERSAL",
            lambda p, n=name: raw_zip(p, [stored(n, b"x")]),
        )
        for name in (
            "../evil.txt",
            "model/../../evil.txt",
            "/etc/passwd",
            "\\evil.txt",
            "..\\..\\evil.txt",
            "C:/Windows/evil.txt",
            "c:evil.txt",
            "../",
        )
    ),
    *(
        Case(f"bad name {name!r}", "ZIP_BAD_NAME", lambda p, n=name: raw_zip(p, [stored(n, b"x")]))
        for name in (
            "model\\a.glb",
            "model//a.glb",
            "./a.glb",
            "a\x01.glb",
            "a.glb\x00.txt",
            "notes.txt:hidden",
        )
    ),
    Case("symlink", "ZIP_SYMLINK", symlink_zip),
    Case("fifo", "ZIP_SYMLINK", lambda p: raw_zip(p, [stored("pipe", b"", mode=0o010644)])),
    Case("honest bomb header", "ZIP_BOMB_RATIO", lambda p: raw_zip(p, [bomb("tex.bin", 8)])),
    Case(
        "lying bomb header",
        "ZIP_BOMB_RATIO",
        lambda p: raw_zip(p, [bomb("tex.bin", 8, declared_size=4000)]),
    ),
    Case(
        "entry over the cap",
        "ZIP_TOO_LARGE",
        lambda p: real_zip(p, {"a.bin": os.urandom(2000)}),
        ZipLimits(max_entry_uncompressed=1000),
    ),
    Case(
        "entry over the cap, header lies",
        "ZIP_TOO_LARGE",
        lambda p: raw_zip(p, [Raw(name=b"a.bin", payload=os.urandom(2000), size=10, crc=0)]),
        ZipLimits(max_entry_uncompressed=1000),
    ),
    Case(
        "total over the cap",
        "ZIP_TOO_LARGE",
        lambda p: real_zip(p, {"a.bin": os.urandom(600), "b.bin": os.urandom(600)}),
        ZipLimits(max_total_uncompressed=1000),
    ),
    Case(
        "directory over the cap",
        "ZIP_TOO_LARGE",
        lambda p: real_zip(p, {f"{'x' * 200}{i}.txt": b"x" for i in range(20)}),
        ZipLimits(max_directory_bytes=1000),
    ),
    *(
        Case(
            f"nested by name {name}",
            "ZIP_NESTED_ARCHIVE",
            lambda p, n=name: real_zip(p, {n: b"not really an archive"}),
        )
        for name in ("inner.zip", "scan.tar.gz", "textures.7z", "photos.RAR")
    ),
    Case(
        "nested zip by magic",
        "ZIP_NESTED_ARCHIVE",
        lambda p: real_zip(p, {"model/buffer.bin": nested_zip_bytes()}),
    ),
    Case(
        "nested gzip by magic",
        "ZIP_NESTED_ARCHIVE",
        lambda p: real_zip(p, {"scan/a.obj": gzip.compress(b"v 0 0 0\n" * 10)}),
    ),
    Case(
        "too many entries",
        "ZIP_TOO_MANY_ENTRIES",
        lambda p: real_zip(p, {f"{i}.txt": b"x" for i in range(5)}),
        ZipLimits(max_entries=3),
    ),
    Case("exact duplicate", "ZIP_DUPLICATE_NAME", lambda p: _exact_duplicate(p, "a.txt")),
    Case(
        "case duplicate",
        "ZIP_DUPLICATE_NAME",
        lambda p: real_zip(p, {"model/A.glb": b"1", "model/a.glb": b"2"}),
    ),
    Case(
        "unicode-normalisation duplicate",
        "ZIP_DUPLICATE_NAME",
        lambda p: real_zip(
            p,
            {
                unicodedata.normalize("NFC", "café.png"): b"1",
                unicodedata.normalize("NFD", "café.png"): b"2",
            },
        ),
    ),
    Case(
        "encrypted flag",
        "ZIP_ENCRYPTED",
        lambda p: raw_zip(p, [stored("a.txt", b"secret", flags=0x1)]),
    ),
    Case(
        "cp437 name without UTF-8 flag",
        "ZIP_NON_UTF8_NAME",
        lambda p: raw_zip(p, [stored(b"caf\x82.txt", b"x")]),
    ),
    Case(
        "invalid UTF-8 with the flag",
        "ZIP_NON_UTF8_NAME",
        lambda p: raw_zip(p, [stored(b"\xff\xfe.txt", b"x", flags=UTF8)]),
    ),
    Case(
        "bzip2",
        "ZIP_UNSUPPORTED_COMPRESSION",
        lambda p: real_zip(p, {"a.txt": b"x" * 100}, method=zipfile.ZIP_BZIP2),
    ),
    Case(
        "lzma",
        "ZIP_UNSUPPORTED_COMPRESSION",
        lambda p: real_zip(p, {"a.txt": b"x" * 100}, method=zipfile.ZIP_LZMA),
    ),
    Case("no entries", "ZIP_EMPTY", lambda p: real_zip(p, {})),
    Case(
        "only folders and clutter",
        "ZIP_EMPTY",
        lambda p: real_zip(p, {"model/": b"", "__MACOSX/._a": b"x", ".DS_Store": b"x"}),
    ),
    *(
        Case(
            f"reserved name {name!r}",
            "ZIP_RESERVED_NAME",
            lambda p, n=name: real_zip(p, {"manifest.json": b"{}", n: b"{}"}),
        )
        for name in (
            "version.json",
            "Version.JSON",
            ".shazam-tmp-0123abcd",
            "model/.shazam-x/a.png",
        )
    ),
    Case(
        "a name component over 255 bytes",
        "ZIP_NAME_TOO_LONG",
        lambda p: real_zip(p, {"photos/" + "é" * 128 + ".jpg": b"x"}),  # 260 bytes in UTF-8
    ),
    Case(
        "a whole path over the cap",
        "ZIP_NAME_TOO_LONG",
        lambda p: real_zip(p, {"/".join(["d" * 200] * 3) + "/a.png": b"x"}),
    ),
    *(
        Case(
            f"file and folder clash {a!r} {b!r}",
            "ZIP_PATH_CONFLICT",
            lambda p, a=a, b=b: real_zip(p, {a: b"file", b: b"x"}),
        )
        for a, b in (("photos", "photos/x.jpg"), ("Photos", "photos/x.jpg"), ("a/b", "a/b/c/d.png"))
    ),
    Case(
        "macOS clutter",
        "ZIP_JUNK_ENTRY",
        lambda p: real_zip(
            p, {"manifest.json": b"{}", "__MACOSX/._manifest.json": b"x", "model/.DS_Store": b"x"}
        ),
    ),
]


def snapshot(root: Path) -> list[tuple[str, int, int]]:
    """Every path under root with its size and mtime: proof that nothing was written."""
    return sorted(
        (str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")
    )


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_broken_archive_is_rejected_with_its_code_and_nothing_is_written(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = case.build(tmp_path / "delivery.zip")
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)  # anything extracted relative to the cwd would land here
    before = snapshot(tmp_path)

    entries, issues = inspect_zip(archive, limits=case.limits)

    assert snapshot(tmp_path) == before
    found = [i for i in issues if i.code == case.code]
    assert found, f"expected {case.code}, got {[(i.code, i.message) for i in issues]}"
    expected = Severity.WARNING if case.code == "ZIP_JUNK_ENTRY" else Severity.ERROR
    assert all(i.severity is expected and i.hint for i in found)
    flagged = {i.path for i in issues if i.severity is Severity.ERROR}
    assert not flagged & {e.name for e in entries}  # an entry with an error is never returned


def test_the_table_covers_every_zip_code() -> None:
    assert {c.code for c in CASES} == {rule.code for rule in zipsafety.rules}


def test_an_unreadable_directory_returns_only_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "x.zip"
    path.write_bytes(end_record(1, 46, 0xFFFFFF))  # one entry, in a directory that isn't there
    entries, issues = inspect_zip(path)
    assert (entries, [i.code for i in issues]) == ((), ["ZIP_NOT_A_ZIP"])


def test_junk_is_reported_once_and_left_out(tmp_path: Path) -> None:
    path = real_zip(
        tmp_path / "d.zip",
        {
            "manifest.json": b"{}",
            "__MACOSX/._manifest.json": b"x",
            "model/.DS_Store": b"x",
            "Thumbs.db": b"x",
        },
    )
    entries, issues = inspect_zip(path)
    assert [e.name for e in entries] == ["manifest.json"]
    assert [(i.code, i.details["entries"]) for i in issues] == [("ZIP_JUNK_ENTRY", 3)]


# --- good archives -------------------------------------------------------------------------


def test_a_good_archive_yields_its_files_with_measured_sizes(tmp_path: Path) -> None:
    texture = os.urandom(300_000)
    obj = b"".join(b"v %d %d %d\n" % (i, i * 7 % 13, i % 5) for i in range(40_000))
    members = {
        "manifest.json": b'{"schema": "shazam.delivery/1"}',
        "model/": b"",
        "model/tex.png": texture,
        "scan/a.obj": obj,
        "empty.txt": b"",
    }
    path = real_zip(tmp_path / "good.zip", members)

    entries, issues = inspect_zip(path)

    assert issues == []
    assert [e.name for e in entries] == [
        "manifest.json",
        "model/tex.png",
        "scan/a.obj",
        "empty.txt",
    ]
    by_name = {e.name: e for e in entries}
    for name, entry in by_name.items():
        assert entry.size == len(members[name])
        assert entry.crc32 == zlib.crc32(members[name])
    assert by_name["scan/a.obj"].compressed_size < len(obj)
    assert read_entry(path, "scan/a.obj", max_bytes=len(obj)) == obj
    with open_entry(path, "model/tex.png") as stream:
        assert stream.read(10) == texture[:10]


def test_stored_and_deflated_raw_entries_are_both_accepted(tmp_path: Path) -> None:
    data = os.urandom(5000) + bytes(5000)
    path = raw_zip(tmp_path / "raw.zip", [stored("a.bin", data), deflated("b.bin", data)])
    entries, issues = inspect_zip(path)
    assert issues == []
    assert [(e.name, e.size, e.crc32) for e in entries] == [
        ("a.bin", 10_000, zlib.crc32(data)),
        ("b.bin", 10_000, zlib.crc32(data)),
    ]


def test_zip64_archives_are_read(tmp_path: Path) -> None:
    """Lowering zipfile's thresholds while writing makes a real zip64 archive from small files."""
    path = tmp_path / "z64.zip"
    data = {f"f{i}.bin": os.urandom(500) for i in range(4)}
    with (
        mock.patch.object(zipfile, "ZIP64_LIMIT", 100),
        mock.patch.object(zipfile, "ZIP_FILECOUNT_LIMIT", 2),
    ):
        real_zip(path, data)
    raw = path.read_bytes()
    assert b"PK\x06\x06" in raw and b"PK\x06\x07" in raw  # zip64 end record and locator

    entries, issues = inspect_zip(path)

    assert issues == []
    assert [(e.name, e.size) for e in entries] == [(n, 500) for n in data]
    assert read_entry(path, "f3.bin", max_bytes=500) == data["f3.bin"]


def test_zip64_entry_count_comes_from_the_zip64_end_record(tmp_path: Path) -> None:
    """The classic end record says 0xFFFF entries (as for >65535); the zip64 record says 6."""
    path = tmp_path / "z64.zip"
    with (
        mock.patch.object(zipfile, "ZIP64_LIMIT", 100),
        mock.patch.object(zipfile, "ZIP_FILECOUNT_LIMIT", 2),
    ):
        real_zip(path, {f"f{i}.bin": b"x" for i in range(6)})
    data = bytearray(path.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<2H", data, end + 8, 0xFFFF, 0xFFFF)
    path.write_bytes(bytes(data))

    entries, issues = inspect_zip(path, limits=ZipLimits(max_entries=10))
    assert (len(entries), issues) == (6, [])
    entries, issues = inspect_zip(path, limits=ZipLimits(max_entries=5))
    assert (entries, [i.code for i in issues]) == ((), ["ZIP_TOO_MANY_ENTRIES"])
    assert issues[0].details["entries"] == 6


# --- bombs stop early ----------------------------------------------------------------------


@pytest.mark.parametrize("declared", [1024 * MiB, 1 * MiB], ids=["honest header", "lying header"])
def test_a_gigabyte_bomb_is_stopped_early_in_little_memory(tmp_path: Path, declared: int) -> None:
    """1 GiB of zeros deflated to about 1 MiB: judged in well under 2 s, never inflated whole."""
    entry = Raw(name=b"model/tex.bin", payload=zeros_deflate(1024), method=8, size=declared, crc=0)
    path = raw_zip(tmp_path / "bomb.zip", [stored("manifest.json", b"{}"), entry])
    assert path.stat().st_size < 2 * MiB

    tracemalloc.start()
    started = time.perf_counter()
    entries, issues = inspect_zip(path)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    assert [i.code for i in issues] == ["ZIP_BOMB_RATIO"]
    assert [e.name for e in entries] == ["manifest.json"]
    assert seconds < 2.0
    assert peak < 16 * MiB
    seen = issues[0].details.get("bytes_seen", 0)
    assert seen < 300 * MiB  # the stream stopped at the ratio cap (or never started)


def test_the_total_cap_stops_reading_further_entries(tmp_path: Path) -> None:
    """Headers claim 10 bytes each; the real data passes the total cap in the second entry."""
    entries = [
        Raw(name=f"{i}.bin".encode(), payload=os.urandom(600), size=10, crc=0) for i in range(5)
    ]
    path = raw_zip(tmp_path / "lies.zip", entries)
    _, issues = inspect_zip(
        path, limits=ZipLimits(max_total_uncompressed=1000, max_entry_uncompressed=10_000)
    )
    codes = [i.code for i in issues]
    assert codes.count("ZIP_TOO_LARGE") == 1
    assert codes.index("ZIP_TOO_LARGE") == len(codes) - 1  # nothing was streamed after it


# --- reading judged archives ---------------------------------------------------------------


def test_read_entry_refuses_to_read_past_max_bytes(tmp_path: Path) -> None:
    path = real_zip(tmp_path / "a.zip", {"a.bin": os.urandom(1000)})
    with pytest.raises(EntryTooLarge):
        read_entry(path, "a.bin", max_bytes=999)
    assert len(read_entry(path, "a.bin", max_bytes=1000)) == 1000


def test_reading_a_damaged_member_raises_zip_read_error(tmp_path: Path) -> None:
    path = flip_byte(
        real_zip(tmp_path / "a.zip", {"a.txt": b"hello world " * 40}, method=zipfile.ZIP_STORED),
        30 + len("a.txt") + 7,
    )
    with pytest.raises(ZipReadError):
        read_entry(path, "a.txt", max_bytes=10_000)
    with pytest.raises(KeyError):
        read_entry(path, "missing.txt", max_bytes=10)


def test_zip_entry_is_a_frozen_record() -> None:
    entry = ZipEntry(name="a", size=1, compressed_size=1, crc32=0)
    with pytest.raises(AttributeError):
        entry.size = 2  # type: ignore[misc]


def test_every_name_the_store_writes_for_itself_is_reserved() -> None:
    """The version store's manifest and the local store's temporary files cannot be delivered."""
    from shazam_assets.ingest import versions
    from shazam_assets.platform import storage

    assert zipsafety.reserved_name_problem(versions.VERSION_MANIFEST)
    assert zipsafety.reserved_name_problem(f"photos/{storage._TMP_MARK}1234")
    assert zipsafety.reserved_name_problem("model/version.json") is None  # only the top level
