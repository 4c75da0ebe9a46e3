"""The quick part of `make fuzz`, in the default test run: every seed gets a verdict.

Calls each harness's input function directly over its seed corpus (built from code), so a
harness that rots, or a seed that crashes the validator, fails here and not hours into a
fuzzing job.
"""

from __future__ import annotations

import random

import pytest

from tests.fuzz import fuzz_delivery, fuzz_gltf, harness, mutate
from tests.fuzz.seeds import seeds
from tests.ingest.delivery.gltf_cases import Model

# Seeds that crash today in a class another branch of issue 11 fixes (name -> branch); see
# tests/ingest/delivery/test_fuzz_regressions.py. Remove an entry once its branch is merged.
TARGETS = {"gltf": fuzz_gltf.test_one_input, "delivery": fuzz_delivery.test_one_input}


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_every_seed_gets_a_verdict(name: str) -> None:
    crashed = {}
    corpus = seeds(name)
    for seed, data in corpus:
        try:
            harness.check_verdict(TARGETS[name](data))
        except Exception as exc:  # collected, so one run names every crashing seed
            crashed[seed] = harness.signature(exc)
    assert len(corpus) > (100 if name == "gltf" else 2)
    assert crashed == {}


def test_mutators_keep_the_container() -> None:
    """Most mutations must still be a GLB (or a ZIP): else the fuzzer only tests the reader."""
    glb = Model().glb()
    kept = sum(
        mutate.split_glb(mutate.mutate_model(glb, 1 << 20, random.Random(i), lambda d, n: d))
        is not None
        for i in range(200)
    )
    assert kept > 150
