"""CallbackApp in process: verify, parse, deduplicate, acknowledge; refusals never reach the handler."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract_tests.support import free_port
from sora2_characters import TaskInfo
from sora2_characters.webhooks import CallbackApp, MemoryStore, RedisStore, SQLiteStore, sign

pytestmark = pytest.mark.anyio

SECRET = "whsec-test-0123456789"


def body_for(task_id: str, state: str = "success", **extra: Any) -> bytes:
    data = {"taskId": task_id, "state": state, "resultJson": json.dumps({"character_id": f"char_{task_id}"})}
    data.update(extra)
    return json.dumps({"code": 200 if state == "success" else 501, "msg": "success", "data": data}).encode()


class Recorder:
    def __init__(self) -> None:
        self.seen: list[TaskInfo] = []

    def __call__(self, info: TaskInfo) -> None:
        self.seen.append(info)


async def post(
    app: CallbackApp, body: bytes, headers: dict[str, str] | None = None, path: str = "/"
) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver.test") as client:
        return await client.post(
            path, content=body, headers={"Content-Type": "application/json", **(headers or {})}
        )


async def test_a_signed_callback_reaches_the_handler_once_however_often_delivered() -> None:
    handler = Recorder()
    app = CallbackApp(handler, secret=SECRET)
    for _ in range(3):
        response = await post(app, body_for("task_1"), sign("task_1", SECRET))
        assert response.status_code == 200
        assert response.json() == {"code": 200, "msg": "success"}
    assert [info.task_id for info in handler.seen] == ["task_1"]
    assert handler.seen[0].character_id == "char_task_1"


async def test_success_and_failure_are_two_outcomes_of_one_task() -> None:
    handler = Recorder()
    app = CallbackApp(handler)
    await post(app, body_for("task_1", "fail", failMsg="bad clip"))
    await post(app, body_for("task_1", "fail"))
    await post(app, body_for("task_1", "success"))
    assert [(info.task_id, info.state.value) for info in handler.seen] == [
        ("task_1", "fail"),
        ("task_1", "success"),
    ]


@pytest.mark.parametrize(
    ("make_headers", "message"),
    [
        (dict, "X-Webhook-Signature header is missing"),
        (lambda: sign("task_1", "another-secret"), "does not match"),
        (lambda: sign("task_other", SECRET), "does not match"),
        (lambda: sign("task_1", SECRET, timestamp=int(time.time()) - 3600), "outside the 300 s tolerance"),
        (lambda: {"X-Webhook-Signature": "x", "X-Webhook-Timestamp": "soon"}, "not Unix seconds"),
    ],
)
async def test_bad_signatures_and_stale_timestamps_are_401_and_never_reach_the_handler(
    make_headers: Callable[[], dict[str, str]], message: str
) -> None:
    headers = make_headers()  # signed now, not when the suite was collected
    handler = Recorder()
    app = CallbackApp(handler, secret=SECRET)
    response = await post(app, body_for("task_1"), headers)
    assert response.status_code == 401
    assert message in response.json()["msg"]
    assert SECRET not in response.text
    assert handler.seen == []
    # The refused delivery did not use the outcome up: a good one still gets through.
    assert (await post(app, body_for("task_1"), sign("task_1", SECRET))).status_code == 200
    assert len(handler.seen) == 1


async def test_an_oversized_body_is_413_whether_declared_or_streamed() -> None:
    handler = Recorder()
    app = CallbackApp(handler, max_body=2048)
    big = body_for("task_1", padding="x" * 4096)
    assert (await post(app, big)).status_code == 413

    async def chunks() -> Any:
        for _ in range(10):
            yield b"x" * 512

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver.test") as client:
        assert (await client.post("/", content=chunks())).status_code == 413
    assert handler.seen == []


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[1, 2]",
        b'{"code": 200}',
        b'{"data": {"state": "success"}}',
        b'{"data": {"taskId": "t"}}',
        b'{"data": {"taskId": 1e999999, "state": "success"}}',
        b'{"data": ' + b"[" * 200_000 + b"]" * 200_000 + b"}",
    ],
)
async def test_a_malformed_body_is_400(body: bytes) -> None:
    handler = Recorder()
    response = await post(CallbackApp(handler), body)
    assert response.status_code == 400
    assert response.json()["code"] == 400
    assert handler.seen == []


async def test_wrong_method_and_path() -> None:
    app = CallbackApp(Recorder(), path="/hooks/apikley")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver.test") as client:
        assert (await client.get("/hooks/apikley")).status_code == 405
        assert (await client.post("/", content=body_for("t"))).status_code == 404
        assert (await client.post("/hooks/apikley", content=body_for("t"))).status_code == 200


async def test_a_handler_that_raises_answers_500_and_the_next_delivery_retries() -> None:
    calls: list[str] = []

    def flaky(info: TaskInfo) -> None:
        calls.append(info.task_id)
        if len(calls) == 1:
            raise RuntimeError("database down: password=hunter2")

    app = CallbackApp(flaky)
    first = await post(app, body_for("task_1"))
    assert first.status_code == 500
    assert "hunter2" not in first.text  # the handler's error stays in the log
    assert (await post(app, body_for("task_1"))).status_code == 200
    assert (await post(app, body_for("task_1"))).status_code == 200
    assert calls == ["task_1", "task_1"]


async def test_async_handlers_are_awaited_and_sync_ones_run_off_the_event_loop() -> None:
    seen: list[str] = []

    async def async_handler(info: TaskInfo) -> None:
        await anyio.sleep(0)
        seen.append(f"async:{info.task_id}")

    def sync_handler(info: TaskInfo) -> None:
        with pytest.raises(RuntimeError):
            anyio.get_current_task()  # no event loop in this thread
        seen.append(f"sync:{info.task_id}")

    await post(CallbackApp(async_handler), body_for("a"))
    await post(CallbackApp(sync_handler), body_for("s"))
    assert seen == ["async:a", "sync:s"]


async def test_concurrent_repeats_call_the_handler_once_per_outcome(tmp_path: Path) -> None:
    handler = Recorder()
    app = CallbackApp(handler, secret=SECRET, store=SQLiteStore(tmp_path / "o.sqlite"))
    ids = [f"task_{index}" for index in range(40)]
    async with anyio.create_task_group() as group:
        for task_id in ids * 4:
            group.start_soon(post, app, body_for(task_id), sign(task_id, SECRET))
    assert sorted(info.task_id for info in handler.seen) == sorted(ids)


async def test_startup_fails_when_the_store_is_down() -> None:
    app = CallbackApp(Recorder(), store=RedisStore(f"redis://127.0.0.1:{free_port()}/0", socket_timeout=2.0))
    sent: list[dict[str, Any]] = []
    messages = iter([{"type": "lifespan.startup"}])

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: Any) -> None:
        sent.append(dict(message))

    await app({"type": "lifespan"}, receive, send)
    assert sent[0]["type"] == "lifespan.startup.failed"
    assert "Redis at redis://127.0.0.1" in sent[0]["message"]


async def test_lifespan_checks_and_closes_a_good_store(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "o.sqlite")
    app = CallbackApp(Recorder(), store=store)
    sent: list[str] = []
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: Any) -> None:
        sent.append(message["type"])

    await app({"type": "lifespan"}, receive, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert (tmp_path / "o.sqlite").exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"secret": ""}, "secret must be non-empty"),
        ({"tolerance": -1}, "tolerance"),
        ({"path": "hooks"}, "path must start"),
        ({"max_body": 0}, "max_body"),
    ],
)
def test_bad_options_are_refused_by_name(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CallbackApp(Recorder(), **kwargs)


def test_repr_never_shows_the_secret() -> None:
    assert SECRET not in repr(CallbackApp(Recorder(), secret=SECRET, store=MemoryStore()))


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(st.characters(exclude_categories=())),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=20,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.one_of(
        st.binary(max_size=300),
        _json_values.map(lambda value: json.dumps(value).encode()),
        st.dictionaries(st.sampled_from(["taskId", "state", "resultJson", "failMsg"]), _json_values).map(
            lambda data: json.dumps({"code": 200, "data": data}).encode()
        ),
    )
)
def test_any_body_gets_a_json_answer_never_a_crash(body: bytes) -> None:
    handler = Recorder()
    app = CallbackApp(handler)
    response = anyio.run(post, app, body)
    assert response.status_code in {200, 400}
    assert set(response.json()) == {"code", "msg"}
    assert len(handler.seen) == (1 if response.status_code == 200 else 0)


def test_signed_receiver_refuses_every_unsigned_body() -> None:
    runner: Callable[..., Any] = anyio.run
    handler = Recorder()
    app = CallbackApp(handler, secret=SECRET)
    for body in (body_for("t"), b"{}", b"junk"):
        response = runner(post, app, body)
        assert response.status_code in {400, 401}
    assert handler.seen == []


async def test_it_mounts_inside_a_starlette_app() -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    handler = Recorder()
    outer = Starlette(routes=[Mount("/hooks/apikley", app=CallbackApp(handler, secret=SECRET))])
    transport = httpx.ASGITransport(app=outer)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver.test") as client:
        response = await client.post(
            "/hooks/apikley/", content=body_for("task_m"), headers=sign("task_m", SECRET)
        )
    assert response.status_code == 200
    assert [info.task_id for info in handler.seen] == ["task_m"]
