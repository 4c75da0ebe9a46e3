"""One object-store interface, two implementations: a local directory and S3 (boto3).

The same sensor, asset and CLI code runs on a laptop (`file:///abs/path`) and on AWS
(`s3://bucket/prefix`, endpoint and credentials through boto3's standard variables such as
`AWS_ENDPOINT_URL`, so S3-compatible stores work too). Keys are always '/'-separated,
relative to the store root, and never start with '/'.
"""

from __future__ import annotations

import abc
import contextlib
import hashlib
import io
import json
import os
import shutil
import stat
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from botocore.exceptions import BotoCoreError, ClientError

from shazam_assets.platform import layout
from shazam_assets.platform.errors import ShazamError, TransientError


class StoreError(ShazamError):
    """A store operation that did not happen; `code` is stable (STORE_*). Caught as one, it
    covers both a store that failed (`StoreFailed`, transient) and a missing key
    (`ObjectNotFound`, permanent); raise one of those, never this class itself."""

    def __init__(self, message: str) -> None:
        super().__init__(self.code, message)


class StoreFailed(StoreError, TransientError):
    """The store refused or failed an operation (not a missing key); another try may succeed."""

    code = "STORE_FAILED"


class ObjectNotFound(StoreError, KeyError):
    """The key does not exist."""

    code = "STORE_NOT_FOUND"

    def __init__(self, key: str) -> None:
        super().__init__(f"{key} is not in the store")
        self.key = key


class StoreUrlError(ShazamError, ValueError):
    """A store URL that names no usable store: malformed, or a local root that does not exist.
    A configuration error, not a StoreError: retrying cannot help."""


# A write in progress refreshes its temporary file's mtime with every chunk; one untouched for
# this long belongs to a process that died (killed, out of memory, disk full, power lost).
TEMP_GRACE = timedelta(hours=1)


@dataclass(frozen=True)
class Reclaimed:
    """What `ObjectStore.reclaim_temp_files` removed."""

    files: int
    bytes: int


@dataclass(frozen=True, order=True)
class ObjectInfo:
    key: str
    size: int
    etag: str  # opaque, changes whenever the content changes; no quotes
    last_modified: datetime  # timezone-aware UTC


class ObjectStore(abc.ABC):
    """What every stage needs from storage. Implementations must be safe to share across threads."""

    url: str

    @abc.abstractmethod
    def list(self, prefix: str = "", *, start_after: str | None = None) -> Iterator[ObjectInfo]:
        """Objects whose key starts with `prefix`, in ascending key order, lazily paged."""

    @abc.abstractmethod
    def head(self, key: str) -> ObjectInfo | None:
        """Metadata of one object, or None when it does not exist."""

    @abc.abstractmethod
    def get_bytes(self, key: str) -> bytes:
        """The whole object (small objects only: manifests, reports). Raises ObjectNotFound."""

    @abc.abstractmethod
    def open_read(self, key: str) -> contextlib.AbstractContextManager[BinaryIO]:
        """A readable stream of the object, for copying large objects without holding them."""

    @abc.abstractmethod
    def local_copy(self, key: str) -> contextlib.AbstractContextManager[Path]:
        """A seekable local file with the object's content (the file itself for a local store,
        a streamed temporary download for S3), removed on exit when it is a copy."""

    @abc.abstractmethod
    def put_bytes(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str | None = None,
        content_disposition: str | None = None,
        cache_control: str | None = None,
    ) -> ObjectInfo:
        """Write an object atomically: readers see the old content or the new, never a part.
        `content_type`, `content_disposition` and `cache_control` are stored as the object's
        HTTP headers (Content-Type, Content-Disposition, Cache-Control) where the backend keeps
        them (S3, which serves them, and CloudFront with it); a local store has no metadata."""

    @abc.abstractmethod
    def put_stream(
        self,
        key: str,
        stream: BinaryIO,
        *,
        content_type: str | None = None,
        content_disposition: str | None = None,
        cache_control: str | None = None,
    ) -> ObjectInfo:
        """Write an object from a stream without holding it in memory (multipart on S3)."""

    @abc.abstractmethod
    def put_if_absent(self, key: str, data: bytes) -> bool:
        """Create the object only if no object has that key; True if this call created it.
        Atomic against concurrent callers (O_EXCL locally, If-None-Match: * on S3)."""

    @abc.abstractmethod
    def copy(
        self,
        src: str,
        dst: str,
        *,
        content_type: str | None = None,
        content_disposition: str | None = None,
        cache_control: str | None = None,
    ) -> ObjectInfo:
        """Copy within the store (server-side on S3). With any header named, the copy carries
        the headers named instead of the source's (an unnamed one is then not carried)."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove an object; removing a missing key is not an error."""

    @abc.abstractmethod
    def uri(self, key: str) -> str:
        """A URI a person can use to find the object (`file:///…` or `s3://…`); a key ending
        in '/' names a folder (prefix)."""

    def exists(self, key: str) -> bool:
        return self.head(key) is not None

    def reclaim_temp_files(self, *, older_than: timedelta = TEMP_GRACE) -> Reclaimed:
        """Remove what writes killed midway left behind, once older than `older_than` (younger
        ones may belong to a write still running). A store whose writes leave nothing behind
        has nothing to do: an S3 bucket's lifecycle rule aborts incomplete multipart uploads."""
        return Reclaimed(files=0, bytes=0)

    def key_for_event(self, bucket: str, bucket_key: str) -> str | None:
        """The store key of the object an S3 event notification names, or None when that
        object lies outside this store. A local store has no bucket: the key is used as is."""
        return bucket_key

    def put_file(
        self,
        key: str,
        path: Path,
        *,
        content_type: str | None = None,
        content_disposition: str | None = None,
        cache_control: str | None = None,
    ) -> ObjectInfo:
        # Headers are passed only when given, so stores written before content_disposition and
        # cache_control existed (test doubles, wrappers) keep working for plain uploads.
        headers = {"content_type": content_type}
        if content_disposition is not None:
            headers["content_disposition"] = content_disposition
        if cache_control is not None:
            headers["cache_control"] = cache_control
        with open(path, "rb") as stream:
            return self.put_stream(key, stream, **headers)


# --------------------------------------------------------------------------- local directory

_TMP_MARK = layout.TEMP_MARK  # temporary files carry this name prefix; never listed, never a key
_CHUNK = 1024 * 1024


def _check_key(key: str) -> list[str]:
    """The key's '/'-separated parts, or ValueError for a key that could escape the root."""
    parts = key.split("/")
    if not key or key.startswith("/") or "\0" in key:
        raise ValueError(f"invalid object key {key!r}: keys are relative, non-empty, no NUL")
    for part in parts:
        if part in ("", ".", "..") or part.startswith(_TMP_MARK):
            raise ValueError(f"invalid object key {key!r}: segment {part!r} is not allowed")
    return parts


def _utc_from_ns(ns: int) -> datetime:
    seconds, rest = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=rest // 1000)


def _local_info(key: str, st: os.stat_result) -> ObjectInfo:
    # inode + mtime + size: changes on every atomic replace and every in-place edit, without
    # reading the content (hashing gigabytes on each listing would not scale).
    etag = f"{st.st_ino:x}-{st.st_mtime_ns:x}-{st.st_size:x}"
    return ObjectInfo(key, st.st_size, etag, _utc_from_ns(st.st_mtime_ns))


def _directory_may_match(dir_key: str, prefix: str, start_after: str | None) -> bool:
    """Whether some key under `dir_key` (which ends in '/') can start with `prefix` and sort
    after `start_after`. A `start_after` beyond `dir_key` and not inside it exceeds all of them."""
    if not (dir_key.startswith(prefix) or prefix.startswith(dir_key)):
        return False
    return start_after is None or start_after < dir_key or start_after.startswith(dir_key)


class LocalStore(ObjectStore):
    """Objects as files under `root`; a key's '/' separators are directories.

    Writes go to a temporary file in the destination directory and are renamed into place,
    so readers never see a partial object. The filesystem cannot hold both `a` and `a/b`,
    which S3 can; such a write raises StoreError.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()
        self.url = self.root.as_uri()

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*_check_key(key))

    def file_path(self, key: str) -> Path:
        """The file that holds, or would hold, `key` (ValueError for a key that could escape
        the root). For code that writes a store's files itself (`platform.multipart`)."""
        return self._path(key)

    def list(self, prefix: str = "", *, start_after: str | None = None) -> Iterator[ObjectInfo]:
        base = prefix.rpartition("/")[0]
        base_dir = self._path(base) if base else self.root  # refuses prefixes that escape
        return self._walk(base_dir, f"{base}/" if base else "", prefix, start_after)

    def _walk(
        self, directory: Path, dir_key: str, prefix: str, start_after: str | None
    ) -> Iterator[ObjectInfo]:
        """Keys under `directory` in ascending order: each directory sorts its entries with
        directories as 'name/', which is exactly where their keys fall among the files."""
        try:
            with os.scandir(directory) as scan:
                entries = [(e.name + "/" if e.is_dir() else e.name, e) for e in scan]
        except (FileNotFoundError, NotADirectoryError):
            return
        for name, entry in sorted(entries, key=lambda pair: pair[0]):
            key = dir_key + name
            if name.startswith(_TMP_MARK):
                continue
            if name.endswith("/"):
                if _directory_may_match(key, prefix, start_after):
                    yield from self._walk(Path(entry.path), key, prefix, start_after)
            elif key.startswith(prefix) and (start_after is None or key > start_after):
                try:
                    yield _local_info(key, entry.stat())
                except FileNotFoundError:
                    continue  # deleted while we walked

    def head(self, key: str) -> ObjectInfo | None:
        try:
            st = self._path(key).stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return _local_info(key, st) if stat.S_ISREG(st.st_mode) else None

    def get_bytes(self, key: str) -> bytes:
        with self.open_read(key) as stream:
            return stream.read()

    @contextlib.contextmanager
    def open_read(self, key: str) -> Iterator[BinaryIO]:
        try:
            stream = open(self._path(key), "rb")  # noqa: SIM115 - closed by the with below
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise ObjectNotFound(key) from None
        with stream:
            yield stream

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(key)
        yield path

    def put_bytes(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str | None = None,
        content_disposition: str | None = None,
        cache_control: str | None = None,
    ) -> ObjectInfo:
        return self.put_stream(key, io.BytesIO(data))

    def put_stream(
        self,
        key: str,
        stream: BinaryIO,
        *,
        content_type: str | None = None,
        content_disposition: str | None = None,
        cache_control: str | None = None,
    ) -> ObjectInfo:
        path = self._path(key)
        tmp, info = self._write_temp(key, path, stream)
        try:
            os.replace(tmp, path)
        except IsADirectoryError as exc:
            raise StoreFailed(f"cannot write {key!r}: keys below it exist") from exc
        finally:
            tmp.unlink(missing_ok=True)
        return info

    def put_if_absent(self, key: str, data: bytes) -> bool:
        path = self._path(key)
        tmp, _ = self._write_temp(key, path, io.BytesIO(data))
        try:
            os.link(tmp, path)  # atomic: fails when the name exists, content already complete
            return True
        except FileExistsError:
            return False
        finally:
            tmp.unlink(missing_ok=True)

    def _write_temp(self, key: str, path: Path, stream: BinaryIO) -> tuple[Path, ObjectInfo]:
        """A fully written, fsynced temporary file next to `path`, and the info it will have."""
        tmp = path.with_name(f"{_TMP_MARK}{uuid.uuid4().hex}")
        for attempt in range(3):  # a concurrent delete may prune the directory we just made
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                out = open(tmp, "xb")  # noqa: SIM115 - closed below
                break
            except FileNotFoundError:
                if attempt == 2:
                    raise
            except (FileExistsError, NotADirectoryError) as exc:
                raise StoreFailed(f"cannot write {key!r}: a key above it is an object") from exc
        with out:
            try:
                shutil.copyfileobj(stream, out, _CHUNK)
                out.flush()
                os.fsync(out.fileno())
                st = os.fstat(out.fileno())
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
        return tmp, _local_info(key, st)

    def copy(
        self,
        src: str,
        dst: str,
        *,
        content_type: str | None = None,
        content_disposition: str | None = None,
        cache_control: str | None = None,
    ) -> ObjectInfo:
        with self.open_read(src) as stream:
            return self.put_stream(dst, stream)

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError):
            return
        except IsADirectoryError:
            return  # a "directory" is not an object
        self._prune(path.parent)

    def _prune(self, directory: Path) -> None:
        """Remove directories left empty, so listings do not walk dead branches."""
        while directory != self.root and self.root in directory.parents:
            try:
                directory.rmdir()
            except OSError:
                return
            directory = directory.parent

    def reclaim_temp_files(self, *, older_than: timedelta = TEMP_GRACE) -> Reclaimed:
        """Delete temporary files of killed writes (never listed as objects, so nothing else
        finds them), and the folders they leave empty."""
        cutoff = time.time() - older_than.total_seconds()
        files = reclaimed = 0
        for directory, _, names in os.walk(self.root):
            for name in names:
                if not name.startswith(_TMP_MARK):
                    continue
                path = Path(directory, name)
                try:
                    st = path.lstat()
                    if st.st_mtime >= cutoff:
                        continue
                    path.unlink()
                except FileNotFoundError:
                    continue  # its write finished (renamed or cleaned up) meanwhile
                files, reclaimed = files + 1, reclaimed + st.st_size
                self._prune(path.parent)
        return Reclaimed(files=files, bytes=reclaimed)

    def uri(self, key: str) -> str:
        folder = key.endswith("/")
        uri = self._path(key.rstrip("/")).as_uri()
        return uri + "/" if folder else uri


# --------------------------------------------------------------------------- S3

_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


def _transfer_config() -> Any:
    """Managed-transfer settings: multipart above 64 MiB in 16 MiB parts, so memory stays
    bounded (boto3 is imported here, not at module import: it costs ~0.2 s)."""
    from boto3.s3.transfer import TransferConfig

    return TransferConfig(multipart_threshold=64 * _CHUNK, multipart_chunksize=16 * _CHUNK)


def _headers(
    content_type: str | None, content_disposition: str | None, cache_control: str | None
) -> dict[str, str]:
    """S3 request arguments storing an object's HTTP headers (served by S3 and CloudFront)."""
    extra = {"ContentType": content_type} if content_type else {}
    if content_disposition:
        extra["ContentDisposition"] = content_disposition
    if cache_control:
        extra["CacheControl"] = cache_control
    return extra


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3Store(ObjectStore):
    """Objects in an S3 bucket under an optional prefix.

    The boto3 client is created on first use from boto3's standard environment
    (`AWS_ENDPOINT_URL`, `AWS_REGION`/`AWS_DEFAULT_REGION`, credentials chain), so building a
    store is free and reads nothing; pass `client` to choose the endpoint explicitly.
    """

    def __init__(self, bucket: str, prefix: str = "", *, client: Any = None) -> None:
        if not bucket:
            raise ValueError("S3Store needs a bucket name")
        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self.url = f"s3://{bucket}/{self.prefix.rstrip('/')}".rstrip("/")
        self._client = client
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"S3Store({self.bucket!r}, {self.prefix!r})"

    @property
    def client(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import boto3

                    self._client = boto3.session.Session().client("s3")
        return self._client

    def _full(self, key: str) -> str:
        _check_key(key)
        return self.prefix + key

    def bucket_key(self, key: str) -> str:
        """The S3 object key of store key `key` (the store's prefix added), for code that
        talks to S3 itself (`platform.multipart`)."""
        return self._full(key)

    @contextlib.contextmanager
    def _errors(self, key: str) -> Iterator[None]:
        """Missing keys become ObjectNotFound, every other S3 failure a StoreError."""
        try:
            yield
        except ClientError as exc:
            if _error_code(exc) in _MISSING_CODES:
                raise ObjectNotFound(key) from exc
            raise StoreFailed(f"S3 {self.uri(key)}: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreFailed(f"S3 {self.uri(key)}: {exc}") from exc

    def list(self, prefix: str = "", *, start_after: str | None = None) -> Iterator[ObjectInfo]:
        args = {"Bucket": self.bucket, "Prefix": self.prefix + prefix}
        if start_after is not None:
            args["StartAfter"] = self.prefix + start_after
        return self._list_pages(prefix, args)

    def _list_pages(self, prefix: str, args: dict[str, str]) -> Iterator[ObjectInfo]:
        pages = self.client.get_paginator("list_objects_v2").paginate(**args)
        with self._errors(prefix):
            for page in pages:
                for item in page.get("Contents", ()):
                    yield ObjectInfo(
                        key=item["Key"][len(self.prefix) :],
                        size=item["Size"],
                        etag=item["ETag"].strip('"'),
                        last_modified=item["LastModified"].astimezone(UTC),
                    )

    def head(self, key: str) -> ObjectInfo | None:
        try:
            with self._errors(key):
                meta = self.client.head_object(Bucket=self.bucket, Key=self._full(key))
        except ObjectNotFound:
            return None
        return ObjectInfo(
            key,
            meta["ContentLength"],
            meta["ETag"].strip('"'),
            meta["LastModified"].astimezone(UTC),
        )

    def _head_written(self, key: str) -> ObjectInfo:
        info = self.head(key)
        if info is None:
            raise StoreFailed(f"{self.uri(key)} vanished right after it was written")
        return info

    def get_bytes(self, key: str) -> bytes:
        with self.open_read(key) as stream:
            return stream.read()

    @contextlib.contextmanager
    def open_read(self, key: str) -> Iterator[BinaryIO]:
        with self._errors(key):
            body = self.client.get_object(Bucket=self.bucket, Key=self._full(key))["Body"]
        try:
            yield body
        finally:
            body.close()

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        with tempfile.NamedTemporaryFile(suffix=Path(key).suffix, delete=False) as out:
            path = Path(out.name)
            try:
                with self.open_read(key) as body, self._errors(key):
                    shutil.copyfileobj(body, out, _CHUNK)
            except BaseException:
                path.unlink(missing_ok=True)
                raise
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)

    def put_bytes(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str | None = None,
        content_disposition: str | None = None,
        cache_control: str | None = None,
    ) -> ObjectInfo:
        extra = _headers(content_type, content_disposition, cache_control)
        with self._errors(key):
            self.client.put_object(Bucket=self.bucket, Key=self._full(key), Body=data, **extra)
        return self._head_written(key)

    def put_stream(
        self,
        key: str,
        stream: BinaryIO,
        *,
        content_type: str | None = None,
        content_disposition: str | None = None,
        cache_control: str | None = None,
    ) -> ObjectInfo:
        extra = _headers(content_type, content_disposition, cache_control) or None
        with self._errors(key):
            self.client.upload_fileobj(
                stream, self.bucket, self._full(key), ExtraArgs=extra, Config=_transfer_config()
            )
        return self._head_written(key)

    def put_if_absent(self, key: str, data: bytes) -> bool:
        """Conditional create (If-None-Match: *). 412 means another writer won. 409 means a
        concurrent conditional request was in flight; it may have been a delete, so retry."""
        full = self._full(key)
        for attempt in range(4):
            try:
                self.client.put_object(Bucket=self.bucket, Key=full, Body=data, IfNoneMatch="*")
                return True
            except ClientError as exc:
                code = _error_code(exc)
                if code in ("PreconditionFailed", "412"):
                    return False
                if code not in ("ConditionalRequestConflict", "409"):
                    raise StoreFailed(f"S3 {self.uri(key)}: {exc}") from exc
            except BotoCoreError as exc:
                raise StoreFailed(f"S3 {self.uri(key)}: {exc}") from exc
            time.sleep(0.05 * 2**attempt)
        return False  # still contended after retries: another writer holds this key

    def copy(
        self,
        src: str,
        dst: str,
        *,
        content_type: str | None = None,
        content_disposition: str | None = None,
        cache_control: str | None = None,
    ) -> ObjectInfo:
        source = {"Bucket": self.bucket, "Key": self._full(src)}
        extra = _headers(content_type, content_disposition, cache_control)
        if extra:  # S3 keeps the source's headers unless told to replace them
            extra["MetadataDirective"] = "REPLACE"
        with self._errors(src):
            self.client.copy(
                source,
                self.bucket,
                self._full(dst),
                ExtraArgs=extra or None,
                Config=_transfer_config(),
            )
        return self._head_written(dst)

    def delete(self, key: str) -> None:
        with self._errors(key):
            self.client.delete_object(Bucket=self.bucket, Key=self._full(key))

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}{key}"

    def key_for_event(self, bucket: str, bucket_key: str) -> str | None:
        if bucket != self.bucket or not bucket_key.startswith(self.prefix):
            return None
        return bucket_key[len(self.prefix) :]


# --------------------------------------------------------------------------- URLs


def read_json(store: ObjectStore, key: str) -> dict[str, Any] | None:
    """The JSON document stored at `key`, or None when there is no such object."""
    try:
        document: dict[str, Any] = json.loads(store.get_bytes(key))
    except ObjectNotFound:
        return None
    return document


def sha256_file(path: Path) -> str:
    """Hex sha256 of a local file, streamed (manifests record it for every stored file)."""
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def open_store(url: str, *, create: bool = False) -> ObjectStore:
    """The store a URL names: `file:///abs/path` (percent-encoded) or `s3://bucket[/prefix]`.

    A local root must exist (STORE_ROOT_MISSING): a mistyped path would otherwise become a new,
    empty store that no sensor watches. `create=True` is for the one store made on purpose,
    the embedded default under `.shazam/`."""
    parts = urllib.parse.urlsplit(url)
    expected = "expected file:///absolute/path or s3://bucket[/prefix]"
    if parts.query or parts.fragment:
        raise StoreUrlError(
            "STORE_URL_INVALID", f"store URL {url!r} must not have a query or fragment; {expected}"
        )
    if parts.scheme == "file":
        path = urllib.parse.unquote(parts.path)
        if parts.netloc not in ("", "localhost") or not path.startswith("/"):
            raise StoreUrlError(
                "STORE_URL_INVALID", f"store URL {url!r} is not an absolute local path; {expected}"
            )
        return LocalStore(_local_root(Path(path), create=create))
    if parts.scheme == "s3":
        if not parts.netloc:
            raise StoreUrlError("STORE_URL_INVALID", f"store URL {url!r} has no bucket; {expected}")
        return S3Store(parts.netloc, urllib.parse.unquote(parts.path).strip("/"))
    raise StoreUrlError("STORE_URL_INVALID", f"unsupported store URL {url!r}; {expected}")


def _local_root(root: Path, *, create: bool) -> Path:
    if create:
        root.mkdir(parents=True, exist_ok=True)
    if not root.exists():
        raise StoreUrlError(
            "STORE_ROOT_MISSING",
            f"store root {str(root)!r} does not exist; check the path (SHAZAM_STORE_URL) or create the folder",
        )
    if not root.is_dir():
        raise StoreUrlError(
            "STORE_ROOT_NOT_A_FOLDER", f"store root {str(root)!r} is a file, not a folder"
        )
    return root
