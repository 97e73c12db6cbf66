"""Content-based inspection of character videos: container, MIME type, duration and size.

The API accepts a 1-4 s clip in MP4, WebM or AVI of at most 10 MB. The client checks an upload against
those limits before sending it, and the fake server checks a task's source video the same way, both
through :func:`inspect_video`.

The container is recognised from the first bytes of the content, never from a file name:

* **mp4**: an ISO base media file whose first box is ``ftyp`` (bytes 4-8) and whose major brand is
  one of :data:`MP4_BRANDS`, or whose major brand is unknown and one of whose compatible brands is.
  Major brands of formats that merely share the box structure (QuickTime ``qt  ``, audio-only
  ``M4A ``/``M4B ``/``M4P ``, 3GPP ``3gp*``/``3g2*``, HEIF/AVIF still images) are never mp4, even
  when they list ``isom`` as compatible. A QuickTime ``.mov`` is therefore not an mp4.
* **webm**: an EBML header (``1A 45 DF A3``) whose ``DocType`` is ``webm``. A Matroska file
  (``DocType`` ``matroska``) is not webm.
* **avi**: a ``RIFF`` chunk of form type ``AVI `` (``RIFF....AVI ``).

The duration is read with hachoir, a maintained parser (``moov/mvhd`` for mp4, ``Segment/Info`` for
webm, the stream or main AVI header for avi), imported on first use so importing the package stays
cheap. Anything hachoir prints is silenced while it runs.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO, Final

import attrs

__all__ = ["MIME_TYPES", "MP4_BRANDS", "VideoInfo", "inspect_video", "seekable", "sniff_container"]

#: ``ftyp`` brands that make an ISO base media file an mp4 (ISO/IEC 14496-12 and -14, H.264 in
#: MP4, Apple's M4V video, DASH and the Adobe/MobileMP4 flavours of the same format).
MP4_BRANDS: Final = frozenset(
    {
        "isom",
        "iso2",
        "iso3",
        "iso4",
        "iso5",
        "iso6",
        "iso7",
        "iso8",
        "iso9",
        "mp41",
        "mp42",
        "avc1",
        "M4V ",
        "M4VH",
        "M4VP",
        "dash",
        "mmp4",
        "f4v ",
    }
)

# Major brands of files that are ISO base media but not an mp4 video, even when they list an mp4
# brand as compatible (HEIF and AVIF images list "iso8", audio-only M4A lists "isom").
_NOT_MP4_MAJOR_BRANDS: Final = frozenset(
    {"qt  ", "M4A ", "M4B ", "M4P ", "heic", "heix", "heim", "heis", "hevc", "mif1", "msf1", "avif", "crx "}
)
_NOT_MP4_MAJOR_PREFIXES: Final = ("3gp", "3g2")

#: MIME type reported for each container. AVI uses ``video/x-msvideo``, the name in the Python
#: standard library's ``mimetypes`` table and the one hachoir reports, rather than ``video/avi``.
MIME_TYPES: Final = {"mp4": "video/mp4", "webm": "video/webm", "avi": "video/x-msvideo"}

# Enough for the ftyp box with a long list of compatible brands and for a whole EBML header.
_HEAD_SIZE: Final = 4096

_EBML_MAGIC: Final = b"\x1a\x45\xdf\xa3"
_EBML_HEADER_ID: Final = 0x1A45DFA3
_EBML_DOCTYPE_ID: Final = 0x4282


@attrs.frozen
class VideoInfo:
    """What the content of a video file says about it.

    Attributes:
        container: ``"mp4"``, ``"webm"`` or ``"avi"``; ``None`` when the content is none of them.
        mime_type: the container's MIME type from :data:`MIME_TYPES` (``video/mp4``, ``video/webm``,
            ``video/x-msvideo``); ``None`` with ``container``.
        duration: length in seconds as the container's header states it; ``None`` when the
            container is unknown or the header is missing, damaged, or states a length that is not
            between 1 ms and 365 days (hachoir's bounds).
        size: length of the content in bytes.

    Example::

        >>> inspect_video(b"not a video")
        VideoInfo(container=None, mime_type=None, duration=None, size=11)

    """

    container: str | None
    mime_type: str | None
    duration: float | None
    size: int


def inspect_video(source: bytes | str | os.PathLike[str] | BinaryIO) -> VideoInfo:
    """Recognise a video's container from its content and read its duration.

    ``source`` is the content itself (``bytes``), a path (``str`` or path-like; a ``str`` is never
    taken as content), or a seekable binary file object. A file object is read from its start
    (offset 0), whatever its current position, and that position is restored before returning.
    Files and file objects are parsed in place, never read whole into memory.

    Garbage, empty and truncated content never raises: it gives ``container=None`` or
    ``duration=None``. A path that cannot be opened raises the ``OSError`` of :func:`open`
    (``FileNotFoundError`` for a missing file); a file object that cannot seek raises
    ``ValueError``. Nothing is ever printed.

    Example::

        >>> info = inspect_video("examples/character.mp4")
        >>> info.container, info.mime_type, round(info.duration or 0, 1)
        ('mp4', 'video/mp4', 2.0)
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _inspect_bytes(bytes(source))
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as file:
            return _inspect_stream(file, os.fstat(file.fileno()).st_size)
    return _inspect_file_object(source)


def _inspect_bytes(data: bytes) -> VideoInfo:
    container = _sniff_container(data[:_HEAD_SIZE])
    duration = None
    if container is not None:
        duration = _hachoir_duration(container, data, len(data))
    return _info(container, duration, len(data))


def _inspect_file_object(file: BinaryIO) -> VideoInfo:
    if not seekable(file):
        raise ValueError("inspect_video needs a seekable file object (or bytes, or a path)")
    position = file.tell()
    try:
        size = file.seek(0, io.SEEK_END)
        return _inspect_stream(file, size)
    finally:
        file.seek(position)


def seekable(file: Any) -> bool:
    """Whether ``file`` can seek; ``False`` for a closed file or an object without ``seekable``."""
    try:
        return bool(file.seekable())
    except (AttributeError, ValueError, OSError):
        return False


def _inspect_stream(file: BinaryIO, size: int) -> VideoInfo:
    file.seek(0)
    container = _sniff_container(file.read(_HEAD_SIZE))
    duration = None
    if container is not None:
        duration = _hachoir_duration(container, file, size)
    return _info(container, duration, size)


def _info(container: str | None, duration: float | None, size: int) -> VideoInfo:
    mime_type = MIME_TYPES[container] if container is not None else None
    return VideoInfo(container=container, mime_type=mime_type, duration=duration, size=size)


# --- container recognition (magic bytes only; durations come from hachoir) ----------------------


def sniff_container(data: bytes) -> str | None:
    """Return ``"mp4"``, ``"webm"`` or ``"avi"`` from the first bytes of ``data`` alone, else ``None``.

    Cheap (no parsing beyond the magic bytes, no duration): for choosing a MIME type.
    """
    return _sniff_container(data[:_HEAD_SIZE])


def _sniff_container(head: bytes) -> str | None:
    if _is_mp4(head):
        return "mp4"
    if _is_webm(head):
        return "webm"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    return None


def _is_mp4(head: bytes) -> bool:
    if len(head) < 16 or head[4:8] != b"ftyp":
        return False
    box_size = int.from_bytes(head[:4], "big")
    header_size = 8
    if box_size == 1:  # 64-bit "largesize" follows the type
        box_size = int.from_bytes(head[8:16], "big")
        header_size = 16
    elif box_size == 0:  # the box runs to the end of the file
        box_size = len(head)
    box_end = min(box_size, len(head))
    if box_end < header_size + 8:  # no room for major brand and minor version
        return False
    major = head[header_size : header_size + 4].decode("latin-1")
    if major in MP4_BRANDS:
        return True
    if major in _NOT_MP4_MAJOR_BRANDS or major.startswith(_NOT_MP4_MAJOR_PREFIXES):
        return False
    compatible = (
        head[offset : offset + 4].decode("latin-1") for offset in range(header_size + 8, box_end - 3, 4)
    )
    return any(brand in MP4_BRANDS for brand in compatible)


def _is_webm(head: bytes) -> bool:
    if head[:4] != _EBML_MAGIC:
        return False
    element = _read_vint(head, 0, keep_marker=True)
    size = _read_vint(head, element[1], keep_marker=False) if element else None
    if element is None or element[0] != _EBML_HEADER_ID or size is None:
        return False
    position = size[1]
    end = len(head) if size[0] is None else min(position + size[0], len(head))
    while position < end:
        child = _read_vint(head, position, keep_marker=True)
        child_size = _read_vint(head, child[1], keep_marker=False) if child else None
        if child is None or child_size is None or child_size[0] is None:
            return False
        position = child_size[1]
        if child[0] == _EBML_DOCTYPE_ID:
            return head[position : position + child_size[0]].rstrip(b"\x00") == b"webm"
        position += child_size[0]
    return False


def _read_vint(data: bytes, position: int, *, keep_marker: bool) -> tuple[int | None, int] | None:
    """Read an EBML variable-length integer: ``(value, next position)``, value ``None`` if unknown.

    IDs keep their length marker bit (``keep_marker``); sizes drop it, and a size whose bits are all
    ones means "unknown". ``None`` when the bytes run out or the first byte is zero.
    """
    if position >= len(data) or data[position] == 0:
        return None
    length = 9 - data[position].bit_length()
    if position + length > len(data):
        return None
    value = int.from_bytes(data[position : position + length], "big")
    if keep_marker:
        return value, position + length
    value_bits = 7 * length
    value &= (1 << value_bits) - 1
    if value == (1 << value_bits) - 1:
        return None, position + length
    return value, position + length


# --- duration through hachoir ------------------------------------------------------------------


def _hachoir_duration(container: str, content: bytes | BinaryIO, size: int) -> float | None:
    if size == 0:
        return None
    # Imported here: loading hachoir's parsers and extractors takes tens of milliseconds.
    from hachoir.metadata import extractMetadata  # noqa: PLC0415
    from hachoir.metadata.metadata_item import QUALITY_FASTEST  # noqa: PLC0415
    from hachoir.parser.container import MkvFile, MP4File, RiffFile  # noqa: PLC0415
    from hachoir.stream import InputIOStream, StringInputStream  # noqa: PLC0415

    parser_class = {"mp4": MP4File, "webm": MkvFile, "avi": RiffFile}[container]
    with _SILENCER.silenced():
        try:
            if isinstance(content, bytes):
                stream = StringInputStream(content, source="<bytes>")
            else:
                # The size is given so hachoir does not seek around itself; InputIOStream is never
                # closed here, so the caller's file stays open.
                stream = InputIOStream(content, size=size * 8, source="<file>")
            parser = parser_class(stream, validate=True)
            metadata = extractMetadata(parser, quality=QUALITY_FASTEST)
            return _seconds(metadata)
        except Exception:  # noqa: BLE001 - ValidateError, or damaged input failing anywhere in hachoir
            return None


def _seconds(metadata: Any) -> float | None:
    # hachoir keeps a duration only between 1 ms and 365 days: zero, negative, NaN and infinite
    # lengths in a damaged header never get here.
    if metadata is None or not metadata.has("duration"):
        return None
    return float(metadata.get("duration").total_seconds())


class _HachoirSilencer:
    """Mute hachoir's logger while any inspection runs, restoring its settings after the last one.

    hachoir writes warnings and errors about odd input straight to stderr through a module-level
    logger. Its switches are process-wide, so concurrent inspections share one muted period: the
    first to enter saves the settings, the last to leave puts them back.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._saved: tuple[bool, bool] = (False, True)

    @contextmanager
    def silenced(self) -> Iterator[None]:
        from hachoir.core import config  # noqa: PLC0415 - lazy, see _hachoir_duration
        from hachoir.core.log import log  # noqa: PLC0415

        with self._lock:
            if self._depth == 0:
                self._saved = (config.quiet, log.use_print)
                config.quiet = True
                log.use_print = False
            self._depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0:
                    config.quiet, log.use_print = self._saved


_SILENCER: Final = _HachoirSilencer()
