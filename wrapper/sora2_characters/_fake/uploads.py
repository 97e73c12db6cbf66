"""Parsing upload requests (multipart without python-multipart, base64, data URLs) and naming files."""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
import secrets
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import unquote, urlsplit

# The header-only half of inspect_video: naming the container needs no duration parse (hachoir).
from sora2_characters._media import MIME_TYPES, sniff_container

_DATA_URL = re.compile(r"data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?:;[\w-]+=[^;,]*)*;base64,(?P<data>.*)", re.DOTALL)


@dataclass(frozen=True)
class FormPart:
    """One field of a multipart form."""

    content: bytes
    filename: str | None
    content_type: str | None


class UploadParseError(ValueError):
    """The upload request cannot be read; the message names the field."""


def parse_multipart(content_type: str, body: bytes) -> dict[str, FormPart]:
    """Parse a ``multipart/form-data`` body into its named parts (the first of each name wins)."""
    if not content_type.lower().startswith("multipart/form-data") or "boundary=" not in content_type:
        raise UploadParseError("body: must be multipart/form-data with a boundary")
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise UploadParseError("body: the multipart form could not be parsed")
    parts: dict[str, FormPart] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or name in parts:
            continue
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        parts[name] = FormPart(content, filename, part.get_content_type() if "content-type" in part else None)
    return parts


def decode_base64(value: str) -> tuple[bytes, str | None]:
    """Decode raw base64 or a ``data:`` URL; returns (content, MIME type the data URL declared)."""
    mime: str | None = None
    match = _DATA_URL.fullmatch(value.strip())
    if match:
        mime, value = match["mime"], match["data"]
    try:
        return base64.b64decode("".join(value.split()), validate=True), mime
    except (binascii.Error, ValueError) as exc:
        raise UploadParseError("base64Data: not valid base64 (nor a base64 data URL)") from exc


def file_name_for(given: str | None, *fallbacks: str | None) -> str:
    """Return the stored file name: the given one, a fallback's base name, or a random one."""
    for candidate in (given, *fallbacks):
        if candidate:
            name = unquote(candidate.rsplit("/", 1)[-1]).strip()
            if name:
                return name
    return f"upload-{secrets.token_hex(6)}"


def url_file_name(url: str) -> str | None:
    """Return the last path segment of ``url``, if any."""
    path = urlsplit(url).path
    return path.rsplit("/", 1)[-1] or None


def mime_type_for(content: bytes | None, file_name: str, declared: str | None) -> str:
    """Return the MIME type: sniffed from a video's content first, then declared, then from the name.

    Only the first bytes are read (the container's magic), never the whole file: this runs on the
    server's event loop.
    """
    if content:
        container = sniff_container(content)
        if container is not None:
            return MIME_TYPES[container]
    if declared and declared != "application/octet-stream":
        return declared
    guessed, _ = mimetypes.guess_type(file_name)
    return guessed or "application/octet-stream"
