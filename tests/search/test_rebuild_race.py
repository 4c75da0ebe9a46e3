"""The nightly rebuild (`rebuild_table`) never loses a publish or an unpublish that lands while
it runs, and writers whose table was replaced under them land on the new one, on a local
folder and on S3 through the moto server."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from shazam_assets.platform.storage import LocalStore, ObjectStore
from shazam_assets.platform.versions import published_asins, published_version
from shazam_assets.qa.decisions import promote, record_decision, unpublish
from shazam_assets.search.build import rebuild_table, update_table
from shazam_assets.search.table import TableIndex
from tests.search.conftest import EMBEDDER, MUG, SPEAKER, UNPUBLISHED


@pytest.fixture(params=["local", "s3"])
def published(request: pytest.FixtureRequest, published_template: Path) -> ObjectStore:
    """The search tests' published store on a local folder or copied into a moto bucket,
    with its search table."""
    store: ObjectStore
    if request.param == "local":
        store = LocalStore(request.getfixturevalue("tmp_path") / "store")
    else:
        store = request.getfixturevalue("s3_store")
    for path in sorted(published_template.rglob("*")):
        if path.is_file() and "lance" not in path.parts:
            store.put_bytes(path.relative_to(published_template).as_posix(), path.read_bytes())
    update_table(store, [], EMBEDDER)
    return store


def _state(store: ObjectStore) -> dict[str, str]:
    """ASIN -> published version, from the store's pointers: what the table must hold."""
    return {a: str(v) for a in published_asins(store) if (v := published_version(store, a))}


def _indexed(store: ObjectStore) -> dict[str, str]:
    table = TableIndex.open(store, EMBEDDER)
    return {a: hit.fields["version"] for a in table.asins if (hit := table.lookup(a))}


def test_a_publish_and_an_unpublish_during_the_rebuild_are_kept(published: ObjectStore) -> None:
    """Another run publishes one ASIN and unpublishes another after the rebuild read the
    pointers and before its new table replaces the old one: both survive the rebuild."""
    errors: list[BaseException] = []

    def another_run() -> None:
        try:
            record_decision(published, asin=UNPUBLISHED, version=1, verdict="approve", reviewer="Q")
            promote(published, UNPUBLISHED, 1)
            update_table(published, [UNPUBLISHED], EMBEDDER)
            unpublish(published, SPEAKER, reason="recalled")
            update_table(published, [SPEAKER], EMBEDDER)
        except BaseException as exc:  # reported by the test's thread
            errors.append(exc)

    def log(line: str) -> None:  # the rebuild has read every pointer; its overwrite is next
        if line.startswith(f"{MUG}: v") and not errors and not run.is_alive() and not ran:
            ran.append(True)
            run.start()
            run.join(120)

    run, ran = threading.Thread(target=another_run), []
    rebuilt = rebuild_table(published, EMBEDDER, log=log)
    assert ran and errors == []
    assert _state(published) == {MUG: "1", UNPUBLISHED: "1"}
    assert rebuilt.asins == [MUG, UNPUBLISHED] and _indexed(published) == _state(published)
    reader = TableIndex.open(published, EMBEDDER)
    assert [h.asin for h in reader.search_text("lamp maker", 1)] == [UNPUBLISHED]
    assert reader.search_text("speaker maker", 3)[0].asin == MUG  # the speaker is gone


def test_a_writer_whose_table_was_replaced_writes_to_the_new_one(published: ObjectStore) -> None:
    """A run that opened the table before the rebuild replaced it: Lance refuses its append
    and its delete against the old version; they go to the new table instead."""
    stale = TableIndex.open(published, EMBEDDER)
    rebuild_table(published, EMBEDDER)
    stale.upsert("B0LATE0001", fields={"title": "Late Lamp"}, vectors=np.ones((1, EMBEDDER.dim)))
    assert stale.remove(MUG)
    assert TableIndex.open(published, EMBEDDER).asins == ["B0LATE0001", SPEAKER]


@pytest.mark.parametrize("published", ["local", "s3"], indirect=True)
def test_runs_publishing_while_rebuilds_run_leave_the_table_as_the_pointers(
    published: ObjectStore,
) -> None:
    """Threads stand in for runs: one publishes and unpublishes an ASIN over and over, one
    republishes another, while two rebuilds run; afterwards the table holds exactly what the
    pointers publish."""
    record_decision(published, asin=UNPUBLISHED, version=1, verdict="approve", reviewer="Q")
    rebuilding = threading.Event()
    rebuilding.set()
    errors: list[BaseException] = []

    def toggler() -> None:
        try:
            while rebuilding.is_set():
                promote(published, UNPUBLISHED, 1)
                update_table(published, [UNPUBLISHED], EMBEDDER)
                unpublish(published, UNPUBLISHED, reason="toggle")
                update_table(published, [UNPUBLISHED], EMBEDDER)
        except BaseException as exc:
            errors.append(exc)

    def republisher() -> None:
        try:
            while rebuilding.is_set():
                update_table(published, [MUG], EMBEDDER)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=f) for f in (toggler, republisher)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(2):
            rebuild_table(published, EMBEDDER)
    finally:
        rebuilding.clear()
        for thread in threads:
            thread.join(120)
    assert errors == []
    assert _indexed(published) == _state(published)
    table = TableIndex.open(published, EMBEDDER)
    assert len(table) == len(_state(published))  # one slot-0 row per ASIN
