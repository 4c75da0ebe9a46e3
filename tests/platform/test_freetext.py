"""The one rule for text people type: what is stored, and what is refused with which code."""

from __future__ import annotations

import pytest

from shazam_assets.platform import freetext
from shazam_assets.platform.freetext import NOTE, REVIEWER_NAME, TextError, normalize, readable


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("  Rita  ", "Rita"),
        ("Jose\u0301", "Jos\u00e9"),  # NFD from a Mac keyboard: the same name as NFC
        ("Jos\udcc3\udca9", "Jos\u00e9"),  # UTF-8 bytes escaped by an ASCII locale: recovered
        ("\u674e\u534e \U0001f600", "\u674e\u534e \U0001f600"),
        (
            "Zo\u00eb\u200d",
            "Zo\u00eb\u200d",
        ),  # joiners are text (emoji, Indic scripts), not controls
    ],
)
def test_names_are_stored_normalized(typed: str, stored: str) -> None:
    assert normalize(typed, REVIEWER_NAME) == stored


def test_notes_keep_lines_and_tabs() -> None:
    assert normalize("fix:\r\n\tthe handle\rand logo", NOTE) == "fix:\n\tthe handle\nand logo"


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Jos\udce9", "TEXT_NOT_UTF8"),  # Latin-1 terminal
        ("Jos\ud800", "TEXT_NOT_UTF8"),  # a lone surrogate from a JSON escape
        ("Rita\x1b[2J", "TEXT_CONTROL_CHARACTER"),
        ("Rita\x00", "TEXT_CONTROL_CHARACTER"),
        ("Rita\nBob", "TEXT_CONTROL_CHARACTER"),  # a name is one line
        ("Rita\tBob", "TEXT_CONTROL_CHARACTER"),
        ("\u202eatiR", "TEXT_CONTROL_CHARACTER"),  # reads backwards
        ("Ri\u2028ta", "TEXT_CONTROL_CHARACTER"),
        ("Ri\x85ta", "TEXT_CONTROL_CHARACTER"),  # C1 next line
        ("R" * 121, "TEXT_TOO_LONG"),
    ],
)
def test_bad_names_are_refused_with_a_code(typed: str, code: str) -> None:
    with pytest.raises(TextError) as refused:
        normalize(typed, REVIEWER_NAME)
    assert refused.value.code == code and refused.value.code in freetext.CODES
    assert "reviewer name" in str(refused.value)
    str(refused.value).encode("utf-8")  # the message itself is printable


def test_the_cap_counts_characters_after_nfc() -> None:
    assert normalize("e\u0301" * 120, REVIEWER_NAME) == "\u00e9" * 120


def test_stored_values_are_made_readable_never_refused() -> None:
    assert readable("Jos\udce9") == "Jos\ufffd"
    assert readable(None) == "" and readable("ok") == "ok"
