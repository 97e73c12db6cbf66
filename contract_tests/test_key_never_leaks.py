"""The API key never leaks: never printed, logged or echoed, never sent over plain http to another machine.

* The key: the fault matrix (``test_fault_matrix``) searches every log line, exception, traceback
  (with locals) and fake record of every case for a canary key; here the CLI runs (in process)
  against the fake, on success and error paths, with debug logging on, and its output is searched.
* Plain http: a non-loopback ``http://`` base URL is refused at construction, before any request,
  unless ``allow_insecure_http=True``; loopback is allowed.
"""

from __future__ import annotations

import json
import logging
import os
import traceback
from typing import Any

import httpx
import pytest

from contract_tests.support import CANARY, ROOT, VIDEO_URL, LeakWatch, create_task_directly, run_cli
from sora2_characters import (
    AsyncClient,
    AuthenticationError,
    Client,
    InvalidInputError,
)
from sora2_characters.testing import FakeApikley

VIDEO_MP4 = ROOT / "examples" / "character.mp4"


@pytest.fixture
def fake_apikley_options() -> dict[str, Any]:
    """The fakes of this module accept only the canary key; their tasks end at once."""
    return {"api_key": CANARY, "time_scale": 0.0}


# ---- the CLI never prints the key ----------------------------------------------------------------


def _cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APIKLEY_", "SORA2_CHARACTERS_"))}
    env.update({"SORA2_CHARACTERS_LOG": "debug", "NO_COLOR": "1", "COLUMNS": "200", **extra})
    return env


def _globals(fake: FakeApikley, key: str = CANARY) -> list[str]:
    return [
        "--api-key",
        key,
        "--base-url",
        fake.base_url,
        "--upload-base-url",
        fake.upload_base_url,
        "--max-retries",
        "1",
    ]


CLI_CASES: list[tuple[str, list[str], int]] = [
    ("status-unknown-human", ["status", "nope"], 5),
    ("status-unknown-json", ["status", "nope", "--json"], 5),
    ("credits-json", ["credits", "--json"], 0),
    ("create-wait-human", ["create", "--video-url", VIDEO_URL, "--wait", "--poll-interval", "0.01"], 0),
    (
        "create-wait-json",
        ["create", "--video-url", VIDEO_URL, "--wait", "--poll-interval", "0.01", "--json"],
        0,
    ),
]


@pytest.mark.parametrize(("name", "args", "exit_code"), CLI_CASES, ids=[case[0] for case in CLI_CASES])
def test_cli_never_prints_the_key(
    fake_apikley: FakeApikley, watch: LeakWatch, name: str, args: list[str], exit_code: int
) -> None:
    result = run_cli(*_globals(fake_apikley), *args, env=_cli_env())
    assert result.returncode == exit_code, (result.stdout, result.stderr)
    assert CANARY not in result.stdout
    assert CANARY not in result.stderr
    assert "sora2_characters DEBUG" in result.stderr  # the library's debug log was on, and searched
    if "--json" in args:
        json.loads(result.stdout)  # exactly one JSON object
    # The key did reach the fake (it authenticated), which recorded it redacted.
    assert fake_apikley.requests
    assert {r.headers.get("authorization") for r in fake_apikley.requests} == {"Bearer <redacted>"}
    watch.add(fake_apikley.requests)
    watch.assert_no_canary()


def test_cli_error_paths_never_print_the_key(fake_apikley: FakeApikley, watch: LeakWatch) -> None:
    task_id = create_task_directly(fake_apikley)
    outputs: list[str] = []

    # A server error on createTask (exit 16), a dropped task query (exit 9), both in JSON.
    fake_apikley.fail_next("createTask", code=500, msg="boom")
    created = run_cli(*_globals(fake_apikley), "create", "--video-url", VIDEO_URL, "--json", env=_cli_env())
    assert created.returncode == 16, (created.stdout, created.stderr)
    fake_apikley.drop_connection_next("recordInfo", when="after_read", times=None)
    dropped = run_cli(*_globals(fake_apikley), "status", task_id, "--json", env=_cli_env())
    fake_apikley.clear_faults()
    assert dropped.returncode == 9, (dropped.stdout, dropped.stderr)
    # The key from the environment instead of --api-key, and a key the fake refuses (401, exit 3).
    urls = ["--base-url", fake_apikley.base_url, "--upload-base-url", fake_apikley.upload_base_url]
    from_env = run_cli(*urls, "status", "nope", env=_cli_env(APIKLEY_API_KEY=CANARY))
    assert from_env.returncode == 5, (from_env.stdout, from_env.stderr)
    wrong_key = CANARY.replace("never", "wrong")
    refused = run_cli(*_globals(fake_apikley, wrong_key), "credits", env=_cli_env())
    assert refused.returncode == 3, (refused.stdout, refused.stderr)
    # Plain http to a non-loopback host: refused locally (exit 2), nothing sent.
    insecure = run_cli(
        "--api-key", CANARY, "--base-url", "http://api.example.com", "credits", "--json", env=_cli_env()
    )
    assert insecure.returncode == 2, (insecure.stdout, insecure.stderr)
    for result in (created, dropped, from_env, refused, insecure):
        outputs += [result.stdout, result.stderr]
    text = "\n".join(outputs)
    assert CANARY not in text
    assert wrong_key not in text
    watch.add(fake_apikley.requests)
    watch.assert_no_canary()
    watch.assert_no_canary(wrong_key)


# ---- the library: reprs and errors never show the key --------------------------------------------


def test_reprs_and_validation_errors_never_show_the_key() -> None:
    with Client(CANARY, base_url="https://api.example.com") as client:
        shown = [repr(client), str(client), repr(vars(client)), repr(client._core.config)]
    assert not [text for text in shown if CANARY in text]
    # A key refused for its characters is not echoed back.
    for bad in (f"{CANARY} x", f"{CANARY}\x00", f"{CANARY}\u00e9"):
        with pytest.raises(InvalidInputError) as caught:
            Client(bad)
        assert CANARY not in str(caught.value)
        assert CANARY not in repr(caught.value)


# ---- the key never goes over plain http to another machine ---------------------------------------


class Counter:
    """An httpx transport answering every request with success, and recording it."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path.endswith("/createTask"):
            return httpx.Response(200, json={"code": 200, "msg": "success", "data": {"taskId": "task_1"}})
        if request.url.path.endswith("/recordInfo"):
            data = {"taskId": "task_1", "state": "success", "resultJson": '{"character_id": "char_1"}'}
            return httpx.Response(200, json={"code": 200, "msg": "success", "data": data})
        if "upload" in request.url.path:
            data = {"downloadUrl": "https://files.example.com/c.mp4", "fileName": "c.mp4"}
            return httpx.Response(200, json={"success": True, "code": 200, "msg": "ok", "data": data})
        return httpx.Response(200, json={"code": 200, "msg": "success", "data": 12.5})


INSECURE_URLS = [
    "http://api.example.com",
    "HTTP://api.example.com",
    "http://api.apikley.ru/file-upload",
    "http://10.0.0.1:4010",
    "http://0.0.0.0:4010",
    "http://127.0.0.1.nip.io",
    "http://localhost.example.com",
    "http://127.0.0.1@api.example.com",
    "http://[::ffff:8.8.8.8]",
]
LOOPBACK_URLS = ["http://127.0.0.1:4010", "http://localhost:4010", "http://[::1]:4010", "http://127.8.9.10"]


def _urls(field: str, url: str) -> dict[str, Any]:
    return {field: url}


@pytest.mark.parametrize("url", INSECURE_URLS)
@pytest.mark.parametrize("field", ["base_url", "upload_base_url"])
def test_plain_http_to_another_host_is_refused_before_any_request(url: str, field: str) -> None:
    counter = Counter()
    with (
        httpx.Client(transport=httpx.MockTransport(counter)) as http,
        pytest.raises(InvalidInputError) as caught,
    ):
        Client(CANARY, http_client=http, **_urls(field, url))
    assert caught.value.field == field
    assert "allow_insecure_http" in str(caught.value)
    assert CANARY not in str(caught.value)
    assert counter.requests == []


@pytest.mark.anyio
@pytest.mark.parametrize("field", ["base_url", "upload_base_url"])
async def test_async_client_refuses_plain_http_too(field: str) -> None:
    counter = Counter()
    async with httpx.AsyncClient(transport=httpx.MockTransport(counter)) as http:
        with pytest.raises(InvalidInputError):
            AsyncClient(CANARY, http_client=http, **_urls(field, "http://api.example.com"))
    assert counter.requests == []


@pytest.mark.parametrize("variable", ["APIKLEY_BASE_URL", "APIKLEY_UPLOAD_BASE_URL"])
def test_plain_http_from_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.setenv(variable, "http://api.example.com")
    with pytest.raises(InvalidInputError):
        Client(CANARY)


def _every_operation(client: Client) -> None:
    client.upload_video(VIDEO_MP4)
    created = client.create_character(VIDEO_URL)
    client.get_task(created.task_id)
    client.get_credits()


@pytest.mark.parametrize("url", LOOPBACK_URLS)
def test_plain_http_to_loopback_is_allowed(url: str) -> None:
    counter = Counter()
    with (
        httpx.Client(transport=httpx.MockTransport(counter)) as http,
        Client(CANARY, base_url=url, upload_base_url=f"{url}/file-upload", http_client=http) as client,
    ):
        _every_operation(client)
    assert len(counter.requests) == 4
    assert {request.url.scheme for request in counter.requests} == {"http"}
    assert all(request.headers["authorization"] == f"Bearer {CANARY}" for request in counter.requests)


def test_https_and_the_explicit_opt_in_are_the_only_ways_out() -> None:
    counter = Counter()
    with httpx.Client(transport=httpx.MockTransport(counter)) as http:
        with Client(CANARY, http_client=http) as client:
            _every_operation(client)
        assert {request.url.scheme for request in counter.requests} == {"https"}
        sent = len(counter.requests)
        with Client(
            CANARY,
            base_url="http://api.example.com",
            upload_base_url="http://api.example.com/file-upload",
            allow_insecure_http=True,
            http_client=http,
        ) as client:
            _every_operation(client)
    insecure = counter.requests[sent:]
    assert len(insecure) == 4
    assert {(request.url.scheme, request.url.host) for request in insecure} == {("http", "api.example.com")}


def test_a_key_echoed_by_the_server_is_redacted_from_errors_and_logs(
    fake_apikley: FakeApikley, caplog: pytest.LogCaptureFixture
) -> None:
    """Some services quote the key they refused; the library must not pass it on."""
    fake_apikley.fail_next("createTask", code=401, msg=f"invalid key {fake_apikley.api_key}")
    caplog.set_level(logging.DEBUG, logger="sora2_characters")
    with (
        Client(fake_apikley.api_key, base_url=fake_apikley.base_url, max_retries=0) as client,
        pytest.raises(AuthenticationError) as caught,
    ):
        client.create_character("https://files.example.com/a.mp4")
    shown = str(caught.value) + repr(caught.value) + "".join(traceback.format_exception(caught.value))
    assert fake_apikley.api_key not in shown + caplog.text
    assert "invalid key [redacted]" in caught.value.message


@pytest.mark.parametrize("host", ["api.localhost", "localhost.example.com", "127.0.0.1.nip.io"])
def test_names_that_merely_look_local_do_not_get_the_key_over_http(host: str) -> None:
    with pytest.raises(InvalidInputError, match="base_url"):
        Client("sk-any", base_url=f"http://{host}:8080")
