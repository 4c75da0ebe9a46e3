"""Amazon Standard Identification Numbers: the key of every product, partition and store path.

An ASIN is 10 characters. Amazon-issued ones start with ``B0`` followed by eight upper-case
letters or digits; books use their ISBN-10, whose last character is a mod-11 check digit
(``X`` standing for 10).
"""

from __future__ import annotations

import re

_B0_ASIN = re.compile(r"B0[0-9A-Z]{8}")
_ISBN10 = re.compile(r"[0-9]{9}[0-9X]")


def is_valid_isbn10(value: str) -> bool:
    """True for a well-formed ISBN-10 whose check digit is right."""
    if not _ISBN10.fullmatch(value):
        return False
    total = sum((10 - i) * (10 if c == "X" else int(c)) for i, c in enumerate(value))
    return total % 11 == 0


def asin_problem(value: str) -> str | None:
    """Why `value` is not a valid ASIN, or None when it is."""
    if not isinstance(value, str):
        return f"ASIN must be a string, got {type(value).__name__}"
    if len(value) != 10:
        return f"ASIN {value!r} has {len(value)} characters; an ASIN has exactly 10"
    if value != value.upper():
        return f"ASIN {value!r} must be upper case"
    if _B0_ASIN.fullmatch(value) or is_valid_isbn10(value):
        return None
    if _ISBN10.fullmatch(value):
        return f"ASIN {value!r} looks like an ISBN-10 but its check digit is wrong"
    return f"ASIN {value!r} is neither 'B0' followed by 8 letters/digits nor a valid ISBN-10"


def is_valid_asin(value: str) -> bool:
    return asin_problem(value) is None
