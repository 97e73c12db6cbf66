"""The fake's jobs API (``sora2_characters._fake.app`` and its state) over real sockets, with plain httpx:
auth, error styles, validation, the task lifecycle, source videos, recording."""

from __future__ import annotations

import asyncio
import copy
import functools
import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft7Validator
from jsonschema.exceptions import best_match

from contract_tests.support import CREATE, DATA, RECORD, VIDEO_MP4, FakeTime, auth, create, record, upload
from sora2_characters._fake import schema
from sora2_characters._fake.server import ThreadedServer
from sora2_characters._fake.state import FakeSettings, FakeState, PlannedFailure
from sora2_characters.testing import FakeApikley

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
    clock = FakeTime(1_765_174_270.12)
    with FakeApikley(
        clock=clock.clock, task_durations={"waiting": 1, "queuing": 2, "generating": 4}, error_style="http"
    ) as fake:
        fake_http = httpx.Client(base_url=fake.base_url, headers={"Authorization": "Bearer test-key"})
        with fake_http:
            url = upload(fake_http, fake, VIDEO_MP4)
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
    task_id = create(http, upload(http, fake_apikley, VIDEO_MP4))
    assert fake_apikley.tasks[0].ends_at - fake_apikley.tasks[0].created_at == pytest.approx(0.015, abs=1e-6)
    fake_apikley.advance(15)
    assert record(http, task_id)["state"] == "success"


def test_task_duration_total_and_time_scale_zero(http: httpx.Client, fake_apikley: FakeApikley) -> None:
    fake_apikley.time_scale = 0
    fake_apikley.set_task_durations(total=30)
    task_id = create(http, upload(http, fake_apikley, VIDEO_MP4))
    data = record(http, task_id)
    assert (data["state"], data["costTime"]) == ("success", 30.0)


def test_override_task_shows_what_the_docs_forgot_then_the_truth(
    http: httpx.Client, fake_apikley: FakeApikley
) -> None:
    fake_apikley.time_scale = 0  # every task is already over
    fake_apikley.override_task(fields={"state": "paused", "failCode": 422}, times=2)
    url = upload(http, fake_apikley, VIDEO_MP4)
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
    task_id = create(http, upload(http, fake_apikley, VIDEO_MP4))
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
    url = upload(http, fake_apikley, VIDEO_MP4)
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
        url = upload(http, fake_apikley, VIDEO_MP4)  # inspected in a thread: each create awaits
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
    big = VIDEO_MP4.read_bytes() + b"\0" * (10 * 1024 * 1024)
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
        good = upload(other_http, other, VIDEO_MP4)
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


# ---- serving ----------------------------------------------------------------------------------------------


def test_the_servers_connections_send_without_nagles_delay() -> None:
    # Without TCP_NODELAY, an answer's body (written after its headers) waits for the client's
    # delayed ACK: 40 ms on every answer of a kept-alive connection.
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    server = ThreadedServer(app, host="127.0.0.1", port=0)
    port = server.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            assert client.get("/").content == b"ok"
            connections = list(server._server.server_state.connections)
            assert connections
            for protocol in connections:
                sock = protocol.transport.get_extra_info("socket")
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        server.stop()


# ---- the balance ------------------------------------------------------------------------------------------

_STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("create"), st.floats(0, 5), st.booleans()),  # a task of that length; fails?
        st.tuples(st.just("wait"), st.floats(0, 3)),
        st.tuples(st.just("finish"), st.integers(0, 20), st.sampled_from(["success", "fail", "generating"])),
        st.tuples(st.just("fail"), st.integers(0, 20)),
        st.tuples(st.just("remove"), st.integers(0, 20)),
        st.tuples(st.just("look")),
    ),
    max_size=40,
)


@given(steps=_STEPS)
def test_each_look_at_the_balance_refunds_the_tasks_failed_by_then(steps: list[tuple[Any, ...]]) -> None:
    """Whatever the order of creates, clock moves, finishes, failures and removals, each look at the
    balance (a create is one) refunds, once, every known task that has ended in ``fail`` by then."""
    now = [1000.0]
    settings = FakeSettings(
        api_keys=("k",),
        accept_any_key=False,
        error_style="live",
        time_scale=1.0,
        task_durations={"waiting": 0.0, "queuing": 0.0, "generating": 1.0},
        credits_per_task=2.5,
        webhook_secret=None,
        validate_media=False,
        remote_videos="accept",
        callback_timeout=1.0,
        fetch_timeout=1.0,
    )
    state = FakeState(settings, credits=1000.0, clock=lambda: now[0])
    expected = 1000.0
    settled: set[str] = set()

    def look() -> None:  # the reference: every known, unsettled task, one by one
        nonlocal expected
        for task in state.tasks():
            ended = task.state(now[0])
            if task.task_id not in settled and ended in ("success", "fail"):
                settled.add(task.task_id)
                expected += 2.5 if ended == "fail" else 0.0

    def pick(index: int) -> str | None:
        known = [task.task_id for task in state.tasks()]
        return known[index % len(known)] if known else None

    for step in steps:
        kind = step[0]
        if kind == "create":
            look()
            settings.task_durations = {"waiting": 0.0, "queuing": 0.0, "generating": step[1]}
            failure = PlannedFailure("500", "boom") if step[2] else None
            assert state.create_task({"model": "sora-2-characters"}, failure) is not None
            expected -= 2.5
        elif kind == "wait":
            now[0] += step[1]
        elif kind == "look":
            look()
            assert state.credits == pytest.approx(expected)
        elif (task_id := pick(step[1])) is not None:
            if kind == "finish":
                state.finish_task(task_id, step[2], character_id=None, fail_code="500", fail_msg="x")
            elif kind == "fail":
                state.fail_task(task_id, PlannedFailure("500", "late"))
            else:
                state.remove_task(task_id)
    look()
    assert state.credits == pytest.approx(expected)


# ---- request validation ------------------------------------------------------------------------------------

PRO = "sora-2-characters-pro"
_URLISH = st.one_of(
    st.sampled_from(["https://files.example.com/a.mp4", "http://x/a", "ftp://h/a", "not a url", ""]),
    st.text(max_size=30),
)
_LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), _URLISH)
_INPUT = st.one_of(
    st.fixed_dictionaries(
        {"character_file_url": st.one_of(st.lists(_URLISH, max_size=2), _LEAF)},
        optional={
            "character_prompt": st.one_of(st.text(max_size=20), st.just("a" * 5001), _LEAF),
            "origin_task_id": st.one_of(st.text(max_size=5), _LEAF),
            "timestamps": st.sampled_from(["1,3", "1.5,4", "x"]),
        },
    ),
    st.dictionaries(st.text(max_size=5), _LEAF, max_size=3),
    _LEAF,
)
_BODIES = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "model": st.one_of(
                st.sampled_from(["sora-2-characters", "sora-2-characters-pro", "other"]), _LEAF
            ),
            "input": _INPUT,
            "callBackUrl": _URLISH,
        },
    ),
    _LEAF,
    st.lists(_LEAF, max_size=2),
)


@given(body=_BODIES)
def test_the_create_check_answers_as_the_whole_schema_does(body: Any) -> None:
    """The shortcut (only the member the body's model names) never changes a verdict or a message."""
    create_schema = schema.request_schema("createTask")
    full = best_match(Draft7Validator(create_schema, format_checker=schema._FORMATS).iter_errors(body))
    expected = None if full is None else schema._problem(schema._within_one_of(full), "")
    assert schema.validate(body, create_schema) == expected


@given(value=st.text())
def test_a_uri_holds_no_whitespace_nor_control_character(value: str) -> None:
    url = f"https://example.com/{value}"
    refused = any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in url)
    assert schema.is_uri(url) is not refused


_VALID: dict[str, list[Any]] = {
    "createTask": [
        {
            "model": "sora-2-characters",
            "input": {
                "character_file_url": ["https://files.example.com/a.mp4"],
                "character_prompt": "a robot",
                "safety_instruction": "none",
            },
            "callBackUrl": "https://hooks.example.com/done",
        },
        {
            "model": PRO,
            "input": {
                "origin_task_id": "t1",
                "timestamps": "1,3.5",
                "character_prompt": "p",
                "character_user_name": "n",
            },
        },
    ],
    "downloadUrl": [{"url": "https://files.example.com/a.mp4"}],
    "fileBase64Upload": [{"base64Data": "AAAA", "uploadPath": "a/b", "fileName": "f.mp4"}],
    "fileUrlUpload": [{"fileUrl": "https://videos.example.com/a.mp4", "uploadPath": "a", "fileName": "f"}],
    "fileStreamUpload": [{"file": "<binary>", "uploadPath": "a", "fileName": "f"}],
}
_ODD_VALUES: list[Any] = [None, True, 0, 1.0, 1.5, "", "x", "not a uri", "/a", "a/", "1,", "1,2", "a" * 41]
_ODD_VALUES += ["a" * 5001, "\ud800", [], ["x"], ["https://a.example.com/b", "https://a.example.com/c"], {}]
_ODD_VALUES += ["sora-2-characters", PRO]
_ODD = st.sampled_from(_ODD_VALUES).map(copy.deepcopy)  # a fresh copy: the edits below mutate it


def _spots(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield from _spots(child, (*path, key))


def _near_valid(data: st.DataObject, operation: str) -> Any:
    """A valid body of ``operation`` with up to three spots replaced, removed or added to."""
    doc = copy.deepcopy(data.draw(st.sampled_from(_VALID[operation])))
    for _ in range(data.draw(st.integers(0, 3))):
        path = data.draw(st.sampled_from(list(_spots(doc))))
        action = data.draw(st.sampled_from(["replace", "remove", "add"]))
        if not path:
            doc = data.draw(_ODD) if action == "replace" else doc
            continue
        parent = functools.reduce(lambda node, key: node[key], path[:-1], doc)
        if action == "replace":
            parent[path[-1]] = data.draw(_ODD)
        elif action == "remove":
            del parent[path[-1]]
        elif isinstance(parent[path[-1]], dict):
            parent[path[-1]][data.draw(st.sampled_from(["model", "url", "uploadPath", "extra"]))] = data.draw(
                _ODD
            )
    return doc


@pytest.mark.parametrize("operation", sorted(_VALID))
@given(data=st.data())
def test_each_request_check_answers_as_its_whole_schema_does(operation: str, data: st.DataObject) -> None:
    """The quick checks (valid bodies only; the rest take jsonschema's look) never change a verdict
    or a message, on bodies one to three edits away from valid ones."""
    request_schema = schema.request_schema(operation)
    body = _near_valid(data, operation)
    full = best_match(Draft7Validator(request_schema, format_checker=schema._FORMATS).iter_errors(body))
    expected = None if full is None else schema._problem(schema._within_one_of(full), "")
    assert schema.validate(body, request_schema) == expected


@given(value=st.one_of(_ODD, st.text(max_size=40)))
def test_the_task_id_check_answers_as_its_whole_schema_does(value: Any) -> None:
    _, param_schema = schema.query_schema("recordInfo")["taskId"]
    full = best_match(Draft7Validator(param_schema, format_checker=schema._FORMATS).iter_errors(value))
    expected = None if full is None else schema._problem(full, "taskId")
    assert schema.validate(value, param_schema, "taskId") == expected
