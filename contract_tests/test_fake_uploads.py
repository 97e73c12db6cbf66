"""The fake's upload API (``sora2_characters._fake.uploads``): stream, base64 and URL
uploads, downloads, over sockets."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from contract_tests.support import DATA, VIDEO_MP4, upload
from sora2_characters import _media
from sora2_characters.testing import FakeApikley


def test_uploads_name_the_container_without_parsing_the_duration(
    http: httpx.Client, fake_apikley: FakeApikley, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_duration_parse(*args: object) -> float | None:
        raise AssertionError("an upload's MIME type needs only the container")

    monkeypatch.setattr(_media, "_hachoir_duration", no_duration_parse)
    response = http.post(
        f"{fake_apikley.upload_base_url}/api/file-stream-upload",
        files={"file": ("clip.bin", VIDEO_MP4.read_bytes(), "application/octet-stream")},
        data={"uploadPath": "tests/clips"},
    )
    assert response.json()["data"]["mimeType"] == "video/mp4"


def test_stream_upload_stores_and_serves_the_file(http: httpx.Client, fake_apikley: FakeApikley) -> None:
    content = VIDEO_MP4.read_bytes()
    response = http.post(
        f"{fake_apikley.upload_base_url}/api/file-stream-upload",
        files={"file": ("ignored.bin", content, "application/octet-stream")},
        data={"uploadPath": "sora2/abc", "fileName": "hero.mp4"},
    )
    payload = response.json()
    assert (payload["success"], payload["code"]) == (True, 200)
    data = payload["data"]
    assert data["fileName"] == "hero.mp4"
    assert data["filePath"] == "sora2/abc/hero.mp4"
    assert data["fileSize"] == len(content)
    assert data["mimeType"] == "video/mp4"
    assert data["uploadedAt"].endswith("Z")
    assert data["downloadUrl"] == f"{fake_apikley.base_url}/files/sora2/abc/hero.mp4"
    served = httpx.get(data["downloadUrl"])
    assert (served.content, served.headers["content-type"]) == (content, "video/mp4")
    assert fake_apikley.uploaded_files["sora2/abc/hero.mp4"].content == content


def test_the_same_path_and_name_overwrites(http: httpx.Client, fake_apikley: FakeApikley) -> None:
    for content in (b"first", b"second"):
        http.post(
            f"{fake_apikley.upload_base_url}/api/file-base64-upload",
            json={"base64Data": base64.b64encode(content).decode(), "uploadPath": "p", "fileName": "f.txt"},
        )
    assert httpx.get(f"{fake_apikley.base_url}/files/p/f.txt").content == b"second"
    assert len(fake_apikley.uploaded_files) == 1


def test_base64_upload_accepts_raw_and_data_urls(http: httpx.Client, fake_apikley: FakeApikley) -> None:
    encoded = base64.b64encode((DATA / "clip-2s.webm").read_bytes()).decode()
    raw = http.post(
        f"{fake_apikley.upload_base_url}/api/file-base64-upload",
        json={"base64Data": encoded, "uploadPath": "a"},
    ).json()["data"]
    assert raw["mimeType"] == "video/webm"
    assert raw["fileName"].startswith("upload-")
    data_url = http.post(
        f"{fake_apikley.upload_base_url}/api/file-base64-upload",
        json={
            "base64Data": f"data:text/plain;base64,{base64.b64encode(b'hi').decode()}",
            "uploadPath": "b",
            "fileName": "n",
        },
    ).json()["data"]
    assert (data_url["mimeType"], data_url["fileSize"]) == ("text/plain", 2)


def test_url_upload_fetches_loopback_and_remembers_remote(
    http: httpx.Client, fake_apikley: FakeApikley
) -> None:
    source = upload(http, fake_apikley, VIDEO_MP4, "src")
    copied = http.post(
        f"{fake_apikley.upload_base_url}/api/file-url-upload", json={"fileUrl": source, "uploadPath": "copy"}
    ).json()["data"]
    assert (copied["filePath"], copied["fileSize"]) == ("copy/character.mp4", VIDEO_MP4.stat().st_size)
    remote = http.post(
        f"{fake_apikley.upload_base_url}/api/file-url-upload",
        json={"fileUrl": "https://cdn.example.invalid/v/clip.webm", "uploadPath": "r"},
    ).json()["data"]
    assert (remote["filePath"], remote["fileSize"], remote["mimeType"]) == ("r/clip.webm", 0, "video/webm")
    assert fake_apikley.uploaded_files["r/clip.webm"].source_url == "https://cdn.example.invalid/v/clip.webm"
    assert httpx.get(remote["downloadUrl"]).status_code == 404
    unreachable = http.post(
        f"{fake_apikley.upload_base_url}/api/file-url-upload",
        json={"fileUrl": f"{fake_apikley.base_url}/files/none", "uploadPath": "x"},
    ).json()
    assert (unreachable["success"], unreachable["code"]) == (False, 500)


@pytest.mark.parametrize(
    ("path", "kwargs", "message"),
    [
        (
            "file-stream-upload",
            {"data": {"uploadPath": "a"}, "files": {"other": ("a", b"x")}},
            "file: is required",
        ),
        ("file-stream-upload", {"files": {"file": ("a", b"x")}}, "uploadPath: is required"),
        (
            "file-stream-upload",
            {"content": b"x", "headers": {"Content-Type": "text/plain"}},
            "multipart/form-data",
        ),
        (
            "file-base64-upload",
            {"json": {"base64Data": "@@@", "uploadPath": "a"}},
            "base64Data: not valid base64",
        ),
        (
            "file-base64-upload",
            {"json": {"base64Data": "aGk=", "uploadPath": "/a/"}},
            "uploadPath: does not match",
        ),
        (
            "file-url-upload",
            {"json": {"fileUrl": "ftp://x.test/a", "uploadPath": "a"}},
            "fileUrl: must be an http",
        ),
        ("file-url-upload", {"json": {"uploadPath": "a"}}, "fileUrl: is required"),
    ],
)
@pytest.mark.fake_apikley(error_style="http")  # the documented messages; live ones in test_fake_likeness
def test_bad_uploads_get_400_naming_the_field(
    http: httpx.Client, fake_apikley: FakeApikley, path: str, kwargs: dict[str, Any], message: str
) -> None:
    payload = http.post(f"{fake_apikley.upload_base_url}/api/{path}", **kwargs).json()
    assert (payload["success"], payload["code"]) == (False, 400)
    assert message in payload["msg"]


def test_download_url(http: httpx.Client, fake_apikley: FakeApikley) -> None:
    url = upload(http, fake_apikley, VIDEO_MP4)
    payload = http.post("/api/v1/common/download-url", json={"url": url}).json()
    assert payload["code"] == 200
    assert payload["data"].startswith(url + "?token=")
    assert httpx.get(payload["data"]).content == VIDEO_MP4.read_bytes()
    assert (
        http.post("/api/v1/common/download-url", json={"url": "https://elsewhere.test/a"}).json()["code"]
        == 422
    )
    assert http.post("/api/v1/common/download-url", json={}).json()["msg"] == "url: is required"


def test_download_url_of_an_unparsable_url_gets_422(http: httpx.Client) -> None:
    for bad in ("http://127.0.0.1:99999/files/tests/clips/a.mp4", "http://[::1"):
        payload = http.post("/api/v1/common/download-url", json={"url": bad}).json()
        assert (payload["code"], payload["msg"]) == (422, "url: must be an absolute URI")
