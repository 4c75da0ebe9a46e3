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
and ends without tearing its modules down, so the short-lived parent never loads numpy (nor
pydantic or Pillow, which the child needs only for an unusual manifest or photo) at all (see
docs/benchmarks.md, "shazam validate as a whole process").
"""

from __future__ import annotations

import gc
import os
import pickle
import resource
import select
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from shazam_assets.ingest.delivery.profiles import MB, get_profile
from shazam_assets.ingest.delivery.report import Report, RuleBook, build_report
from shazam_assets.platform.settings import DEFAULTS, Settings

if TYPE_CHECKING:
    from shazam_assets.ingest.delivery.validate import DeliveryValidation

# The validator (numpy, PIL, 6k lines of rules; pydantic for a manifest that is not canonical) is
# imported where a validation runs: in the fork server once, or in the CLI's forked child.
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
        settings = Settings.from_env(only=("validation_timeout_s", "validation_memory_mb"))
        return cls(
            seconds=settings.validation_timeout_s,
            memory_bytes=settings.validation_memory_mb * MB,
            start=start,
        )


class _Sender(Protocol):
    def send(self, obj: Any) -> None: ...
    def close(self) -> None: ...


class _Child(Protocol):
    """The guarded child as `run_guarded` sees it, however it was started."""

    @property
    def exitcode(self) -> int | None: ...

    def poll(self, seconds: float) -> bool: ...
    def recv(self) -> Any: ...
    def stop(self) -> None: ...


class _ServedChild:
    """A child from the fork server (multiprocessing), safe in a threaded caller."""

    def __init__(self, job: Callable[[], Any], memory_bytes: int) -> None:
        import multiprocessing

        context: Any = multiprocessing.get_context(
            "forkserver"
        )  # the stubs give BaseContext no Process
        context.set_forkserver_preload([__name__, VALIDATOR])
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=_child, args=(send, job, memory_bytes), daemon=True)
        self._process.start()
        send.close()

    @property
    def exitcode(self) -> int | None:
        self._process.join(5)
        code: int | None = self._process.exitcode
        return code

    def poll(self, seconds: float) -> bool:
        return bool(self._receive.poll(seconds))

    def recv(self) -> Any:
        return self._receive.recv()

    def stop(self) -> None:
        if self._process.is_alive():
            self._process.kill()
        self._process.join(5)
        self._receive.close()


class _PipeSender:
    def __init__(self, fd: int) -> None:
        self._file = open(fd, "wb")  # noqa: SIM115 - closed by close()

    def send(self, obj: Any) -> None:
        data = pickle.dumps(
            obj, protocol=pickle.HIGHEST_PROTOCOL
        )  # a MemoryError here writes nothing
        self._file.write(data)
        self._file.flush()

    def close(self) -> None:
        self._file.close()


class _ForkedChild:
    """A bare `os.fork` of the caller, for a small single-threaded one (the CLI): no
    multiprocessing to import, and the child ends with `os._exit`, tearing nothing down."""

    def __init__(self, job: Callable[[], Any], memory_bytes: int) -> None:
        receive, send = os.pipe()
        sys.stdout.flush()  # nothing buffered twice
        sys.stderr.flush()
        # Python's advice for a fork without exec: the collector of neither process walks the
        # objects that exist now (it would copy the child's shared pages, and the short-lived
        # parent's teardown would walk them once more for nothing).
        gc.freeze()
        pid = os.fork()
        if pid == 0:  # the child
            try:
                os.close(receive)
                _child(_PipeSender(send), job, memory_bytes)
            finally:
                os._exit(0)
        os.close(send)
        self._pid, self._receive = pid, receive
        self._status: int | None = None

    @property
    def exitcode(self) -> int | None:
        deadline = time.monotonic() + 5
        while self._reap() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        return self._status

    def _reap(self) -> int | None:
        if self._status is None:
            pid, status = os.waitpid(self._pid, os.WNOHANG)
            if pid:
                self._status = os.waitstatus_to_exitcode(status)
        return self._status

    def poll(self, seconds: float) -> bool:
        return bool(select.select([self._receive], [], [], seconds)[0])

    def recv(self) -> Any:
        chunks = []
        while chunk := os.read(self._receive, 1 << 20):
            chunks.append(chunk)
        try:
            return pickle.loads(b"".join(chunks))
        except (pickle.UnpicklingError, EOFError, ValueError) as exc:  # nothing, or cut short
            raise EOFError("the validating process did not send a whole result") from exc

    def stop(self) -> None:
        if self._reap() is None:
            os.kill(self._pid, signal.SIGKILL)
        _ = self.exitcode
        os.close(self._receive)


def _child(conn: _Sender, job: Callable[[], Any], memory_bytes: int) -> None:
    """Run `job` under the memory cap and send back ('ok', result) or why it failed."""
    # Where this child imports the validator itself (the CLI's fork): one validation is
    # single-threaded, so OpenBLAS's idle thread pool would only compete with it for the CPU,
    # and no pydantic plugin runs here, so scanning every installed package for one is waste.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        outcome: tuple[str, Any] = ("ok", job())
    except MemoryError:
        outcome = ("memory", None)
    except OSError as exc:  # the file itself could not be read: the caller's error, not a verdict
        outcome = ("oserror", str(exc))
    except Exception as exc:  # a defect: say where, for the report an operator forwards
        import traceback  # only here: a clean validation never needs it

        frame = traceback.extract_tb(exc.__traceback__)[-1]
        outcome = (
            "crash",
            f"{type(exc).__name__}: {exc} (at {Path(frame.filename).name}:{frame.lineno})",
        )
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


T = TypeVar("T")


def run_guarded(job: Callable[[], T], guard: Guard) -> T | Overrun:
    """`job()` in a child process within `guard`; an `Overrun` when it did not finish."""
    started = time.monotonic()
    starter = _ForkedChild if guard.start == "fork" else _ServedChild
    child: _Child = starter(job, guard.memory_bytes)
    try:
        if not child.poll(guard.seconds):
            return Overrun(TIMEOUT.code, f"validation was stopped after {guard.seconds:g} s")
        kind, value = child.recv()
    except (EOFError, OSError):  # the child died without a word: killed or crashed hard
        code = child.exitcode
        if code == -signal.SIGKILL:
            return Overrun(MEMORY_LIMIT.code, "the validating process was killed (out of memory)")
        return Overrun(CRASHED.code, f"the validating process ended with exit code {code}")
    finally:
        child.stop()
    elapsed = time.monotonic() - started
    if kind == "memory":
        return Overrun(
            MEMORY_LIMIT.code,
            f"validation needed more than {guard.memory_bytes / MB:,.0f} MB "
            f"(stopped after {elapsed:.1f} s)",
        )
    if kind == "oserror":
        raise OSError(value)
    if kind == "crash":
        return Overrun(CRASHED.code, f"validation failed: {value}")
    result: T = value  # what job() returned, sent back over the pipe
    return result


def _overrun_report(path: Path, profile: str | None, overrun: Overrun, guard: Guard) -> Report:
    from shazam_assets.ingest.delivery import validate

    rule = rules[overrun.code]
    issue = rule(
        overrun.message, path=path.name, seconds=guard.seconds, memory_mb=guard.memory_bytes // MB
    )
    return build_report(
        subject=str(path),
        profile=get_profile(profile).name,
        issues=[issue],
        stats={
            "rules_version": validate.RULES_VERSION,
            "guard": {"seconds": guard.seconds, "memory_mb": guard.memory_bytes // MB},
        },
    )


@dataclass(frozen=True)
class _Delivery:
    """A picklable job: validate one delivery ZIP; the archive entries stay in the child."""

    path: Path
    profile: str | None
    expected_asin: str | None
    rules_version: str  # the caller's RULES_VERSION: the verdict is recorded under its rules

    def __call__(self) -> DeliveryValidation:
        from shazam_assets.ingest.delivery.validate import DeliveryValidation, validate_delivery

        result = validate_delivery(
            self.path,
            profile=self.profile,
            expected_asin=self.expected_asin,
            rules_version=self.rules_version,
        )
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
    path: Path,
    *,
    profile: str | None = None,
    expected_asin: str | None = None,
    guard: Guard | None = None,
) -> DeliveryValidation:
    """`validate_delivery` within a deadline and a memory cap (`entries` is empty)."""
    from shazam_assets.ingest.delivery.validate import RULES_VERSION, DeliveryValidation

    guard = guard or Guard.from_env()
    get_profile(profile)  # an unknown profile is the caller's error, raised here
    result = run_guarded(_Delivery(path, profile, expected_asin, RULES_VERSION), guard)
    if isinstance(result, Overrun):
        return DeliveryValidation(
            report=_overrun_report(path, profile, result, guard), manifest=None, entries=()
        )
    return result


def guarded_path(
    path: Path,
    *,
    profile: str | None = None,
    expected_asin: str | None = None,
    guard: Guard | None = None,
) -> Report:
    """`validate_path` (what `shazam validate` checks) within a deadline and a memory cap."""
    guard = guard or Guard.from_env()
    get_profile(profile)
    result = run_guarded(_AnyPath(path, profile, expected_asin), guard)
    if isinstance(result, Overrun):
        return _overrun_report(path, profile, result, guard)
    return result
