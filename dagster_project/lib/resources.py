"""Typed configuration shared by every stage: where the object store is, where S3 events arrive.

Values come from the environment through `EnvVar` when a run or sensor starts, never at
import time. Every default is `shazam_assets.platform.settings.Settings`'s, which documents the
variables.
"""

from __future__ import annotations

from functools import cached_property

import dagster as dg
from pydantic import PrivateAttr

from shazam_assets.platform.settings import DEFAULTS
from shazam_assets.platform.storage import ObjectStore, open_store


class ObjectStoreResource(dg.ConfigurableResource):
    """The store holding uploads, verdicts and versions (`file:///…` or `s3://bucket/prefix`)."""

    url: str
    _store: ObjectStore | None = PrivateAttr(default=None)

    def open(self) -> ObjectStore:
        if self._store is None:
            self._store = open_store(self.url)
        return self._store


class UploadQueueResource(dg.ConfigurableResource):
    """SQS queue receiving the bucket's S3 event notifications (empty: list the prefix instead)."""

    queue_url: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.queue_url.strip())

    @cached_property
    def client(self):
        import boto3

        return boto3.client("sqs")


class NotifierResource(dg.ConfigurableResource):
    """Where rejections are sent: empty/`outbox:`, a Slack webhook URL, or `sns:<topic ARN>`."""

    url: str = ""

    def channel(self, store: ObjectStore):
        from shazam_assets.platform.notify import open_channel

        return open_channel(self.url, store=store)


class QASettingsResource(dg.ConfigurableResource):
    """Review policy: how many older approved versions to keep for rollback, and the review SLA."""

    keep_approved: int = DEFAULTS.keep_approved
    sla_hours: float = DEFAULTS.review_sla_hours


class TurntableSettingsResource(dg.ConfigurableResource):
    """How turntables are rendered: frames around the product (8-72), frame size in px,
    background, frame format and video format. Changing any of them re-renders."""

    frames: int = DEFAULTS.render_frames
    size: int = DEFAULTS.render_size
    background: str = "white"
    frame_format: str = "webp"
    video: str = "mp4"

    def spec(self):
        from shazam_assets.render.turntable import TurntableSpec

        return TurntableSpec(
            frames=self.frames,
            size=self.size,
            background=self.background,  # type: ignore[arg-type]
            frame_format=self.frame_format,
            video=self.video,  # type: ignore[arg-type]
        )


class SearchSettingsResource(dg.ConfigurableResource):
    """The image embedder of the search index: `descriptor` (computed by the project, the
    default) or `open_clip:/local/path` (a learned model from a local checkpoint)."""

    embedder_spec: str = "descriptor"

    def embedder(self):
        from shazam_assets.search.embed import open_embedder

        return open_embedder(self.embedder_spec)
