"""Tell the artist what the reviewer decided: Slack incoming webhook, Amazon SNS, or an outbox.

One setting picks the channel (`SHAZAM_NOTIFY_URL`):
- empty or ``outbox:``: write the message to ``outbox/<ASIN>/v<N>.json`` in the store (the
  embedded default; a person or a mail bridge reads it there);
- ``https://hooks.slack.com/...`` (any http/https URL): POST a Slack incoming-webhook message;
- ``sns:arn:aws:sns:<region>:<account>:<topic>``: publish to the SNS topic (boto3's standard
  configuration, so moto or LocalStack endpoints work too).

Every channel is idempotent per version: a sent marker under ``notifications/`` is written
after a successful send, and a repeated send (a re-run of the check) is skipped.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from shazam_assets.platform import layout
from shazam_assets.platform.errors import TransientError
from shazam_assets.platform.storage import ObjectStore


def slack_escape(text: str) -> str:
    """`text` as Slack shows it literally: Slack reads `<...>` as a mention, link or command
    (`<!channel>`, `<https://evil|Download>`), so its three control characters are escaped as
    its formatting rules say (https://api.slack.com/reference/surfaces/formatting#escaping).
    Titles, names, notes and keys come from artists and reviewers, never from us."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class NotifyError(TransientError, RuntimeError):
    """The channel refused the message; the decision stands and the send can be retried."""

    code = "NOTIFY_FAILED"

    def __init__(self, message: str) -> None:
        super().__init__(self.code, message)


@dataclass(frozen=True)
class Notification:
    asin: str
    version: int
    verdict: str  # "approve" or "reject"
    reviewer: str
    notes: str
    artist: str
    title: str
    upload_key: str
    comments: tuple[dict[str, str], ...] = ()

    @property
    def subject(self) -> str:
        outcome = "approved" if self.verdict == "approve" else "rejected"
        return f"[SHAZAM] {self.asin} v{self.version} {outcome}: {self.title}"[:100]

    def text(self) -> str:
        if self.verdict == "approve":
            return f"{self.title} ({self.asin} v{self.version}) was approved by {self.reviewer}."
        per_issue = "".join(f"\n- {c['issue']}: {c['comment']}" for c in self.comments)
        return (
            f"Hello {self.artist}, your delivery {self.upload_key} for {self.title} ({self.asin}) "
            f"became v{self.version} and was rejected by {self.reviewer}.\n\nReviewer's notes:\n"
            f"{self.notes}{per_issue}\n\nPlease fix it and upload a new ZIP to {layout.uploads_prefix(self.asin)}; "
            "it will start a new version and a new review."
        )


class Channel(Protocol):
    def deliver(self, notification: Notification) -> str:
        """Send; return a receipt (message id, URI) for the log."""


@dataclass(frozen=True)
class Outbox:
    store: ObjectStore

    def deliver(self, notification: Notification) -> str:
        key = layout.outbox_key(notification.asin, notification.version)
        body = {
            **asdict(notification),
            "subject": notification.subject,
            "text": notification.text(),
        }
        self.store.put_bytes(key, json.dumps(body, indent=2).encode())
        return self.store.uri(key)


@dataclass(frozen=True)
class SlackWebhook:
    url: str
    timeout_s: float = 10.0

    def deliver(self, notification: Notification) -> str:
        text = f"*{slack_escape(notification.subject)}*\n{slack_escape(notification.text())}"
        payload = json.dumps({"text": text}).encode()
        request = urllib.request.Request(
            self.url, data=payload, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return f"slack:{response.status}"
        except (urllib.error.URLError, TimeoutError) as exc:
            raise NotifyError(f"Slack webhook failed: {exc}") from exc


@dataclass(frozen=True)
class SnsTopic:
    topic_arn: str
    client: Any = None

    def deliver(self, notification: Notification) -> str:
        import boto3
        import botocore.exceptions

        client = self.client or boto3.client("sns", region_name=self.topic_arn.split(":")[3])
        try:
            response = client.publish(
                TopicArn=self.topic_arn,
                Subject=notification.subject,
                Message=notification.text(),
                MessageAttributes={
                    "asin": {"DataType": "String", "StringValue": notification.asin}
                },
            )
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise NotifyError(f"SNS publish failed: {exc}") from exc
        return f"sns:{response['MessageId']}"


def open_channel(url: str, *, store: ObjectStore) -> Channel:
    url = url.strip()
    if url in ("", "outbox:"):
        return Outbox(store)
    if url.startswith(("https://", "http://")):
        return SlackWebhook(url)
    if url.startswith("sns:arn:aws:sns:"):
        return SnsTopic(url.removeprefix("sns:"))
    raise ValueError(
        f"SHAZAM_NOTIFY_URL {url!r}: use empty/outbox:, an https:// Slack webhook, or sns:<topic ARN>"
    )


def notify_once(store: ObjectStore, channel: Channel, notification: Notification) -> str | None:
    """Send unless this version's decision was already notified; returns the receipt or None."""
    marker = layout.notified_key(notification.asin, notification.version)
    if store.exists(marker):
        return None
    receipt = channel.deliver(notification)
    record = {
        "sent_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "receipt": receipt,
        "verdict": notification.verdict,
    }
    store.put_bytes(marker, json.dumps(record).encode())
    return receipt
