"""Every render runs against a deadline, in a process that can be stopped.

A render spends its time inside open3d's C++ (Filament, and Mesa's software Vulkan on a CPU
node), where no Python thread can interrupt it, and Filament allows one engine per process.
So render jobs run in a render process of their own (spawned, so no lock or GPU context is
inherited from the parent). The process stays warm between jobs, keeping its Filament engine
(a batch of 20 ASINs starts the engine once, as before), and is replaced only when a job
did not come back. The parent waits for each answer up to the job's deadline; the caller
always gets a verdict with a stable code and is never left hanging:

- RENDER_TIMEOUT: the job did not answer in time; the render process was killed.
- RENDER_CRASHED (`RenderCrashed`, transient): the render process died without answering (a
  driver segfault, an OOM kill).
- RENDER_FAILED: the job raised something other than a RenderError (its type and message).
A RenderError raised by the job (TurntableError included) comes back as itself.
The render process also watches its parent: if the parent dies (a worker killed by
Kubernetes, a run terminated), it exits instead of rendering on as an orphan holding the GPU.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

from shazam_assets.platform.renderer.errors import RenderCrashed, RenderError

T = TypeVar("T")
_KILL_WAIT_S = 10.0  # how long a killed render process gets to be reaped
_ORPHAN_CHECK_S = 1.0  # how often the render process looks whether its parent is still there


class _RenderProcess:
    """The warm render process and the parent's end of its pipe."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.connection, child_end = context.Pipe(duplex=True)
        # daemon: multiprocessing stops it when the parent exits normally
        self.process: BaseProcess = context.Process(
            target=_serve, args=(child_end, os.getpid()), name="shazam-render", daemon=True
        )
        self.process.start()
        child_end.close()  # the render process holds the only other end: its death reads as EOF

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(_KILL_WAIT_S)
        self.connection.close()


_lock = threading.Lock()  # one job at a time: the render process runs one, like Filament
_current: _RenderProcess | None = None


@atexit.register  # registered after multiprocessing's own exit hook, so it runs first
def _stop_at_exit() -> None:
    """Close the pipe so the render process ends on its own (EOF), then reap it. Without this
    the exit relied on the SIGTERM multiprocessing sends its daemons, which a process started
    with SIGTERM ignored (some supervisors and shells do) also ignores: the exit hung."""
    worker = _current
    if worker is None:
        return
    worker.connection.close()
    worker.process.join(_KILL_WAIT_S)
    if worker.process.is_alive():
        worker.process.kill()
        worker.process.join(_KILL_WAIT_S)


def run_with_deadline(job: Callable[..., T], *args: Any, deadline_s: float, what: str) -> T:
    """`job(*args)` in the render process; its result, or a RenderError when it does not
    finish within `deadline_s` seconds. `job`, its arguments and its result must pickle
    (a module-level function; arrays and dataclasses are fine)."""
    global _current
    with _lock:
        if _current is None or not _current.process.is_alive():
            if _current is not None:
                _current.stop()
            _current = _RenderProcess()
        worker, started = _current, time.monotonic()
        try:
            worker.connection.send((job, args))
            if not worker.connection.poll(deadline_s):
                raise RenderError(
                    "RENDER_TIMEOUT",
                    f"{what} did not finish within {deadline_s:g} s and was stopped",
                )
            status, payload = worker.connection.recv()
        except (EOFError, OSError):
            worker.process.join(_KILL_WAIT_S)
            _current = None
            worker.stop()
            raise RenderCrashed(
                f"{what}: the render process died after {time.monotonic() - started:.1f} s "
                f"(exit code {worker.process.exitcode})"
            ) from None
        except RenderError:
            _current = None
            worker.stop()
            raise
    if status == "ok":
        return payload  # type: ignore[no-any-return]
    raise payload


def _exit_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_ORPHAN_CHECK_S)
    os._exit(1)  # the parent is gone: nobody waits for this render


def _serve(connection: Connection, parent: int) -> None:
    """The render process: run jobs until the parent closes the pipe."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a stop request stops it, whatever it inherited
    # `parent` comes from the parent: it may already be gone while this process imported
    threading.Thread(
        target=_exit_when_orphaned, args=(parent,), name="shazam-orphan-check", daemon=True
    ).start()
    while True:
        try:
            job, args = connection.recv()
        except EOFError:
            return
        connection.send(_answer(job, args))


def _answer(job: Callable[..., Any], args: tuple[Any, ...]) -> tuple[str, Any]:
    try:
        answer: tuple[str, Any] = ("ok", job(*args))
    except RenderError as exc:
        answer = ("error", exc)
    except Exception as exc:  # a verdict for the parent, never a traceback
        answer = ("error", RenderError("RENDER_FAILED", f"{type(exc).__name__}: {exc}"))
    try:
        pickle.dumps(answer)
    except Exception as exc:  # the answer cannot cross the pipe
        answer = ("error", RenderError("RENDER_FAILED", f"the result does not pickle: {exc}"))
    return answer
