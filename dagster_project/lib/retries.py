"""Retries for transient failures only: a store or network hiccup, a GPU render that crashed.

`RETRY` is the policy of the assets that touch S3 or the GPU. Dagster retries any exception
under a retry policy, so `transient_only` wraps an asset body and turns every other error
(a rejection, a missing upload, a bad option) into `dg.Failure(allow_retries=False)`. What is
transient is decided by type alone (`is_transient`), never by a message or a class name.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import dagster as dg

from shazam_assets.platform.errors import ShazamError, TransientError

RETRY = dg.RetryPolicy(
    max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)

F = TypeVar("F", bound=Callable[..., Any])


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: a `TransientError` (a store that failed, a render process that died, a
    notification channel that did not answer, a lost race) and the network's own errors
    (ConnectionError, TimeoutError, botocore's) that reach us unwrapped; never any other
    refusal or error."""
    if isinstance(exc, TransientError | ConnectionError | TimeoutError):
        return True
    if isinstance(exc, ShazamError):
        return False
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


T = TypeVar("T")
FAILED_ASINS = "failed_asins"  # Failure metadata of a batch step: the ASINs whose work failed


def _describe(exc: Exception) -> str:
    return str(exc) if isinstance(exc, ShazamError) else f"{type(exc).__name__}: {exc}"


def per_asin(
    asins: Iterable[str], work: Callable[[str], T], *, log: Callable[[str], None]
) -> list[T]:
    """`work(asin)` for each ASIN of a batch run; one that fails does not stop the others (what
    they did is committed, and the work is idempotent, so a re-run finds it done). Raises once
    the batch is through: the first transient error as it is (the retry policy re-runs the
    step), else a no-retry Failure naming every ASIN that failed (metadata FAILED_ASINS)."""
    done, failed = [], []
    for asin in asins:
        try:
            done.append(work(asin))
        except Exception as exc:  # sorted below, once the rest of the batch is through
            log(f"{asin}: {_describe(exc)}")
            failed.append((asin, exc))
    if not failed:
        return done
    transient = next((exc for _, exc in failed if is_transient(exc)), None)
    if transient is not None:
        raise transient
    codes = sorted(
        {exc.code if isinstance(exc, ShazamError) else type(exc).__name__ for _, exc in failed}
    )
    raise dg.Failure(
        "; ".join(f"{asin}: {_describe(exc)}" for asin, exc in failed),
        metadata={"code": ", ".join(codes), FAILED_ASINS: ", ".join(a for a, _ in failed)},
        allow_retries=False,
    )


def failure_record(exc: Exception) -> dict[str, Any]:
    """What a step's failure was, as JSON: for a process that works for a step elsewhere (a GPU
    pod through Dagster Pipes) and hands the failure back for `raise_failure` to raise again,
    with the same retry decision as if it had failed in the step."""
    if isinstance(exc, dg.Failure):
        metadata = {k: str(getattr(v, "value", v)) for k, v in (exc.metadata or {}).items()}
        return {"transient": False, "message": exc.description or "", "metadata": metadata}
    if isinstance(exc, ShazamError):
        return {"transient": is_transient(exc), "code": exc.code, "message": exc.message}
    transient = is_transient(exc)  # a network error reaching the store, unwrapped
    code = "STORE_FAILED" if transient else type(exc).__name__
    return {"transient": transient, "code": code, "message": _describe(exc)}


def raise_failure(record: dict[str, Any]) -> None:
    """Raise the failure `failure_record` described: transient ones as a `TransientError` (the
    retry policy runs the step again), the rest as a no-retry Failure with its metadata."""
    if record["transient"]:
        raise TransientError(record["code"], record["message"])
    metadata = record.get("metadata") or {"code": record.get("code", "")}
    raise dg.Failure(record["message"], metadata=metadata, allow_retries=False)
