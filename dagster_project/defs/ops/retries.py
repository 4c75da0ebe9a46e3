"""Retries for transient failures only: a store or network hiccup, a GPU render that crashed.

`RETRY` is the policy of the assets that touch S3 or the GPU. Dagster retries any exception
under a retry policy, so `transient_only` wraps an asset body and turns every other error
(a rejection, a missing upload, a bad option) into `dg.Failure(allow_retries=False)`.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import dagster as dg

from shazam_assets.storage import ObjectNotFound, StoreError

RETRY = dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)

F = TypeVar("F", bound=Callable[..., Any])


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: store/network errors (not a missing object) and the renderer's plain
    RuntimeError (GPU/driver); never a domain error, which has its own subclass."""
    if isinstance(exc, ObjectNotFound):
        return False
    if isinstance(exc, StoreError | ConnectionError | TimeoutError) or type(exc) is RuntimeError:
        return True
    try:
        import botocore.exceptions
    except ImportError:
        return False
    return isinstance(exc, botocore.exceptions.BotoCoreError | botocore.exceptions.ClientError)


def _permanent(exc: Exception) -> dg.Failure:
    return dg.Failure(f"{type(exc).__name__}: {exc}", allow_retries=False)


@contextlib.contextmanager
def _transient_or_permanent() -> Iterator[None]:
    """Let dg.Failure and transient errors through; anything else becomes a no-retry Failure."""
    try:
        yield
    except dg.Failure:
        raise
    except Exception as exc:
        if is_transient(exc):
            raise
        raise _permanent(exc) from exc


def transient_only(fn: F) -> F:
    """Wrap an asset body (plain or generator) so only transient errors are retried."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def generator(*args, **kwargs):
            with _transient_or_permanent():
                yield from fn(*args, **kwargs)

        return generator  # type: ignore[return-value]

    @functools.wraps(fn)
    def plain(*args, **kwargs):
        with _transient_or_permanent():
            return fn(*args, **kwargs)

    return plain  # type: ignore[return-value]
