"""Slack messages carry text an artist or reviewer typed: it must reach Slack as text."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from shazam_assets.platform.notify import Notification, SlackWebhook, slack_escape

HOSTILE = "<!channel> <https://evil.example|click here> & <@U123>"


@pytest.fixture
def slack() -> Iterator[tuple[str, list[dict]]]:
    """A stand-in for Slack's incoming-webhook endpoint, over HTTP; the bodies it received."""
    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/services/T/B/X", received
    finally:
        server.shutdown()


def test_free_text_reaches_slack_escaped(slack) -> None:
    url, received = slack
    notification = Notification(
        asin="B0TEST0001",
        version=3,
        verdict="reject",
        reviewer=HOSTILE,
        notes=HOSTILE,
        artist=HOSTILE,
        title=HOSTILE,
        upload_key="uploads/B0TEST0001/<!here>.zip",
        comments=({"issue": HOSTILE, "comment": HOSTILE},),
    )
    SlackWebhook(url).deliver(notification)
    (body,) = received
    text = body["text"]
    # Slack reads <...> as a mention, a link or a command; escaped, each is shown as typed.
    assert "<" not in text and ">" not in text
    assert "&lt;!channel&gt;" in text and "&lt;!here&gt;" in text
    assert "&lt;https://evil.example|click here&gt;" in text and "&amp; &lt;@U123&gt;" in text
    assert text.startswith("*[SHAZAM] B0TEST0001 v3 rejected: ")  # our own bold survives


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("a & b", "a &amp; b"),
        ("<!everyone>", "&lt;!everyone&gt;"),
        ("&lt;", "&amp;lt;"),
        ("plain *text*", "plain *text*"),
    ],
)
def test_slack_escape_follows_slacks_three_rules(raw: str, escaped: str) -> None:
    assert slack_escape(raw) == escaped
