"""The bounded fuzzing job behind `make fuzz`: each harness for a fixed time, then a verdict.

    python -m tests.fuzz.run [--seconds 300] [--harness gltf --harness delivery] [--collect]

Seeds are built from code into a temporary folder each run; the corpus libFuzzer grows is
kept in .shazam/fuzz/corpus-<harness> (never committed), so later runs start where earlier
ones stopped. Per input, the limits of the delivery budget apply: 30 s and 1 GiB RSS. Exits
1 and names the reproducer when a harness crashes (replay it with `python -m <module> FILE`).
--collect hunts instead: each crash class is kept in .shazam/fuzz/collect-<harness> and the
run goes on (inputs running past 5 s are kept there too). Every run appends its figures to
.shazam/fuzz/runs.jsonl and keeps its libFuzzer log beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tests.fuzz.seeds import write_seeds

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / ".shazam" / "fuzz"
HARNESSES = {  # name -> (module, largest input in bytes)
    "gltf": ("tests.fuzz.fuzz_gltf", 512 * 1024),
    "delivery": ("tests.fuzz.fuzz_delivery", 1024 * 1024),
}
TIMEOUT_S = 30
RSS_LIMIT_MB = 1024
_GRACE_S = 300  # loading the corpus and building the seeds, on top of the fuzzing time
_ARTIFACT = re.compile(r"Test unit written to (\S+)")
_DONE = re.compile(r"#(\d+)\s+DONE\s+cov: (\d+) ft: (\d+) corp: (\d+)")
_STAT = re.compile(r"stat::(\w+):\s+(\d+)")


@dataclass(frozen=True)
class Result:
    harness: str
    seconds: int  # wall clock of the fuzzing process (start-up included)
    executions: int
    coverage: int  # libFuzzer "cov": instrumented edges reached
    features: int  # libFuzzer "ft": edges plus hit counts and comparisons
    corpus: int
    peak_rss_mb: int
    reproducer: str | None  # crash, timeout or out-of-memory input; None when clean
    note: str = ""


def _command(harness: str, *, corpus: Path, seeds: Path, seconds: int, collect: bool) -> list[str]:
    module, max_len = HARNESSES[harness]
    timeout = 0 if collect else TIMEOUT_S  # collecting, the harness's own alarm stops slow inputs
    return [
        sys.executable, "-m", module, str(corpus), str(seeds),
        f"-max_total_time={seconds}", f"-timeout={timeout}", f"-rss_limit_mb={RSS_LIMIT_MB}",
        f"-max_len={max_len}", f"-artifact_prefix={OUT / 'crashes'}/{harness}-",
        "-print_final_stats=1",
    ]  # fmt: skip


def _parse(harness: str, seconds: int, log: str) -> Result:
    stats = {name: int(value) for name, value in _STAT.findall(log)}
    done = _DONE.findall(log)
    cov, ft, corp = (int(v) for v in done[-1][1:]) if done else (0, 0, 0)
    if not done:  # a crash ends the run before DONE: the last status line still counts
        status = re.findall(r"cov: (\d+) ft: (\d+) corp: (\d+)", log)
        cov, ft, corp = (int(v) for v in status[-1]) if status else (0, 0, 0)
    found = [p for p in _ARTIFACT.findall(log) if "slow-unit-" not in p]
    return Result(
        harness=harness, seconds=seconds, executions=stats.get("number_of_executed_units", 0),
        coverage=cov, features=ft, corpus=corp, peak_rss_mb=stats.get("peak_rss_mb", 0),
        reproducer=found[-1] if found else None,
    )  # fmt: skip


def run_harness(harness: str, *, seconds: int, collect: bool = False) -> Result:
    """Fuzz one harness for `seconds`; its result (with the reproducer of a crash).

    A fuzzing process that stops on an out-of-memory its input does not reproduce alone is
    restarted on the same corpus for the time left (see `_confirm_oom`).
    """
    (OUT / f"corpus-{harness}").mkdir(parents=True, exist_ok=True)
    (OUT / "crashes").mkdir(exist_ok=True)
    (OUT / "logs").mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if collect:
        env["SHAZAM_FUZZ_COLLECT"] = str(OUT / f"collect-{harness}")
    parts: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        seeds = Path(tmp) / "seeds"
        write_seeds(harness, seeds)
        deadline = time.monotonic() + seconds
        while (left := round(deadline - time.monotonic())) >= 10 or not parts:
            part = _fuzz_once(harness, seeds=seeds, seconds=max(left, 1), collect=collect,
                              env=env, cwd=Path(tmp))  # fmt: skip
            parts.append(part)
            if part.reproducer or not part.note:
                break  # a finding, or the time was used up
    return _combine(parts)


def _fuzz_once(
    harness: str, *, seeds: Path, seconds: int, collect: bool, env: dict[str, str], cwd: Path
) -> Result:
    corpus = OUT / f"corpus-{harness}"
    log_path = OUT / "logs" / f"{harness}-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}.log"
    started = time.monotonic()
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            _command(harness, corpus=corpus, seeds=seeds, seconds=seconds, collect=collect),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
        )
        try:  # a stuck fuzzer must not hold `make fuzz` forever
            returncode = proc.wait(timeout=seconds + _GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            returncode = proc.wait()
    wall = round(time.monotonic() - started)
    result = _parse(harness, wall, log_path.read_text(errors="replace"))
    if returncode != 0 and result.reproducer is None:
        return Result(**{**asdict(result), "reproducer": f"(none written; see {log_path})"})
    if result.reproducer and Path(result.reproducer).name.startswith(f"{harness}-oom-"):
        return _confirm_oom(result, env)
    return result


def _combine(parts: list[Result]) -> Result:
    """One result for the processes of one harness's run: totals, and the last one's state."""
    last = parts[-1]
    restarts = len(parts) - 1
    return Result(
        harness=last.harness, seconds=sum(p.seconds for p in parts),
        executions=sum(p.executions for p in parts), coverage=last.coverage,
        features=last.features, corpus=last.corpus,
        peak_rss_mb=max(p.peak_rss_mb for p in parts), reproducer=last.reproducer,
        note=f"restarted {restarts}x after the process outgrew the RSS limit" if restarts else "",
    )  # fmt: skip


def _confirm_oom(result: Result, env: dict[str, str]) -> Result:
    """Replay an out-of-memory input alone: the fuzzing process itself grows by tens of kB
    per execution (libFuzzer and atheris bookkeeping), so after ~15,000 inputs the limit can
    be reached by an input that needs little. Only an input that fails alone is a finding."""
    module = HARNESSES[result.harness][0]
    replay = subprocess.run(
        [sys.executable, "-m", module, f"-rss_limit_mb={RSS_LIMIT_MB}", str(result.reproducer)],
        capture_output=True,
        env=env,
        check=False,
    )
    if replay.returncode != 0:
        return result
    note = f"RSS limit reached by the fuzzing process; {result.reproducer} alone stays under it"
    return Result(**{**asdict(result), "reproducer": None, "note": note})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("FUZZ_SECONDS", 300)))
    parser.add_argument("--harness", action="append", choices=sorted(HARNESSES))
    parser.add_argument("--collect", action="store_true", help="keep going past crashes")
    args = parser.parse_args(argv)
    failed = False
    for harness in args.harness or list(HARNESSES):
        result = run_harness(harness, seconds=args.seconds, collect=args.collect)
        line = json.dumps({**asdict(result), "collect": args.collect})
        print(line, flush=True)
        with (OUT / "runs.jsonl").open("a") as runs:
            runs.write(line + "\n")
        if result.reproducer:
            failed = True
            module = HARNESSES[harness][0]
            print(f"CRASH in {harness}: reproducer {result.reproducer}\n"
                  f"  replay: PYTHONPATH=. {sys.executable} -m {module} {result.reproducer}",
                  file=sys.stderr)  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
