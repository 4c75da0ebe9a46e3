"""The only module of the project that uses Dagster's private API (`dagster._core`), and why.

Two operator tools act on the real instance the daemon serves, with no webserver running:
- registering an asset backfill (`shazam backfill`, the staleness schedules' run), which the
  daemon's backfill loop then launches in batches by each asset's `BackfillPolicy`;
- submitting a re-execution "from failure" to the run queue (`shazam failures --rerun`), run by
  the daemon from the workspace's code server, as the UI's button does.
A third reads the instance's dynamic-partition table directly: a staleness backfill bridges short
gaps between the ASINs it targets (see `bridge_gaps`), which needs their order in the table, and
Dagster's public reads give only all keys (`get_dynamic_partitions`, 2 s at 1M ASINs) or pages
from a cursor. `partition_neighbourhood` reads the targets' row ids and the rows of the short
gaps between them, so launching stays O(targets), not O(catalogue).
Dagster 1.13's public equivalents are the webserver's GraphQL mutations
(`launchPartitionBackfill`, `launchPipelineReexecution`), which need a running webserver (the
demo, `shazam ui`), and `dg.execute_job` with `dg.ReexecutionOptions`, which executes in this
process instead of queueing. So these few calls stay private, here and nowhere else; the lock
file pins the Dagster version they were tested with (tests/dagster_project/test_operations.py
and test_operations_daemon.py exercise each against a real instance and daemon).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import dagster as dg
import sqlalchemy as db
from dagster._core.execution.backfill import PartitionBackfill
from dagster._core.execution.plan.resume_retry import ReexecutionStrategy
from dagster._core.storage.event_log.schema import DynamicPartitionsTable
from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage
from dagster._core.utils import make_new_backfill_id


def add_asset_backfill(
    instance: dg.DagsterInstance,
    graph: Any,
    *,
    assets: Sequence[dg.AssetKey],
    partitions: Sequence[str],
    tags: dict[str, str],
    title: str,
    description: str,
) -> str:
    """Register a backfill of `assets` of the asset `graph` over `partitions`; its id."""
    backfill_id = make_new_backfill_id()
    instance.add_backfill(
        PartitionBackfill.from_asset_partitions(
            backfill_id=backfill_id,
            asset_graph=graph,
            partition_names=list(partitions),
            asset_selection=list(assets),
            backfill_timestamp=time.time(),
            tags=tags,
            dynamic_partitions_store=instance,
            all_partitions=False,
            title=title,
            description=description,
            run_config=None,
        )
    )
    return backfill_id


_IN_CHUNK = 1000  # keys (or id ranges) per query
# A gap wider than this many times `max_gap` row ids is taken as long without reading it: the
# id is a serial, so only keys deleted by hand (or of another dynamic definition) make a gap
# hold fewer keys than ids. Bridging only saves runs; an unbridged gap costs one more run.
_ID_SLACK = 4


def partition_neighbourhood(
    instance: dg.DagsterInstance, partitions_def_name: str, keys: Sequence[str], *, max_gap: int
) -> list[str]:
    """The existing `keys` in the order the instance stores them (the order Dagster's ranges
    follow), each gap of at most `max_gap` other keys between two of them filled in with those
    keys; longer gaps are left out. `bridge_gaps` over this gives what it gives over all keys,
    with O(len(keys) * max_gap) rows read in a few queries. Instances not stored in SQL read
    every key."""
    storage = instance.event_log_storage
    if not isinstance(storage, SqlEventLogStorage):
        return list(instance.get_dynamic_partitions(partitions_def_name))
    table = DynamicPartitionsTable
    named = table.c.partitions_def_name == partitions_def_name
    wanted = list(dict.fromkeys(keys))
    found: dict[int, str] = {}
    # gaps are read by id alone, so the database walks the primary key (filtering on the name
    # too lets SQLite pick the (name, key) index and scan every key of the definition)
    columns = db.select(table.c.id, table.c.partition, table.c.partitions_def_name)
    with storage.index_connection() as conn:
        for i in range(0, len(wanted), _IN_CHUNK):
            query = db.select(table.c.id, table.c.partition).where(
                db.and_(named, table.c.partition.in_(wanted[i : i + _IN_CHUNK]))
            )
            found.update((int(row[0]), str(row[1])) for row in conn.execute(query))
        gaps = [(lo, hi) for lo, hi in itertools.pairwise(sorted(found)) if hi - lo > 1]
        # a gap of at most max_gap ids holds at most max_gap keys: read them all at once
        short = [g for g in gaps if g[1] - g[0] - 1 <= max_gap]
        for i in range(0, len(short), _IN_CHUNK):
            ranges = [
                db.and_(table.c.id > lo, table.c.id < hi) for lo, hi in short[i : i + _IN_CHUNK]
            ]
            query = db.select(table.c.id, table.c.partition).where(db.and_(named, db.or_(*ranges)))
            found.update((int(row[0]), str(row[1])) for row in conn.execute(query))
        for lo, hi in gaps:  # wider in ids: count its keys, up to one past the limit
            if max_gap < hi - lo - 1 <= _ID_SLACK * max_gap:
                query = columns.where(db.and_(table.c.id > lo, table.c.id < hi)).order_by(
                    table.c.id
                )
                rows = _named(conn.execute(query.limit(_ID_SLACK * max_gap)), partitions_def_name)
                if len(rows) <= max_gap:
                    found.update(rows)
    return [found[i] for i in sorted(found)]


def _named(rows: Any, partitions_def_name: str) -> list[tuple[int, str]]:
    return [(int(r[0]), str(r[1])) for r in rows if r[2] == partitions_def_name]


@contextmanager
def code_location_workspace(instance: dg.DagsterInstance, workspace_yaml: str) -> Iterator[Any]:
    """A workspace request context over the code locations of workspace.yaml (the same names
    the daemon and the UI use, so the runs created here are launched by them)."""
    from dagster._core.workspace.context import WorkspaceProcessContext  # the loading is heavy
    from dagster._core.workspace.load_target import WorkspaceFileTarget

    with WorkspaceProcessContext(instance, WorkspaceFileTarget(paths=[workspace_yaml])) as process:
        yield process.create_request_context()


def _remote_job(workspace: Any, run: dg.DagsterRun) -> tuple[Any, Any]:
    """(code location, remote job) of a run: its recorded origin, else the only location."""
    origin = run.remote_job_origin
    names = [origin.location_name] if origin is not None else list(workspace.code_location_names)
    for name in names:
        location = workspace.get_code_location(name)
        for repository in location.get_repositories().values():
            if repository.has_job(run.job_name):
                return location, repository.get_full_job(run.job_name)
    return None, None


def submit_reexecution_from_failure(
    instance: dg.DagsterInstance, parent: dg.DagsterRun, *, workspace: Any
) -> str | None:
    """Queue a re-execution of `parent` from its failed step (same job, partition, config and
    tags); the new run's id, or None when its job is no longer in the workspace."""
    location, job = _remote_job(workspace, parent)
    if location is None or job is None:
        return None
    run = instance.create_reexecuted_run(
        request_context=workspace,
        parent_run=parent,
        code_location=location,
        remote_job=job,
        strategy=ReexecutionStrategy.FROM_FAILURE,
        use_parent_run_tags=True,
    )
    instance.submit_run(run.run_id, workspace)
    return run.run_id
