"""The artist's delivery status keeps what reviewers decided after retention removed a version."""

from __future__ import annotations

from shazam_assets.platform.notify import Outbox
from shazam_assets.qa.decisions import record_decision
from shazam_assets.qa.outcome import apply_decision
from shazam_assets.studio.deliveries import deliveries
from tests.builders import ASIN, pack, product, store_delivery


def test_removed_versions_still_show_their_decision(local_store, tmp_path) -> None:
    good = pack(tmp_path, product(tmp_path))
    for version, verdict, name in ((1, "approve", "1.zip"), (2, "reject", "2.zip")):
        assert store_delivery(local_store, good, name=name) == version
        record_decision(
            local_store, asin=ASIN, version=version, verdict=verdict, reviewer="Rita", notes="n"
        )
        apply_decision(local_store, ASIN, version, channel=Outbox(local_store), keep_approved=0)
    assert store_delivery(local_store, good, name="3.zip") == 3
    record_decision(local_store, asin=ASIN, version=3, verdict="approve", reviewer="Rita")
    apply_decision(local_store, ASIN, 3, channel=Outbox(local_store), keep_approved=0)

    found = {d.version: d for d in deliveries(local_store, ASIN).deliveries}
    assert {v: d.outcome for v, d in found.items()} == {
        1: "superseded",
        2: "superseded",
        3: "published",
    }

    def steps(version: int) -> list[tuple[str, str, str]]:
        return [(s.name, s.state, s.detail) for s in found[version].steps][2:]

    assert steps(1) == [
        ("stored", "done", "v1"),
        ("waiting for QA", "done", ""),
        ("decided", "done", "approved"),
        ("published", "failed", "removed by retention"),
    ]
    assert steps(2) == [
        ("stored", "done", "v2"),
        ("waiting for QA", "done", ""),
        ("decided", "failed", "rejected; removed by retention"),
        ("published", "todo", ""),
    ]
