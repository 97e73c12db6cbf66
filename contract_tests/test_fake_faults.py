"""Fault injection of the fake Apikley server, observed over real sockets with plain httpx."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from sora2_characters.testing import FakeApikley, Fault

CHARACTER = Path(__file__).resolve().parent.parent / "examples" / "character.mp4"
CREATE = "/api/v1/jobs/createTask"
CREDIT = "/api/v1/chat/credit"
DOCUMENTED_CODES = [400, 401, 402, 404, 422, 429, 433, 455, 500, 501, 505]


@pytest.fixture
def task_body(http: httpx.Client, fake_apikley: FakeApikley) -> dict[str, Any]:
    response = http.post(
        f"{fake_apikley.upload_base_url}/api/file-stream-upload",
        files={"file": ("c.mp4", CHARACTER.read_bytes())},
        data={"uploadPath": "f"},
    )
    return {
        "model": "sora-2-characters",
        "input": {"character_file_url": [response.json()["data"]["downloadUrl"]]},
    }


@pytest.mark.parametrize("code", DOCUMENTED_CODES)
@pytest.mark.parametrize("style", ["live", "http"])
def test_fail_next_answers_every_documented_code_in_both_styles(
    http: httpx.Client, fake_apikley: FakeApikley, task_body: dict[str, Any], code: int, style: str
) -> None:
    fake_apikley.error_style = style  # type: ignore[assignment]
    fake_apikley.fail_next("createTask", code=code, times=2)
    for _ in range(2):
        response = http.post(CREATE, json=task_body)
        assert response.status_code == (200 if style == "live" else code)
        assert response.json()["code"] == code
        # Live: the codes captured without a data key have none; every other error has data null.
        if style == "live" and code in {401, 402, 429, 500}:
            assert "data" not in response.json()
        else:
            assert response.json()["data"] is None
    assert fake_apikley.tasks == []  # a code fault answers instead of the operation
    assert http.post(CREATE, json=task_body).json()["code"] == 200
    assert [r.fault for r in fake_apikley.requests_for("createTask")] == [
        f"code {code}",
        f"code {code}",
        None,
    ]


def test_fail_next_message_http_status_and_upload_shape(
    http: httpx.Client, fake_apikley: FakeApikley
) -> None:
    fake_apikley.fail_next("upload", code=500, msg="disk full", http_status=503)
    response = http.post(f"{fake_apikley.upload_base_url}/api/file-base64-upload", json={})
    assert response.status_code == 503
    assert response.json() == {"success": False, "code": 500, "msg": "disk full"}


def test_faults_only_hit_their_operation_and_wildcards_hit_all(
    http: httpx.Client, fake_apikley: FakeApikley
) -> None:
    fake_apikley.fail_next("recordInfo", code=455)
    assert http.get(CREDIT).json()["code"] == 200
    assert http.get("/api/v1/jobs/recordInfo", params={"taskId": "x"}).json()["code"] == 455
    fake_apikley.fail_next("*", code=500, times=None)
    assert http.get(CREDIT).json()["code"] == 500
    assert http.post("/api/v1/common/download-url", json={}).json()["code"] == 500
    assert len(fake_apikley.faults.pending) == 1
    fake_apikley.clear_faults()
    assert http.get(CREDIT).json()["code"] == 200


def test_faults_reject_bad_arguments(fake_apikley: FakeApikley) -> None:
    with pytest.raises(ValueError, match="unknown operation 'create'"):
        fake_apikley.fail_next("create", code=500)
    with pytest.raises(ValueError, match="times"):
        fake_apikley.fail_next("createTask", code=500, times=0)
    with pytest.raises(ValueError, match="needs the code"):
        Fault("createTask", "code")
    with pytest.raises(ValueError, match="when"):
        fake_apikley.drop_connection_next("createTask", when="later")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="kind"):
        fake_apikley.malformed_next("createTask", kind="xml")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("retry_after", "header"),
    [(None, None), (2, "2"), (0.25, "0.25"), ("Wed, 21 Oct 2026 07:28:00 GMT", None)],
)
def test_rate_limit_is_http_429_with_optional_retry_after(
    http: httpx.Client, fake_apikley: FakeApikley, retry_after: float | str | None, header: str | None
) -> None:
    fake_apikley.rate_limit_next("credits", retry_after=retry_after)
    response = http.get(CREDIT)
    assert response.status_code == 429
    assert response.json() == {"code": 429, "msg": "Rate limit exceeded"}  # live: no data key
    expected = retry_after if isinstance(retry_after, str) else header
    assert response.headers.get("retry-after") == expected
    assert http.get(CREDIT).status_code == 200


def test_latency_delays_answers(http: httpx.Client, fake_apikley: FakeApikley) -> None:
    fake_apikley.set_latency(0.2, operation="credits", times=1)
    started = time.monotonic()
    assert http.get(CREDIT).json()["code"] == 200
    assert time.monotonic() - started >= 0.2
    fake_apikley.set_latency(1.0, operation="credits")
    with pytest.raises(httpx.ReadTimeout):
        http.get(CREDIT, timeout=0.1)


def test_a_delayed_fault(http: httpx.Client, fake_apikley: FakeApikley) -> None:
    fake_apikley.fail_next("credits", code=500, delay=0.1)
    started = time.monotonic()
    assert http.get(CREDIT).json()["code"] == 500
    assert time.monotonic() - started >= 0.1


def test_drop_before_read_creates_nothing(
    http: httpx.Client, fake_apikley: FakeApikley, task_body: dict[str, Any]
) -> None:
    fake_apikley.drop_connection_next("createTask", when="before_read")
    # A clean close, or a reset when the body was still arriving: no response byte either way.
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)) as dropped_error:
        http.post(CREATE, json=task_body)
    if isinstance(dropped_error.value, httpx.RemoteProtocolError):
        assert "without sending a response" in str(dropped_error.value)
    assert fake_apikley.tasks == []
    (dropped,) = fake_apikley.requests_for("createTask")
    assert (dropped.body, dropped.status, dropped.fault) == (None, None, "drop before_read")
    assert fake_apikley.credits == 100.0
    assert http.post(CREATE, json=task_body).json()["code"] == 200  # the next call is served


def test_drop_after_read_creates_the_task_first(
    http: httpx.Client, fake_apikley: FakeApikley, task_body: dict[str, Any]
) -> None:
    fake_apikley.drop_connection_next("createTask", when="after_read", times=2)
    for _ in range(2):
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            http.post(CREATE, json=task_body)
    assert len(fake_apikley.tasks) == 2
    assert fake_apikley.credits == 95.0
    dropped = fake_apikley.requests_for("createTask")[0]
    assert (dropped.json, dropped.status, dropped.fault) == (task_body, None, "drop after_read")


def test_a_dropped_upload_before_read(fake_apikley: FakeApikley, http: httpx.Client) -> None:
    fake_apikley.drop_connection_next("fileStreamUpload")
    with pytest.raises((httpx.RemoteProtocolError, httpx.WriteError, httpx.ReadError)):
        http.post(
            f"{fake_apikley.upload_base_url}/api/file-stream-upload",
            files={"file": ("c.mp4", CHARACTER.read_bytes())},
            data={"uploadPath": "f"},
        )
    assert fake_apikley.uploaded_files == {}


def test_truncated_body(http: httpx.Client, fake_apikley: FakeApikley, task_body: dict[str, Any]) -> None:
    fake_apikley.malformed_next("createTask", kind="truncated")
    with pytest.raises(httpx.RemoteProtocolError, match="without sending complete message body"):
        http.post(CREATE, json=task_body)
    assert len(fake_apikley.tasks) == 1  # the work was done before the answer broke


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("html", (502, "text/html", b"<html>")),
        ("empty", (200, "application/json", b"")),
        ("not_json", (200, "application/json", b"upstream")),
        ("data_null", (200, "application/json", b'{"code":200,"msg":"success","data":null}')),
    ],
)
def test_malformed_answers(
    http: httpx.Client,
    fake_apikley: FakeApikley,
    task_body: dict[str, Any],
    kind: Any,
    expected: tuple[int, str, bytes],
) -> None:
    status, content_type, body = expected
    fake_apikley.malformed_next("createTask", kind=kind)
    response = http.post(CREATE, json=task_body)
    assert response.status_code == status
    assert response.headers["content-type"].startswith(content_type)
    assert response.content.startswith(body)
    assert len(fake_apikley.tasks) == 1


def test_malformed_upload_data_null_keeps_the_upload_shape(
    http: httpx.Client, fake_apikley: FakeApikley
) -> None:
    fake_apikley.malformed_next("upload", kind="data_null")
    response = http.post(
        f"{fake_apikley.upload_base_url}/api/file-base64-upload",
        json={"base64Data": "aGk=", "uploadPath": "a"},
    )
    assert response.json() == {"success": True, "code": 200, "msg": "success", "data": None}


def test_fail_task_for_the_next_task_and_an_existing_one(
    http: httpx.Client, fake_apikley: FakeApikley, task_body: dict[str, Any]
) -> None:
    fake_apikley.time_scale = 0
    fake_apikley.fail_task(fail_code="501", fail_msg="content policy")
    first = http.post(CREATE, json=task_body).json()["data"]["taskId"]
    second = http.post(CREATE, json=task_body).json()["data"]["taskId"]
    assert fake_apikley.task(first)["state"] == "fail"
    assert (fake_apikley.task(first)["failCode"], fake_apikley.task(first)["failMsg"]) == (
        "501",
        "content policy",
    )
    assert fake_apikley.task(second)["state"] == "success"
    fake_apikley.fail_task(second, fail_code="500", fail_msg="late failure")
    data = http.get("/api/v1/jobs/recordInfo", params={"taskId": second}).json()["data"]
    assert (data["state"], data["failCode"], data["failMsg"], data["resultJson"]) == (
        "fail",
        "500",
        "late failure",
        "",
    )
    with pytest.raises(KeyError):
        fake_apikley.fail_task("task_unknown")


def test_reset_clears_faults_and_planned_failures(http: httpx.Client, fake_apikley: FakeApikley) -> None:
    fake_apikley.fail_next("credits", code=500)
    fake_apikley.fail_task()
    fake_apikley.credits = 1
    fake_apikley.reset()
    assert fake_apikley.faults.pending == []
    assert http.get(CREDIT).json() == {"code": 200, "msg": "success", "data": 100.0}
