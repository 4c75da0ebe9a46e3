"""Every render runs against a deadline, in a process that can be stopped.

A render spends its time inside open3d's C++ (Filament, and Mesa's software Vulkan on a CPU
node), where no Python thread can interrupt it, and Filament allows one engine per process.
So a render job runs in a child process of its own (spawned, so no lock or GPU context is
inherited from the parent); the parent waits for its answer up to the deadline and then
kills it. The worker always gets a verdict with a stable code and is never left hanging:

- RENDER_TIMEOUT: the job did not answer in time; the child was killed.
- RENDER_CRASHED: the child died without answering (a segfault in a driver, an OOM kill).
- RENDER_FAILED: the job raised something other than a RenderError (its type and message).
A RenderError raised by the job (TurntableError included) comes back as itself.
The child also watches its parent: if the parent dies (a worker killed by Kubernetes, a run
terminated), the child exits instead of rendering on as an orphan holding the GPU.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from shazam_assets.studio.errors import RenderError

T = TypeVar("T")
_KILL_WAIT_S = 10.0  # how long a killed or finished child gets to be reaped
_ORPHAN_CHECK_S = 1.0  # how often the child looks whether its parent is still there


def run_with_deadline(job: Callable[..., T], *args: Any, deadline_s: float, what: str) -> T:
    """`job(*args)` in a child process; its result, or a RenderError when it does not
    finish within `deadline_s` seconds. `job`, its arguments and its result must pickle
    (a module-level function; arrays and dataclasses are fine)."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(
        target=_child, args=(send, os.getpid(), job, args), name="shazam-render"
    )
    started = time.monotonic()
    child.start()
    send.close()  # the child holds the only writer: its death reads as end-of-file here
    try:
        if not receive.poll(deadline_s):
            raise RenderError(
                "RENDER_TIMEOUT",
                f"{what} did not finish within {deadline_s:g} s and was stopped",
            )
        try:
            status, payload = receive.recv()
        except EOFError:
            child.join(_KILL_WAIT_S)
            raise RenderError(
                "RENDER_CRASHED",
                f"{what}: the render process died after {time.monotonic() - started:.1f} s "
                f"(exit code {child.exitcode})",
            ) from None
    finally:
        if child.is_alive():
            child.join(min(_KILL_WAIT_S, 1.0))  # it is returning: let it exit cleanly
        if child.is_alive():
            child.kill()
        child.join(_KILL_WAIT_S)
        receive.close()
    if status == "ok":
        return payload  # type: ignore[no-any-return]
    raise payload


def _exit_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_ORPHAN_CHECK_S)
    os._exit(1)  # the parent is gone: nobody waits for this render


def _child(send: Connection, parent: int, job: Callable[..., Any], args: tuple[Any, ...]) -> None:
    # `parent` comes from the parent: it may already be gone while this process imported
    threading.Thread(
        target=_exit_when_orphaned, args=(parent,), name="shazam-orphan-check", daemon=True
    ).start()
    try:
        answer: tuple[str, Any] = ("ok", job(*args))
    except RenderError as exc:
        answer = ("error", exc)
    except Exception as exc:  # a verdict for the parent, never a traceback
        answer = ("error", RenderError("RENDER_FAILED", f"{type(exc).__name__}: {exc}"))
    send.send(answer)
    send.close()
