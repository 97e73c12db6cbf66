"""``sora2_characters._uploads`` through ``upload_video``: validation by content, streaming, bounded
reads of unseekable streams, idempotent retries, the upload envelope."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

import sora2_characters as sc
from contract_tests.support import (
    DATA,
    UPLOAD_URL,
    VIDEO_MP4,
    FakeTime,
    make_async_client,
    make_client,
)
from sora2_characters._validation import MAX_VIDEO_BYTES

UPLOADED = {
    "fileName": "character.mp4",
    "filePath": "sora2-characters/x/character.mp4",
    "downloadUrl": "https://tempfile.apikley.ru/sora2-characters/x/character.mp4",
    "fileSize": 23748,
    "mimeType": "video/mp4",
    "uploadedAt": "2026-11-25T10:00:00.000Z",
}


def _ok() -> httpx.Response:
    return httpx.Response(200, json={"success": True, "code": 200, "msg": "File uploaded", "data": UPLOADED})


def _fields(request: httpx.Request) -> dict[str, str]:
    body = request.content
    found = dict(
        re.findall(rb'name="(uploadPath|fileName)"\r\nContent-Type: text/plain\r\n\r\n([^\r]*)', body)
    )
    return {key.decode(): value.decode() for key, value in found.items()}


@pytest.mark.parametrize(
    ("source", "name", "mime"),
    [
        (VIDEO_MP4, "character.mp4", "video/mp4"),
        (DATA / "clip-2s.webm", "clip-2s.webm", "video/webm"),
        (DATA / "clip-2s.avi", "clip-2s.avi", "video/x-msvideo"),
    ],
)
def test_upload_from_a_path(source: Path, name: str, mime: str) -> None:
    with respx.mock:
        route = respx.post(UPLOAD_URL).mock(return_value=_ok())
        uploaded = make_client().upload_video(source)
    request = route.calls[0].request
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert "+++" not in request.headers["content-type"]
    fields = _fields(request)
    assert re.fullmatch(r"sora2-characters/[0-9a-f]{32}", fields["uploadPath"])
    assert fields["fileName"] == name
    assert f'filename="{name}"'.encode() in request.content
    assert f"Content-Type: {mime}".encode() in request.content
    assert source.read_bytes() in request.content
    assert uploaded.download_url == UPLOADED["downloadUrl"]
    assert uploaded.size == 23748
    assert uploaded.mime_type == "video/mp4"
    assert uploaded.uploaded_at is not None
    assert uploaded.uploaded_at.tzinfo is not None


def test_upload_from_bytes_and_file_objects() -> None:
    content = VIDEO_MP4.read_bytes()
    with respx.mock:
        route = respx.post(UPLOAD_URL).mock(return_value=_ok())
        client = make_client()
        client.upload_video(content, file_name="mine.mp4")
        with VIDEO_MP4.open("rb") as handle:
            handle.seek(100)
            client.upload_video(handle)
            assert not handle.closed
    assert _fields(route.calls[0].request)["fileName"] == "mine.mp4"
    assert _fields(route.calls[1].request)["fileName"] == "character.mp4"
    assert content in route.calls[1].request.content
    paths = {_fields(call.request)["uploadPath"] for call in route.calls}
    assert len(paths) == 2  # a fresh unique path per upload


def test_upload_from_a_non_seekable_stream() -> None:
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._inner = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            chunk = self._inner.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    content = VIDEO_MP4.read_bytes()
    with respx.mock:
        route = respx.post(UPLOAD_URL).mock(return_value=_ok())
        make_client().upload_video(io.BufferedReader(Pipe(content)))
    assert content in route.calls[0].request.content


def test_retries_reuse_the_same_path_and_name() -> None:
    fake = FakeTime()
    with respx.mock:
        route = respx.post(UPLOAD_URL).mock(
            side_effect=[
                httpx.ReadTimeout("slow"),
                httpx.Response(500, json={"success": False, "code": 500}),
                _ok(),
            ]
        )
        make_client(fake).upload_video(VIDEO_MP4)
    assert route.call_count == 3
    fields = [_fields(call.request) for call in route.calls[1:]]
    assert fields[0] == fields[1]
    assert VIDEO_MP4.read_bytes() in route.calls[2].request.content


@pytest.mark.parametrize(
    ("source", "match"),
    [
        (DATA / "clip-6s.mp4", "1 to 4 s"),
        (DATA / "clip-0_5s.mp4", "1 to 4 s"),
        (DATA / "clip-2s.mov", "mp4, webm or avi"),
        (DATA / "clip-2s.mkv", "mp4, webm or avi"),
        (b"definitely not a video", "mp4, webm or avi"),
        (b"", "empty"),
        (b"\x00" * (10 * 1024 * 1024 + 1), "10 MB"),
        (DATA / "does-not-exist.mp4", "cannot read"),
        (DATA, "regular file"),
        (12345, "path, bytes or a binary file"),
    ],
)
def test_invalid_sources_are_refused_before_any_request(source: object, match: str) -> None:
    with respx.mock:
        route = respx.post(UPLOAD_URL)
        with pytest.raises(sc.InvalidInputError, match=match) as caught:
            make_client().upload_video(source)  # type: ignore[arg-type]
    assert caught.value.field == "source"
    assert route.call_count == 0


class _FailingReader(io.RawIOBase):
    """A readable, non-seekable stream whose every read fails like a dying disk or pipe."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise OSError(5, "Input/output error")


def _closed_file() -> io.BufferedReader:
    file = VIDEO_MP4.open("rb")
    file.close()
    return file


@pytest.mark.parametrize(
    ("make_source", "match"),
    [
        (_closed_file, "closed"),
        (lambda: io.BytesIO(VIDEO_MP4.read_bytes()), None),
        (_FailingReader, "Input/output error"),
        (lambda: io.BufferedReader(_FailingReader()), "Input/output error"),
    ],
    ids=["closed-file", "closed-bytesio", "read-oserror", "buffered-read-oserror"],
)
def test_unreadable_file_objects_name_source(make_source: Callable[[], Any], match: str | None) -> None:
    source = make_source()
    if match is None:  # a closed BytesIO: "I/O operation on closed file" from seekable()/read()
        source.close()
    with respx.mock:
        route = respx.post(UPLOAD_URL)
        with pytest.raises(sc.InvalidInputError, match=match) as caught:
            make_client().upload_video(source)
    assert caught.value.field == "source"
    assert route.call_count == 0


def test_content_not_name_decides(tmp_path: Path) -> None:
    disguised = tmp_path / "clip.mp4"
    disguised.write_bytes((DATA / "clip-2s.mkv").read_bytes())
    renamed = tmp_path / "clip.bin"
    renamed.write_bytes(VIDEO_MP4.read_bytes())
    with respx.mock:
        respx.post(UPLOAD_URL).mock(return_value=_ok())
        client = make_client()
        with pytest.raises(sc.InvalidInputError):
            client.upload_video(disguised)
        client.upload_video(renamed)


@pytest.mark.parametrize("name", ["", "a/b.mp4", "bad\nname.mp4"])
def test_bad_file_names(name: str) -> None:
    with respx.mock, pytest.raises(sc.InvalidInputError, match="file_name"):
        make_client().upload_video(VIDEO_MP4, file_name=name)


@pytest.mark.parametrize(
    ("response", "cls"),
    [
        (
            httpx.Response(200, json={"success": False, "code": 401, "msg": "Unauthorized"}),
            sc.AuthenticationError,
        ),
        (
            httpx.Response(400, json={"success": False, "code": 400, "msg": "uploadPath is required"}),
            sc.BadRequestError,
        ),
        (httpx.Response(405, json={"success": False, "code": 405, "msg": "Method not allowed"}), sc.APIError),
        (httpx.Response(200, json={"success": False, "code": 200, "msg": "?"}), sc.MalformedResponseError),
        (
            httpx.Response(200, json={"success": True, "code": 200, "data": {"fileName": "x"}}),
            sc.MalformedResponseError,
        ),
    ],
)
def test_upload_errors(response: httpx.Response, cls: type[sc.APIError]) -> None:
    with respx.mock:
        respx.post(UPLOAD_URL).mock(return_value=response)
        with pytest.raises(cls) as caught:
            make_client(max_retries=0).upload_video(VIDEO_MP4)
    assert type(caught.value) is cls


def test_upload_uses_the_callers_client_and_upload_timeout() -> None:
    with respx.mock:
        route = respx.post(UPLOAD_URL).mock(return_value=_ok())
        http = httpx.Client()
        client = make_client(http_client=http, upload_timeout=77.0)
        client.upload_video(VIDEO_MP4)
        client.close()
        assert not http.is_closed
        http.close()
    assert route.calls[0].request.extensions["timeout"]["write"] == 77.0


@pytest.mark.anyio
async def test_async_upload() -> None:
    with respx.mock:
        route = respx.post(UPLOAD_URL).mock(side_effect=[httpx.ConnectError("x"), _ok()])
        async with make_async_client() as client:
            uploaded = await client.upload_video(DATA / "clip-2s.webm")
    assert uploaded.download_url.startswith("https://")
    assert route.call_count == 2
    assert (DATA / "clip-2s.webm").read_bytes() in route.calls[1].request.content


def test_a_large_non_seekable_stream_is_refused_after_a_bounded_read() -> None:
    class Endless(io.RawIOBase):
        def __init__(self) -> None:
            self.served = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            view = memoryview(buffer)
            view[:] = b"\0" * len(view)
            self.served += len(view)
            return len(view)

    stream = Endless()
    with respx.mock:
        with pytest.raises(sc.InvalidInputError, match="10 MB") as caught:
            make_client().upload_video(stream)  # type: ignore[arg-type]
        assert caught.value.field == "source"
    assert MAX_VIDEO_BYTES < stream.served <= MAX_VIDEO_BYTES + 1024 * 1024


class _Trickle(io.RawIOBase):
    """An unbuffered pipe: each read returns at most 4 KiB, whatever was asked for."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._inner.read(min(len(buffer), 4096))
        memoryview(buffer)[: len(chunk)] = chunk
        return len(chunk)


def test_a_raw_stream_with_short_reads_is_uploaded_whole() -> None:
    """Was: one read() took the first 4 KiB, and the truncated clip was uploaded without a word."""
    content = VIDEO_MP4.read_bytes()
    with respx.mock:
        route = respx.post(UPLOAD_URL).mock(
            return_value=httpx.Response(
                200, json={"success": True, "code": 200, "msg": "ok", "data": {"downloadUrl": "https://x/y"}}
            )
        )
        make_client().upload_video(_Trickle(content))  # type: ignore[arg-type]
    assert content in route.calls[0].request.content


def test_a_non_blocking_stream_without_data_is_refused() -> None:
    class Dry(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> None:
            return None

    with respx.mock, pytest.raises(sc.InvalidInputError, match="non-blocking"):
        make_client().upload_video(Dry())  # type: ignore[arg-type]
