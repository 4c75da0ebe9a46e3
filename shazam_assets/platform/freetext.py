"""Free text that people type (reviewer names, notes, comments) made safe at the door.

Whatever a terminal, a browser form or a JSON file hands over is checked once, here, before it
is stored: a stored value is shown on every review page, in `shazam status` and in Slack, so
one bad value would break them all. The rules:

- valid Unicode that encodes as UTF-8. A name typed in a Latin-1 terminal reaches Python as a
  lone surrogate (`surrogateescape`); it is refused (`TEXT_NOT_UTF8`) naming the bad byte,
  never stored, because no page can encode it;
- NFC, so "José" typed with a combining accent and with "é" are the same name;
- no control characters (`TEXT_CONTROL_CHARACTER`): C0/C1 controls, bidirectional overrides
  and isolates (which can make a name read backwards), line and paragraph separators. Multi-line
  fields keep newlines (CR LF and CR become LF) and tabs;
- a length cap per field (`TEXT_TOO_LONG`), counted in characters after NFC.

`readable` is the lenient twin for values stored before these rules: it never refuses, it
replaces what cannot be shown, so old records still display.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from shazam_assets.platform.errors import ShazamError

# Every code `TextError` is raised with, and what it means.
CODES = {
    "TEXT_NOT_UTF8": "the text is not valid UTF-8 (typed in a terminal or sent by a client with another encoding)",
    "TEXT_CONTROL_CHARACTER": "the text holds a control, bidirectional-override or separator character",
    "TEXT_TOO_LONG": "the text is longer than its field allows",
}

_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_SEPARATORS = frozenset("\u2028\u2029\x85")


class TextError(ShazamError, ValueError):
    """Text that is not stored; `code` is one of CODES and the message names the field."""


@dataclass(frozen=True)
class TextField:
    """How one kind of free text is checked: its name in messages, its cap, and whether it may
    span lines."""

    name: str
    max_chars: int
    multiline: bool = False


REVIEWER_NAME = TextField("reviewer name", 120)
NOTE = TextField("note", 4000, multiline=True)
COMMENT_ISSUE = TextField("comment issue", 120)
COMMENT = TextField("comment", 2000, multiline=True)

# The free text of a delivery's manifest.json (ingest.delivery.contract).
ARTIST_NAME = TextField("artist name", 200)
PRODUCT_TITLE = TextField("title", 500)
SIGNED_OFF_BY = TextField("signed off by", 200)
STAGE_NOTES = TextField("stage notes", 4000, multiline=True)


def normalize(value: str, field: TextField) -> str:
    """`value` as it is stored: valid, NFC, trimmed; TextError when it cannot be."""
    text = _as_unicode(value, field)
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n")).strip()
    for position, char in enumerate(text, 1):
        if not _allowed(char, field):
            raise TextError(
                "TEXT_CONTROL_CHARACTER",
                f"{field.name} contains the control character U+{ord(char):04X} at character {position}; "
                "type it again without it",
            )
    if len(text) > field.max_chars:
        raise TextError(
            "TEXT_TOO_LONG",
            f"{field.name} has {len(text):,} characters; at most {field.max_chars:,} are kept",
        )
    return text


def _as_unicode(value: str, field: TextField) -> str:
    """`value` without surrogates. Bytes smuggled in through `surrogateescape` that form UTF-8
    are recovered (an ASCII locale); any other surrogate is refused, naming the first bad byte."""
    if not any("\ud800" <= c <= "\udfff" for c in value):
        return value
    try:
        return value.encode("utf-8", "surrogateescape").decode("utf-8")
    except UnicodeError:
        pass
    position, char = next((i, c) for i, c in enumerate(value, 1) if "\ud800" <= c <= "\udfff")
    escaped = 0xDC80 <= ord(char) <= 0xDCFF
    what = f"byte 0x{ord(char) - 0xDC00:02X}" if escaped else f"lone surrogate U+{ord(char):04X}"
    raise TextError(
        "TEXT_NOT_UTF8",
        f"{field.name} is not valid UTF-8 ({what} at character {position}); "
        "set the terminal (or client) to UTF-8 and type it again",
    )


def _allowed(char: str, field: TextField) -> bool:
    if field.multiline and char in "\n\t":
        return True
    if char in _BIDI_CONTROLS or char in _SEPARATORS:
        return False
    return unicodedata.category(char) != "Cc"


def readable(value: object) -> str:
    """A stored value as something every page can show: text that cannot be encoded (a lone
    surrogate written before `normalize` existed) becomes U+FFFD. Never refuses."""
    text = value if isinstance(value, str) else "" if value is None else str(value)
    return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)
