"""Publishing through Dagster's real instance: an approval is picked up by the publish sensor,
and one run renders the turntable, puts the product page live and indexes the ASIN for search;
asking again does nothing new; unpublishing takes the page and the index entry down."""

from __future__ import annotations

import dagster as dg

from dagster_project.defs.publish.sensors import published_sensor
from dagster_project.lib.resources import ObjectStoreResource
from shazam_assets import publish
from shazam_assets.platform import versions as platform_versions
from shazam_assets.qa import decisions
from shazam_assets.qa.decisions import record_decision
from shazam_assets.search.embed import open_embedder
from shazam_assets.search.table import TableIndex
from tests.builders import ASIN
from tests.dagster_project.runs import decision_runs, execute
from tests.dagster_project.test_qa_pipeline import _ingest

TURNTABLE, CHANNELS, PAGE, SEARCH = (
    dg.AssetKey(k) for k in ("turntable_360", "channel_models", "product_page", "search_index")
)


def _tick(instance, url, cursor=None):
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"store": ObjectStoreResource(url=url)}
    )
    result = published_sensor(context)
    return result.run_requests, result.cursor


def _metadata(instance, key):
    event = instance.get_latest_materialization_event(key)
    return None if event is None else event.asset_materialization.metadata


def test_approval_renders_publishes_and_indexes_once(env, delivery) -> None:
    instance, store, url = env
    _ingest(instance, store, url, delivery, "first.zip")
    requests, cursor = _tick(instance, url)
    assert requests == []  # nothing is published before a reviewer approves

    record_decision(store, asin=ASIN, version=1, verdict="approve", reviewer="Rita")
    decision_runs(instance, url)
    requests, cursor = _tick(instance, url, cursor)
    assert [r.partition_key for r in requests] == [ASIN]
    assert execute(instance, "publish_job", requests[0]).success

    spin = _metadata(instance, TURNTABLE)
    assert spin["version"].value == 1 and spin["frames"].value == 8 and spin["rendered"].value
    manifest = platform_versions.read_turntable_manifest(store, ASIN, 1)
    assert manifest is not None and manifest.size == 64
    assert spin["fingerprint"].value == manifest.fingerprint

    channels = _metadata(instance, CHANNELS)
    assert channels["version"].value == 1 and channels["made"].value
    assert "| web |" in channels["channels"].value and "| mobile |" in channels["channels"].value
    page = _metadata(instance, PAGE)
    assert page["version"].value == 1 and page["changed"].value
    urls = publish.read_page_manifest(store, ASIN)["urls"]
    assert publish.read_page_manifest(store, ASIN)["version"] == 1
    assert set(urls["derivatives"]) == {"web", "mobile"} and urls["usdz"]
    assert store.exists(f"published/{ASIN}/index.html")
    assert ASIN in store.get_bytes("published/catalog.json").decode()

    found = _metadata(instance, SEARCH)
    assert found["search_success_rate"].value == 1.0 and found["index_asins"].value == 1
    probe = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(SEARCH, "search_finds_product"), limit=1
    )[0]
    assert probe.status.value == "SUCCEEDED" and probe.partition == ASIN
    index = TableIndex.open(store, open_embedder("descriptor"))
    assert index.lookup(ASIN) is not None and found["index_version"].value == index.version

    assert _tick(instance, url, cursor)[0] == []  # the same pointer is not requested twice
    assert execute(instance, "publish_job", requests[0]).success  # e.g. a backfill: no-ops
    assert _metadata(instance, TURNTABLE)["rendered"].value is False
    assert _metadata(instance, CHANNELS)["made"].value is False
    assert _metadata(instance, PAGE)["changed"].value is False

    decisions.unpublish(store, ASIN, reason="recalled")
    requests, _ = _tick(instance, url, cursor)
    assert [r.partition_key for r in requests] == [ASIN]
    assert execute(instance, "publish_job", requests[0]).success
    assert not store.exists(f"published/{ASIN}/index.html")
    assert TableIndex.open(store, open_embedder("descriptor")).lookup(ASIN) is None
    assert ASIN not in store.get_bytes("published/catalog.json").decode()


def test_a_partition_with_nothing_published_renders_and_publishes_nothing(env, delivery) -> None:
    instance, store, url = env
    _ingest(instance, store, url, delivery, "first.zip")
    assert execute(instance, "publish_job", dg.RunRequest(partition_key=ASIN)).success
    assert _metadata(instance, TURNTABLE) is None and _metadata(instance, PAGE) is None
    assert _metadata(instance, CHANNELS) is None
    assert list(store.list("renders/")) == [] and list(store.list("published/")) == []


def test_the_nightly_rebuild_indexes_every_published_asin(env, delivery) -> None:
    instance, store, url = env
    _ingest(instance, store, url, delivery, "first.zip")
    record_decision(store, asin=ASIN, version=1, verdict="approve", reviewer="Rita")
    decision_runs(instance, url)
    result = execute(instance, "search_rebuild_job", dg.RunRequest())
    assert result.success
    index = TableIndex.open(store, open_embedder("descriptor"))
    assert index.asins == [ASIN]
    observed = instance.fetch_observations(SEARCH, limit=1).records[0].asset_observation
    assert observed.metadata["index_asins"].value == 1
    assert observed.metadata["index_version"].value == index.version
