"""Launching a backfill reads what it targets, not the whole catalogue of ASIN partitions."""

from __future__ import annotations

import dagster as dg
import pytest

from dagster_project.definitions import defs
from dagster_project.lib import backfills
from dagster_project.lib.partitions import ASIN_PARTITIONS
from shazam_assets.operations.backfill import bridge_gaps

CATALOGUE = [f"B{i:09d}" for i in range(20_000)]


@pytest.fixture
def catalogue_instance():
    """A test instance holding 20,000 ASIN partitions; every full read of them is recorded."""
    with dg.instance_for_test() as instance:
        for i in range(0, len(CATALOGUE), 10_000):
            instance.add_dynamic_partitions(ASIN_PARTITIONS, CATALOGUE[i : i + 10_000])
        storage = instance.event_log_storage
        full_reads: list[int] = []
        read_all = storage.get_dynamic_partitions

        def recorded(name: str):
            keys = read_all(name)
            full_reads.append(len(keys))
            return keys

        storage.get_dynamic_partitions = recorded  # type: ignore[method-assign]
        yield instance, full_reads


def _targets(instance, backfill_id: str) -> set[str]:
    subset = instance.get_backfill(backfill_id).asset_backfill_data.target_subset
    return {k.partition_key for k in subset.iterate_asset_partitions()}


def test_a_stale_backfill_of_a_few_asins_reads_no_full_key_list(catalogue_instance) -> None:
    instance, full_reads = catalogue_instance
    asins = [CATALOGUE[100], CATALOGUE[130], CATALOGUE[5000], "BNEWASIN01"]
    launched = backfills.launch_backfill(instance, defs.resolve_asset_graph(), "render", asins)
    assert full_reads == []  # the old launcher read all 20,000 keys twice
    # the same partitions as bridging over every key: the short gap filled, the long one not,
    # the new ASIN added
    expected = bridge_gaps([*CATALOGUE, "BNEWASIN01"], asins, max_gap=backfills.MAX_BRIDGED_GAP)
    assert _targets(instance, launched.backfill_id) == set(expected)
    assert len(expected) == 31 + 2
    assert instance.has_dynamic_partition(ASIN_PARTITIONS, "BNEWASIN01")


def test_a_gap_one_past_the_limit_is_not_bridged(catalogue_instance) -> None:
    instance, full_reads = catalogue_instance
    gap = backfills.MAX_BRIDGED_GAP
    asins = [CATALOGUE[0], CATALOGUE[gap + 1], CATALOGUE[2 * gap + 3]]  # gaps of gap, gap + 1
    launched = backfills.launch_backfill(instance, defs.resolve_asset_graph(), "render", asins)
    assert full_reads == []
    assert _targets(instance, launched.backfill_id) == set(CATALOGUE[: gap + 2]) | {asins[2]}
