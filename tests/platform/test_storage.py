"""The object-store contract, run on a local directory, on S3 and on S3 under a prefix.

S3 is moto's standalone server over HTTP (see conftest.py).
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest

from shazam_assets.platform.storage import (
    LocalStore,
    ObjectNotFound,
    ObjectStore,
    Reclaimed,
    S3Store,
    StoreError,
    StoreUrlError,
    open_store,
)

# Keys that trip naive implementations: '-' and '.' sort before '/', '0' after it; a directory
# 'a/' must be listed between 'a.txt' and 'a0'; UTF-8 order equals code-point order.
TRICKY_KEYS = [
    "a-b",
    "a.txt",
    "a/b-c",
    "a/b/c",
    "a/b0",
    "a0",
    "ab/c",
    "b",
    "Z",
    "x y/z+1 (v2).zip",
    "é/x",
    "日本/製品.zip",
    "~tilde",
]

ODD_KEYS = [
    "uploads/B0TEST0001/My Chair + Table (v2).zip",
    "uploads/B0TEST0001/literal%2Bplus.zip",
    "uploads/B0TEST0001/naïve café 椅子.zip",
    "uploads/B0TEST0001/semi;colon&amp=equals#hash?.zip",
]


def _keys(store: ObjectStore, prefix: str = "", start_after: str | None = None) -> list[str]:
    return [info.key for info in store.list(prefix, start_after=start_after)]


def test_round_trip_bytes_and_head(store: ObjectStore) -> None:
    info = store.put_bytes("reports/a.json", b'{"ok": true}', content_type="application/json")

    assert store.get_bytes("reports/a.json") == b'{"ok": true}'
    assert info.key == "reports/a.json" and info.size == 12
    assert info.last_modified.tzinfo is not None
    assert info.last_modified.utcoffset() == UTC.utcoffset(None)
    assert not info.etag.startswith('"') and not info.etag.endswith('"')
    assert store.head("reports/a.json") == info
    assert store.exists("reports/a.json")


def test_missing_objects(store: ObjectStore) -> None:
    assert store.head("nope/x") is None
    assert not store.exists("nope/x")
    with pytest.raises(ObjectNotFound):
        store.get_bytes("nope/x")
    with pytest.raises(KeyError), store.open_read("nope/x"):
        pass
    with pytest.raises(ObjectNotFound), store.local_copy("nope/x"):
        pass


def test_stream_round_trip_larger_than_a_chunk(store: ObjectStore) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)

    info = store.put_stream("big/blob.bin", io.BytesIO(data))

    assert info.size == len(data)
    with store.open_read("big/blob.bin") as stream:
        assert stream.read() == data


def test_put_file(store: ObjectStore, tmp_path: Path) -> None:
    source = tmp_path / "model.glb"
    source.write_bytes(b"glTF" + bytes(100))

    store.put_file("models/model.glb", source)

    assert store.get_bytes("models/model.glb") == source.read_bytes()


def test_listing_is_in_key_order(store: ObjectStore) -> None:
    for key in reversed(TRICKY_KEYS):
        store.put_bytes(key, key.encode())

    assert _keys(store) == sorted(TRICKY_KEYS)
    assert sorted(TRICKY_KEYS) == sorted(TRICKY_KEYS, key=lambda k: k.encode())  # = S3's order


START_AFTER = [*TRICKY_KEYS, "", "a", "a/", "a/b", "a/b/", "a/b/c/d", "zzz", "0"]
PREFIXES = ["a", "a/", "a/b", "a/b/", "x y/", "日", "nothing/"]


def test_listing_start_after(store: ObjectStore) -> None:
    for key in TRICKY_KEYS:
        store.put_bytes(key, b"")

    for start_after in START_AFTER:
        expected = [key for key in sorted(TRICKY_KEYS) if key > start_after]
        assert _keys(store, start_after=start_after) == expected, start_after


def test_listing_prefix(store: ObjectStore) -> None:
    for key in TRICKY_KEYS:
        store.put_bytes(key, b"")

    for prefix in PREFIXES:
        expected = [key for key in sorted(TRICKY_KEYS) if key.startswith(prefix)]
        assert _keys(store, prefix) == expected, prefix
        after = [key for key in expected if key > "a/b-c"]
        assert _keys(store, prefix, start_after="a/b-c") == after, prefix


def test_listing_reports_sizes_and_etags(store: ObjectStore) -> None:
    store.put_bytes("p/one", b"1")
    store.put_bytes("p/three", b"333")

    listed = {info.key: info for info in store.list("p/")}

    assert {key: info.size for key, info in listed.items()} == {"p/one": 1, "p/three": 3}
    assert listed["p/one"] == store.head("p/one")


@pytest.mark.parametrize("key", ODD_KEYS)
def test_keys_with_spaces_unicode_and_plus(store: ObjectStore, key: str) -> None:
    store.put_bytes(key, key.encode())

    assert _keys(store, "uploads/") == [key]
    assert store.get_bytes(key) == key.encode()
    with store.local_copy(key) as path:
        assert path.read_bytes() == key.encode()


def test_uri_names_the_object(store: ObjectStore) -> None:
    key = ODD_KEYS[0]
    store.put_bytes(key, b"x")

    uri = store.uri(key)

    if isinstance(store, S3Store):
        assert uri == f"s3://{store.bucket}/{store.prefix}{key}"
    else:
        assert uri.startswith("file:///")
        assert Path(urllib.parse.unquote(urllib.parse.urlsplit(uri).path)).read_bytes() == b"x"


def test_put_if_absent_creates_once(store: ObjectStore) -> None:
    assert store.put_if_absent("versions/B0TEST0001/v1.json", b"first")
    assert not store.put_if_absent("versions/B0TEST0001/v1.json", b"second")
    assert store.get_bytes("versions/B0TEST0001/v1.json") == b"first"


def test_put_if_absent_race_has_exactly_one_winner(store: ObjectStore) -> None:
    contenders = 12
    for round_ in range(4):
        key = f"versions/B0TEST0001/v{round_}.json"
        barrier = threading.Barrier(contenders)

        def attempt(i: int, key: str = key, barrier: threading.Barrier = barrier) -> bool:
            barrier.wait()
            return store.put_if_absent(key, f"writer-{i}".encode() * 1000)

        with ThreadPoolExecutor(contenders) as pool:
            won = list(pool.map(attempt, range(contenders)))

        assert won.count(True) == 1, won
        assert store.get_bytes(key) == f"writer-{won.index(True)}".encode() * 1000


def test_overwrite_is_atomic_for_readers(store: ObjectStore) -> None:
    bodies = [b"A" * 2_000_000, b"B" * 2_000_000]
    store.put_bytes("state/current.bin", bodies[0])
    seen: set[bytes] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            seen.add(store.get_bytes("state/current.bin"))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(12):
            store.put_bytes("state/current.bin", bodies[i % 2])
    finally:
        stop.set()
        reader.join()

    assert seen <= set(bodies)  # never a mix, never a truncated object
    assert store.get_bytes("state/current.bin") == bodies[1]


def test_overwrite_changes_etag_even_with_equal_size(store: ObjectStore) -> None:
    first = store.put_bytes("k/v.txt", b"aaaa")
    second = store.put_bytes("k/v.txt", b"bbbb")

    assert first.etag != second.etag
    assert store.head("k/v.txt") == second


def test_failed_write_leaves_nothing(store: ObjectStore) -> None:
    class Broken(io.RawIOBase):
        def __init__(self) -> None:
            self.calls = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            self.calls += 1
            if self.calls > 2:
                raise OSError("network cable unplugged")
            buffer[:4] = b"data"
            return 4

    with pytest.raises((OSError, StoreError)):
        store.put_stream("uploads/B0TEST0001/partial.zip", Broken())  # type: ignore[arg-type]

    assert store.head("uploads/B0TEST0001/partial.zip") is None
    assert _keys(store) == []


def test_copy(store: ObjectStore) -> None:
    store.put_bytes("src/a b.zip", b"payload")

    info = store.copy("src/a b.zip", "dst/c+d.zip")

    assert info.key == "dst/c+d.zip" and info.size == 7
    assert store.get_bytes("dst/c+d.zip") == b"payload"
    assert store.get_bytes("src/a b.zip") == b"payload"
    with pytest.raises(ObjectNotFound):
        store.copy("src/missing.zip", "dst/x.zip")


def test_delete_is_idempotent(store: ObjectStore) -> None:
    store.put_bytes("tmp/deep/x.txt", b"x")
    store.put_bytes("tmp/y.txt", b"y")

    store.delete("tmp/deep/x.txt")
    store.delete("tmp/deep/x.txt")
    store.delete("never/existed.txt")

    assert store.head("tmp/deep/x.txt") is None
    assert _keys(store) == ["tmp/y.txt"]
    store.put_bytes("tmp/deep/x.txt", b"again")  # the pruned directory comes back
    assert store.get_bytes("tmp/deep/x.txt") == b"again"


def test_local_copy_is_a_seekable_file(store: ObjectStore) -> None:
    data = os.urandom(1_500_000)
    store.put_bytes("renders/B0TEST0001/model.glb", data)

    with store.local_copy("renders/B0TEST0001/model.glb") as path:
        assert path.suffix == ".glb"
        with open(path, "rb") as stream:
            stream.seek(-100, os.SEEK_END)
            assert stream.read() == data[-100:]

    if isinstance(store, LocalStore):
        assert path == store.root / "renders" / "B0TEST0001" / "model.glb"
        assert path.exists()  # the object itself, not a copy
    else:
        assert not path.exists()  # the temporary download is gone


@pytest.mark.parametrize("key", ["", "/etc/passwd", "../x", "a/../../x", "a/./b", "a//b", "a/"])
def test_keys_that_could_escape_are_refused(store: ObjectStore, key: str) -> None:
    with pytest.raises(ValueError, match="invalid object key"):
        store.put_bytes(key, b"x")


@pytest.mark.parametrize("prefix", ["../", "../../etc/", "a/../../"])
def test_local_store_refuses_listing_outside_its_root(local_store: LocalStore, prefix: str) -> None:
    (local_store.root.parent / "secret.txt").write_text("outside the store")

    with pytest.raises(ValueError, match="invalid object key"):
        list(local_store.list(prefix))


def test_local_store_never_lists_temporary_files(local_store: LocalStore) -> None:
    local_store.put_bytes("uploads/B0TEST0001/a.zip", b"a")
    leftover = local_store.root / "uploads" / "B0TEST0001" / ".shazam-tmp-crashed"
    leftover.write_bytes(b"half a zip")

    assert _keys(local_store) == ["uploads/B0TEST0001/a.zip"]
    assert _keys(local_store, "uploads/B0TEST0001/", start_after="uploads/B0TEST0001/") == [
        "uploads/B0TEST0001/a.zip"
    ]
    assert leftover.exists()


def test_local_store_writes_leave_no_temporary_files(local_store: LocalStore) -> None:
    local_store.put_bytes("a/b.txt", b"1")
    local_store.put_bytes("a/b.txt", b"2")
    local_store.put_if_absent("a/b.txt", b"3")
    local_store.put_if_absent("a/c.txt", b"4")
    local_store.copy("a/c.txt", "a/d.txt")

    names = sorted(p.name for p in (local_store.root / "a").iterdir())
    assert names == ["b.txt", "c.txt", "d.txt"]


def test_local_store_file_and_directory_conflict(local_store: LocalStore) -> None:
    local_store.put_bytes("a/b", b"object")

    with pytest.raises(StoreError):
        local_store.put_bytes("a/b/c", b"below an object")
    with pytest.raises(StoreError):
        local_store.put_bytes("a", b"above an object")


def test_s3_etag_is_the_unquoted_md5(s3_store: S3Store) -> None:
    info = s3_store.put_bytes("k.bin", b"hello")

    assert info.etag == hashlib.md5(b"hello").hexdigest()


def test_s3_prefix_hides_neighbours(s3_prefixed_store: S3Store, s3_client: Any) -> None:
    s3_prefixed_store.put_bytes("uploads/B0TEST0001/a.zip", b"a")

    assert _keys(s3_prefixed_store) == ["uploads/B0TEST0001/a.zip"]
    raw = s3_client.list_objects_v2(Bucket=s3_prefixed_store.bucket)["Contents"]
    assert {o["Key"] for o in raw} == {
        "tenant-a/uploads/B0TEST0001/a.zip",
        "tenant-b/uploads/B0AAAAAAAA/x.zip",
    }


def test_s3_objects_carry_the_headers_they_were_written_with(
    s3_prefixed_store: S3Store, s3_client: Any, tmp_path: Path
) -> None:
    """S3 serves an object with the headers stored on it (Content-Type, Content-Disposition,
    Cache-Control): puts set them, and a copy that names new ones replaces the source's instead
    of keeping them (MetadataDirective=REPLACE)."""
    store = s3_prefixed_store

    def head(key: str) -> dict[str, Any]:
        return s3_client.head_object(Bucket=store.bucket, Key=store.prefix + key)

    store.put_bytes("a.html", b"<p>hi</p>", content_type="text/html", cache_control="max-age=5")
    store.put_stream(
        "b.bin",
        io.BytesIO(b"x"),
        content_type="application/octet-stream",
        content_disposition="attachment",
        cache_control="public, max-age=60",
    )
    assert (head("a.html")["ContentType"], head("a.html")["CacheControl"]) == (
        "text/html",
        "max-age=5",
    )
    assert head("b.bin")["ContentDisposition"] == "attachment"
    assert head("b.bin")["CacheControl"] == "public, max-age=60"
    store.copy(
        "a.html",
        "c.html",
        content_type="application/octet-stream",
        content_disposition="attachment",
        cache_control="no-store",
    )
    copied = head("c.html")
    assert (copied["ContentType"], copied["ContentDisposition"], copied["CacheControl"]) == (
        "application/octet-stream",
        "attachment",
        "no-store",
    )
    store.copy("a.html", "d.html")  # no headers named: the source's are kept
    assert (head("d.html")["ContentType"], head("d.html")["CacheControl"]) == (
        "text/html",
        "max-age=5",
    )
    source = tmp_path / "e.css"
    source.write_bytes(b"p {}")
    store.put_file("e.css", source, content_type="text/css", cache_control="immutable")
    assert head("e.css")["CacheControl"] == "immutable"


@pytest.mark.slow
def test_s3_put_stream_multipart(s3_store: S3Store, s3_client: Any) -> None:
    data = os.urandom(70 * 1024 * 1024)

    info = s3_store.put_stream("big.zip", io.BytesIO(data))

    assert info.etag.endswith("-5")  # five 16 MiB parts: a multipart ETag
    assert s3_store.get_bytes("big.zip") == data


# --------------------------------------------------------------------------- open_store


@pytest.mark.parametrize(
    ("url", "root"),
    [
        ("file://{tmp}/shazam", "shazam"),
        ("file://{tmp}/my%20store/%C3%A9", "my store/é"),
        ("file://localhost{tmp}/x", "x"),
    ],
)
def test_open_store_file_urls(tmp_path: Path, url: str, root: str) -> None:
    (tmp_path / root).mkdir(parents=True)
    store = open_store(url.format(tmp=urllib.parse.quote(str(tmp_path))))

    assert isinstance(store, LocalStore)
    assert store.root == tmp_path / root


def test_open_store_refuses_a_local_root_that_does_not_exist(tmp_path: Path) -> None:
    """A mistyped path would become a new, empty store no sensor watches."""
    with pytest.raises(StoreUrlError) as refused:
        open_store((tmp_path / "stroe").as_uri())
    assert refused.value.code == "STORE_ROOT_MISSING" and not (tmp_path / "stroe").exists()
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(StoreUrlError) as refused:
        open_store((tmp_path / "file").as_uri())
    assert refused.value.code == "STORE_ROOT_NOT_A_FOLDER"
    created = open_store((tmp_path / "default" / "store").as_uri(), create=True)
    assert isinstance(created, LocalStore) and created.root.is_dir()


def test_temporary_files_of_killed_writes_are_reclaimed_after_a_grace_period(
    tmp_path: Path,
) -> None:
    store = LocalStore(tmp_path)
    store.put_bytes("a/b/kept.json", b"{}")
    killed = tmp_path / "a" / "c" / ".shazam-tmp-dead"
    killed.parent.mkdir(parents=True)
    killed.write_bytes(b"x" * 10)
    fresh = tmp_path / "a" / "b" / ".shazam-tmp-live"
    fresh.write_bytes(b"y")
    os.utime(killed, (time.time() - 7200, time.time() - 7200))

    assert store.reclaim_temp_files(older_than=timedelta(hours=1)) == Reclaimed(files=1, bytes=10)
    assert not killed.parent.exists() and fresh.exists()  # the emptied folder is pruned too
    assert _keys(store) == ["a/b/kept.json"]


@pytest.mark.parametrize(
    ("url", "bucket", "prefix"),
    [
        ("s3://assets", "assets", ""),
        ("s3://assets/", "assets", ""),
        ("s3://assets/prod", "assets", "prod/"),
        ("s3://assets/prod/eu/", "assets", "prod/eu/"),
    ],
)
def test_open_store_s3_urls(url: str, bucket: str, prefix: str) -> None:
    store = open_store(url)

    assert isinstance(store, S3Store)
    assert (store.bucket, store.prefix) == (bucket, prefix)
    assert store.uri("k") == f"s3://{bucket}/{prefix}k"


@pytest.mark.parametrize(
    "url",
    [
        "gs://bucket/x",
        "/srv/shazam",
        "relative/dir",
        "file://server/share",
        "file:relative",
        "s3://",
        "s3:///prefix",
        "s3://bucket/x?versionId=1",
        "",
    ],
)
def test_open_store_rejects_other_urls(url: str) -> None:
    with pytest.raises(ValueError, match=r"file:///absolute/path or s3://bucket\[/prefix\]"):
        open_store(url)


def test_open_store_s3_uses_the_standard_aws_environment(
    monkeypatch: pytest.MonkeyPatch, moto_server: str, s3_bucket: str, s3_client: Any
) -> None:
    for name, value in {
        "AWS_ENDPOINT_URL": moto_server,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)

    store = open_store(f"s3://{s3_bucket}/staging")
    store.put_bytes("hello.txt", b"hi")

    body = s3_client.get_object(Bucket=s3_bucket, Key="staging/hello.txt")["Body"].read()
    assert body == b"hi"
    assert _keys(store) == ["hello.txt"]


def test_open_store_file_round_trip(tmp_path: Path) -> None:
    root = tmp_path / "a store"
    root.mkdir()
    store = open_store(root.as_uri())

    store.put_bytes("x.txt", b"x")

    assert (root / "x.txt").read_bytes() == b"x"
    assert store.url == root.as_uri()
