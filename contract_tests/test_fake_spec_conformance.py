"""The fake's answers conform to the strict spec: Prism, as a validating proxy, finds no violation.

Prism proxies the spec's paths as written, ignoring the upload operations' own server URL: the
upload calls go to the proxy's bare ``/api/file-*-upload`` paths, which the fake also serves.
Prism re-encodes multipart bodies as text, corrupting binary files, so the video travels through
the proxy as base64 and the stream upload carries a text file.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sora2_characters._prism import PrismServer
from sora2_characters.testing import FakeApikley

pytestmark = pytest.mark.prism
CHARACTER = Path(__file__).resolve().parent.parent / "examples" / "character.mp4"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeApikley]:
    with FakeApikley(time_scale=0.002, error_style="http") as server:
        yield server


@pytest.fixture(scope="module")
def proxy(fake: FakeApikley) -> Iterator[PrismServer]:
    with PrismServer(mode="proxy", upstream=fake.base_url, errors=True) as prism:
        yield prism


@pytest.fixture
def http(proxy: PrismServer, fake: FakeApikley) -> Iterator[httpx.Client]:
    fake.reset()
    with httpx.Client(
        base_url=proxy.base_url, headers={"Authorization": f"Bearer {fake.api_key}"}, timeout=30
    ) as c:
        yield c


def conforming(response: httpx.Response) -> httpx.Response:
    """Return ``response`` after checking Prism reported no violation and the call succeeded."""
    assert "sl-violations" not in response.headers, response.headers["sl-violations"]
    assert response.status_code == 200, response.text
    assert response.json()["code"] == 200, response.text
    return response


def test_a_full_flow_through_prism_has_no_violations(http: httpx.Client, fake: FakeApikley) -> None:
    streamed = conforming(
        http.post(
            "/api/file-stream-upload",
            files={"file": ("notes.txt", b"plain text survives Prism", "text/plain")},
            data={"uploadPath": "prism/stream", "fileName": "notes.txt"},
        )
    ).json()["data"]
    assert streamed["fileSize"] == len(b"plain text survives Prism")
    video = conforming(
        http.post(
            "/api/file-base64-upload",
            json={
                "base64Data": "data:video/mp4;base64," + base64.b64encode(CHARACTER.read_bytes()).decode(),
                "uploadPath": "prism/b64",
                "fileName": "character.mp4",
            },
        )
    ).json()["data"]
    copied = conforming(
        http.post("/api/file-url-upload", json={"fileUrl": video["downloadUrl"], "uploadPath": "prism/url"})
    ).json()["data"]
    assert copied["fileSize"] == video["fileSize"] == CHARACTER.stat().st_size
    task_id = conforming(
        http.post(
            "/api/v1/jobs/createTask",
            json={
                "model": "sora-2-characters",
                "callBackUrl": "http://127.0.0.1:9/callback",
                "input": {
                    "character_file_url": [copied["downloadUrl"]],
                    "character_prompt": "a friendly fox",
                    "safety_instruction": "family friendly",
                },
            },
        )
    ).json()["data"]["taskId"]
    states = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        data = conforming(http.get("/api/v1/jobs/recordInfo", params={"taskId": task_id})).json()["data"]
        states.append(data["state"])
        if data["state"] in ("success", "fail"):
            break
        time.sleep(0.005)
    assert states[-1] == "success", data
    assert set(states) <= {"waiting", "queuing", "generating", "success"}
    assert conforming(http.get("/api/v1/chat/credit")).json()["data"] == 97.5
    assert conforming(http.post("/api/v1/common/download-url", json={"url": video["downloadUrl"]})).json()[
        "data"
    ]
    assert [r.status for r in fake.requests if r.operation] == [200] * len(
        [r for r in fake.requests if r.operation]
    )


def test_a_failed_task_conforms_too(http: httpx.Client, fake: FakeApikley) -> None:
    fake.time_scale = 0
    fake.fail_task(fail_code="501", fail_msg="content policy")
    task_id = conforming(
        http.post(
            "/api/v1/jobs/createTask",
            json={
                "model": "sora-2-characters",
                "input": {"character_file_url": ["https://cdn.example.test/a.mp4"]},
            },
        )
    ).json()["data"]["taskId"]
    data = conforming(http.get("/api/v1/jobs/recordInfo", params={"taskId": task_id})).json()["data"]
    assert (data["state"], data["failCode"], data["resultJson"]) == ("fail", "501", None)


@pytest.mark.parametrize(
    ("call", "kwargs", "code"),
    [
        ("GET /api/v1/jobs/recordInfo", {"params": {"taskId": "task_unknown"}}, 422),
        ("POST /api/v1/common/download-url", {"json": {"url": "https://elsewhere.test/file.mp4"}}, 422),
        ("POST /api/file-base64-upload", {"json": {"base64Data": "@@", "uploadPath": "a"}}, 400),
        ("GET /api/v1/chat/credit", {"headers": {"Authorization": "Bearer wrong-key"}}, 401),
    ],
)
def test_the_fakes_errors_in_the_http_style_conform(
    http: httpx.Client, fake: FakeApikley, call: str, kwargs: dict[str, object], code: int
) -> None:
    """Requests the spec allows but the fake refuses: the error answers reach us unflagged."""
    method, path = call.split()
    response = http.request(method, path, **kwargs)  # type: ignore[arg-type]
    assert "sl-violations" not in response.headers, response.headers["sl-violations"]
    assert (response.status_code, response.json()["code"]) == (code, code)
    assert [r.status for r in fake.requests] == [code]  # answered by the fake, not by Prism
