"""Resource URIs: data: URIs decoded, relative references checked and percent-decoded.

The rules follow what the reference validator accepts (Dart's `UriData` for data: URIs, its
URI parser for the rest). On top of that a delivery must be self-contained, so any reference
that could reach outside the delivery folder (a scheme, an absolute path, a drive letter, a
network path, or '..' past the root) is refused before anything is read.
"""

from __future__ import annotations

import base64
import binascii
import posixpath
import re
import urllib.parse
from dataclasses import dataclass

from shazam_assets.ingest.delivery.gltf import catalog
from shazam_assets.ingest.delivery.gltf.context import Context

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_SCHEME_CANDIDATE = re.compile(r"^([^:/?#]*):")
_SCHEME_CHARS = re.compile(r"[A-Za-z0-9+.\-]*")
_BASE64_CHARS = re.compile(r"^[A-Za-z0-9+/\-_]*=*$")
_TOKEN = re.compile(r"^[^/\s;,]+/[^/\s;,]+$")


class DataUriError(ValueError):
    """A data: URI that cannot be decoded; the message says why."""


@dataclass(frozen=True)
class DataUri:
    mime_type: str  # lower-cased media type, "text/plain" when empty
    data: bytes


def _decode_base64(payload: str) -> bytes:
    text = urllib.parse.unquote(payload)
    if not _BASE64_CHARS.match(text):
        raise DataUriError("Invalid base64 data")
    stripped = text.rstrip("=")
    if len(stripped) != len(text) and len(text) % 4:
        raise DataUriError("Invalid base64 padding")
    if len(stripped) % 4 == 1:
        raise DataUriError("Invalid base64 encoding length")
    normal = stripped.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(normal + "=" * (-len(normal) % 4), validate=True)
    except binascii.Error as exc:  # pragma: no cover - the checks above catch these
        raise DataUriError(str(exc)) from exc


def parse_data_uri(text: str) -> DataUri | None:
    """Decode a data: URI; None when `text` is not one, DataUriError when it is broken."""
    if text[:5].lower() != "data:":
        return None
    header, comma, payload = text[5:].partition(",")
    if not comma:
        raise DataUriError("Expecting ','")
    parts = header.split(";")
    mime = parts[0]
    if mime and not _TOKEN.match(mime):
        raise DataUriError("Invalid MIME type")
    params = parts[1:]
    is_base64 = bool(params) and params[-1] == "base64"
    if is_base64:
        params = params[:-1]
    if any("=" not in p or p.startswith("=") for p in params):
        raise DataUriError("Expecting '='")
    data = _decode_base64(payload) if is_base64 else urllib.parse.unquote_to_bytes(payload)
    return DataUri(mime_type=(mime or "text/plain").lower(), data=data)


def _uri_problem(text: str) -> str | None:
    """Why Dart's URI parser would reject `text` (its scheme or authority), or None."""
    match = _SCHEME_CANDIDATE.match(text)
    rest = text
    if match:
        scheme = match.group(1)
        if not scheme:
            return "invalid empty scheme"
        if not ("a" <= scheme[0].lower() <= "z"):
            return "scheme not starting with an alphabetic character"
        if not _SCHEME_CHARS.fullmatch(scheme):
            return "illegal scheme character"
        rest = text[len(scheme) + 1 :]
    if rest.startswith("//"):
        authority = re.split(r"[/?#]", rest[2:], maxsplit=1)[0].rsplit("@", 1)[-1]
        if authority.startswith("["):
            if "]" not in authority:
                return "missing end ']' in host"
            authority = authority[authority.index("]") + 1 :]
        _, colon, port = authority.partition(":")
        if colon and not port.isdigit() and port != "":
            return "invalid port"
    return None


def check_uri(text: str, ctx: Context) -> str | None:
    """Report an unparsable or non-relative reference (as Khronos does); None if unparsable."""
    problem = _uri_problem(text)
    if problem is not None:
        ctx.add(catalog.INVALID_URI, f"Invalid URI {text!r}: {problem}", name="uri")
        return None
    if _SCHEME_CANDIDATE.match(text) or text.startswith(("/", "\\")) or "?" in text or "#" in text:
        ctx.add(catalog.NON_RELATIVE_URI, f"Non-relative URI found: {text!r}", name="uri")
    return text


def delivery_path(text: str) -> str | None:
    """The percent-decoded path of a relative reference inside the delivery, or None.

    None means the reference leaves the delivery: a scheme (http:, file:, a drive letter
    like C:), an absolute or network path, or more '..' than folders above it.
    """
    if _SCHEME.match(text) or text.startswith(("/", "\\")):
        return None
    decoded = urllib.parse.unquote(text).replace("\\", "/")
    if decoded.startswith("/") or _SCHEME.match(decoded):
        return None
    normal = posixpath.normpath(decoded)
    if normal == ".." or normal.startswith("../") or normal.startswith("/"):
        return None
    return normal
