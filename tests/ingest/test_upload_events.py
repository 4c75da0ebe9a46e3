"""S3 event notifications through SQS: parsing, deferred acknowledgement, dead-lettering.

Everything runs against moto's standalone server over HTTP (see conftest.py).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from shazam_assets.ingest.upload_events import EventBatch, parse_s3_event, poll_upload_events
from shazam_assets.platform.storage import S3Store

pytestmark = pytest.mark.integration

EVENT_TIME = "2025-06-01T12:00:00.123Z"


def s3_event(
    key: str,
    *,
    bucket: str = "vendor-bucket",
    etag: str = "d41d8cd98f00b204e9800998ecf8427e",
    size: int = 1024,
    name: str = "ObjectCreated:Put",
) -> dict[str, Any]:
    """One record shaped like S3's event notification (structure version 2.1); `key` is
    given URL-encoded, as S3 sends it."""
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": EVENT_TIME,
        "eventName": name,
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "203.0.113.7"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVUR"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "vendor-uploads",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": {"key": key, "size": size, "eTag": etag, "sequencer": "0055AED6DCD90281E5"},
        },
    }


def body(*records: dict[str, Any]) -> str:
    return json.dumps({"Records": list(records)})


def sns_envelope(message: str) -> str:
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:vendor-uploads",
            "Subject": "Amazon S3 Notification",
            "Message": message,
            "Timestamp": "2025-06-01T12:00:01.000Z",
        }
    )


TEST_EVENT = json.dumps(
    {
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": EVENT_TIME,
        "Bucket": "vendor-bucket",
        "RequestId": "5582815E1AEA5ADF",
        "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
    }
)

# --------------------------------------------------------------------------- parsing


def test_keys_are_url_decoded_like_s3_encodes_them() -> None:
    message = body(
        s3_event("uploads/B0TEST0001/My+Chair+%2B+Table.zip", etag="abc-2", size=7),
        s3_event("uploads/B0TEST0001/caf%C3%A9%2Fv1.zip"),
    )

    records, reason = parse_s3_event(message)

    assert reason is None
    assert records == [
        ("uploads/B0TEST0001/My Chair + Table.zip", "abc-2", 7),
        ("uploads/B0TEST0001/café/v1.zip", "d41d8cd98f00b204e9800998ecf8427e", 1024),
    ]


def test_sns_envelope_is_unwrapped() -> None:
    message = sns_envelope(body(s3_event("uploads/B0TEST0001/a+b.zip")))

    assert parse_s3_event(message)[0] == [
        ("uploads/B0TEST0001/a b.zip", "d41d8cd98f00b204e9800998ecf8427e", 1024)
    ]


@pytest.mark.parametrize(
    "message",
    [
        TEST_EVENT,
        sns_envelope(TEST_EVENT),
        body(s3_event("uploads/B0TEST0001/a.zip", name="ObjectRemoved:Delete")),
        body(),
    ],
)
def test_bodies_without_created_objects(message: str) -> None:
    assert parse_s3_event(message) == ([], None)


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"hello": "world"}', "no 'Records'"),
        ('{"Records": {"eventName": "ObjectCreated:Put"}}', "no 'Records'"),
        ('{"Records": [{"s3": {}}]}', "no eventName"),
        ('{"Records": [{"eventName": "ObjectCreated:Put"}]}', "malformed"),
        (body({**s3_event("k"), "eventTime": "yesterday"}), "malformed"),
        (body(s3_event("k", size="12")), "malformed"),  # type: ignore[arg-type]
        (json.dumps({"Type": "Notification", "Message": "{broken"}), "not JSON"),
    ],
)
def test_malformed_bodies_say_why(message: str, reason: str) -> None:
    records, why = parse_s3_event(message)

    assert records is None
    assert why is not None and reason in why


# --------------------------------------------------------------------------- polling


@pytest.fixture
def queues(sqs_client: Any) -> tuple[str, str]:
    """(queue URL, dead-letter queue URL): two receives, then the dead-letter queue."""
    name = f"uploads-{uuid.uuid4().hex[:12]}"
    dlq = sqs_client.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs_client.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])
    redrive = {"deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"], "maxReceiveCount": "2"}
    queue = sqs_client.create_queue(
        QueueName=name,
        Attributes={"RedrivePolicy": json.dumps(redrive), "VisibilityTimeout": "30"},
    )["QueueUrl"]
    return queue, dlq


@pytest.fixture
def poll(sqs_client: Any, queues: tuple[str, str], s3_store: S3Store) -> Callable[..., EventBatch]:
    def run(cursor: str | None, **kwargs: Any) -> EventBatch:
        kwargs.setdefault("wait_time_s", 0)
        return poll_upload_events(sqs_client, queues[0], store=s3_store, cursor=cursor, **kwargs)

    return run


def _queue_depth(sqs_client: Any, queue_url: str) -> int:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs_client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)
    return sum(int(attributes["Attributes"][name]) for name in names)


def _send(sqs_client: Any, queue_url: str, *bodies: str) -> None:
    for message in bodies:
        sqs_client.send_message(QueueUrl=queue_url, MessageBody=message)


def test_messages_are_acknowledged_on_the_next_poll(
    poll: Callable[..., EventBatch], sqs_client: Any, queues: tuple[str, str], s3_store: S3Store
) -> None:
    bucket = s3_store.bucket
    _send(
        sqs_client,
        queues[0],
        body(s3_event("uploads/B0TEST0001/My+Chair+%2B+Table.zip", bucket=bucket, etag="e1")),
        body(s3_event("uploads/B0TEST0002/delivery.ZIP", bucket=bucket, etag="e2", size=5)),
        body(s3_event("uploads/not-an-asin/x.zip", bucket=bucket)),
        body(s3_event("uploads/B0TEST0003/a.zip", bucket="someone-elses-bucket")),
    )

    first = poll(None)

    assert sorted(u.key for u in first.uploads) == [
        "uploads/B0TEST0001/My Chair + Table.zip",
        "uploads/B0TEST0002/delivery.ZIP",
    ]
    delivery = next(u for u in first.uploads if u.asin == "B0TEST0002")
    assert (delivery.etag, delivery.size) == ("e2", 5)
    assert delivery.last_modified == datetime(2025, 6, 1, 12, 0, 0, 123000, tzinfo=UTC)
    assert (first.received, first.ignored, first.malformed, first.acknowledged) == (4, 2, 0, 0)
    assert _queue_depth(sqs_client, queues[0]) == 4  # read, not deleted: the tick may not commit

    second = poll(first.cursor)

    assert (second.acknowledged, second.received, second.uploads) == (4, 0, ())
    assert _queue_depth(sqs_client, queues[0]) == 0


def test_an_uncommitted_tick_reads_the_same_uploads_again(
    poll: Callable[..., EventBatch], sqs_client: Any, queues: tuple[str, str], s3_store: S3Store
) -> None:
    event = s3_event("uploads/B0TEST0001/a.zip", bucket=s3_store.bucket, etag="e1")
    _send(sqs_client, queues[0], body(event))

    lost = poll(None, visibility_timeout_s=1)  # Dagster never stored this cursor
    time.sleep(1.2)
    retried = poll(None)
    done = poll(retried.cursor)

    assert [u.run_key for u in retried.uploads] == [u.run_key for u in lost.uploads]
    assert len(lost.uploads) == 1
    assert done.acknowledged == 1 and _queue_depth(sqs_client, queues[0]) == 0


def test_malformed_messages_end_in_the_dead_letter_queue(
    poll: Callable[..., EventBatch], sqs_client: Any, queues: tuple[str, str], s3_store: S3Store
) -> None:
    queue, dlq = queues
    _send(sqs_client, queue, "{not an S3 event")
    _send(sqs_client, queue, body(s3_event("uploads/B0TEST0001/a.zip", bucket=s3_store.bucket)))

    cursor, malformed, problems = None, 0, []
    for _ in range(4):  # receives come back at once (visibility 0) until the redrive
        batch = poll(cursor, visibility_timeout_s=0)
        cursor, malformed = batch.cursor, malformed + batch.malformed
        problems += batch.problems

    dead = sqs_client.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
    assert [m["Body"] for m in dead] == ["{not an S3 event"]
    assert malformed >= 1 and "not JSON" in problems[0]
    assert _queue_depth(sqs_client, queue) == 0  # the good message was acknowledged


def test_s3_notifications_from_the_bucket(
    poll: Callable[..., EventBatch], sqs_client: Any, queues: tuple[str, str], s3_store: S3Store
) -> None:
    """The real chain: a PUT into the bucket makes moto's S3 send the event to the queue."""
    queue_arn = sqs_client.get_queue_attributes(QueueUrl=queues[0], AttributeNames=["QueueArn"])
    s3_store.client.put_bucket_notification_configuration(
        Bucket=s3_store.bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": queue_arn["Attributes"]["QueueArn"],
                    "Events": ["s3:ObjectCreated:*"],
                }
            ]
        },
    )
    key = "uploads/B0TEST0001/My Chair + Table (v2) 100%.zip"
    info = s3_store.put_bytes(key, b"PK\x05\x06" + bytes(18))

    first = poll(None)
    second = poll(first.cursor)

    assert [(u.key, u.etag, u.size) for u in first.uploads] == [(key, info.etag, info.size)]
    assert first.malformed == 0 and first.received == 2  # the test event and the upload
    assert second.acknowledged == 2 and _queue_depth(sqs_client, queues[0]) == 0


def test_store_prefix_maps_event_keys(
    sqs_client: Any, queues: tuple[str, str], s3_prefixed_store: S3Store
) -> None:
    bucket = s3_prefixed_store.bucket
    _send(
        sqs_client,
        queues[0],
        body(
            s3_event("tenant-a/uploads/B0TEST0001/a.zip", bucket=bucket),
            s3_event("tenant-b/uploads/B0TEST0001/b.zip", bucket=bucket),
        ),
    )

    batch = poll_upload_events(
        sqs_client, queues[0], store=s3_prefixed_store, cursor=None, wait_time_s=0
    )

    assert [u.key for u in batch.uploads] == ["uploads/B0TEST0001/a.zip"]
    assert batch.ignored == 1


def test_duplicate_events_give_one_upload(
    poll: Callable[..., EventBatch], sqs_client: Any, queues: tuple[str, str], s3_store: S3Store
) -> None:
    event = s3_event("uploads/B0TEST0001/a.zip", bucket=s3_store.bucket, etag="same")
    _send(sqs_client, queues[0], body(event), body(event), sns_envelope(body(event)))

    batch = poll(None)

    assert batch.received == 3 and len(batch.uploads) == 1


def test_max_messages_spreads_a_backlog_over_polls(
    poll: Callable[..., EventBatch], sqs_client: Any, queues: tuple[str, str], s3_store: S3Store
) -> None:
    bucket = s3_store.bucket
    _send(
        sqs_client,
        queues[0],
        *(body(s3_event(f"uploads/B0{n:08d}/d.zip", bucket=bucket)) for n in range(25)),
    )

    keys: list[str] = []
    cursor = None
    for _ in range(4):
        batch = poll(cursor, max_messages=10)
        keys += [u.key for u in batch.uploads]
        cursor = batch.cursor
        assert batch.received <= 10

    assert sorted(keys) == [f"uploads/B0{n:08d}/d.zip" for n in range(25)]
    assert _queue_depth(sqs_client, queues[0]) == 0


def test_foreign_cursor_is_refused(poll: Callable[..., EventBatch]) -> None:
    with pytest.raises(ValueError, match="reset the sensor cursor"):
        poll('{"v":1,"hwm":null}')


# --------------------------------------------------------------------------- waiting ticks


def test_an_upload_sent_while_a_tick_waits_is_returned_when_it_lands(
    poll: Callable[..., EventBatch], sqs_client: Any, queues: tuple[str, str], s3_store: S3Store
) -> None:
    """The tick long-polls instead of leaving the upload for the next tick, 5 s later."""
    event = body(s3_event("uploads/B0WAIT0001/d.zip", bucket=s3_store.bucket))
    sender = threading.Timer(1.0, _send, args=(sqs_client, queues[0], event))
    started = time.monotonic()
    sender.start()
    try:
        batch = poll(None, wait_time_s=6)
    finally:
        sender.join()
    elapsed = time.monotonic() - started

    assert [u.key for u in batch.uploads] == ["uploads/B0WAIT0001/d.zip"]
    assert 0.9 <= elapsed < 4.0  # answered when the message arrived, well before the 6 s wait


def test_a_waiting_tick_with_nothing_to_read_returns_after_its_wait(
    poll: Callable[..., EventBatch],
) -> None:
    started = time.monotonic()
    batch = poll(None, wait_time_s=2)

    assert (batch.received, batch.uploads) == (0, ())
    assert 1.8 <= time.monotonic() - started < 5.0


def test_a_backlog_is_drained_without_waiting_again(
    poll: Callable[..., EventBatch], sqs_client: Any, queues: tuple[str, str], s3_store: S3Store
) -> None:
    """Only the first receive waits: the receives that drain a backlog (and the empty one that
    ends it) answer at once, so a tick with messages costs no extra wait."""
    bucket = s3_store.bucket
    _send(
        sqs_client,
        queues[0],
        *(body(s3_event(f"uploads/B0{n:08d}/d.zip", bucket=bucket)) for n in range(15)),
    )
    started = time.monotonic()
    batch = poll(None, wait_time_s=5)

    assert len(batch.uploads) == 15
    assert time.monotonic() - started < 3.0
