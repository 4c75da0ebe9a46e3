"""Turntables: frames, sprite, poster, video and manifest; committed per version, idempotent."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from shazam_assets.ingest import versions
from shazam_assets.platform import layout
from shazam_assets.platform import versions as platform_versions
from shazam_assets.platform.records import TurntableManifest
from shazam_assets.platform.storage import LocalStore, ObjectInfo
from shazam_assets.qa import decisions
from shazam_assets.render import turntable
from shazam_assets.render.turntable import TurntableError, TurntableSpec
from tests.builders import ASIN, pack, product, store_delivery

SMALL = TurntableSpec(frames=8, size=96)


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    return product(tmp_path_factory.mktemp("turntable-product")).model


@pytest.fixture(scope="module")
def rendered(model, tmp_path_factory) -> turntable.Turntable:
    return turntable.render_turntable(model, tmp_path_factory.mktemp("tt") / "out", SMALL)


def test_a_turntable_has_every_file_the_page_needs(rendered) -> None:
    out, m = rendered.folder, rendered.manifest
    assert [f.path for f in m.frames] == [f"frames/{i:03d}.webp" for i in range(8)]
    assert [f.azimuth_deg for f in m.frames] == [i * 45.0 for i in range(8)]
    for name in [*(f.path for f in m.frames), m.poster, m.sprite.path]:
        with Image.open(out / name) as image:
            assert image.format == "WEBP"
    with Image.open(out / m.poster) as poster:
        assert poster.size == (96, 96)
    with Image.open(out / m.sprite.path) as sprite:  # 8 frames: 3 columns, 3 rows of 96 px
        assert sprite.size == (3 * 96, 3 * 96)
    with av.open(str(out / m.video.path)) as video:
        stream = video.streams.video[0]
        assert stream.codec_context.name == "h264" and (stream.width, stream.height) == (96, 96)
        assert sum(1 for _ in video.decode(stream)) == 8
    listed = {f.path: f for f in m.files}
    assert set(listed) == {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {
        "manifest.json"
    }
    for path, entry in listed.items():
        assert hashlib.sha256((out / path).read_bytes()).hexdigest() == entry.sha256
    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk == m.to_json() and TurntableManifest.from_json(on_disk) == m
    assert m.renderer and m.per_frame_s > 0 and m.model["triangles"] > 100


def test_frames_turn_around_the_product(rendered) -> None:
    """Front (0°) and back (180°) views differ; the product fills a similar share of each."""

    def load(i: int) -> np.ndarray:
        return np.asarray(
            Image.open(rendered.folder / f"frames/{i:03d}.webp").convert("RGB"), dtype=float
        )

    front, back = load(0), load(4)
    assert np.abs(front - back).mean() > 2.0
    fills = [float((load(i).min(axis=2) < 235).mean()) for i in range(8)]
    assert min(fills) > 0.1 and max(fills) / min(fills) < 2.5


def test_transparent_background_keeps_alpha_in_png_frames(model, tmp_path) -> None:
    spec = TurntableSpec(
        frames=8, size=64, background="transparent", frame_format="png", video="webm"
    )
    m = turntable.render_turntable(model, tmp_path, spec).manifest
    rgba = np.asarray(Image.open(tmp_path / m.frames[0].path))
    assert rgba.shape == (64, 64, 4)
    assert rgba[0, 0, 3] == 0 and rgba[..., 3].max() == 255
    with av.open(str(tmp_path / "spin.webm")) as video:
        assert video.streams.video[0].codec_context.name in {"vp9", "libvpx-vp9"}


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"frames": 7}, "RENDER_BAD_FRAMES"),
        ({"frames": 73}, "RENDER_BAD_FRAMES"),
        ({"size": 63}, "RENDER_BAD_SIZE"),
        ({"size": 1025}, "RENDER_BAD_SIZE"),
        ({"background": "black"}, "RENDER_BAD_OPTION"),
        ({"video": "gif"}, "RENDER_BAD_OPTION"),
    ],
)
def test_bad_settings_are_refused_with_a_code(kwargs, code) -> None:
    with pytest.raises(TurntableError) as refused:
        TurntableSpec(**kwargs)
    assert refused.value.code == code


def test_a_video_that_cannot_be_written_is_refused_not_hung(model, tmp_path) -> None:
    """The encoder fails after the last frame (the file cannot be created): a clear code, and
    the render returns instead of waiting for frames that will never come."""
    (tmp_path / "spin.mp4").mkdir()  # where the video goes: a folder, so FFmpeg cannot open it
    with pytest.raises(TurntableError) as refused:
        turntable.render_turntable(model, tmp_path, SMALL)
    assert refused.value.code == "RENDER_VIDEO_FAILED" and "Is a directory" in str(refused.value)


def test_fingerprint_changes_with_settings_model_and_renderer(monkeypatch) -> None:
    base = SMALL.fingerprint("a" * 64)
    assert base == TurntableSpec(frames=8, size=96).fingerprint("a" * 64)
    assert base != TurntableSpec(frames=12, size=96).fingerprint("a" * 64)
    assert base != SMALL.fingerprint("b" * 64)
    monkeypatch.setattr(turntable.studio, "RENDERER_VERSION", "studio-next")
    assert base != SMALL.fingerprint("a" * 64)


def _approved_version(store, tmp_path: Path) -> int:
    return store_delivery(store, pack(tmp_path, product(tmp_path)))


def test_publishing_commits_the_manifest_last_and_is_a_no_op_the_second_time(
    store, tmp_path, monkeypatch
) -> None:
    version = _approved_version(store, tmp_path)
    first = turntable.publish_turntable(store, ASIN, version, SMALL)
    assert first.rendered and first.uploaded_bytes > 0
    stored = platform_versions.read_turntable_manifest(store, ASIN, version)
    assert stored is not None and stored.fingerprint == first.manifest.fingerprint
    for entry in stored.files:
        assert store.head(first.set_prefix + entry.path).size == entry.size

    again = turntable.publish_turntable(store, ASIN, version, SMALL)
    assert not again.rendered and again.manifest == stored

    monkeypatch.setattr(turntable.studio, "RENDERER_VERSION", "studio-next")
    newer = turntable.publish_turntable(store, ASIN, version, SMALL)
    assert newer.rendered and newer.set_prefix != first.set_prefix
    # the previous set stays readable for pages still holding the old manifest
    assert store.exists(first.set_prefix + stored.poster)


def test_unknown_version_is_refused(local_store) -> None:
    with pytest.raises(TurntableError) as refused:
        turntable.publish_turntable(local_store, ASIN, 3, SMALL)
    assert refused.value.code == "RENDER_UNKNOWN_VERSION"


def test_deleting_a_version_deletes_its_renders_and_counts_them(local_store, tmp_path) -> None:
    version = _approved_version(local_store, tmp_path)
    done = turntable.publish_turntable(local_store, ASIN, version, SMALL)
    render_files = list(local_store.list(layout.renders_prefix(ASIN, version)))
    assert len(render_files) == len(done.manifest.files) + 1  # and manifest.json
    stored = versions.read_version_manifest(local_store, ASIN, version)
    deletion = decisions.delete_version(local_store, ASIN, version, reason="test")
    assert list(local_store.list(layout.renders_prefix(ASIN, version))) == []
    assert deletion.files == len(stored.files) + len(render_files)
    assert deletion.bytes_reclaimed == sum(f.size for f in stored.files) + sum(
        o.size for o in render_files
    )
    assert list(local_store.list(layout.version_prefix(ASIN, version))) == []
    tombstone = json.loads(local_store.get_bytes(layout.tombstone_key(ASIN, version)))
    assert tombstone["bytes_reclaimed"] == deletion.bytes_reclaimed


class _TruncatingStore(LocalStore):
    """A local store whose `fail_at`-th file upload keeps only the first half of the file: a
    dropped transfer the store took for a complete object (0: every upload is whole)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.fail_at = 0
        self.uploads = 0

    def put_file(self, key: str, path: Path, *, content_type: str | None = None) -> ObjectInfo:
        self.uploads += 1
        if self.uploads != self.fail_at:
            return super().put_file(key, path, content_type=content_type)
        data = path.read_bytes()
        return self.put_bytes(key, data[: len(data) // 2], content_type=content_type)


def _fail_upload(store: _TruncatingStore, nth: int) -> None:
    store.uploads, store.fail_at = 0, nth


def _assert_incomplete(refused: pytest.ExceptionInfo[TurntableError], version: int) -> None:
    assert refused.value.code == "RENDER_UPLOAD_INCOMPLETE"
    found = re.fullmatch(
        rf"renders/{ASIN}/v{version}/[0-9a-f]{{16}}/(\S+): (\d+) bytes stored, (\d+) written",
        refused.value.message,
    )
    assert found is not None, refused.value.message
    assert int(found[2]) == int(found[3]) // 2


def _render_keys(store: LocalStore, version: int) -> dict[str, str]:
    prefix = layout.renders_prefix(ASIN, version)
    return {i.key: hashlib.sha256(store.get_bytes(i.key)).hexdigest() for i in store.list(prefix)}


def test_a_short_upload_is_refused_and_never_committed(tmp_path, monkeypatch) -> None:
    store = _TruncatingStore(tmp_path / "store")
    version = _approved_version(store, tmp_path)
    _fail_upload(store, 3)
    with pytest.raises(TurntableError) as refused:
        turntable.publish_turntable(store, ASIN, version, SMALL)
    _assert_incomplete(refused, version)
    assert platform_versions.read_turntable_manifest(store, ASIN, version) is None
    written = _render_keys(store, version)
    assert len(written) == 3 and not any(key.endswith("/manifest.json") for key in written)

    _fail_upload(store, 0)
    committed = turntable.publish_turntable(store, ASIN, version, SMALL)
    before = _render_keys(store, version)
    monkeypatch.setattr(turntable.studio, "RENDERER_VERSION", "studio-next")  # a new set is due
    _fail_upload(store, 5)
    with pytest.raises(TurntableError) as refused:
        turntable.publish_turntable(store, ASIN, version, SMALL)
    _assert_incomplete(refused, version)
    assert platform_versions.read_turntable_manifest(store, ASIN, version) == committed.manifest
    after = _render_keys(store, version)
    assert {k: after[k] for k in before} == before  # the committed set and its manifest unchanged
    assert len(after) == len(before) + 5


def test_published_pointer_keys_are_told_from_page_files() -> None:
    pointers = layout.published_pointers_prefix()
    assert layout.parse_published_pointer_key(layout.published_pointer_key(ASIN)) == ASIN
    assert layout.parse_published_pointer_key(f"{pointers}{ASIN}/manifest.json") is None
    assert (
        layout.parse_published_pointer_key(layout.page_prefix(ASIN).rstrip("/") + ".json") is None
    )
    assert layout.parse_published_pointer_key(layout.upload_key(ASIN, "x.json")) is None
    assert layout.parse_published_pointer_key(pointers + "catalog.json") is None


def test_a_still_from_a_stored_camera(tmp_path) -> None:
    mixer = Path(__file__).resolve().parents[3] / "shared/data/khronos-3dc/Mixer/Mixer.glb"
    if not mixer.is_file():
        pytest.skip("../shared/data/khronos-3dc is not here")
    out = turntable.render_still(
        mixer, tmp_path / "hero.png", camera_index=0, width=160, height=120
    )
    with Image.open(out) as image:
        assert image.size == (160, 120)
    with pytest.raises(TurntableError) as refused:
        turntable.render_still(mixer, tmp_path / "x.png", camera_index=99, width=64, height=64)
    assert refused.value.code == "RENDER_NO_SUCH_CAMERA"


def test_shazam_render_cli_makes_a_turntable_or_a_still_and_refuses_bad_input(
    model, tmp_path
) -> None:
    from tests.test_cli import shazam

    done = shazam(
        "render",
        str(model),
        "--out",
        str(tmp_path / "spin"),
        "--frames",
        "8",
        "--size",
        "64",
        check_code=0,
    )
    assert done.stdout.startswith("wrote 11 files") and "FEngine" not in done.stdout
    manifest = json.loads((tmp_path / "spin" / "manifest.json").read_text())
    assert len(manifest["frames"]) == 8 and manifest["spec"]["size"] == 64
    still = shazam(
        "render",
        str(model),
        "--camera",
        "0",
        "--size",
        "96x72",
        "--out",
        str(tmp_path / "hero.png"),
        check_code=2,
    )  # the demo speaker's glTF stores no camera
    assert "RENDER_NO_SUCH_CAMERA" in still.stderr and not (tmp_path / "hero.png").exists()
    bad = shazam("render", str(model), "--out", str(tmp_path / "x"), "--frames", "5", check_code=2)
    assert "RENDER_BAD_FRAMES" in bad.stderr
