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

The duration of an mp4 is read here, from its boxes: ``moov/mvhd``; when that states no length (a
fragmented mp4 written with an empty ``moov``), ``moov/mvex/mehd``; failing that, the sum of the
sample durations of the ``moof`` fragments (``trun``, with the ``tfhd``/``trex`` defaults and the
``tfdt`` start times), in the track's ``mdhd`` time scale. The durations of webm (``Segment/Info``)
and avi (the stream or main AVI header) are read with hachoir, a maintained parser imported on first
use so importing the package stays cheap. Anything hachoir prints is silenced while it runs.

Inspection has a bounded cost, whatever the content (the inputs come from users and, in the fake,
from the network): the mp4 reader visits at most :data:`MAX_BOXES` boxes and reads at most
:data:`MAX_HEADER_BYTES` bytes of box contents; hachoir may call its stream's ``read`` at most
:data:`MAX_HACHOIR_READS` times. Real 1-4 s clips need a few dozen boxes or a few hundred reads; a
crafted file (100,000 empty boxes, deep nesting, huge declared sizes) hits the budget and reports no
duration, or, with ``strict=True``, raises :class:`~sora2_characters.InvalidInputError`. Measured on
such files without the budget, hachoir took 16 s of CPU and 146 MB for 100,000 empty mp4 boxes (0.8
MB), and 2.4 s for 10,000 empty webm elements.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO, Final

import attrs

from ._exceptions import InvalidInputError

__all__ = [
    "MAX_BOXES",
    "MAX_HACHOIR_READS",
    "MAX_HEADER_BYTES",
    "MIME_TYPES",
    "MP4_BRANDS",
    "VideoInfo",
    "inspect_video",
    "remux_hint",
    "seekable",
    "sniff_container",
]

#: Most mp4 boxes one inspection visits (a fragmented 4 s clip at 60 fps has about 1,500).
MAX_BOXES: Final = 10_000
#: Most bytes of mp4 box contents one inspection reads (headers and ``trun`` sample tables).
MAX_HEADER_BYTES: Final = 2 * 1024 * 1024
#: Most calls hachoir may make to its stream's ``read`` for one webm or avi (real clips: 50-200).
MAX_HACHOIR_READS: Final = 1_500

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


def inspect_video(source: bytes | str | os.PathLike[str] | BinaryIO, *, strict: bool = False) -> VideoInfo:
    """Recognise a video's container from its content and read its duration.

    ``source`` is the content itself (``bytes``), a path (``str`` or path-like; a ``str`` is never
    taken as content), or a seekable binary file object. A file object is read from its start
    (offset 0), whatever its current position, and that position is restored before returning.
    Files and file objects are parsed in place, never read whole into memory.

    Garbage, empty and truncated content never raises: it gives ``container=None`` or
    ``duration=None``. Content whose structure exceeds the inspection budget (see the module
    docstring) gives ``duration=None`` too, or with ``strict=True`` raises
    :class:`~sora2_characters.InvalidInputError` (field ``source``). A path that cannot be opened
    raises the ``OSError`` of :func:`open` (``FileNotFoundError`` for a missing file); a file object
    that cannot seek raises ``ValueError``. Nothing is ever printed.

    Example::

        >>> info = inspect_video("examples/character.mp4")
        >>> info.container, info.mime_type, round(info.duration or 0, 1)
        ('mp4', 'video/mp4', 2.0)
    """
    try:
        if isinstance(source, (bytes, bytearray, memoryview)):
            return _inspect_bytes(bytes(source))
        if isinstance(source, (str, os.PathLike)):
            with open(source, "rb") as file:
                return _inspect_stream(file, os.fstat(file.fileno()).st_size)
        return _inspect_file_object(source)
    except _OverBudget as over:
        if strict:
            raise InvalidInputError(
                "source",
                f"its {over.container} structure is too complex to inspect ({over.reason}); "
                "no real 1-4 s clip is",
            ) from None
        return _info(over.container, None, over.size)


def _inspect_bytes(data: bytes) -> VideoInfo:
    container = _sniff_container(data[:_HEAD_SIZE])
    duration = None
    if container is not None:
        duration = _duration(container, data, len(data))
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
        duration = _duration(container, file, size)
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


# --- remux hints ----------------------------------------------------------------------------------


def remux_hint(head: bytes) -> str | None:
    """How to turn a refused container into an accepted one, from its first bytes; ``None`` if unknown.

    A QuickTime ``.mov`` and a Matroska ``.mkv`` usually hold H.264 or VP8/VP9 that fit an mp4 or a
    webm as they are: a remux (no re-encoding) is enough.
    """
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] == b"qt  ":
        return "a QuickTime .mov is not accepted; remux it to mp4 first: ffmpeg -i in.mov -c copy out.mp4"
    if head[:4] == _EBML_MAGIC and b"matroska" in head[:_HEAD_SIZE]:
        return "a Matroska .mkv is not accepted; remux it to mp4 first: ffmpeg -i in.mkv -c copy out.mp4"
    return None


# --- bounded reading ------------------------------------------------------------------------------


class _OverBudget(Exception):  # noqa: N818 - internal signal, never leaves inspect_video
    """The content's structure exceeds the inspection budget."""

    def __init__(self, reason: str, container: str = "", size: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.container = container
        self.size = size


class _Reader:
    """Reads byte ranges of bytes or a seekable file, counting boxes visited and bytes read."""

    def __init__(self, content: bytes | BinaryIO, size: int) -> None:
        self._content = content
        self.size = size
        self.boxes = 0
        self.bytes_read = 0

    def visit(self) -> None:
        self.boxes += 1
        if self.boxes > MAX_BOXES:
            raise _OverBudget(f"more than {MAX_BOXES:,} boxes")

    def read(self, offset: int, length: int) -> bytes:
        length = max(0, min(length, self.size - offset))
        self.bytes_read += length
        if self.bytes_read > MAX_HEADER_BYTES:
            raise _OverBudget(f"more than {MAX_HEADER_BYTES:,} bytes of box contents")
        if isinstance(self._content, bytes):
            return self._content[offset : offset + length]
        self._content.seek(offset)
        return self._content.read(length)


# --- mp4 duration (our own reader: mvhd, mehd, or the fragments) -----------------------------------

_MP4_CONTAINERS: Final = frozenset({b"moov", b"trak", b"mdia", b"mvex", b"moof", b"traf"})
_UNKNOWN_32: Final = 0xFFFFFFFF
_UNKNOWN_64: Final = 0xFFFFFFFFFFFFFFFF
# trun flags: which per-sample fields are present, and their order.
_TRUN_FIELDS: Final = (0x100, 0x200, 0x400, 0x800)


@attrs.define
class _Mp4:
    """What the boxes say, collected in one pass."""

    movie_scale: int = 0
    movie_duration: int = 0
    fragment_duration: int = 0
    track_scales: dict[int, int] = attrs.field(factory=dict)
    track_defaults: dict[int, int] = attrs.field(factory=dict)
    track_ends: dict[int, int] = attrs.field(factory=dict)
    current_track: int = 0

    def seconds(self) -> float | None:
        if self.movie_scale > 0 and self.movie_duration not in {0, _UNKNOWN_32, _UNKNOWN_64}:
            return self.movie_duration / self.movie_scale
        if self.movie_scale > 0 and self.fragment_duration not in {0, _UNKNOWN_32, _UNKNOWN_64}:
            return self.fragment_duration / self.movie_scale
        ends = [
            end / self.track_scales[track]
            for track, end in self.track_ends.items()
            if self.track_scales.get(track, 0) > 0
        ]
        return max(ends, default=None)


def _mp4_duration(reader: _Reader) -> float | None:
    state = _Mp4()
    _walk_mp4(reader, 0, reader.size, state, depth=0)
    return state.seconds()


def _walk_mp4(reader: _Reader, start: int, end: int, state: _Mp4, *, depth: int) -> None:
    position = start
    while position + 8 <= end:
        reader.visit()
        header = reader.read(position, 16)
        if len(header) < 8:
            return
        size = int.from_bytes(header[:4], "big")
        kind = header[4:8]
        header_size = 8
        if size == 1:
            if len(header) < 16:
                return
            size, header_size = int.from_bytes(header[8:16], "big"), 16
        elif size == 0:  # the box runs to the end of its parent
            size = end - position
        if size < header_size:
            return
        body_start, body_end = (
            position + header_size,
            min(position + size, end),
        )  # a cut box is read as far as it goes
        if kind in _MP4_CONTAINERS and depth < 4:
            if kind == b"traf":
                state.current_track = 0
            _walk_mp4(reader, body_start, body_end, state, depth=depth + 1)
        else:
            _read_mp4_leaf(reader, kind, body_start, body_end, state)
        position += size


def _read_mp4_leaf(reader: _Reader, kind: bytes, start: int, end: int, state: _Mp4) -> None:
    if kind == b"trun":
        _read_trun(reader, start, end, state)
    elif kind in {b"mvhd", b"mdhd", b"tkhd", b"mehd", b"trex", b"tfhd", b"tfdt"}:
        body = reader.read(start, min(end - start, 32))
        if len(body) >= 8:
            (_read_movie_box if kind in {b"mvhd", b"mdhd", b"tkhd"} else _read_fragment_box)(
                kind, body, state
            )


def _number(body: bytes, offset: int, width: int) -> int | None:
    if offset + width > len(body):
        return None
    return int.from_bytes(body[offset : offset + width], "big")


def _read_movie_box(kind: bytes, body: bytes, state: _Mp4) -> None:
    """``mvhd``, ``mdhd`` (time scale, duration) and ``tkhd`` (track id); version 1 has 64-bit times."""
    wide = body[0] == 1
    if kind == b"tkhd":
        state.current_track = _number(body, 20 if wide else 12, 4) or 0
        return
    scale = _number(body, 20 if wide else 12, 4)
    duration = _number(body, 24 if wide else 16, 8 if wide else 4)
    if scale is None or duration is None:
        return
    if kind == b"mvhd":
        state.movie_scale, state.movie_duration = scale, duration
    else:
        state.track_scales[state.current_track] = scale


def _read_fragment_box(kind: bytes, body: bytes, state: _Mp4) -> None:
    """``mehd`` (whole length), ``trex``/``tfhd`` (default sample duration), ``tfdt`` (fragment start)."""
    wide, flags = body[0] == 1, int.from_bytes(body[1:4], "big")
    if kind == b"mehd":
        state.fragment_duration = _number(body, 4, 8 if wide else 4) or 0
    elif kind == b"trex":
        track, default = _number(body, 4, 4), _number(body, 12, 4)
        if track is not None and default is not None:
            state.track_defaults[track] = default
    elif kind == b"tfhd":
        track = state.current_track = _number(body, 4, 4) or 0
        offset = 8 + (8 if flags & 0x01 else 0) + (4 if flags & 0x02 else 0)
        if flags & 0x08 and (default := _number(body, offset, 4)) is not None:
            state.track_defaults[track] = default
    else:  # tfdt: where this fragment starts on the track's timeline
        base = _number(body, 4, 8 if wide else 4)
        if base is not None:
            state.track_ends[state.current_track] = base


def _read_trun(reader: _Reader, start: int, end: int, state: _Mp4) -> None:
    head = reader.read(start, min(end - start, 16))
    if len(head) < 8:
        return
    flags = int.from_bytes(head[1:4], "big")
    count = int.from_bytes(head[4:8], "big")
    table = start + 8 + (4 if flags & 0x01 else 0) + (4 if flags & 0x04 else 0)
    track = state.current_track
    if flags & 0x100:
        stride = 4 * sum(1 for bit in _TRUN_FIELDS if flags & bit)
        count = min(count, max(0, end - table) // stride)  # never beyond the box
        rows = reader.read(table, count * stride)
        total = sum(int.from_bytes(rows[i : i + 4], "big") for i in range(0, len(rows) - 3, stride))
    else:
        total = count * state.track_defaults.get(track, 0)
    state.track_ends[track] = state.track_ends.get(track, 0) + total


def _duration(container: str, content: bytes | BinaryIO, size: int) -> float | None:
    if size == 0:
        return None
    try:
        if container == "mp4":
            return _in_range(_mp4_duration(_Reader(content, size)))
        return _hachoir_duration(container, content, size)
    except _OverBudget as over:
        over.container, over.size = container, size
        raise


def _in_range(seconds: float | None) -> float | None:
    # The bounds hachoir applies to the other containers: 1 ms to 365 days.
    if seconds is None or not 0.001 <= seconds <= 365 * 86400:
        return None
    return seconds


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
    budget = _ReadBudget(lambda address, size: None)
    with _SILENCER.silenced():
        try:
            if isinstance(content, bytes):
                stream = StringInputStream(content, source="<bytes>")
            else:
                # The size is given so hachoir does not seek around itself; InputIOStream is never
                # closed here, so the caller's file stays open.
                stream = InputIOStream(content, size=size * 8, source="<file>")
            budget = _ReadBudget(stream.read)
            # Every parse step reads through the stream: counting reads bounds hachoir's work.
            stream.read = budget
            parser = parser_class(stream, validate=True)
            metadata = extractMetadata(parser, quality=QUALITY_FASTEST)
            seconds = _seconds(metadata)
        except Exception:  # noqa: BLE001 - ValidateError, or damaged input failing anywhere in hachoir
            seconds = None
    if budget.exceeded:
        raise _OverBudget(f"more than {MAX_HACHOIR_READS:,} parser reads")
    return seconds


class _ReadBudget:
    """Wraps a hachoir stream's ``read``; past the budget, every call fails (hachoir may catch one)."""

    def __init__(self, read: Callable[[int, int], Any]) -> None:
        self._read = read
        self.calls = 0
        self.exceeded = False

    def __call__(self, address: int, size: int) -> Any:
        self.calls += 1
        if self.calls > MAX_HACHOIR_READS:
            self.exceeded = True
            raise _OverBudget("read budget")
        return self._read(address, size)


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
