"""Decisions, promotion, retention, rollback and notifications on real stored versions."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from shazam_assets.ingest import pipeline as ingest
from shazam_assets.ingest import versions
from shazam_assets.operations.status import asin_status
from shazam_assets.platform import versions as platform_versions
from shazam_assets.platform.notify import Outbox, SlackWebhook, SnsTopic, open_channel
from shazam_assets.qa import decisions
from shazam_assets.qa.backlog import pending_reviews
from shazam_assets.qa.decisions import DecisionError, Verdict, record_decision
from shazam_assets.qa.outcome import apply_decision
from tests.builders import ASIN, pack, product


@pytest.fixture(scope="module")
def good_zip(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("qa-deliveries")
    return pack(root, product(root))


def _store_version(store, zip_path: Path, name: str) -> int:
    store.put_file(f"uploads/{ASIN}/{name}", zip_path)
    upload = ingest.resolve_upload(store, ASIN, key=f"uploads/{ASIN}/{name}")
    assert ingest.validate_upload(store, upload).report.ok
    return ingest.store_upload(store, upload).version


def _decide(store, version: int, verdict: str, **kw):
    kw.setdefault("reviewer", "Rita Reviewer")
    kw.setdefault("notes", "looks right" if verdict == "approve" else "handle colour is wrong")
    return record_decision(store, asin=ASIN, version=version, verdict=verdict, **kw)


@pytest.mark.parametrize(
    ("code", "act"),
    [
        ("QA_UNKNOWN_VERSION", lambda s, v: _decide(s, v + 5, "approve")),
        ("QA_NOTE_REQUIRED", lambda s, v: _decide(s, v, "reject", notes="  ")),
        ("QA_REVIEWER_REQUIRED", lambda s, v: _decide(s, v, "approve", reviewer="")),
        ("QA_ALREADY_DECIDED", lambda s, v: (_decide(s, v, "approve"), _decide(s, v, "reject"))),
    ],
)
def test_refused_decisions_have_a_code_and_change_nothing(local_store, good_zip, code, act) -> None:
    version = _store_version(local_store, good_zip, "a.zip")
    before = {
        i.key
        for i in local_store.list("")
        if not i.key.startswith(("qa/", "decisions/", "review/"))
    }
    with pytest.raises(DecisionError) as refused:
        act(local_store, version)
    assert refused.value.code == code
    after = {
        i.key
        for i in local_store.list("")
        if not i.key.startswith(("qa/", "decisions/", "review/"))
    }
    assert after == before
    if code != "QA_ALREADY_DECIDED":
        assert decisions.read_decision(local_store, ASIN, version) is None


def test_deciding_a_superseded_version_is_refused(local_store, good_zip) -> None:
    old = _store_version(local_store, good_zip, "a.zip")
    new = _store_version(local_store, good_zip, "b.zip")
    with pytest.raises(DecisionError) as refused:
        _decide(local_store, old, "approve")
    assert refused.value.code == "QA_SUPERSEDED" and f"v{new}" in str(refused.value)
    assert [p.version for p in pending_reviews(local_store, now=_now())] == [new]


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def test_approval_publishes_then_retention_keeps_the_previous_approved(store, good_zip) -> None:
    log: list[str] = []
    first = _store_version(store, good_zip, "1.zip")
    _decide(store, first, "approve")
    apply_decision(store, ASIN, first, channel=Outbox(store), keep_approved=1, log=log.append)
    assert platform_versions.published_version(store, ASIN) == first

    second = _store_version(store, good_zip, "2.zip")
    _decide(store, second, "reject")
    third = _store_version(store, good_zip, "3.zip")
    assert asin_status(store, ASIN)["published_version"] == first  # nothing changes until approval
    _decide(store, third, "approve")
    done = apply_decision(
        store, ASIN, third, channel=Outbox(store), keep_approved=1, log=log.append
    )

    assert (
        done.promotion.previous == first
        and platform_versions.published_version(store, ASIN) == third
    )
    assert [d.version for d in done.promotion.deletions] == [second]  # rejected, older: reclaimed
    assert done.promotion.deletions[0].bytes_reclaimed > 0
    assert any(f"deleted {ASIN} v{second}" in line and "bytes reclaimed" in line for line in log)
    states = {v["version"]: v["state"] for v in asin_status(store, ASIN)["versions"]}
    assert states == {first: "approved", second: "deleted", third: "published"}
    assert list(store.list(f"assets/{ASIN}/v{second}/")) == []
    assert store.exists(f"uploads/{ASIN}/2.zip")  # the artist's upload is never deleted

    back = decisions.rollback(store, ASIN)
    assert (back.version, back.previous) == (first, third)
    assert asin_status(store, ASIN)["published_version"] == first


def test_retention_never_deletes_pending_or_newer_versions(local_store, good_zip) -> None:
    v1 = _store_version(local_store, good_zip, "1.zip")
    _decide(local_store, v1, "approve")
    decisions.promote(local_store, ASIN, v1, keep_approved=0)
    v2 = _store_version(local_store, good_zip, "2.zip")  # pending, newer than published
    assert decisions.apply_retention(local_store, ASIN, keep_approved=0) == ()
    assert versions.list_versions(local_store, ASIN) == [v1, v2]
    with pytest.raises(DecisionError) as refused:
        decisions.delete_version(local_store, ASIN, v1, reason="test")
    assert refused.value.code == "QA_DELETE_PUBLISHED"


def test_rollback_without_a_kept_version_is_a_clear_error(local_store, good_zip) -> None:
    with pytest.raises(DecisionError) as nothing:
        decisions.rollback(local_store, ASIN)
    assert nothing.value.code == "QA_NOTHING_PUBLISHED"
    v1 = _store_version(local_store, good_zip, "1.zip")
    _decide(local_store, v1, "approve")
    decisions.promote(local_store, ASIN, v1)
    with pytest.raises(DecisionError) as no_target:
        decisions.rollback(local_store, ASIN)
    assert no_target.value.code == "QA_NO_ROLLBACK_TARGET"


def test_rejection_goes_to_the_outbox_once(local_store, good_zip) -> None:
    version = _store_version(local_store, good_zip, "1.zip")
    _decide(local_store, version, "reject", notes="The handle is blue; the photo shows red.")
    channel = open_channel("", store=local_store)
    first = apply_decision(local_store, ASIN, version, channel=channel, keep_approved=1)
    again = apply_decision(local_store, ASIN, version, channel=channel, keep_approved=1)
    assert first.notified and again.notified is None  # a re-run does not notify twice
    message = json.loads(local_store.get_bytes(f"outbox/{ASIN}/v{version}.json"))
    assert "The handle is blue; the photo shows red." in message["text"]
    assert message["artist"] == "Test Artist" and message["reviewer"] == "Rita Reviewer"


def test_slack_webhook_receives_the_rejection(local_store, good_zip) -> None:
    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        channel = open_channel(
            f"http://127.0.0.1:{server.server_port}/services/T/B/X", store=local_store
        )
        assert isinstance(channel, SlackWebhook)
        version = _store_version(local_store, good_zip, "1.zip")
        _decide(local_store, version, "reject", notes="Wrong colour")
        apply_decision(local_store, ASIN, version, channel=channel, keep_approved=1)
    finally:
        server.shutdown()
    assert len(received) == 1 and "Wrong colour" in received[0]["text"]


def test_sns_topic_receives_the_rejection_over_http(aws_client, local_store, good_zip) -> None:
    sns, sqs = aws_client("sns"), aws_client("sqs")
    topic = sns.create_topic(Name="shazam-artists")["TopicArn"]
    queue = sqs.create_queue(QueueName="artist-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    version = _store_version(local_store, good_zip, "1.zip")
    _decide(local_store, version, "reject", notes="Texture seams visible")
    apply_decision(local_store, ASIN, version, channel=SnsTopic(topic, client=sns), keep_approved=1)
    messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1)["Messages"]
    assert "Texture seams visible" in json.loads(messages[0]["Body"])["Message"]
    assert isinstance(open_channel(f"sns:{topic}", store=local_store), SnsTopic)


def test_decisions_are_in_the_status(local_store, good_zip) -> None:
    version = _store_version(local_store, good_zip, "1.zip")
    assert asin_status(local_store, ASIN)["versions"][0]["state"] == "pending_qa"
    _decide(local_store, version, "reject", notes="Scale bar missing")
    entry = asin_status(local_store, ASIN)["versions"][0]
    assert entry["state"] == "rejected"
    assert (
        entry["decision"]["reviewer"] == "Rita Reviewer"
        and entry["decision"]["notes"] == "Scale bar missing"
    )
    assert entry["decision"]["verdict"] == str(Verdict.REJECT)
