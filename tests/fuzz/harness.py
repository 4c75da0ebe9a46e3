"""What the harnesses share: the verdict check, crash collection and the libFuzzer wiring.

A crash is anything but a verdict: an exception escaping the validator, or a report that
cannot be written out (JSON for the CLI, markdown for the Dagster UI) as UTF-8. libFuzzer adds
the per-input limits (-timeout, -rss_limit_mb) and writes the reproducer.

With SHAZAM_FUZZ_COLLECT=<folder> a harness keeps going after an exception: the first input
of each distinct crash (exception type and the innermost shazam_assets frame) is written
there with its traceback, so one run lists every crash class instead of stopping at the
first known one. An input still running after SHAZAM_FUZZ_SLOW seconds (default 5) is
stopped and kept there too, named by the function it was in (run it with -timeout=0).
"""

from __future__ import annotations

import os
import random
import signal
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from shazam_assets.ingest.delivery.report import Report
from tests.fuzz import mutate

Target = Callable[[bytes], Report]
Mutator = Callable[[bytes, int, random.Random, mutate.ByteMutator], bytes]


def check_verdict(report: Report) -> None:
    """A verdict is only useful if every consumer can write it out."""
    report.to_json().encode("utf-8")
    report.to_markdown().encode("utf-8")


class Slow(Exception):
    """Raised by the alarm inside an input that runs too long (collect mode only)."""


def signature(exc: BaseException) -> str:
    """Exception type and innermost project frame: one name per crash class."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "shazam_assets" in f.filename]
    if not frames:
        return f"{type(exc).__name__}-harness"
    where = frames[-1].name if isinstance(exc, Slow) else frames[-1].lineno
    return f"{type(exc).__name__}-{Path(frames[-1].filename).stem}-{where}"


def _alarm(_signum: int, _frame: object) -> None:
    raise Slow("still running at the alarm")


class Collector:
    """Record the first input of each crash class and of slow inputs, then go on."""

    def __init__(self, folder: Path, slow_seconds: float) -> None:
        self.folder = folder
        self.slow_seconds = slow_seconds
        self.seen: set[str] = {p.name.split(".")[0] for p in folder.glob("*.input")}
        folder.mkdir(parents=True, exist_ok=True)

    def _keep(self, name: str, data: bytes, text: str) -> None:
        if name in self.seen:
            return
        self.seen.add(name)
        (self.folder / f"{name}.input").write_bytes(data)
        (self.folder / f"{name}.txt").write_text(text)
        print(f"\n=== new crash class {name} ===\n{text}", file=sys.stderr, flush=True)

    def run(self, target: Target, data: bytes) -> None:
        signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, self.slow_seconds)
        try:
            check_verdict(target(data))
        except Exception as exc:  # the point: every escaping exception is a finding
            signal.setitimer(signal.ITIMER_REAL, 0)
            self._keep(signature(exc), data, "".join(traceback.format_exception(exc)))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)


def main(target: Target, mutator: Mutator) -> None:
    """Run libFuzzer over `target` with the structure-aware `mutator` (argv: libFuzzer's)."""
    import atheris

    collect = os.environ.get("SHAZAM_FUZZ_COLLECT")
    slow = float(os.environ.get("SHAZAM_FUZZ_SLOW", "5"))
    collector = Collector(Path(collect), slow) if collect else None

    def test_one_input(data: bytes) -> None:
        if collector is not None:
            collector.run(target, data)
        else:
            check_verdict(target(data))

    def custom_mutator(data: bytes, max_size: int, seed: int) -> bytes:
        # An exception here would not end the run but hang it (atheris 3.0), and libFuzzer
        # stops on an input over max_size: both fall back to libFuzzer's own mutation.
        try:
            mutated = mutator(data, max_size, random.Random(seed), atheris.Mutate)
        except Exception:  # a bug in the mutator must not stop the fuzzing
            mutated = b""
        if 0 < len(mutated) <= max_size:
            return mutated
        return atheris.Mutate(data[:max_size], max_size)

    atheris.Setup(sys.argv, test_one_input, custom_mutator=custom_mutator)
    atheris.Fuzz()
