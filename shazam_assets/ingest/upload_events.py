"""Find vendor uploads from S3 event notifications delivered to an SQS queue.

At scale this replaces listing (`uploads.scan_uploads`): S3 sends one `ObjectCreated:*` event
per completed upload, multipart included, to a queue (directly or through SNS), and a sensor
tick only reads the queue.

Acknowledging is deferred by one tick. A tick's run requests and cursor are committed by Dagster
together, after the tick returns; deleting a message inside the tick that read it would lose
the upload if that commit never happens. So a tick keeps its messages' receipt handles in the
cursor, and the next poll deletes them first: by then the run requests are durable. If the
commit fails, the messages reappear after their visibility timeout and are read again; the run
key (key + ETag) makes Dagster skip any duplicate. The queue's visibility timeout must therefore
be longer than the sensor interval, or a message reappears before it is deleted.

Messages that cannot be parsed are never deleted: after `maxReceiveCount` receives the queue's
redrive policy moves them to the dead-letter queue, where a person can read them. Events for
objects that are not upload keys (or lie outside the store) are acknowledged and counted.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shazam_assets.ingest.uploads import Upload
from shazam_assets.platform.storage import ObjectInfo, ObjectStore

_CURSOR_VERSION = 1
_SQS_BATCH = 10  # the most messages one receive or delete-batch call handles


@dataclass(frozen=True)
class ObjectCreated:
    """One `ObjectCreated:*` record of an S3 event notification, key already URL-decoded."""

    bucket: str
    key: str
    etag: str
    size: int
    event_time: datetime


@dataclass(frozen=True)
class EventBatch:
    """What one poll found, and the cursor (receipt handles to delete next poll)."""

    uploads: tuple[Upload, ...]
    cursor: str
    malformed: int  # messages left on the queue for the dead-letter queue
    received: int  # messages received in this poll
    ignored: int = 0  # object events that are not uploads into this store (acknowledged)
    acknowledged: int = 0  # messages of the previous poll deleted at the start of this one
    problems: tuple[str, ...] = ()  # "<MessageId>: <why it is malformed>", for a log line


def parse_s3_event(body: str) -> tuple[list[tuple[str, str, int]] | None, str | None]:
    """An S3 event notification (raw or in an SNS envelope) -> [(key, etag, size)] of its
    ObjectCreated records, or (None, reason) when the body is not a notification.
    `s3:TestEvent`, sent when notifications are configured, gives []."""
    events, reason = parse_object_created(body)
    if events is None:
        return None, reason
    return [(e.key, e.etag, e.size) for e in events], None


def parse_object_created(body: str) -> tuple[list[ObjectCreated] | None, str | None]:
    """Like `parse_s3_event`, keeping the bucket and the event time of each record."""
    try:
        message = _unwrap_sns(json.loads(body))
    except (ValueError, TypeError) as exc:
        return None, f"body is not JSON: {exc}"
    if not isinstance(message, dict):
        return None, "notification is not a JSON object"
    if message.get("Event") == "s3:TestEvent":
        return [], None
    records = message.get("Records")
    if not isinstance(records, list):
        return None, "no 'Records' list"
    events = []
    for index, record in enumerate(records):
        if not isinstance(record, dict) or not isinstance(record.get("eventName"), str):
            return None, f"record {index} has no eventName"
        if record["eventName"].startswith(("ObjectCreated:", "s3:ObjectCreated:")):
            try:
                events.append(_object_created(record))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                return None, f"record {index} ({record['eventName']}) is malformed: {exc!r}"
    return events, None


def _unwrap_sns(message: Any) -> Any:
    """The S3 notification inside an SNS envelope, or the message itself."""
    if isinstance(message, dict) and message.get("Type") == "Notification":
        return json.loads(message["Message"])
    return message


def _object_created(record: dict[str, Any]) -> ObjectCreated:
    s3 = record["s3"]
    obj = s3["object"]
    size = obj["size"]
    if not isinstance(size, int) or not isinstance(obj["eTag"], str):
        raise ValueError("size must be an integer and eTag a string")
    event_time = datetime.fromisoformat(record["eventTime"])
    return ObjectCreated(
        bucket=s3["bucket"]["name"],
        key=urllib.parse.unquote_plus(obj["key"]),  # S3 encodes ' ' as '+', '+' as '%2B'
        etag=obj["eTag"].strip('"'),
        size=size,
        event_time=event_time if event_time.tzinfo else event_time.replace(tzinfo=UTC),
    )


def _load_cursor(cursor: str | None) -> list[str]:
    if cursor is None:
        return []
    try:
        data = json.loads(cursor)
        if data.get("v") != _CURSOR_VERSION or not isinstance(data["ack"], list):
            raise ValueError(f"cursor version {data.get('v')!r}")
        return [str(handle) for handle in data["ack"]]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not an upload-events cursor ({exc}); reset the sensor cursor") from exc


def _delete_messages(sqs_client: Any, queue_url: str, handles: list[str]) -> int:
    """Delete the previous poll's messages; returns how many SQS confirmed. A stale handle
    fails harmlessly: that message comes back and its run key is deduplicated."""
    deleted = 0
    for start in range(0, len(handles), _SQS_BATCH):
        chunk = handles[start : start + _SQS_BATCH]
        entries = [{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(chunk)]
        reply = sqs_client.delete_message_batch(QueueUrl=queue_url, Entries=entries)
        deleted += len(reply.get("Successful", ()))
    return deleted


@dataclass
class _Poll:
    """Accumulates one poll's messages."""

    store: ObjectStore
    handles: dict[str, str]  # MessageId -> latest receipt handle
    uploads: dict[str, Upload]  # upload_id -> upload, first event wins
    received: int = 0
    malformed: int = 0
    ignored: int = 0
    problems: list[str] = field(default_factory=list)

    def take(self, message: dict[str, Any]) -> bool:
        """Handle one message; False when it was already received in this poll."""
        message_id = message["MessageId"]
        if message_id in self.handles:
            if self.handles[message_id]:  # only the newest receipt handle can delete it
                self.handles[message_id] = message["ReceiptHandle"]
            return False
        self.received += 1
        events, reason = parse_object_created(message.get("Body", ""))
        if events is None:
            self.malformed += 1  # not acknowledged: the redrive policy dead-letters it
            self.problems.append(f"{message_id}: {reason}")
            self.handles[message_id] = ""
            return True
        self.handles[message_id] = message["ReceiptHandle"]
        for event in events:
            upload = self._upload(event)
            if upload is None:
                self.ignored += 1
            else:
                self.uploads.setdefault(upload.upload_id, upload)
        return True

    def _upload(self, event: ObjectCreated) -> Upload | None:
        key = self.store.key_for_event(event.bucket, event.key)
        if key is None:
            return None
        return Upload.from_info(ObjectInfo(key, event.size, event.etag, event.event_time))


def poll_upload_events(
    sqs_client: Any,
    queue_url: str,
    *,
    store: ObjectStore,
    cursor: str | None,
    time_budget_s: float = 40.0,
    max_messages: int = 500,
    wait_time_s: int = 1,
    visibility_timeout_s: int | None = None,
) -> EventBatch:
    """One sensor tick: acknowledge the previous tick's messages, then read new ones.

    The first receive long-polls for up to `wait_time_s` (0-20, SQS's limit): SQS answers as
    soon as a message arrives, so an upload made between two ticks starts its run when it lands,
    not at the next tick, for one request per wait. Later receives drain what is there without
    waiting. Reading stops when a receive comes back empty, after `max_messages`, when
    `time_budget_s` is spent, or when a message comes back within this poll (its visibility
    timeout is shorter than the poll).
    """
    deadline = time.monotonic() + time_budget_s
    acknowledged = _delete_messages(sqs_client, queue_url, _load_cursor(cursor))
    poll = _Poll(store, handles={}, uploads={})
    extra = {} if visibility_timeout_s is None else {"VisibilityTimeout": visibility_timeout_s}
    while poll.received < max_messages and time.monotonic() < deadline:
        reply = sqs_client.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(_SQS_BATCH, max_messages - poll.received),
            WaitTimeSeconds=0 if poll.received else min(max(wait_time_s, 0), 20),
            **extra,
        )
        messages = reply.get("Messages", [])
        fresh = [poll.take(message) for message in messages]
        if not messages or not all(fresh):
            break
    ack = [handle for handle in poll.handles.values() if handle]
    return EventBatch(
        uploads=tuple(poll.uploads.values()),
        cursor=json.dumps({"v": _CURSOR_VERSION, "ack": ack}, separators=(",", ":")),
        malformed=poll.malformed,
        received=poll.received,
        ignored=poll.ignored,
        acknowledged=acknowledged,
        problems=tuple(poll.problems),
    )
