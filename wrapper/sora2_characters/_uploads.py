"""Preparing a video upload: validate it by content, and reopen it for every attempt.

A source is a path (``str`` or path-like), ``bytes`` or a binary file object. It is checked before
any request: the container must be mp4, webm or avi by its content (never its name), the size at most
10 MB, the duration 1-4 s when it can be read. The file is streamed, never read whole; the exception
is a file object that cannot seek, which is read into memory up to the 10 MB limit (and refused
beyond it). A seekable file object is uploaded from its start (offset 0), as it is inspected.

Every attempt of one upload reuses the same unique ``uploadPath`` and ``fileName``, so a retry
overwrites rather than duplicates: the upload is idempotent.
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Callable
from typing import IO, Any, BinaryIO

import attrs

from ._exceptions import InvalidInputError
from ._media import seekable
from ._validation import MAX_VIDEO_BYTES, check_duration, check_file_name

__all__ = ["UPLOAD_PREFIX", "PreparedUpload", "prepare_upload"]

UPLOAD_PREFIX = "sora2-characters"
_ALLOWED = frozenset({"mp4", "webm", "avi"})
_READ_CHUNK = 1024 * 1024


@attrs.frozen(slots=True)
class PreparedUpload:
    """A validated upload: what to send and how to reopen it for each attempt."""

    upload_path: str
    file_name: str
    mime_type: str
    #: The size measured when it was checked; every attempt sends exactly this many bytes.
    size: int
    _path: str | None = None
    _data: bytes | None = None
    _file: IO[bytes] | None = None

    def open(self) -> IO[bytes]:
        """Return a stream of exactly :attr:`size` bytes from the start of the content.

        Nothing is opened or read until the first ``read`` (on the async client that happens in a
        worker thread); a path gets a new file handle. Reading raises InvalidInputError if the file
        has grown or shrunk since it was checked (the request declared its length).
        """
        if self._data is not None:
            return io.BytesIO(self._data)
        return _ExactReader(self._reopen, self.size)  # type: ignore[return-value]

    def _reopen(self) -> IO[bytes]:
        if self._path is not None:
            try:
                return open(self._path, "rb")  # closed by _ExactReader.close
            except OSError as exc:
                raise InvalidInputError("source", f"cannot read the file ({exc.strerror or exc})") from exc
        assert self._file is not None  # noqa: S101 - one of the three is always set
        self._file.seek(0)
        return self._file

    @property
    def owns_stream(self) -> bool:
        """Whether :meth:`open` returns a stream the caller must close."""
        return self._file is None


class _ExactReader:
    """A file read as exactly ``size`` bytes: growing or shrinking while it streams is an error.

    ``seek``/``tell`` report ``size`` as the length, so the request declares it; ``fileno`` is
    hidden so nothing measures the file again behind our back.
    """

    def __init__(self, opener: Callable[[], IO[bytes]], size: int) -> None:
        self._opener = opener
        self._stream: IO[bytes] | None = None
        self._size = size
        self._sent = 0

    def read(self, n: int = -1) -> bytes:
        """Read up to ``n`` bytes (all that is left for -1), checking the size as the file ends."""
        if n is None or n < 0:
            parts = []
            while part := self.read(_READ_CHUNK):
                parts.append(part)
            return b"".join(parts)
        if self._stream is None:
            self._stream = self._opener()
        left = self._size - self._sent
        try:
            data = self._stream.read(min(n, left + 1))
        except (OSError, ValueError) as exc:
            raise InvalidInputError("source", f"could not be read while uploading ({exc})") from exc
        if len(data) > left:
            raise InvalidInputError(
                "source", f"grew while it was uploaded; it was checked at {self._size} bytes"
            )
        self._sent += len(data)
        if not data and left > 0 and n > 0:
            raise InvalidInputError(
                "source", f"shrank while it was uploaded: {self._sent} of the {self._size} bytes checked"
            )
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Rewind (offset 0) or report the length (``SEEK_END``); other seeks are not needed."""
        if whence == io.SEEK_END:
            return self._size
        if whence == io.SEEK_SET and offset == 0:
            if self._stream is not None:
                self._stream.seek(0)
            self._sent = 0
        return self._sent

    def tell(self) -> int:
        """Return how many bytes were read so far."""
        return self._sent

    def close(self) -> None:
        """Close the underlying stream, if it was opened."""
        if self._stream is not None:
            self._stream.close()


@attrs.frozen(slots=True)
class _Source:
    size: int
    inspected: Any
    default_name: str | None = None
    path: str | None = None
    data: bytes | None = None
    file: IO[bytes] | None = None


def _from_path(source: str | os.PathLike[str]) -> _Source:
    path = os.fspath(source)
    try:
        size = os.stat(path).st_size
    except OSError as exc:
        raise InvalidInputError("source", f"cannot read the file ({exc.strerror or exc})") from exc
    if not os.path.isfile(path):
        raise InvalidInputError("source", "is not a regular file")
    return _Source(size=size, inspected=path, default_name=os.path.basename(path), path=path)


def _from_file(source: Any) -> _Source:
    """Measure (or, if it cannot seek, read) a file object; a closed or failing one is bad input."""
    if isinstance(source, io.TextIOBase):
        raise InvalidInputError("source", "must be opened in binary mode")
    if getattr(source, "closed", False) is True:
        raise InvalidInputError("source", "is a closed file")
    name = getattr(source, "name", None)
    default_name = os.path.basename(name) if isinstance(name, str) and name else None
    try:
        if seekable(source):
            source.seek(0, io.SEEK_END)
            size = source.tell()  # some file-likes' seek() returns None, not the position
            source.seek(0)
            return _Source(size=size, inspected=source, default_name=default_name, file=source)
        data = _read_bounded(source)
    except OSError as exc:
        raise InvalidInputError("source", f"cannot read the file ({exc.strerror or exc})") from exc
    except ValueError as exc:  # "I/O operation on closed file" and the like
        raise InvalidInputError("source", f"cannot be read ({exc})") from exc
    return _Source(size=len(data), inspected=data, default_name=default_name, data=data)


def _read_bounded(source: Any) -> bytes:
    """Read a non-seekable stream to its end, but never more than the 10 MB limit plus one byte.

    A raw stream (a pipe or socket opened unbuffered) returns what is available, not what was asked
    for, so one ``read`` is not enough: reading stops at end of file or just past the limit.
    """
    chunks: list[bytes] = []
    total = 0
    while total <= MAX_VIDEO_BYTES:
        chunk = source.read(min(_READ_CHUNK, MAX_VIDEO_BYTES + 1 - total))
        if chunk is None:
            raise InvalidInputError("source", "is a non-blocking stream with no data available")
        if not isinstance(chunk, (bytes, bytearray, memoryview)):
            raise InvalidInputError("source", "must be opened in binary mode")
        if not chunk:
            break
        chunks.append(bytes(chunk))
        total += len(chunk)
    return b"".join(chunks)


def _resolve(source: object) -> _Source:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        return _Source(size=len(data), inspected=data, data=data)
    if isinstance(source, (str, os.PathLike)):
        return _from_path(source)
    if hasattr(source, "read"):
        return _from_file(source)
    raise InvalidInputError("source", f"must be a path, bytes or a binary file, got {type(source).__name__}")


def prepare_upload(
    source: str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO,
    *,
    file_name: str | None = None,
) -> PreparedUpload:
    """Validate ``source`` by content and return a :class:`PreparedUpload` with a fresh unique path."""
    from ._media import MIME_TYPES, inspect_video, remux_hint  # noqa: PLC0415 - keeps hachoir out of the import

    if file_name is not None:
        check_file_name(file_name)
    resolved = _resolve(source)
    size = resolved.size
    if size > MAX_VIDEO_BYTES:
        raise InvalidInputError("source", f"is {size} bytes; the limit is {MAX_VIDEO_BYTES} bytes (10 MB)")
    if size == 0:
        raise InvalidInputError("source", "is empty")
    try:
        info = inspect_video(resolved.inspected, strict=True)
    except InvalidInputError:
        raise
    except OSError as exc:
        raise InvalidInputError("source", f"cannot read the file ({exc.strerror or exc})") from exc
    except (ValueError, TypeError) as exc:
        raise InvalidInputError("source", f"cannot be inspected ({exc})") from exc
    if info.container not in _ALLOWED:
        hint = remux_hint(_head(resolved))
        raise InvalidInputError(
            "source",
            "is not an mp4, webm or avi video (judged by its content)" + (f"; {hint}" if hint else ""),
        )
    check_duration(info.duration)
    container: str = info.container
    if file_name is None:
        default_name = resolved.default_name
        file_name = default_name if default_name and _name_ok(default_name) else f"character.{container}"
    return PreparedUpload(
        upload_path=f"{UPLOAD_PREFIX}/{uuid.uuid4().hex}",
        file_name=file_name,
        mime_type=info.mime_type or MIME_TYPES[container],
        size=size,
        path=resolved.path,
        data=resolved.data,
        file=resolved.file,
    )


def _head(resolved: _Source) -> bytes:
    """Return the first bytes of an upload's content (for a hint); empty when they cannot be read."""
    try:
        if resolved.data is not None:
            return resolved.data[:4096]
        if resolved.path is not None:
            with open(resolved.path, "rb") as file:
                return file.read(4096)
        if resolved.file is not None:
            resolved.file.seek(0)
            return resolved.file.read(4096)
    except (OSError, ValueError):
        pass
    return b""


def _name_ok(name: str) -> bool:
    try:
        check_file_name(name)
    except InvalidInputError:
        return False
    return True
