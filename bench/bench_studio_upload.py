"""Peak RSS of the studio process while a 1 GB delivery is uploaded through it from the browser
protocol, and the upload's throughput, against (a) moto's S3 server and (b) a local store,
where the studio itself receives and writes the parts.

The studio runs as its own process, `shazam studio` as deployed (one uvicorn process), with the
development OpenID provider; the ASIN's scan data is uploaded, registered and assigned to the
artist through production tracking (`tests.builders.assign_to`). This script signs in as that
artist and does what `upload.js` does: start, then for each
part ask for a URL and PUT the part there, three at a time, then complete. The parts are made
from one random 16 MiB block (each with its part number written over its start), so the client
holds a few parts at most. The studio's RSS is read from /proc/<pid>/status: VmRSS when idle
after sign-in, and VmHWM (its peak, reset just before the upload through /proc/<pid>/clear_refs
where the kernel allows) after it.

Same-run baselines: (a) the same parts sent by boto3 `upload_part` straight to moto, no
studio; (b) the same bytes written to a file on the same disk. Prints one markdown row per
store. Exits 1 when the studio's peak grows by more than --max-growth-mb (64 by default).

    .venv/bin/python bench/bench_studio_upload.py [--mb 1024] [--stores s3,local]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_studio_load import busy_seconds, cpu_seconds, machine  # noqa: E402

from shazam_assets.platform.identity import Person  # noqa: E402
from shazam_assets.platform.storage import open_store  # noqa: E402
from shazam_assets.studio.dev_provider import running_provider  # noqa: E402
from tests.builders import assign_to  # noqa: E402

SHAZAM = ROOT / ".venv" / "bin" / "shazam"
MiB = 1024 * 1024
PART = 16 * MiB  # the studio's default part size
PARALLEL = 3  # parts in flight, as the page sends them
ASIN = "B0BENCHUP1"
ARTIST = {"sub": "ada@example.com", "name": "Ada Artist", "email": "ada@example.com"}
SECRET = "bench-session-secret-" + "x" * 24
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(url: str, process: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url}: the process exited ({process.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer in {timeout_s} s")


@contextlib.contextmanager
def _process(
    args: list[str], url: str, env: dict[str, str] | None = None, *, quiet: bool = False
) -> Iterator[int]:
    output = subprocess.DEVNULL if quiet else None  # moto logs every request
    process = subprocess.Popen(
        args, env={**os.environ, **(env or {})}, stdout=output, stderr=output
    )
    try:
        _wait_for(url, process)
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- the studio process ----------------------------------------------------------------------


def _status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def _reset_peak(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


# --- the client: what upload.js does ---------------------------------------------------------


class Client:
    def __init__(self, base: str) -> None:
        self.base, self.cookie = base, ""
        self.http = httpx.Client(timeout=120, limits=httpx.Limits(max_connections=PARALLEL + 2))

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"origin": self.base}
        if self.cookie:
            headers["cookie"] = self.cookie
        response = self.http.request(method, self.base + path, headers=headers, **kwargs)
        for value in response.headers.get_list("set-cookie"):
            if value.startswith("shazam_studio="):
                self.cookie = value.split(";", 1)[0]
        return response

    def sign_in(self, sub: str) -> None:
        start = self.call("GET", "/login")
        chosen = httpx.post(start.headers["location"], data={"sub": sub}, timeout=30)
        back = chosen.headers["location"]
        assert self.call("GET", back[len(self.base) :]).status_code == 303
        assert self.cookie


def _part(block: bytes, number: int, size: int) -> bytes:
    data = bytearray(block[:size])
    stamp = number.to_bytes(8, "big")[: len(data)]
    data[: len(stamp)] = stamp
    return bytes(data)


def upload(client: Client, name: str, size: int, block: bytes) -> tuple[float, dict[str, Any]]:
    """One upload through the studio's protocol; (seconds, the completion's answer)."""
    api = f"/api/asins/{ASIN}/uploads"
    began = time.perf_counter()
    started = client.call("POST", api, json={"name": name, "size": size})
    assert started.status_code == 201, started.text
    plan = started.json()

    def send(number: int) -> tuple[int, str]:
        signed = client.call("POST", f"{api}/{plan['upload']}/parts/{number}").json()
        data = _part(block, number, signed["size"])
        put = client.http.put(signed["url"], content=data)
        assert put.status_code == 200, put.text
        return number, put.headers["etag"].strip('"')

    with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
        etags = dict(pool.map(send, range(1, plan["parts"] + 1)))
    parts = [{"number": n, "etag": etags[n]} for n in sorted(etags)]
    done = client.call("POST", f"{api}/{plan['upload']}/complete", json={"parts": parts})
    assert done.status_code == 200, done.text
    return time.perf_counter() - began, done.json()


# --- baselines --------------------------------------------------------------------------------


def s3_direct(s3: Any, bucket: str, size: int, block: bytes) -> float:
    """The same parts straight to moto with boto3, no studio: seconds."""
    key = "baseline/direct.zip"
    began = time.perf_counter()
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    count = -(-size // PART)

    def send(number: int) -> dict[str, Any]:
        data = _part(block, number, min(PART, size - (number - 1) * PART))
        answer = s3.upload_part(
            Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
        )
        return {"PartNumber": number, "ETag": answer["ETag"]}

    with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
        parts = list(pool.map(send, range(1, count + 1)))
    s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
    )
    seconds = time.perf_counter() - began
    s3.delete_object(Bucket=bucket, Key=key)
    return seconds


def disk_direct(folder: Path, size: int, block: bytes) -> float:
    """The same bytes written to a file on the same disk and fsynced: seconds."""
    path = folder / "baseline.bin"
    began = time.perf_counter()
    with open(path, "wb") as out:
        for number in range(1, -(-size // PART) + 1):
            out.write(_part(block, number, min(PART, size - (number - 1) * PART)))
        out.flush()
        os.fsync(out.fileno())
    seconds = time.perf_counter() - began
    path.unlink()
    return seconds


# --- one store --------------------------------------------------------------------------------


def measure(kind: str, issuer: str, size: int, block: bytes, work: Path) -> dict[str, Any]:
    env: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        if kind == "s3":
            import boto3

            moto_port = _free_port()
            endpoint = f"http://127.0.0.1:{moto_port}"
            moto = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)]
            stack.enter_context(_process(moto, endpoint + "/moto-api/", quiet=True))
            env = {**CREDENTIALS, "AWS_ENDPOINT_URL": endpoint}
            s3 = boto3.session.Session().client(
                "s3",
                endpoint_url=endpoint,
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
            s3.create_bucket(Bucket="bench")
            store_url = "s3://bench"
            saved = dict(os.environ)
            stack.callback(lambda: (os.environ.clear(), os.environ.update(saved)))
            os.environ.update(env)  # this process's store talks to the same moto
        else:
            (work / "store").mkdir(parents=True)
            store_url = (work / "store").as_uri()
        artist = Person(sub=ARTIST["sub"], name=ARTIST["name"], email=ARTIST["email"])
        assign_to(open_store(store_url), work, ASIN, artist)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        env |= {
            "SHAZAM_STORE_URL": store_url,
            "SHAZAM_OIDC_ISSUER": issuer,
            "SHAZAM_OIDC_CLIENT_ID": "shazam-studio-bench",
            "SHAZAM_OIDC_CLIENT_SECRET": "bench-client-secret",
            "SHAZAM_STUDIO_SESSION_SECRET": SECRET,
        }
        args = [str(SHAZAM), "studio", "--port", str(port)]
        pid = stack.enter_context(_process(args, base + "/healthz", env, quiet=True))

        client = Client(base)
        client.sign_in(ARTIST["sub"])
        upload(client, "warm-up.zip", 2 * PART + 1, block)  # every code path loaded once
        time.sleep(1)
        idle = _status(pid, "VmRSS")
        reset = _reset_peak(pid)
        before_peak = _status(pid, "VmHWM")
        peak_box = [0]
        stop = threading.Event()

        def sample() -> None:  # VmHWM is the truth; this only shows the RSS over time
            while not stop.is_set():
                peak_box[0] = max(peak_box[0], _status(pid, "VmRSS"))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        cpu_before, busy_before = cpu_seconds(pid), busy_seconds()
        seconds, done = upload(client, "delivery-1g.zip", size, block)
        studio_cpu, busy = cpu_seconds(pid) - cpu_before, busy_seconds() - busy_before
        stop.set()
        sampler.join()
        peak = _status(pid, "VmHWM")
        assert done["size"] == size, done
        baseline = (
            s3_direct(s3, "bench", size, block) if kind == "s3" else disk_direct(work, size, block)
        )
    return {
        "kind": kind,
        "idle": idle,
        "peak": peak,
        "peak_before": before_peak,
        "reset": reset,
        "sampled_peak": peak_box[0],
        "studio_cpu": studio_cpu,
        "busy_cores": busy / seconds,
        "seconds": seconds,
        "baseline_seconds": baseline,
        "size": size,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=1024, help="upload size in MiB")
    parser.add_argument("--stores", default="s3,local")
    parser.add_argument("--max-growth-mb", type=float, default=64)
    args = parser.parse_args()
    size = args.mb * MiB
    block = os.urandom(PART)
    rows = []
    with running_provider() as issuer, tempfile.TemporaryDirectory() as tmp:
        for kind in args.stores.split(","):
            (Path(tmp) / kind).mkdir()
            rows.append(measure(kind, issuer, size, block, Path(tmp) / kind))
    print(
        f"\nmachine: {machine()}; upload {size / MiB:,.0f} MiB in {PART // MiB} MiB parts, "
        f"{PARALLEL} at a time\n"
    )
    print(
        "| store | studio idle RSS MB | studio peak RSS MB (VmHWM) | growth MB | growth / upload "
        "| upload s | MB/s | baseline s (no studio) | studio / baseline time | studio CPU s "
        "| machine cores busy |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    failed = False
    for r in rows:
        growth = (r["peak"] - r["idle"]) / MiB
        failed |= growth > args.max_growth_mb
        name = "moto S3 (parts go to S3)" if r["kind"] == "s3" else "local (studio writes parts)"
        print(
            f"| {name} | {r['idle'] / MiB:.0f} | {r['peak'] / MiB:.0f}"
            f"{'' if r['reset'] else ' (peak not reset)'} | {growth:.0f} | "
            f"{growth * MiB / r['size']:.3f} | {r['seconds']:.1f} | "
            f"{r['size'] / 1e6 / r['seconds']:.0f} | {r['baseline_seconds']:.1f} | "
            f"{r['seconds'] / r['baseline_seconds']:.2f} | {r['studio_cpu']:.1f} | "
            f"{r['busy_cores']:.2f} |"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
