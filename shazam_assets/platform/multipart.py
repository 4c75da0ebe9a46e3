"""Multipart uploads that a client (the studio's page) sends straight to the store, part by part.

The server starts an upload for a key it chose, hands out one short-lived URL per part, and
completes the upload with the parts' ETags; the bytes never pass through the server's memory.

- `S3Multipart`: S3's own protocol (`create_multipart_upload`, presigned `upload_part` URLs,
  `list_parts` to resume, `complete_multipart_upload` create-only, `abort_multipart_upload`).
  The browser PUTs to the bucket's origin, so the bucket needs a CORS rule (PUT from the
  studio's origin, `ExposeHeaders: ETag`; docs/studio.md).
- `LocalMultipart`: the same protocol over a `LocalStore`, the server itself standing in for
  S3: a part URL is a server route (`LOCAL_PART_ROUTE`) whose path carries a signed token that
  names the key, the upload, the part number, its exact size and an expiry. `PartWriter` streams
  the request body to a part file; completion concatenates the parts into the object (a
  temporary file linked into place: create-only and atomic, as LocalStore writes are).

Both refuse to complete onto a key that already holds an object: an upload never replaces one
someone may still need.
"""

from __future__ import annotations

import abc
import contextlib
import hashlib
import json
import os
import re
import shutil
import urllib.parse
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shazam_assets.platform import layout
from shazam_assets.platform.errors import ShazamError
from shazam_assets.platform.storage import (
    LocalStore,
    ObjectInfo,
    ObjectStore,
    S3Store,
    StoreFailed,
)

MiB = 1024 * 1024
MIN_PART_BYTES = 5 * MiB  # S3's smallest part (all but the last)
MAX_PARTS = 10_000  # S3's most parts in one upload
LOCAL_PART_ROUTE = "/api/upload-parts/"  # + token: where a LocalMultipart part is PUT


class UploadRefused(ShazamError):
    """A multipart upload step the store or its protocol refused; `code` says which."""

    def __init__(self, message: str) -> None:
        super().__init__(self.code, message)


class UploadNotFound(UploadRefused):
    """No upload in progress with that id for that key (finished, aborted or expired)."""

    code = "UPLOAD_NOT_IN_PROGRESS"


class PartUrlInvalid(UploadRefused):
    """A part URL that is forged, altered or past its expiry."""

    code = "UPLOAD_PART_URL_INVALID"


class PartsMismatch(UploadRefused):
    """The parts named at completion are not the parts the store holds, or not of the planned
    sizes."""

    code = "UPLOAD_PARTS_MISMATCH"


class UploadExists(UploadRefused):
    """The key already holds an object; an upload never replaces one."""

    code = "UPLOAD_EXISTS"


class UploadNotSupported(UploadRefused):
    """This kind of store offers no direct upload."""

    code = "UPLOAD_NOT_SUPPORTED"


@dataclass(frozen=True)
class Part:
    """One uploaded part: its 1-based number, ETag (no quotes) and size in bytes."""

    number: int
    etag: str
    size: int

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "etag": self.etag, "size": self.size}


@dataclass(frozen=True)
class PartPlan:
    """How an object of `size` bytes is cut: parts of `part_size`, the last one shorter."""

    size: int
    part_size: int

    @property
    def count(self) -> int:
        return max(1, -(-self.size // self.part_size))

    def part_bytes(self, number: int) -> int:
        """The exact size of part `number` (1-based)."""
        if not 1 <= number <= self.count:
            raise ValueError(f"part {number} is not in 1..{self.count}")
        return min(self.part_size, self.size - (number - 1) * self.part_size)


def plan_parts(size: int, preferred: int) -> PartPlan:
    """Parts of `preferred` bytes (at least S3's 5 MiB), larger when the object would otherwise
    need more than S3's 10,000 parts."""
    part_size = max(preferred, MIN_PART_BYTES, -(-size // MAX_PARTS))
    return PartPlan(size=size, part_size=part_size)


def check_parts(plan: PartPlan, held: Sequence[Part], named: Sequence[Part]) -> None:
    """PartsMismatch unless `named` (what the client says it uploaded) is every planned part, in
    order, each with the ETag and exact size the store holds."""
    by_number = {part.number: part for part in held}
    numbers = [part.number for part in named]
    if numbers != list(range(1, plan.count + 1)):
        raise PartsMismatch(f"expected parts 1..{plan.count} in order, got {numbers[:20]}")
    for part in named:
        stored = by_number.get(part.number)
        if stored is None:
            raise PartsMismatch(f"part {part.number} was never uploaded")
        if stored.etag.strip('"') != part.etag.strip('"'):
            raise PartsMismatch(f"part {part.number}'s ETag is not the one the store holds")
        if stored.size != plan.part_bytes(part.number):
            raise PartsMismatch(
                f"part {part.number} is {stored.size:,} bytes; "
                f"{plan.part_bytes(part.number):,} were planned"
            )


class Multipart(abc.ABC):
    """The direct-upload protocol over one store."""

    @abc.abstractmethod
    def start(self, key: str) -> str:
        """Begin an upload to `key`; its upload id. UploadExists when `key` holds an object."""

    @abc.abstractmethod
    def part_url(
        self, key: str, upload_id: str, number: int, *, size: int, expires_in: timedelta
    ) -> str:
        """Where the client PUTs part `number` (`size` bytes), valid for `expires_in`. A local
        store's URL is a path on the server (`LOCAL_PART_ROUTE`); S3's is absolute."""

    @abc.abstractmethod
    def parts(self, key: str, upload_id: str) -> list[Part]:
        """The parts uploaded so far, by number. UploadNotFound when there is no such upload."""

    @abc.abstractmethod
    def complete(
        self, key: str, upload_id: str, plan: PartPlan, parts: Sequence[Part]
    ) -> ObjectInfo:
        """Join the parts into the object at `key`, never replacing one (UploadExists)."""

    @abc.abstractmethod
    def abort(self, key: str, upload_id: str) -> None:
        """Drop the upload and its parts; aborting an unknown upload is not an error."""

    def connect_origin(self) -> str | None:
        """The origin the browser sends parts to, when it is not the server's own."""
        return None


def multipart_for(store: ObjectStore, *, secret: str, clock: Any = None) -> Multipart:
    """The direct-upload protocol for `store`; `secret` signs a local store's part URLs and
    `clock` (a callable answering an aware datetime) dates them."""
    if isinstance(store, S3Store):
        return S3Multipart(store)
    if isinstance(store, LocalStore):
        return LocalMultipart(store, secret=secret, clock=clock)
    raise UploadNotSupported(f"{store!r} takes no direct uploads; use `shazam upload`")


# --------------------------------------------------------------------------- S3


_NO_UPLOAD_CODES = frozenset({"NoSuchUpload", "404", "NotFound"})


def _sigv4(**_: Any) -> str:
    return "s3v4"


class S3Multipart(Multipart):
    def __init__(self, store: S3Store) -> None:
        self.store = store
        # boto3 presigns S3 URLs with the legacy SigV2 unless told otherwise; part URLs are
        # SigV4 (X-Amz-Expires), which every region accepts.
        store.client.meta.events.register(
            "choose-signer.s3.UploadPart", _sigv4, unique_id="shazam-presign-part-sigv4"
        )

    @property
    def _client(self) -> Any:
        return self.store.client

    def _args(self, key: str, upload_id: str | None = None) -> dict[str, Any]:
        args = {"Bucket": self.store.bucket, "Key": self.store.bucket_key(key)}
        if upload_id is not None:
            args["UploadId"] = upload_id
        return args

    @contextlib.contextmanager
    def _errors(self, key: str) -> Iterator[None]:
        try:
            yield
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _NO_UPLOAD_CODES:
                raise UploadNotFound(f"no upload in progress for {key}") from exc
            if code in ("InvalidPart", "InvalidPartOrder", "EntityTooSmall"):
                raise PartsMismatch(f"S3 refused the parts of {key}: {code}") from exc
            if code in ("PreconditionFailed", "412"):
                raise UploadExists(f"{key} already holds an object") from exc
            raise StoreFailed(f"S3 {self.store.uri(key)}: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreFailed(f"S3 {self.store.uri(key)}: {exc}") from exc

    def start(self, key: str) -> str:
        if self.store.head(key) is not None:
            raise UploadExists(f"{key} already holds an object")
        with self._errors(key):
            answer = self._client.create_multipart_upload(
                **self._args(key), ContentType="application/zip"
            )
        return str(answer["UploadId"])

    def part_url(
        self, key: str, upload_id: str, number: int, *, size: int, expires_in: timedelta
    ) -> str:
        with self._errors(key):
            return str(
                self._client.generate_presigned_url(
                    "upload_part",
                    Params={**self._args(key, upload_id), "PartNumber": number},
                    ExpiresIn=int(expires_in.total_seconds()),
                    HttpMethod="PUT",
                )
            )

    def parts(self, key: str, upload_id: str) -> list[Part]:
        found: list[Part] = []
        pages = self._client.get_paginator("list_parts").paginate(**self._args(key, upload_id))
        with self._errors(key):
            for page in pages:
                for item in page.get("Parts", ()):
                    found.append(
                        Part(int(item["PartNumber"]), item["ETag"].strip('"'), int(item["Size"]))
                    )
        return sorted(found, key=lambda part: part.number)

    def complete(
        self, key: str, upload_id: str, plan: PartPlan, parts: Sequence[Part]
    ) -> ObjectInfo:
        check_parts(plan, self.parts(key, upload_id), parts)
        if self.store.head(key) is not None:
            raise UploadExists(f"{key} already holds an object")
        listed = [{"PartNumber": p.number, "ETag": f'"{p.etag.strip(chr(34))}"'} for p in parts]
        with self._errors(key):
            self._client.complete_multipart_upload(
                **self._args(key, upload_id),
                MultipartUpload={"Parts": listed},
                IfNoneMatch="*",  # create-only: a racing upload of the same name loses
            )
        info = self.store.head(key)
        if info is None:
            raise StoreFailed(f"{self.store.uri(key)} vanished right after it was completed")
        return info

    def abort(self, key: str, upload_id: str) -> None:
        with contextlib.suppress(UploadNotFound), self._errors(key):
            self._client.abort_multipart_upload(**self._args(key, upload_id))

    def connect_origin(self) -> str | None:
        """The origin of the presigned URLs (virtual-hosted or path style, as boto3 signs them)."""
        url = self._client.generate_presigned_url(
            "upload_part",
            Params={**self._args("o", "u"), "PartNumber": 1},
            ExpiresIn=60,
            HttpMethod="PUT",
        )
        parts = urllib.parse.urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}"


# --------------------------------------------------------------------------- local


_UPLOADS_DIR = layout.TEMP_MARK + "multipart"  # under the root; never listed as keys
_MARKER = layout.TEMP_MARK + "upload.json"  # names the upload's key
_PART_NAME = re.compile(re.escape(layout.TEMP_MARK) + r"part-(\d{5})-([0-9a-f]{32})")
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
_CHUNK = MiB


@dataclass(frozen=True)
class PartGrant:
    """What a valid local part URL allows: one part of one upload, of exactly `size` bytes."""

    key: str
    upload_id: str
    number: int
    size: int


class PartWriter:
    """Streams one part to its file: `write` chunks, then `finish` (size checked, fsynced,
    renamed into place) or `discard`. Holds no more than the chunk it is given."""

    def __init__(self, directory: Path, grant: PartGrant) -> None:
        self.directory, self.grant = directory, grant
        self._tmp = directory / f"{layout.TEMP_MARK}writing-{uuid.uuid4().hex}"
        self._out = open(self._tmp, "xb")  # noqa: SIM115 - closed by finish/discard
        self._md5 = hashlib.md5(usedforsecurity=False)
        self.received = 0

    def write(self, chunk: bytes) -> None:
        self.received += len(chunk)
        if self.received > self.grant.size:
            raise PartsMismatch(
                f"part {self.grant.number} is larger than its {self.grant.size:,} bytes"
            )
        self._md5.update(chunk)
        self._out.write(chunk)

    def finish(self) -> Part:
        if self.received != self.grant.size:
            self.discard()
            raise PartsMismatch(
                f"part {self.grant.number} is {self.received:,} bytes; "
                f"{self.grant.size:,} were planned"
            )
        self._out.flush()
        os.fsync(self._out.fileno())
        self._out.close()
        etag = self._md5.hexdigest()
        for old in self.directory.glob(f"{layout.TEMP_MARK}part-{self.grant.number:05d}-*"):
            old.unlink(missing_ok=True)  # a retried part replaces the earlier try
        os.replace(self._tmp, self.directory / _part_name(self.grant.number, etag))
        os.utime(self.directory / _MARKER)  # still in use: not reclaimed as abandoned
        return Part(self.grant.number, etag, self.received)

    def discard(self) -> None:
        self._out.close()
        self._tmp.unlink(missing_ok=True)


def _part_name(number: int, etag: str) -> str:
    return f"{layout.TEMP_MARK}part-{number:05d}-{etag}"


class LocalMultipart(Multipart):
    """Parts as files in a folder per upload under the store's root (named with the store's
    temporary mark, so listings skip them and `reclaim_temp_files` removes abandoned ones)."""

    def __init__(self, store: LocalStore, *, secret: str, clock: Any = None) -> None:
        from itsdangerous import URLSafeSerializer

        self.store = store
        self._signer = URLSafeSerializer(secret, salt="shazam-upload-part")
        self._clock = clock

    def _now(self) -> datetime:
        from datetime import UTC

        return self._clock() if self._clock is not None else datetime.now(UTC)

    def _dir(self, upload_id: str) -> Path:
        if not _UPLOAD_ID.fullmatch(upload_id):
            raise UploadNotFound(f"{upload_id!r} is not an upload id")
        return self.store.root / _UPLOADS_DIR / upload_id

    def _checked_dir(self, key: str, upload_id: str) -> Path:
        directory = self._dir(upload_id)
        try:
            marker = json.loads((directory / _MARKER).read_text())
        except (FileNotFoundError, NotADirectoryError, ValueError):
            raise UploadNotFound(f"no upload {upload_id} in progress") from None
        if marker.get("key") != key:
            raise UploadNotFound(f"upload {upload_id} is not an upload of {key}")
        return directory

    def start(self, key: str) -> str:
        self.store.file_path(key)  # refuses a key that could escape the root
        if self.store.head(key) is not None:
            raise UploadExists(f"{key} already holds an object")
        upload_id = uuid.uuid4().hex
        directory = self._dir(upload_id)
        directory.mkdir(parents=True)
        (directory / _MARKER).write_text(json.dumps({"key": key}))
        return upload_id

    def part_url(
        self, key: str, upload_id: str, number: int, *, size: int, expires_in: timedelta
    ) -> str:
        self._checked_dir(key, upload_id)
        expires = int((self._now() + expires_in).timestamp())
        token = self._signer.dumps([key, upload_id, number, size, expires])
        return LOCAL_PART_ROUTE + token

    def grant(self, token: str) -> PartGrant:
        """The part a URL's token allows, or PartUrlInvalid (forged, altered or expired)."""
        from itsdangerous import BadSignature

        try:
            key, upload_id, number, size, expires = self._signer.loads(token)
        except (BadSignature, ValueError, TypeError):
            raise PartUrlInvalid("the part URL is not one this server signed") from None
        if self._now().timestamp() > expires:
            raise PartUrlInvalid("the part URL has expired; the page asks for a new one")
        return PartGrant(str(key), str(upload_id), int(number), int(size))

    def receive(self, grant: PartGrant) -> PartWriter:
        """A writer for the part `grant` allows (UploadNotFound once the upload is gone)."""
        return PartWriter(self._checked_dir(grant.key, grant.upload_id), grant)

    def parts(self, key: str, upload_id: str) -> list[Part]:
        directory = self._checked_dir(key, upload_id)
        found = []
        for path in directory.iterdir():
            match = _PART_NAME.fullmatch(path.name)
            if match is not None:
                with contextlib.suppress(FileNotFoundError):
                    found.append(Part(int(match[1]), match[2], path.stat().st_size))
        return sorted(found, key=lambda part: part.number)

    def complete(
        self, key: str, upload_id: str, plan: PartPlan, parts: Sequence[Part]
    ) -> ObjectInfo:
        directory = self._checked_dir(key, upload_id)
        check_parts(plan, self.parts(key, upload_id), parts)
        path = self.store.file_path(key)
        if path.exists():
            raise UploadExists(f"{key} already holds an object")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{layout.TEMP_MARK}{uuid.uuid4().hex}")
        try:
            with open(tmp, "xb") as out:
                for part in parts:
                    with open(directory / _part_name(part.number, part.etag), "rb") as src:
                        shutil.copyfileobj(src, out, _CHUNK)
                out.flush()
                os.fsync(out.fileno())
            os.link(tmp, path)  # atomic and create-only: fails when the name exists
        except FileExistsError:
            raise UploadExists(f"{key} already holds an object") from None
        finally:
            tmp.unlink(missing_ok=True)
        shutil.rmtree(directory, ignore_errors=True)
        info = self.store.head(key)
        if info is None:
            raise StoreFailed(f"{self.store.uri(key)} vanished right after it was completed")
        return info

    def abort(self, key: str, upload_id: str) -> None:
        with contextlib.suppress(UploadNotFound):
            shutil.rmtree(self._checked_dir(key, upload_id), ignore_errors=True)
