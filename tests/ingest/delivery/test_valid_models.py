"""Valid real-world model families through `shazam validate --json`, as an artist runs it:
each is accepted, or refused on purpose with its own code; none gives a traceback."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests import gltf_models as g
from tests.builders import edit_glb, pack, product, rewrite_zip
from tests.test_cli import shazam


def _validate(path: Path, exit_code: int) -> dict:
    done = shazam("validate", str(path), "--json", check_code=exit_code)
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (g.draco_box, "GLTF_COMPRESSED_GEOMETRY"),
        (g.meshopt_box, "GLTF_COMPRESSED_GEOMETRY"),
        (lambda: g.meshopt_box("KHR_meshopt_compression"), "GLTF_COMPRESSED_GEOMETRY"),
        (lambda: g.box(texture="ktx2"), "GLTF_COMPRESSED_TEXTURE"),
    ],
    ids=["draco", "ext-meshopt", "khr-meshopt", "ktx2"],
)
def test_compressed_masters_are_refused_with_their_own_code(
    tmp_path: Path, build: Callable[[], g.Model], code: str
) -> None:
    report = _validate(g.write_glb(build(), tmp_path / "model.glb"), 1)
    assert [e["code"] for e in report["errors"]] == [code]
    assert "uncompressed master" in report["errors"][0]["hint"]
    # never measured from placeholders (Draco's accessors read as zeros)
    assert "BUDGET_DEGENERATE_TRIANGLES" not in json.dumps(report)


def test_a_buffer_without_data_is_a_verdict_not_a_crash(tmp_path: Path) -> None:
    """Valid glTF (the Khronos corpus' named_objects.gltf / unused_objects.gltf do it): a
    buffer with no uri holds no data, so the scene's geometry cannot be checked."""
    report = _validate(g.write_gltf(g.no_data_box(), tmp_path / "model.gltf", bin_name=None), 1)
    assert [e["code"] for e in report["errors"]] == ["BUDGET_GEOMETRY_MISSING"]
    assert report["errors"][0]["pointer"] == "/buffers/0"


@pytest.mark.parametrize(
    "build",
    [
        lambda: g.box(texture="webp"),
        g.morph_box,
        g.animated_skinned_box,
        lambda: g.box(nodes=2000),
    ],
    ids=["webp", "morph-targets", "skin-and-animation", "2000-nodes"],
)
def test_uncompressed_families_are_accepted(tmp_path: Path, build: Callable[[], g.Model]) -> None:
    report = _validate(g.write_glb(build(), tmp_path / "model.glb"), 0)
    assert report["ok"] and report["stats"]["triangles"] >= 12


def test_a_percent_encoded_unicode_buffer_uri_is_read(tmp_path: Path) -> None:
    path = g.write_gltf(g.box(), tmp_path / "model.gltf", bin_name="te\u0301xture b.bin")
    assert '"te%CC%81xture%20b.bin"' in path.read_text()
    report = _validate(path, 0)
    assert report["stats"]["triangles"] == 12


def test_a_delivery_with_a_meshopt_model_gets_a_verdict(tmp_path: Path) -> None:
    """The whole delivery path (ZIP, manifest, model, photos): a report, not a traceback."""
    delivery = pack(tmp_path, product(tmp_path))
    compressed = rewrite_zip(delivery, tmp_path / "meshopt.zip", edit={
        "model/speaker.glb": edit_glb(lambda doc, _: g.meshopt_layout(doc))})  # fmt: skip
    report = _validate(compressed, 1)
    assert [e["code"] for e in report["errors"]] == ["GLTF_COMPRESSED_GEOMETRY"]
