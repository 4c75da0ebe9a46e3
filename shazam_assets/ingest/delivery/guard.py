"""A deadline and a memory cap around one whole validation, so every upload gets a verdict.

The caps of `limits` bound what each check may cost, but a validator is a lot of code and an
upload is written by an adversary: whatever slips past them must still end in a report, not
a worker killed by the kernel and an upload left "pending". So the pipeline (the `delivery`
asset through `ingest.validate_upload`) and `shazam validate` run validation in a child
process whose address space is capped with RLIMIT_AS and whose wall clock is capped by the
parent. An overrun becomes a rejected report with a stable code.

The child comes from a fork server that imported the validator once (a fresh, single-threaded
process, safe beside Dagster's threads); each validation then costs a fork, not an import.
The CLI forks itself instead, before it imports the validator: the child imports it, validates
and ends without tearing its modules down, so the short-lived parent never loads numpy,
pydantic or PIL at all (see docs/benchmarks.md, "shazam validate as a whole process").
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import signal
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from shazam_assets.ingest.delivery.profiles import MB, get_profile
from shazam_assets.ingest.delivery.report import Report, RuleBook, build_report
from shazam_assets.platform.settings import DEFAULTS, Settings

if TYPE_CHECKING:
    from shazam_assets.ingest.delivery.validate import DeliveryValidation

# The validator (numpy, pydantic, PIL and 6k lines of rules) is imported where a validation
# runs: in the fork server once, or in the CLI's forked child.
VALIDATOR = "shazam_assets.ingest.delivery.validate"

rules = RuleBook("guard")
TIMEOUT = rules.error(
    "VALIDATION_TIMEOUT",
    "Validation did not finish within its time limit",
    hint="Simplify the delivery (fewer nodes, meshes, animations and files); "
    "a product model validates in seconds. Ask the pipeline team if it is a normal model.",
)
MEMORY_LIMIT = rules.error(
    "VALIDATION_MEMORY_LIMIT",
    "Validation needed more memory than it is allowed",
    hint="Check accessor counts and buffer sizes in the exporter; a product model needs far less. "
    "Ask the pipeline team if it is a normal model.",
)
CRASHED = rules.error(
    "VALIDATION_CRASHED",
    "The validator failed on this delivery",
    hint="This is a defect in SHAZAM, not necessarily in the delivery: send the file to the "
    "pipeline team. Re-exporting the model often avoids it.",
)


@dataclass(frozen=True)
class Guard:
    """The budget of one validation: wall-clock seconds and address space in bytes."""

    seconds: float = DEFAULTS.validation_timeout_s
    memory_bytes: int = DEFAULTS.validation_memory_mb * MB
    # How the child starts. "forkserver" (the default) is safe in any process, threads and all
    # (Dagster's), and costs one interpreter start per process. "fork" costs nothing but is only
    # for a small single-threaded caller (the `shazam` CLI): the child inherits the caller's
    # address space, and the memory cap counts it.
    start: Literal["fork", "forkserver"] = "forkserver"

    @classmethod
    def from_env(cls, *, start: Literal["fork", "forkserver"] = "forkserver") -> Guard:
        """The default guard, with SHAZAM_VALIDATION_TIMEOUT_S / _MEMORY_MB when set."""
        settings = Settings.from_env()
        return cls(seconds=settings.validation_timeout_s, memory_bytes=settings.validation_memory_mb * MB,
                   start=start)


def _context(guard: Guard) -> multiprocessing.context.BaseContext:
    if guard.start == "fork":
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__, VALIDATOR])
    return context


def _child(conn: Connection, job: Callable[[], Any], memory_bytes: int) -> None:
    """Run `job` under the memory cap and send back ('ok', result) or why it failed."""
    # One validation is single-threaded: where this child imports numpy itself (the CLI's
    # fork), OpenBLAS's idle thread pool would only compete with it for the CPU.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        outcome: tuple[str, Any] = ("ok", job())
    except MemoryError:
        outcome = ("memory", None)
    except OSError as exc:  # the file itself could not be read: the caller's error, not a verdict
        outcome = ("oserror", str(exc))
    except Exception as exc:  # a defect: say where, for the report an operator forwards
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        outcome = ("crash", f"{type(exc).__name__}: {exc} (at {Path(frame.filename).name}:{frame.lineno})")
    try:
        conn.send(outcome)
    except MemoryError:
        conn.send(("memory", None))
    finally:
        conn.close()


@dataclass(frozen=True)
class Overrun:
    code: str
    message: str


def run_guarded(job: Callable[[], Any], guard: Guard) -> Any:
    """`job()` in a child process within `guard`; an `Overrun` when it did not finish."""
    context: Any = _context(guard)  # multiprocessing's stubs give BaseContext no Process
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(send, job, guard.memory_bytes), daemon=True)
    started = time.monotonic()
    process.start()
    send.close()
    try:
        if not receive.poll(guard.seconds):
            return Overrun(TIMEOUT.code, f"validation was stopped after {guard.seconds:g} s")
        kind, value = receive.recv()
    except (EOFError, OSError):  # the child died without a word: killed or crashed hard
        process.join(5)
        code = process.exitcode
        if code == -signal.SIGKILL:
            return Overrun(MEMORY_LIMIT.code, "the validating process was killed (out of memory)")
        return Overrun(CRASHED.code, f"the validating process ended with exit code {code}")
    finally:
        if process.is_alive():
            process.kill()
        process.join(5)
        receive.close()
    elapsed = time.monotonic() - started
    if kind == "memory":
        return Overrun(MEMORY_LIMIT.code, f"validation needed more than {guard.memory_bytes / MB:,.0f} MB "
                        f"(stopped after {elapsed:.1f} s)")
    if kind == "oserror":
        raise OSError(value)
    if kind == "crash":
        return Overrun(CRASHED.code, f"validation failed: {value}")
    return value


def _overrun_report(path: Path, profile: str | None, overrun: Overrun, guard: Guard) -> Report:
    from shazam_assets.ingest.delivery import validate

    rule = rules[overrun.code]
    issue = rule(overrun.message, path=path.name, seconds=guard.seconds,
                 memory_mb=guard.memory_bytes // MB)
    return build_report(subject=str(path), profile=get_profile(profile).name, issues=[issue],
                        stats={"rules_version": validate.RULES_VERSION,
                               "guard": {"seconds": guard.seconds, "memory_mb": guard.memory_bytes // MB}})


@dataclass(frozen=True)
class _Delivery:
    """A picklable job: validate one delivery ZIP; the archive entries stay in the child."""

    path: Path
    profile: str | None
    expected_asin: str | None
    rules_version: str  # the caller's RULES_VERSION: the verdict is recorded under its rules

    def __call__(self) -> DeliveryValidation:
        from shazam_assets.ingest.delivery.validate import DeliveryValidation, validate_delivery

        result = validate_delivery(self.path, profile=self.profile, expected_asin=self.expected_asin,
                                   rules_version=self.rules_version)
        return DeliveryValidation(report=result.report, manifest=result.manifest, entries=())


@dataclass(frozen=True)
class _AnyPath:
    path: Path
    profile: str | None
    expected_asin: str | None

    def __call__(self) -> Report:
        from shazam_assets.ingest.delivery.validate import validate_path

        return validate_path(self.path, profile=self.profile, expected_asin=self.expected_asin)


def guarded_delivery(
    path: Path, *, profile: str | None = None, expected_asin: str | None = None, guard: Guard | None = None
) -> DeliveryValidation:
    """`validate_delivery` within a deadline and a memory cap (`entries` is empty)."""
    from shazam_assets.ingest.delivery.validate import RULES_VERSION, DeliveryValidation

    guard = guard or Guard.from_env()
    get_profile(profile)  # an unknown profile is the caller's error, raised here
    result = run_guarded(_Delivery(path, profile, expected_asin, RULES_VERSION), guard)
    if isinstance(result, Overrun):
        return DeliveryValidation(report=_overrun_report(path, profile, result, guard), manifest=None, entries=())
    return result


def guarded_path(
    path: Path, *, profile: str | None = None, expected_asin: str | None = None, guard: Guard | None = None
) -> Report:
    """`validate_path` (what `shazam validate` checks) within a deadline and a memory cap."""
    guard = guard or Guard.from_env()
    get_profile(profile)
    result = run_guarded(_AnyPath(path, profile, expected_asin), guard)
    if isinstance(result, Overrun):
        return _overrun_report(path, profile, result, guard)
    return result
