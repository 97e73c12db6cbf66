"""The fake Apikley server over real sockets, driven with plain httpx."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from sora2_characters import _media
from sora2_characters.testing import FakeApikley
from sora2_characters.webhooks import verify_signature

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
CHARACTER = ROOT / "examples" / "character.mp4"
CREATE = "/api/v1/jobs/createTask"
RECORD = "/api/v1/jobs/recordInfo"


def auth(fake: FakeApikley) -> dict[str, str]:
    return {"Authorization": f"Bearer {fake.api_key}"}


def upload(http: httpx.Client, fake: FakeApikley, path: Path, upload_path: str = "tests/clips") -> str:
    response = http.post(
        f"{fake.upload_base_url}/api/file-stream-upload",
        files={"file": (path.name, path.read_bytes(), "application/octet-stream")},
        data={"uploadPath": upload_path},
    )
    assert response.status_code == 200, response.text
    url: str = response.json()["data"]["downloadUrl"]
    return url


def create(http: httpx.Client, video_url: str, **extra: Any) -> str:
    body = {"model": "sora-2-characters", "input": {"character_file_url": [video_url]}, **extra}
    response = http.post(CREATE, json=body)
    payload = response.json()
    assert payload["code"] == 200, payload
    task_id: str = payload["data"]["taskId"]
    return task_id


def record(http: httpx.Client, task_id: str) -> dict[str, Any]:
    payload: dict[str, Any] = http.get(RECORD, params={"taskId": task_id}).json()
    assert payload["code"] == 200, payload
    data: dict[str, Any] = payload["data"]
    return data


class ManualClock:
    def __init__(self) -> None:
        self.now = 1_765_174_270.12

    def __call__(self) -> float:
        return self.now


# ---- lifecycle and addresses ----------------------------------------------------------------------


def is_running(fake: FakeApikley) -> bool:
    return fake.running


def test_start_reads_back_a_real_port_and_stop_frees_it() -> None:
    fake = FakeApikley()
    fake.start()
    try:
        assert is_running(fake)
        assert fake.port > 0
        assert fake.base_url == f"http://127.0.0.1:{fake.port}"
        assert fake.upload_base_url == f"{fake.base_url}/file-upload"
        with pytest.raises(RuntimeError, match="already running"):
            fake.start()
    finally:
        fake.stop()
    assert not is_running(fake)
    with pytest.raises(httpx.ConnectError):
        httpx.get(fake.base_url + "/api/v1/chat/credit", timeout=2)
    fake.stop()  # twice is fine


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"error_style": "loud"}, "error_style"),
        ({"remote_videos": "fetch"}, "remote_videos"),
        ({"time_scale": -1}, "time_scale"),
        ({"api_key": ""}, "api_key"),
        ({"task_duration": 3, "task_durations": {"waiting": 1}}, "not both"),
        ({"task_durations": {"done": 1}}, "task_durations"),
    ],
)
def test_constructor_rejects_bad_options(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FakeApikley(**options)


# ---- auth and error styles ------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic test-key", "Bearer"])
def test_a_bad_key_gets_401_in_the_body_with_http_200(fake_apikley: FakeApikley, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = httpx.get(fake_apikley.base_url + "/api/v1/chat/credit", headers=headers)
    assert response.status_code == 200
    payload = response.json()
    assert (set(payload), payload["code"]) == ({"code", "msg"}, 401)  # live: no data key
    assert "Authentication failed" in payload["msg"]


@pytest.mark.fake_apikley(error_style="http")
def test_http_error_style_answers_with_the_matching_status(fake_apikley: FakeApikley) -> None:
    response = httpx.get(
        fake_apikley.base_url + RECORD, params={"taskId": "nope"}, headers={"Authorization": "Bearer x"}
    )
    assert (response.status_code, response.json()["code"]) == (401, 401)
    fake_apikley.error_style = "live"
    response = httpx.get(
        fake_apikley.base_url + RECORD, params={"taskId": "nope"}, headers={"Authorization": "Bearer x"}
    )
    assert (response.status_code, response.json()["code"]) == (200, 401)


@pytest.mark.fake_apikley(api_key=["key-a", "key-b"])
def test_several_keys_are_accepted(fake_apikley: FakeApikley) -> None:
    for key in ("key-a", "key-b"):
        response = httpx.get(
            fake_apikley.base_url + "/api/v1/chat/credit", headers={"Authorization": f"Bearer {key}"}
        )
        assert response.json()["code"] == 200


@pytest.mark.fake_apikley(accept_any_key=True)
def test_accept_any_key(fake_apikley: FakeApikley) -> None:
    response = httpx.get(
        fake_apikley.base_url + "/api/v1/chat/credit", headers={"Authorization": "Bearer whatever"}
    )
    assert response.json()["code"] == 200


def test_upload_errors_use_the_upload_shape(fake_apikley: FakeApikley) -> None:
    response = httpx.post(fake_apikley.upload_base_url + "/api/file-base64-upload", json={})
    assert response.json() == {"success": False, "code": 401, "msg": "Authentication failed: Invalid API Key"}


# ---- validation --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"input": {"character_file_url": ["https://x.test/a.mp4"]}}, "model: is required"),
        (
            {"model": "sora-2", "input": {"character_file_url": ["https://x.test/a.mp4"]}},
            "model: must be one of",
        ),
        ({"model": "sora-2-characters"}, "input: is required"),
        ({"model": "sora-2-characters", "input": {}}, "input.character_file_url: is required"),
        (
            {"model": "sora-2-characters", "input": {"character_file_url": []}},
            "input.character_file_url: at least 1",
        ),
        (
            {
                "model": "sora-2-characters",
                "input": {"character_file_url": ["https://a.test/1", "https://a.test/2"]},
            },
            "input.character_file_url: at most 1",
        ),
        (
            {"model": "sora-2-characters", "input": {"character_file_url": ["not a url"]}},
            "character_file_url[0]",
        ),
        (
            {
                "model": "sora-2-characters",
                "input": {"character_file_url": ["https://a.test/1"], "character_prompt": "x" * 5001},
            },
            "input.character_prompt: at most 5000 characters",
        ),
        (
            {
                "model": "sora-2-characters",
                "input": {"character_file_url": ["https://a.test/1"], "safety_instruction": 5},
            },
            "input.safety_instruction: must be a string",
        ),
        (
            {
                "model": "sora-2-characters",
                "callBackUrl": "nowhere",
                "input": {"character_file_url": ["https://a.test/1"]},
            },
            "callBackUrl: must be an absolute URI",
        ),
        (
            {
                "model": "sora-2-characters",
                "callBackUrl": "http://[::1",
                "input": {"character_file_url": ["https://a.test/1"]},
            },
            "callBackUrl: must be an absolute URI",
        ),
        (
            {
                "model": "sora-2-characters",
                "callBackUrl": "http://127.0.0.1/\x00cb",
                "input": {"character_file_url": ["https://a.test/1"]},
            },
            "callBackUrl: must be an absolute URI",
        ),
        (
            {
                "model": "sora-2-characters",
                "input": {"character_file_url": ["http://127.0.0.1:99999/files/tests/clips/a.mp4"]},
            },
            "input.character_file_url[0]: must be an absolute URI",
        ),
    ],
)
@pytest.mark.fake_apikley(error_style="http")  # the documented contract; test_fake_likeness has live's
def test_invalid_create_task_bodies_get_422_naming_the_field(
    http: httpx.Client, fake_apikley: FakeApikley, body: dict[str, Any], message: str
) -> None:
    payload = http.post(CREATE, json=body).json()
    assert payload["code"] == 422
    assert message in payload["msg"]
    assert payload["data"] is None
    assert fake_apikley.tasks == []
    assert fake_apikley.credits == 100.0


def test_a_body_that_is_not_json_gets_400(http: httpx.Client) -> None:
    payload = http.post(CREATE, content=b"{nope", headers={"Content-Type": "application/json"}).json()
    assert (payload["code"], payload["msg"]) == (400, "body: not valid JSON")


def test_record_info_missing_or_unknown_task(http: httpx.Client) -> None:
    assert http.get(RECORD).json() == {"code": 400, "msg": "taskId is required", "data": None}
    assert http.get(RECORD, params={"taskId": ""}).json()["code"] == 400
    assert http.get(RECORD, params={"taskId": "task_x"}).json() == {
        "code": 422,
        "msg": "recordInfo is null",
        "data": None,
    }


def test_unknown_paths_get_404(http: httpx.Client, fake_apikley: FakeApikley) -> None:
    missing = http.get("/api/v1/nothing")
    assert (missing.status_code, missing.json()["status"], missing.json()["path"]) == (
        404,
        404,
        "/api/v1/nothing",
    )
    wrong_method = http.get("/file-upload/api/file-stream-upload")
    assert (wrong_method.status_code, wrong_method.json()["error"]) == (405, "Method Not Allowed")
    fake_apikley.error_style = "http"
    assert http.get("/api/v1/nothing").json()["code"] == 404
    assert http.get("/file-upload/api/file-stream-upload").json() == {
        "success": False,
        "code": 405,
        "msg": "Method not allowed",
    }


# ---- the task lifecycle ----------------------------------------------------------------------------


def test_a_task_walks_through_every_state_on_the_fake_clock(
    http: httpx.Client, fake_apikley: FakeApikley
) -> None:
    clock = ManualClock()
    with FakeApikley(
        clock=clock, task_durations={"waiting": 1, "queuing": 2, "generating": 4}, error_style="http"
    ) as fake:
        fake_http = httpx.Client(base_url=fake.base_url, headers={"Authorization": "Bearer test-key"})
        with fake_http:
            url = upload(fake_http, fake, CHARACTER)
            body = {
                "model": "sora-2-characters",
                "input": {"character_file_url": [url], "character_prompt": "a fox"},
            }
            task_id = create(fake_http, url, input=body["input"])
            assert task_id.startswith("task_sora-2-characters_")
            start, seen = clock.now, []
            for offset in (0.5, 1.5, 3.5, 5.0, 7.0):
                clock.now = start + offset
                data = record(fake_http, task_id)
                seen.append((data["state"], data["progress"]))
    assert seen == [("waiting", 0), ("queuing", 0), ("generating", 12), ("generating", 49), ("success", 100)]
    assert data["state"] == "success"
    assert json.loads(data["param"]) == body
    assert json.loads(data["resultJson"])["character_id"].startswith("char_")
    assert (data["failCode"], data["failMsg"]) == ("", "")
    assert data["createTime"] == 1_765_174_270_120
    assert data["completeTime"] == data["updateTime"] == data["createTime"] + 7000
    assert data["costTime"] == 7.0
    assert data["creditsConsumed"] == 2.5


def test_time_scale_makes_tasks_finish_in_milliseconds(fake_apikley: FakeApikley, http: httpx.Client) -> None:
    task_id = create(http, upload(http, fake_apikley, CHARACTER))
    assert fake_apikley.tasks[0].ends_at - fake_apikley.tasks[0].created_at == pytest.approx(0.015, abs=1e-6)
    fake_apikley.advance(15)
    assert record(http, task_id)["state"] == "success"


def test_task_duration_total_and_time_scale_zero(http: httpx.Client, fake_apikley: FakeApikley) -> None:
    fake_apikley.time_scale = 0
    fake_apikley.set_task_durations(total=30)
    task_id = create(http, upload(http, fake_apikley, CHARACTER))
    data = record(http, task_id)
    assert (data["state"], data["costTime"]) == ("success", 30.0)


def test_override_task_shows_what_the_docs_forgot_then_the_truth(
    http: httpx.Client, fake_apikley: FakeApikley
) -> None:
    fake_apikley.time_scale = 0  # every task is already over
    fake_apikley.override_task(fields={"state": "paused", "failCode": 422}, times=2)
    url = upload(http, fake_apikley, CHARACTER)
    planned = create(http, url)
    assert [record(http, planned)["state"] for _ in range(3)] == ["paused", "paused", "success"]
    assert record(http, planned)["failCode"] is None

    later = create(http, url)  # a planned override is spent on the one next task
    assert record(http, later)["state"] == "success"
    fake_apikley.override_task(later, fields={"resultJson": "{broken"}, when_state="success")
    assert [record(http, later)["resultJson"] for _ in range(2)] == ["{broken", "{broken"]


def test_override_task_only_while_the_real_state_matches(
    http: httpx.Client, fake_apikley: FakeApikley
) -> None:
    fake_apikley.time_scale = 1.0  # 15 s of wall time: nothing ends before advance()
    task_id = create(http, upload(http, fake_apikley, CHARACTER))
    fake_apikley.override_task(task_id, fields={"resultJson": "{broken"}, when_state="success")
    assert record(http, task_id)["state"] == "waiting"
    assert record(http, task_id)["resultJson"] == ""
    fake_apikley.advance(15)
    assert record(http, task_id)["resultJson"] == "{broken"
    with pytest.raises(ValueError, match="times"):
        fake_apikley.override_task(task_id, fields={}, times=0)


def test_credits_are_charged_per_task_and_402_when_short(
    http: httpx.Client, fake_apikley: FakeApikley
) -> None:
    url = upload(http, fake_apikley, CHARACTER)
    fake_apikley.credits = 5.0
    assert http.get("/api/v1/chat/credit").json() == {"code": 200, "msg": "success", "data": 5.0}
    create(http, url)
    create(http, url)
    assert http.get("/api/v1/chat/credit").json()["data"] == 0.0
    payload = http.post(
        CREATE, json={"model": "sora-2-characters", "input": {"character_file_url": [url]}}
    ).json()
    assert payload == {"code": 402, "msg": "The current credits are insufficient. Please top up."}
    assert len(fake_apikley.tasks) == 2


def test_concurrent_creates_never_overdraw(fake_apikley: FakeApikley) -> None:
    """The balance check and the debit are one step: N affordable tasks out of N + 5 concurrent ones."""
    affordable, extra = 4, 5
    with httpx.Client(base_url=fake_apikley.base_url, headers=auth(fake_apikley), timeout=10) as http:
        url = upload(http, fake_apikley, CHARACTER)  # inspected in a thread: each create awaits
    fake_apikley.credits = affordable * 2.5
    body = {"model": "sora-2-characters", "input": {"character_file_url": [url]}}

    async def create_all() -> list[int]:
        async with httpx.AsyncClient(
            base_url=fake_apikley.base_url, headers=auth(fake_apikley), timeout=10
        ) as client:
            answers = await asyncio.gather(
                *(client.post(CREATE, json=body) for _ in range(affordable + extra))
            )
        return [answer.json()["code"] for answer in answers]

    codes = asyncio.run(create_all())
    assert sorted(codes) == [200] * affordable + [402] * extra
    assert len(fake_apikley.tasks) == affordable
    assert fake_apikley.credits == 0.0


def test_uploads_name_the_container_without_parsing_the_duration(
    http: httpx.Client, fake_apikley: FakeApikley, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_duration_parse(*args: object) -> float | None:
        raise AssertionError("an upload's MIME type needs only the container")

    monkeypatch.setattr(_media, "_hachoir_duration", no_duration_parse)
    response = http.post(
        f"{fake_apikley.upload_base_url}/api/file-stream-upload",
        files={"file": ("clip.bin", CHARACTER.read_bytes(), "application/octet-stream")},
        data={"uploadPath": "tests/clips"},
    )
    assert response.json()["data"]["mimeType"] == "video/mp4"


# ---- source videos ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["clip-2s.webm", "clip-2s.avi"])
def test_other_accepted_containers_succeed(http: httpx.Client, fake_apikley: FakeApikley, name: str) -> None:
    fake_apikley.time_scale = 0
    task_id = create(http, upload(http, fake_apikley, DATA / name))
    assert record(http, task_id)["state"] == "success"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("clip-6s.mp4", "outside 1-4 s"),
        ("clip-0_5s.mp4", "outside 1-4 s"),
        ("clip-2s.mkv", "not an mp4, webm or avi"),
        ("README.md", "not an mp4, webm or avi"),
    ],
)
def test_unacceptable_videos_end_in_fail(
    http: httpx.Client, fake_apikley: FakeApikley, name: str, reason: str
) -> None:
    fake_apikley.time_scale = 0
    task_id = create(http, upload(http, fake_apikley, DATA / name))
    data = record(http, task_id)
    assert (data["state"], data["failCode"], data["resultJson"]) == ("fail", "422", "")
    assert reason in data["failMsg"]
    assert data["failMsg"].startswith("character_file_url:")


def test_a_video_over_10_mb_fails(http: httpx.Client, fake_apikley: FakeApikley) -> None:
    fake_apikley.time_scale = 0
    big = CHARACTER.read_bytes() + b"\0" * (10 * 1024 * 1024)
    response = http.post(
        f"{fake_apikley.upload_base_url}/api/file-stream-upload",
        files={"file": ("big.mp4", big, "video/mp4")},
        data={"uploadPath": "big"},
    )
    data = record(http, create(http, response.json()["data"]["downloadUrl"]))
    assert data["state"] == "fail"
    assert "over the 10 MB limit" in data["failMsg"]


def test_a_missing_upload_fails_the_task(http: httpx.Client, fake_apikley: FakeApikley) -> None:
    fake_apikley.time_scale = 0
    data = record(http, create(http, f"{fake_apikley.base_url}/files/never/uploaded.mp4"))
    assert (data["state"], data["failCode"]) == ("fail", "404")


@pytest.mark.parametrize(("policy", "state"), [("accept", "success"), ("fail", "fail")])
def test_remote_videos_are_never_fetched(policy: str, state: str) -> None:
    with (
        FakeApikley(time_scale=0, remote_videos=policy) as fake,  # type: ignore[arg-type]
        httpx.Client(base_url=fake.base_url, headers={"Authorization": "Bearer test-key"}) as http,
    ):
        data = record(http, create(http, "https://static.example.invalid/character.mp4"))
    assert data["state"] == state


def test_loopback_videos_of_other_servers_are_downloaded(
    http: httpx.Client, fake_apikley: FakeApikley
) -> None:
    fake_apikley.time_scale = 0
    with FakeApikley() as other, httpx.Client(headers={"Authorization": "Bearer test-key"}) as other_http:
        good = upload(other_http, other, CHARACTER)
        bad = upload(other_http, other, DATA / "clip-6s.mp4")
        assert record(http, create(http, good))["state"] == "success"
        assert record(http, create(http, bad))["state"] == "fail"
        gone = good.replace("/files/", "/files/missing/")
        data = record(http, create(http, gone))
    assert data["state"] == "fail"
    assert "could not be downloaded" in data["failMsg"]


@pytest.mark.fake_apikley(validate_media=False, time_scale=0)
def test_validate_media_off_accepts_anything(http: httpx.Client, fake_apikley: FakeApikley) -> None:
    assert record(http, create(http, upload(http, fake_apikley, DATA / "clip-6s.mp4")))["state"] == "success"


# ---- uploads --------------------------------------------------------------------------------------------


def test_stream_upload_stores_and_serves_the_file(http: httpx.Client, fake_apikley: FakeApikley) -> None:
    content = CHARACTER.read_bytes()
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
    source = upload(http, fake_apikley, CHARACTER, "src")
    copied = http.post(
        f"{fake_apikley.upload_base_url}/api/file-url-upload", json={"fileUrl": source, "uploadPath": "copy"}
    ).json()["data"]
    assert (copied["filePath"], copied["fileSize"]) == ("copy/character.mp4", CHARACTER.stat().st_size)
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
    url = upload(http, fake_apikley, CHARACTER)
    payload = http.post("/api/v1/common/download-url", json={"url": url}).json()
    assert payload["code"] == 200
    assert payload["data"].startswith(url + "?token=")
    assert httpx.get(payload["data"]).content == CHARACTER.read_bytes()
    assert (
        http.post("/api/v1/common/download-url", json={"url": "https://elsewhere.test/a"}).json()["code"]
        == 422
    )
    assert http.post("/api/v1/common/download-url", json={}).json()["msg"] == "url: is required"


# ---- recording --------------------------------------------------------------------------------------------


def test_every_request_is_recorded_with_the_key_redacted(
    http: httpx.Client, fake_apikley: FakeApikley
) -> None:
    http.get(RECORD, params={"taskId": "t1"})
    http.post(CREATE, json={"model": "sora-2-characters"})
    first, second = fake_apikley.requests
    assert (first.method, first.path, first.query, first.operation, first.status) == (
        "GET",
        RECORD,
        {"taskId": "t1"},
        "recordInfo",
        200,
    )
    assert first.headers["authorization"] == "Bearer <redacted>"
    assert "test-key" not in repr(fake_apikley.requests)
    assert second.json == {"model": "sora-2-characters"}
    assert fake_apikley.requests_for("createTask") == [second]
    fake_apikley.reset()
    assert fake_apikley.requests == []


# ---- callbacks ---------------------------------------------------------------------------------------------


class _Receiver:
    """A loopback HTTP server that records callbacks (stdlib, in a thread)."""

    def __init__(self, status: int = 200) -> None:
        received: list[tuple[dict[str, str], bytes]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((dict(self.headers.items()), body))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"code": 200, "msg": "success"}')

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/callback"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01})

    def __enter__(self) -> _Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.mark.fake_apikley(webhook_secret="s3cret")
def test_callbacks_are_delivered_signed_for_success_and_failure(
    http: httpx.Client, fake_apikley: FakeApikley
) -> None:
    url = upload(http, fake_apikley, CHARACTER)
    with _Receiver() as receiver:
        ok = create(http, url, callBackUrl=receiver.url)
        fake_apikley.fail_task(fail_code="500", fail_msg="internal error")
        failed = create(http, url, callBackUrl=receiver.url)
        attempts = fake_apikley.wait_for_callbacks(2)
    assert {(a.task_id, a.outcome, a.status_code) for a in attempts} == {
        (ok, "delivered", 200),
        (failed, "delivered", 200),
    }
    by_task = {json.loads(raw)["data"]["taskId"]: (headers, raw) for headers, raw in receiver.received}
    headers, raw = by_task[ok]
    body = json.loads(raw)
    assert (body["code"], body["data"]["state"]) == (200, "success")
    assert json.loads(body["data"]["resultJson"])["character_id"].startswith("char_")
    verify_signature(raw, headers, "s3cret")
    headers, raw = by_task[failed]
    body = json.loads(raw)
    assert (body["code"], body["msg"], body["data"]["failCode"], body["data"]["resultJson"]) == (
        501,
        "Playground task failed.",
        "500",
        "",
    )
    verify_signature(raw, headers, "s3cret")
    assert len(receiver.received) == 2  # once per task


def test_callback_failures_are_recorded_not_fatal(http: httpx.Client, fake_apikley: FakeApikley) -> None:
    url = upload(http, fake_apikley, CHARACTER)
    with _Receiver() as receiver:
        dead = receiver.url
    create(http, url, callBackUrl=dead)
    create(http, url, callBackUrl="https://hooks.example.invalid/cb")
    attempts = sorted(fake_apikley.wait_for_callbacks(2), key=lambda a: a.outcome)
    assert [a.outcome for a in attempts] == ["failed", "refused"]
    assert attempts[0].error is not None
    assert not any(name.lower().startswith("x-webhook") for name in attempts[0].headers)  # unsigned
    assert http.get("/api/v1/chat/credit").json()["code"] == 200  # still serving


def test_a_callback_url_httpx_cannot_use_fails_alone(http: httpx.Client, fake_apikley: FakeApikley) -> None:
    """One delivery raising anything (here OverflowError for port 99999) must not stop the scheduler."""
    url = upload(http, fake_apikley, CHARACTER)
    fake_apikley.time_scale = 1.0  # tasks last 15 s until advanced
    bad_url = "http://127.0.0.1:99999/cb"  # createTask refuses it now; a task may still hold one
    with _Receiver() as receiver:
        first = create(http, url, callBackUrl=receiver.url)
        (task,) = fake_apikley.tasks
        task.callback_url = bad_url
        fake_apikley.advance(20)
        (failed,) = fake_apikley.wait_for_callbacks(1)
        second = create(http, url, callBackUrl=receiver.url)
        fake_apikley.advance(20)
        attempts = fake_apikley.wait_for_callbacks(2)
    assert (failed.task_id, failed.url, failed.outcome) == (first, bad_url, "failed")
    assert failed.error is not None
    assert "99999" in failed.error or "port" in failed.error.lower()
    assert (attempts[1].task_id, attempts[1].outcome, attempts[1].status_code) == (second, "delivered", 200)
    assert len(receiver.received) == 1


def test_download_url_of_an_unparsable_url_gets_422(http: httpx.Client) -> None:
    for bad in ("http://127.0.0.1:99999/files/tests/clips/a.mp4", "http://[::1"):
        payload = http.post("/api/v1/common/download-url", json={"url": bad}).json()
        assert (payload["code"], payload["msg"]) == (422, "url: must be an absolute URI")


def test_wait_for_callbacks_times_out(fake_apikley: FakeApikley) -> None:
    with pytest.raises(TimeoutError, match="0 callback attempt"):
        fake_apikley.wait_for_callbacks(1, timeout=0.05)
