"""The Khronos glTF-Validator is the oracle of our port: the same codes, file by file.

Our validator (shazam_assets/ingest/delivery/gltf) ports the Khronos rules to Python. Here the
official validator (npm `gltf-validator`, pinned in bench/khronos/package.json, installed by
`make setup`) runs once, in one Node process, over a corpus: every .glb/.gltf in
../shared/data (real 3D Commerce models, the validator's own samples), the broken file of
every error code and the file of every warning and information code (gltf_cases.py), the
model families real exporters write (tests/gltf_models.py) and small members of every
adversarial family (adversarial.py). Our validator runs in-process on the same files.

Per file, both must report the same set of findings (severity, code, JSON pointer) across
errors, warnings and infos (Khronos' Information and Hint are both our INFO). Sets, not
counts: Khronos repeats a message per bad element (three non-unit normals, three messages)
where we report the first with a total, and our report keeps at most 100 issues of a code.
Where we differ on purpose, `OURS_ONLY` says why; nothing else may differ, so a drift in
any single code fails the suite.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from shazam_assets.ingest.delivery.gltf import rules, validate_gltf_path
from shazam_assets.ingest.delivery.limits import ISSUES_CAPPED
from shazam_assets.ingest.delivery.report import Issue
from tests import gltf_models
from tests.ingest.delivery import adversarial
from tests.ingest.delivery.gltf_cases import ERROR_CASES, NOTICE_CASES, Model

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / ".." / "shared" / "data"
HARNESS = ROOT / "bench" / "khronos"

Finding = tuple[str, str, str | None]  # (severity, code, JSON pointer; None for a byte offset)
Build = Callable[[Path], Path]  # writes one input into an empty folder, returns the file to check

KHRONOS_SEVERITY = {0: "error", 1: "warning", 2: "info", 3: "info"}  # 3 = Hint, our INFO
ROOT_POINTER = {"": "/"}  # Khronos writes the document root as "", our reports as "/"

# Codes only our report has, each a deliberate difference. Keep this table small.
OURS_ONLY = {
    # A delivery must be self-contained: we refuse a URI that leaves it (and never read it)
    # where Khronos reads '../outside.bin' happily, or reports an IO_ERROR for a missing
    # '/textures/a.jpg' (that IO_ERROR is discounted at the same pointer).
    "GLTF_URI_OUTSIDE_DELIVERY": "our rule: resources stay inside the delivery",
    # Our report lists the first 100 issues of a code, then one summary with the count
    # (limits.LIMITS.issues_per_code); Khronos lists all (a 513-channel animation once gave
    # 130,000). For a capped code ours must be a subset of Khronos' findings.
    "VALIDATION_LIMIT_ISSUES": "our cap on issues per code",
}


# --- the corpus ----------------------------------------------------------------------------


def _existing(path: Path) -> Build:
    return lambda folder: path


def _shared_samples() -> dict[str, Build]:
    """Every glTF and GLB in ../shared/data (the .gltf's resources sit beside it)."""
    if not DATA.is_dir():
        return {}
    paths = sorted(p for p in DATA.rglob("*") if p.suffix.lower() in (".glb", ".gltf"))
    return {f"data/{p.relative_to(DATA)}": _existing(p) for p in paths}


def _model_families() -> dict[str, Build]:
    """tests/gltf_models.py: every family as .glb and as .gltf with an external .bin."""
    families: dict[str, Callable[[], gltf_models.Model]] = {
        "box": gltf_models.box,
        "box-png": lambda: gltf_models.box(texture="png"),
        "box-webp": lambda: gltf_models.box(texture="webp"),
        "box-ktx2": lambda: gltf_models.box(texture="ktx2"),
        "box-grid": lambda: gltf_models.box(nodes=9),
        "draco": gltf_models.draco_box,
        "meshopt": gltf_models.meshopt_box,
        "morph": gltf_models.morph_box,
        "animated-skinned": gltf_models.animated_skinned_box,
    }
    builds: dict[str, Build] = {}
    for name, make in families.items():
        builds[f"models/{name}.glb"] = lambda folder, make=make: gltf_models.write_glb(
            make(), folder / "m.glb"
        )
        builds[f"models/{name}.gltf"] = lambda folder, make=make: gltf_models.write_gltf(
            make(), folder / "m.gltf"
        )
    builds["models/no-data.gltf"] = lambda folder: gltf_models.write_gltf(
        gltf_models.no_data_box(), folder / "m.gltf", bin_name=None
    )
    builds["models/data-uri.gltf"] = lambda folder: gltf_models.write_gltf(
        gltf_models.box(texture="png"), folder / "m.gltf", data_uri=True
    )
    builds["models/unicode-uri.gltf"] = lambda folder: gltf_models.write_gltf(
        gltf_models.box(), folder / "m.gltf", bin_name="tëxture ü (1).bin"
    )
    return builds  # fmt: skip


# Each adversarial family at a size both validators take in milliseconds (nested_manifest is
# a ZIP, not a glTF). Larger sizes meet our caps: tests/ingest/delivery/test_adversarial.py.
ADVERSARIAL_SIZES: dict[str, dict[str, int]] = {
    "sparse_accessor": {"count": 1024},
    "animation_channels": {"channels": 12},  # 66 duplicate pairs: under our cap of 100
    "node_chain": {"nodes": 50},
    "many_scenes": {"scenes": 4, "nodes": 10},
    "skin_chain": {"joints": 8},
    "skin_two_chains": {"joints": 8},
    "instanced_mesh": {"instances": 4, "triangles": 10},
    "wide_mesh_instances": {"primitives": 4, "instances": 4},
    "shared_buffers": {"buffers": 3, "bin_bytes": 1024},
    "shared_image_view": {"images": 3, "view_bytes": 1024},
    "nested_gltf": {"depth": 20},
    "wide_gltf": {"objects": 100},
    "many_extensions": {"names": 5},
    "oversized_glb": {"size": 4096},  # 4 kB of empty chunks: 400+ unknown-chunk warnings
    "not_a_glb": {"size": 4096},
}


def _adversarial() -> dict[str, Build]:
    builds: dict[str, Build] = {}
    for family, size in ADVERSARIAL_SIZES.items():
        make, _sizes = adversarial.FAMILIES[family]
        builds[f"adversarial/{family}"] = lambda folder, make=make, size=size: make(**size).write(
            folder
        )
    return builds


def _cases() -> dict[str, Build]:
    def valid(name: str) -> Build:
        def build(folder: Path) -> Path:
            model = Model()
            (folder / name).write_bytes(model.glb() if name.endswith(".glb") else model.gltf())
            return folder / name

        return build

    builds = {"cases/valid.glb": valid("model.glb"), "cases/valid.gltf": valid("model.gltf")}
    builds |= {f"cases/{case.code}": case.build for case in [*ERROR_CASES, *NOTICE_CASES]}
    return builds


def _edited(edit: Callable[[dict], object]) -> Build:
    def build(folder: Path) -> Path:
        model = Model()
        edit(model.doc)
        (folder / "model.glb").write_bytes(model.glb())
        return folder / "model.glb"

    return build


def _signalling_nan_below_min(folder: Path) -> Path:
    """A box whose POSITION holds a signalling NaN and a z below the declared min: numpy's
    nanmin (SIMD fmin) returns a wrong minimum for such arrays, so MIN_MISMATCH went missing."""
    model = gltf_models.box()
    positions = np.frombuffer(model.binary, dtype="<f4", count=24 * 3).reshape(24, 3)  # accessor 0
    positions[2, 2] = -0.3
    positions.view("<u4")[10, 2] = 0x7FA00000  # NaN without the quiet bit
    return gltf_models.write_glb(model, folder / "m.glb")


# Drifts a differential fuzzer found (the base model and the families mutated at random, JSON
# and bytes, both validators run, findings compared; some 35,000 inputs), each kept as the smallest
# edit that showed it. Khronos' own slips are not kept: after an animation channel without a
# sampler its later pointers keep a stale prefix ('/animations/nodes/1'), ours do not.
FOUND_DRIFTS: dict[str, Build] = {
    # TypeError (unhashable dict) in the declared-size check instead of a TYPE_MISMATCH
    "drift/image-buffer-view-object": _edited(
        lambda doc: doc["images"][0].update(bufferView={"a": 1})
    ),
    "drift/signalling-nan-below-min": _signalling_nan_below_min,
    # an empty mimeType is still declared: the texture's source then has an invalid type
    "drift/empty-image-mime-type": _edited(lambda doc: doc["images"][0].update(mimeType="")),
}

CORPUS: dict[str, Build] = {
    **_shared_samples(), **_model_families(), **_adversarial(), **_cases(), **FOUND_DRIFTS,
}  # fmt: skip


# --- both validators over it ----------------------------------------------------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("parity")
    built: dict[str, Path] = {}
    for i, (name, build) in enumerate(CORPUS.items()):
        folder = root / f"{i:03d}" / "delivery"  # a case may write beside its delivery
        folder.mkdir(parents=True)
        built[name] = build(folder)
    return built


@pytest.fixture(scope="module")
def khronos(files: dict[str, Path]) -> dict[str, set[Finding]]:
    """Khronos' findings per corpus entry: one Node process validates every file."""
    if not (HARNESS / "node_modules" / "gltf-validator").is_dir() or shutil.which("node") is None:
        pytest.fail(
            "The Khronos glTF-Validator is not installed (bench/khronos/node_modules, or node, is "
            "missing): run `make setup`. It is the oracle of the glTF validator's parity tests.",
            pytrace=False,
        )
    done = subprocess.run(
        ["node", str(HARNESS / "validate.mjs"), *map(str, files.values())],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    lines = {line["file"]: line for line in map(json.loads, done.stdout.splitlines())}
    findings: dict[str, set[Finding]] = {}
    for name, path in files.items():
        line = lines[str(path)]
        assert line["numErrors"] >= 0, f"Khronos could not read {name}: {line.get('error')}"
        findings[name] = {
            (KHRONOS_SEVERITY[severity], "GLTF_" + code, ROOT_POINTER.get(pointer, pointer))
            for code, severity, pointer in line["messages"]
        }
    return findings


def _finding(issue: Issue) -> Finding:
    return issue.severity.value, issue.code, issue.pointer


@pytest.mark.parametrize("name", CORPUS)
def test_same_findings_as_khronos(
    name: str, files: dict[str, Path], khronos: dict[str, set[Finding]]
) -> None:
    _asset, issues = validate_gltf_path(files[name])
    capped = {i.details["capped_code"] for i in issues if i.code == ISSUES_CAPPED.code}
    ours = {_finding(i) for i in issues if i.code not in OURS_ONLY}
    outside = {i.pointer for i in issues if i.code == "GLTF_URI_OUTSIDE_DELIVERY"}
    theirs = {f for f in khronos[name] if not (f[1] == "GLTF_IO_ERROR" and f[2] in outside)}
    # A capped code lists only its first issues: they must be among Khronos' findings.
    assert {f for f in ours if f[1] in capped} <= {f for f in theirs if f[1] in capped}
    ours = {f for f in ours if f[1] not in capped}
    theirs = {f for f in theirs if f[1] not in capped}
    assert {
        "only Khronos": sorted(theirs - ours, key=str), "only ours": sorted(ours - theirs, key=str)
    } == {"only Khronos": [], "only ours": []}  # fmt: skip


def test_corpus_exercises_every_code(khronos: dict[str, set[Finding]]) -> None:
    """Parity means something only for codes the corpus triggers: each of our glTF codes
    (but our own) appears in Khronos' report of some file, at our severity."""
    reported = {(severity, code) for findings in khronos.values() for severity, code, _ in findings}
    expected = {(rule.severity.value, rule.code) for rule in rules if rule.code not in OURS_ONLY}
    assert expected - reported == set()


def test_every_notice_code_has_a_case() -> None:
    advisory = {rule.code for rule in rules if rule.severity.value != "error"}
    assert {case.code for case in NOTICE_CASES} <= advisory
