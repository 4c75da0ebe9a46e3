"""`shazam render` on the model families real deliveries bring, as a user runs it: each is
rendered, or refused with a code; none gives a traceback, none hangs the worker.

Tiny renders (8 frames at 64 px) keep this quick on a CPU node (lavapipe)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from shazam_assets.platform.errors import TransientError
from shazam_assets.platform.renderer import RenderError, run_with_deadline
from tests import gltf_models as g
from tests.test_cli import shazam

TINY = ("--frames", "8", "--size", "64")


def _render(model: Path, out: Path, *extra: str, code: int = 0):
    return shazam("render", str(model), "--out", str(out), *TINY, *extra, check_code=code)


def _drawn(out: Path) -> float:
    """Share of the poster's pixels that show the product (not the white background)."""
    poster = np.asarray(Image.open(out / "poster.webp").convert("RGB"), dtype=int)
    return float((poster.sum(axis=-1) < 720).mean())


@pytest.mark.parametrize(
    "build",
    [g.draco_box, g.meshopt_box, lambda: g.box(texture="ktx2")],
    ids=["draco", "meshopt", "ktx2"],
)
def test_compressed_models_are_refused_with_a_code(
    tmp_path: Path, build: Callable[[], g.Model]
) -> None:
    model = build()
    model.doc["extensionsRequired"] = model.doc["extensionsUsed"]  # as exporters write them
    done = _render(g.write_glb(model, tmp_path / "model.glb"), tmp_path / "out", code=2)
    assert "RENDER_UNSUPPORTED_EXTENSION" in done.stderr and "uncompressed master" in done.stderr


def test_a_model_the_loader_chokes_on_is_a_code(tmp_path: Path) -> None:
    """meshopt declared optional: its bufferViews point at a fallback buffer without data."""
    model = g.meshopt_box()
    model.doc.pop("extensionsRequired")
    done = _render(g.write_glb(model, tmp_path / "model.glb"), tmp_path / "out", code=2)
    assert "RENDER_MODEL_UNREADABLE" in done.stderr


def _cycle() -> g.Model:
    model = g.box()
    model.doc["nodes"] = [{"children": [1]}, {"children": [0], "mesh": 0}]
    model.doc["scenes"] = [{"nodes": [0]}]
    return model


@pytest.mark.parametrize(
    ("write", "code"),
    [
        (lambda p: p.write_bytes(b""), "RENDER_MODEL_UNREADABLE"),
        (lambda p: p.write_bytes(b"glTF" + bytes(40)), "RENDER_MODEL_UNREADABLE"),
        (lambda p: p.write_bytes(b"[1, 2]"), "RENDER_MODEL_UNREADABLE"),
        (lambda p: g.write_glb(_cycle(), p), "RENDER_"),
    ],
    ids=["empty", "junk-glb", "json-array", "node-cycle"],
)
def test_broken_files_answer_with_a_code(
    tmp_path: Path, write: Callable[[Path], object], code: str
) -> None:
    model = tmp_path / "model.glb"
    write(model)
    done = _render(model, tmp_path / "out", "--deadline", "120", code=2)
    assert code in done.stderr and "RENDER_TIMEOUT" not in done.stderr


def test_a_percent_encoded_unicode_buffer_uri_renders(tmp_path: Path) -> None:
    model = g.write_gltf(
        g.box(texture="png"), tmp_path / "model.gltf", bin_name="te\u0301xture b.bin"
    )
    _render(model, tmp_path / "out")
    assert _drawn(tmp_path / "out") > 0.1


@pytest.mark.parametrize(
    "build",
    [g.morph_box, g.animated_skinned_box, lambda: g.box(nodes=1, texture="png")],
    ids=["morph-targets", "skin-and-animation", "png-texture"],
)
def test_model_families_render(tmp_path: Path, build: Callable[[], g.Model]) -> None:
    _render(g.write_glb(build(), tmp_path / "model.glb"), tmp_path / "out")
    assert _drawn(tmp_path / "out") > 0.1


def test_webp_textures_are_decoded_for_the_render(tmp_path: Path) -> None:
    """The WebP source (green) is drawn, not the PNG fallback (red)."""
    _render(g.write_glb(g.box(texture="webp"), tmp_path / "model.glb"), tmp_path / "out")
    r, gr, _ = np.asarray(Image.open(tmp_path / "out" / "poster.webp").convert("RGB"))[32, 32]
    assert gr > r + 30


def test_thousands_of_nodes_render_in_seconds(tmp_path: Path) -> None:
    """3,000 nodes placing one mesh used to make 3,000 Filament renderables (minutes, then a
    Filament panic); instances sharing a look are now one geometry."""
    _render(g.write_glb(g.box(nodes=3000), tmp_path / "model.glb"), tmp_path / "out")
    timings = json.loads((tmp_path / "out" / "manifest.json").read_text())["timings_s"]
    assert timings["total"] < 120, timings
    assert _drawn(tmp_path / "out") > 0.05


def test_a_render_past_its_deadline_is_stopped_with_a_code(tmp_path: Path) -> None:
    started = time.monotonic()
    done = _render(
        g.write_glb(g.box(), tmp_path / "model.glb"), tmp_path / "out", "--deadline", "0.5", code=2
    )
    assert "RENDER_TIMEOUT" in done.stderr
    assert time.monotonic() - started < 60


def test_the_watchdog_stops_a_hung_job_and_reports_a_dead_one() -> None:
    started = time.monotonic()
    with pytest.raises(RenderError) as hung:
        run_with_deadline(time.sleep, 120, deadline_s=2, what="a job that hangs")
    assert hung.value.code == "RENDER_TIMEOUT" and time.monotonic() - started < 30
    assert not isinstance(hung.value, TransientError)  # the same model would hang again
    with pytest.raises(RenderError) as dead:
        run_with_deadline(os.abort, deadline_s=60, what="a job that crashes")
    assert dead.value.code == "RENDER_CRASHED" and isinstance(
        dead.value, TransientError
    )  # worth a retry
    with pytest.raises(RenderError) as failed:
        run_with_deadline(int, "x", deadline_s=60, what="a job that raises")
    assert failed.value.code == "RENDER_FAILED" and "ValueError" in failed.value.message
    assert run_with_deadline(int, "7", deadline_s=60, what="a job") == 7


def test_a_process_that_rendered_exits_even_when_it_ignores_sigterm() -> None:
    """A worker started with SIGTERM ignored (as some supervisors and shells start children)
    still exits when it is done: the warm render process is told to stop over its pipe, not
    only by the SIGTERM multiprocessing sends its daemons at exit (ignored there too)."""
    code = (
        "from shazam_assets.platform.renderer import run_with_deadline; "
        "assert run_with_deadline(int, '7', deadline_s=60, what='a job') == 7"
    )
    ignore = lambda: signal.signal(signal.SIGTERM, signal.SIG_IGN)  # noqa: E731
    done = subprocess.run([sys.executable, "-c", code], preexec_fn=ignore, timeout=60, check=False)
    assert done.returncode == 0


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_render_whose_worker_is_killed_does_not_live_on() -> None:
    """A worker killed mid-render (pod evicted, run terminated) leaves no orphan render."""
    code = (
        "import time; from shazam_assets.platform.renderer import run_with_deadline; "
        "run_with_deadline(time.sleep, 600, deadline_s=600, what='a long render')"
    )
    worker = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 60
        while not (renders := [p for p in _children(worker.pid) if _alive(p)]):
            assert time.monotonic() < deadline, "the render process never started"
            time.sleep(0.2)
    finally:
        worker.kill()
        worker.wait()
    deadline = time.monotonic() + 30
    while any(_alive(p) for p in renders):
        assert time.monotonic() < deadline, "the render outlived its worker"
        time.sleep(0.2)


@pytest.mark.parametrize("where", ["glb", "file"])
def test_a_texture_over_the_decoding_limits_is_refused_before_it_is_decoded(
    tmp_path: Path, where: str
) -> None:
    """A kilobyte PNG whose header claims 13000 x 13000 pixels would cost gigabytes inside the
    loader (QA renders stored models with it too): its header is checked first."""
    from tests.image_bombs import png_bomb

    model = g.box(texture="png")
    bomb = png_bomb(13000, 13000)
    if where == "glb":
        model.doc["images"][0] = {"bufferView": model.add_view(bomb), "mimeType": "image/png"}
        path = g.write_glb(model, tmp_path / "model.glb")
    else:
        (tmp_path / "big%20tex.png").write_bytes(b"")  # the decoded name is the real one
        (tmp_path / "big tex.png").write_bytes(bomb)
        model.doc["images"][0] = {"uri": "big%20tex.png"}
        path = g.write_glb(model, tmp_path / "model.glb")
    done = _render(path, tmp_path / "out", code=2)
    assert "RENDER_TEXTURE_TOO_LARGE" in done.stderr and "13000 x 13000" in done.stderr


def test_an_external_buffer_is_read_once_however_many_images_name_it(
    tmp_path: Path, monkeypatch
) -> None:
    """200 images in views of one .bin: the texture check reads that file once, not per image."""
    from shazam_assets.platform.renderer import source as studio_source

    model = g.box(texture="png")
    png = model.doc["images"][0]
    model.doc["images"] = [dict(png) for _ in range(200)]
    path = g.write_gltf(model, tmp_path / "model.gltf")
    reads: list[str] = []
    real = studio_source.read_uri
    monkeypatch.setattr(
        studio_source, "read_uri", lambda folder, uri: reads.append(uri) or real(folder, uri)
    )
    studio_source.check_textures(studio_source.read_source(path))
    assert reads == ["model.bin"]
