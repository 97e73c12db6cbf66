"""sora-2-characters-pro: ``create_character_from_task`` and ``create --from-task``, end to end.

A character from seconds ``start``-``end`` of an earlier, successful task. Arguments are checked
before any request (the segment is 1-4 s, sent as ``"x,y"`` with at most two decimals); the request
is what the spec describes (Prism validates it); the fake accepts it only for a task it knows that
succeeded; the command line behaves as ``create --video`` does.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contract_tests.support import ROOT
from sora2_characters import (
    AsyncClient,
    Client,
    CreatedTask,
    InvalidInputError,
    UnprocessableEntityError,
)
from sora2_characters._prism import PrismServer
from sora2_characters.testing import FakeApikley

KEY = "from-task-test-key"
PRO = "sora-2-characters-pro"


class Recorder:
    """An in-memory service that records createTask bodies and answers with a task id."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.read()))
        return httpx.Response(200, json={"code": 200, "msg": "success", "data": {"taskId": "t-pro"}})


def _client(recorder: Recorder) -> Client:
    http = httpx.Client(transport=httpx.MockTransport(recorder))
    return Client(KEY, base_url="http://127.0.0.1:9", allow_insecure_http=True, http_client=http)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def client(recorder: Recorder) -> Iterator[Client]:
    with _client(recorder) as bound:
        yield bound


def test_the_request_is_the_pro_body(client: Client, recorder: Recorder) -> None:
    created = client.create_character_from_task(
        "5fdec09dc604e83ec6eb26b40c1b64d8",
        start=3.55,
        end=5.55,
        character_prompt="A cheerful robot barista",
        character_user_name="robo_barista",
        safety_instruction="family friendly",
        callback_url="https://example.com/callback",
    )
    assert created == CreatedTask(task_id="t-pro")
    assert recorder.bodies == [
        {
            "model": PRO,
            "callBackUrl": "https://example.com/callback",
            "input": {
                "origin_task_id": "5fdec09dc604e83ec6eb26b40c1b64d8",
                "timestamps": "3.55,5.55",
                "character_prompt": "A cheerful robot barista",
                "character_user_name": "robo_barista",
                "safety_instruction": "family friendly",
            },
        }
    ]


@pytest.mark.parametrize(
    ("start", "end", "timestamps"),
    [
        (0, 1, "0,1"),
        (0.0, 4.0, "0,4"),
        (2.5, 4.25, "2.5,4.25"),
        (1.004, 2.004, "1,2"),  # rounded to two decimals, then checked
        (-0.0, 1.5, "0,1.5"),
        (10, 14.001, "10,14"),
    ],
)
def test_the_segment_is_sent_with_at_most_two_decimals(
    client: Client, recorder: Recorder, start: float, end: float, timestamps: str
) -> None:
    client.create_character_from_task("origin", start=start, end=end, character_prompt="p")
    assert recorder.bodies[-1]["input"] == {
        "origin_task_id": "origin",
        "timestamps": timestamps,
        "character_prompt": "p",
    }


BAD_ARGUMENTS: list[tuple[dict[str, Any], str, str]] = [
    ({"start": -0.5, "end": 1}, "start", "0 or more"),
    ({"start": 0, "end": 0.99}, "end", "1 to 4 seconds"),
    ({"start": 1, "end": 5.01}, "end", "1 to 4 seconds"),
    ({"start": 3, "end": 2}, "end", "1 to 4 seconds"),
    ({"start": math.nan, "end": 2}, "start", "finite"),
    ({"start": 0, "end": math.inf}, "end", "finite"),
    ({"start": 1e300, "end": 1e300 + 2}, "start", "finite"),
    ({"start": True, "end": 2}, "start", "number of seconds"),
    ({"start": "1", "end": 2}, "start", "number of seconds"),
    ({"origin_task_id": ""}, "origin_task_id", "non-empty"),
    ({"origin_task_id": "a\nb"}, "origin_task_id", "control characters"),
    ({"character_prompt": ""}, "character_prompt", "required"),
    ({"character_prompt": "x" * 5001}, "character_prompt", "the limit is 5000"),
    ({"character_prompt": "\ud800"}, "character_prompt", "surrogates"),
    ({"character_user_name": "n" * 41}, "character_user_name", "the limit is 40"),
    ({"character_user_name": " "}, "character_user_name", "must not be empty"),
    ({"safety_instruction": "s" * 5001}, "safety_instruction", "the limit is 5000"),
    ({"callback_url": "ftp://example.com/cb"}, "callback_url", "http"),
]


@pytest.mark.parametrize(("changes", "field", "words"), BAD_ARGUMENTS)
def test_bad_arguments_are_refused_before_any_request(
    client: Client, recorder: Recorder, changes: dict[str, Any], field: str, words: str
) -> None:
    arguments: dict[str, Any] = {
        "origin_task_id": "origin",
        "start": 1.0,
        "end": 3.0,
        "character_prompt": "p",
        **changes,
    }
    origin = arguments.pop("origin_task_id")
    with pytest.raises(InvalidInputError) as caught:
        client.create_character_from_task(origin, **arguments)
    assert caught.value.field == field
    assert words in str(caught.value)
    assert recorder.bodies == []


seconds = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-5, max_value=100),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.decimals(min_value=0, max_value=60, places=3).map(float),
)


@settings(max_examples=300, deadline=None)
@given(start=seconds, end=seconds)
def test_any_segment_is_refused_or_sent_as_two_decimals_one_to_four_seconds_long(
    start: float, end: float
) -> None:
    recorder = Recorder()
    refused: InvalidInputError | None = None
    with _client(recorder) as client:
        try:
            client.create_character_from_task("origin", start=start, end=end, character_prompt="p")
        except InvalidInputError as exc:
            refused = exc
    if refused is not None:
        assert refused.field in {"start", "end"}
        assert recorder.bodies == []
        return
    (body,) = recorder.bodies
    first, last = body["input"]["timestamps"].split(",")
    for text in (first, last):
        assert Decimal(text).as_tuple().exponent >= -2  # type: ignore[operator]
        assert not text.startswith("-")
    assert Decimal(1) <= Decimal(last) - Decimal(first) <= Decimal(4)
    assert abs(float(first) - start) <= 0.005 + 1e-9


@pytest.mark.anyio
async def test_the_async_client_sends_the_same(recorder: Recorder) -> None:
    http = httpx.AsyncClient(transport=httpx.MockTransport(recorder))
    async with AsyncClient(
        KEY, base_url="http://127.0.0.1:9", allow_insecure_http=True, http_client=http
    ) as client:
        created = await client.create_character_from_task("origin", start=1, end=2.5, character_prompt="p")
        with pytest.raises(InvalidInputError):
            await client.create_character_from_task("origin", start=1, end=6, character_prompt="p")
    assert created.task_id == "t-pro"
    assert recorder.bodies == [
        {"model": PRO, "input": {"origin_task_id": "origin", "timestamps": "1,2.5", "character_prompt": "p"}}
    ]


# ---- against the fake ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[FakeApikley]:
    with FakeApikley(api_key=KEY, time_scale=0) as fake:
        yield fake


@pytest.fixture
def fake(server: FakeApikley) -> FakeApikley:
    server.reset()
    server.time_scale = 0
    return server


def test_the_fake_makes_a_character_from_a_successful_task(fake: FakeApikley) -> None:
    origin = fake.seed_task(model="sora-2-text-to-video", state="success")
    with fake.client(poll_interval=0.01) as client:
        info = client.create_character_from_task_and_wait(
            origin, start=0.5, end=3, character_prompt="A cat", character_user_name="kit", max_wait=30
        )
    assert info.state == "success"
    assert info.model == PRO
    assert info.character_id
    created = next(task for task in fake.tasks if task.task_id == info.task_id)
    assert created.body["input"] == {
        "origin_task_id": origin,
        "timestamps": "0.5,3",
        "character_prompt": "A cat",
        "character_user_name": "kit",
    }


@pytest.mark.parametrize("origin_state", ["unknown", "fail", "generating"])
def test_the_fake_refuses_an_origin_that_did_not_succeed(fake: FakeApikley, origin_state: str) -> None:
    origin = "no-such-task" if origin_state == "unknown" else fake.seed_task(state=origin_state)  # type: ignore[arg-type]
    with fake.client() as client, pytest.raises(UnprocessableEntityError) as caught:
        client.create_character_from_task(origin, start=0, end=2, character_prompt="A cat")
    assert "origin_task_id" in str(caught.value)
    assert len(fake.tasks) == (0 if origin_state == "unknown" else 1)


@pytest.mark.anyio
async def test_the_fake_answers_the_async_client(fake: FakeApikley) -> None:
    origin = fake.seed_task(state="success")
    async with fake.async_client(poll_interval=0.01) as client:
        info = await client.create_character_from_task_and_wait(
            origin, start=1, end=2, character_prompt="A cat", max_wait=30
        )
    assert info.model == PRO
    assert info.character_id


def test_the_fake_refuses_a_pro_body_the_spec_refuses(fake: FakeApikley) -> None:
    body = {"model": PRO, "input": {"origin_task_id": "x", "timestamps": "1-3", "character_prompt": "p"}}
    with httpx.Client(base_url=fake.base_url, headers={"Authorization": f"Bearer {KEY}"}) as http:
        answer = http.post("/api/v1/jobs/createTask", json=body).json()
    assert answer["code"] == 422
    assert "timestamps" in answer["msg"]


# ---- against Prism (the strict bundle) -------------------------------------------------------


@pytest.mark.prism
def test_prism_accepts_the_request_and_answers_a_task(prism_mock: PrismServer) -> None:
    with Client(KEY, base_url=prism_mock.base_url, upload_base_url=prism_mock.base_url) as client:
        created = client.create_character_from_task(
            "5fdec09dc604e83ec6eb26b40c1b64d8", start=3.55, end=5.55, character_prompt="A cat"
        )
    assert created.task_id


@pytest.mark.prism
@pytest.mark.parametrize(
    "changes",
    [
        {"timestamps": "1-3"},
        {"character_user_name": "n" * 41},
        {"character_prompt": None},
        {"character_file_url": ["https://example.com/c.mp4"], "origin_task_id": None},
    ],
)
def test_prism_refuses_a_body_the_spec_refuses(prism_mock: PrismServer, changes: dict[str, Any]) -> None:
    inputs: dict[str, Any] = {"origin_task_id": "x", "timestamps": "1,3", "character_prompt": "p", **changes}
    body = {"model": PRO, "input": {key: value for key, value in inputs.items() if value is not None}}
    with httpx.Client(base_url=prism_mock.base_url, headers={"Authorization": f"Bearer {KEY}"}) as http:
        assert http.post("/api/v1/jobs/createTask", json=body).status_code == 422
        valid = {"model": PRO, "input": {"origin_task_id": "x", "timestamps": "1,3", "character_prompt": "p"}}
        assert http.post("/api/v1/jobs/createTask", json=valid).status_code == 200


# ---- the command line --------------------------------------------------------------------------


def _cli(fake: FakeApikley, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "APIKLEY_API_KEY": KEY,
        "APIKLEY_BASE_URL": fake.base_url,
        "APIKLEY_UPLOAD_BASE_URL": fake.upload_base_url,
    }
    return subprocess.run(
        [sys.executable, "-m", "sora2_characters", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_create_from_task_waits_and_prints_json(fake: FakeApikley) -> None:
    origin = fake.seed_task(state="success")
    args = ["create", "--from-task", origin, "--start", "1", "--end", "2.5", "--prompt", "A cat"]
    result = _cli(fake, *args, "--name", "kit", "--wait", "--poll-interval", "0.01", "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    task = next(task for task in fake.tasks if task.task_id == payload["task_id"])
    assert payload["state"] == "success"
    assert payload["character_id"] == task.character_id
    assert task.body["input"]["timestamps"] == "1,2.5"
    assert task.body["input"]["character_user_name"] == "kit"
    assert KEY not in result.stdout + result.stderr


def test_cli_create_from_task_without_wait(fake: FakeApikley) -> None:
    origin = fake.seed_task(state="success")
    result = _cli(
        fake, "create", "--from-task", origin, "--start", "0", "--end", "3", "--prompt", "A cat", "--json"
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["state"] == "submitted"
    assert payload["origin_task_id"] == origin


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--from-task", "t", "--start", "0", "--end", "9", "--prompt", "p"], "end - start is 9 s"),
        (["--from-task", "t", "--start", "0", "--end", "2"], "--from-task needs"),
        (
            ["--from-task", "t", "--video-url", "https://e.com/c.mp4", "--start", "0", "--end", "2"],
            "exactly one",
        ),
        (["--video-url", "https://e.com/c.mp4", "--start", "0"], "go with --from-task"),
    ],
)
def test_cli_refuses_bad_from_task_usage_with_the_usage_exit_code(
    fake: FakeApikley, args: list[str], words: str
) -> None:
    result = _cli(fake, "create", *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert words in result.stderr
    assert not fake.tasks


def test_cli_unknown_origin_exits_like_a_refused_create(fake: FakeApikley) -> None:
    result = _cli(
        fake, "create", "--from-task", "nope", "--start", "0", "--end", "2", "--prompt", "p", "--json"
    )
    video = _cli(fake, "create", "--video-url", "not a url", "--json")
    assert result.returncode not in (0, 1, 2)
    assert "origin_task_id" in result.stdout + result.stderr
    assert video.returncode == 2  # a local refusal; the origin's is the service's
