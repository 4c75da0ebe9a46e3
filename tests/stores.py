"""Test doubles over a real store: `Forwarding` passes every call to the store it wraps, so a
test overrides only the calls it watches or breaks (a write that fails, a log of changes)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from shazam_assets.platform.storage import ObjectInfo, ObjectStore


class Forwarding(ObjectStore):
    def __init__(self, inner: ObjectStore) -> None:
        self.inner = inner
        self.url = inner.url

    def list(self, prefix: str = "", *, start_after: str | None = None) -> Iterator[ObjectInfo]:
        return self.inner.list(prefix, start_after=start_after)

    def head(self, key: str) -> ObjectInfo | None:
        return self.inner.head(key)

    def get_bytes(self, key: str) -> bytes:
        return self.inner.get_bytes(key)

    def open_read(self, key: str) -> contextlib.AbstractContextManager[BinaryIO]:
        return self.inner.open_read(key)

    def local_copy(self, key: str) -> contextlib.AbstractContextManager[Path]:
        return self.inner.local_copy(key)

    def put_bytes(self, key: str, data: bytes, **headers: Any) -> ObjectInfo:
        return self.inner.put_bytes(key, data, **headers)

    def put_stream(self, key: str, stream: BinaryIO, **headers: Any) -> ObjectInfo:
        return self.inner.put_stream(key, stream, **headers)

    def put_if_absent(self, key: str, data: bytes) -> bool:
        return self.inner.put_if_absent(key, data)

    def copy(self, src: str, dst: str, **headers: Any) -> ObjectInfo:
        return self.inner.copy(src, dst, **headers)

    def delete(self, key: str) -> None:
        self.inner.delete(key)

    def uri(self, key: str) -> str:
        return self.inner.uri(key)


class Recording(Forwarding):
    """Logs every change it is asked for, in order (("put"|"copy"|"delete", key)), and can fail
    the n-th copy as a crash would."""

    def __init__(self, inner: ObjectStore, *, fail_copy_at: int | None = None) -> None:
        super().__init__(inner)
        self.changes: list[tuple[str, str]] = []
        self.fail_copy_at = fail_copy_at

    def put_bytes(self, key: str, data: bytes, **headers: Any) -> ObjectInfo:
        self.changes.append(("put", key))
        return self.inner.put_bytes(key, data, **headers)

    def put_stream(self, key: str, stream: BinaryIO, **headers: Any) -> ObjectInfo:
        self.changes.append(("put", key))
        return self.inner.put_stream(key, stream, **headers)

    def put_if_absent(self, key: str, data: bytes) -> bool:
        self.changes.append(("put", key))
        return self.inner.put_if_absent(key, data)

    def copy(self, src: str, dst: str, **headers: Any) -> ObjectInfo:
        self.changes.append(("copy", dst))
        if (
            self.fail_copy_at is not None
            and sum(op == "copy" for op, _ in self.changes) == self.fail_copy_at
        ):
            raise ConnectionError("simulated crash while copying")
        return self.inner.copy(src, dst, **headers)

    def delete(self, key: str) -> None:
        self.changes.append(("delete", key))
        self.inner.delete(key)
