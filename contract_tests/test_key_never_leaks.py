"""Security checks: the API key never shows, never travels over plain http, and callbacks are verified.

* The key: the fault matrix (``test_fault_matrix``) searches every log line, exception, traceback
  (with locals) and fake record of every case for a canary key; here the CLI runs in subprocesses
  against the fake, on success and error paths, with debug logging on, and its output is searched.
* Plain http: a non-loopback ``http://`` base URL is refused at construction, before any request,
  unless ``allow_insecure_http=True``; loopback is allowed.
* Callbacks: :func:`webhooks.verify_signature` rejects a bad, stale, future, missing or replayed
  signature, and hypothesis finds no input that makes it (or ``parse_callback``) raise anything else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import math
import os
import subprocess
import sys
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from contract_tests.fault_support import CANARY, VIDEO_URL, LeakWatch, create_task_directly
from sora2_characters import (
    AsyncClient,
    AuthenticationError,
    Client,
    InvalidInputError,
    MalformedResponseError,
    TaskInfo,
    WebhookVerificationError,
    webhooks,
)
from sora2_characters.testing import FakeApikley

ROOT = Path(__file__).resolve().parent.parent
VIDEO_MP4 = ROOT / "examples" / "character.mp4"
CLI_TIMEOUT_S = 60.0


@pytest.fixture
def fake_apikley_options() -> dict[str, Any]:
    """The fakes of this module accept only the canary key; their tasks end at once."""
    return {"api_key": CANARY, "time_scale": 0.0}


# ---- the CLI never prints the key ----------------------------------------------------------------


def _cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APIKLEY_", "SORA2_CHARACTERS_"))}
    env.update({"SORA2_CHARACTERS_LOG": "debug", "NO_COLOR": "1", "COLUMNS": "200", **extra})
    return env


def _run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sora2_characters", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )


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
    result = _run_cli([*_globals(fake_apikley), *args], _cli_env())
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
    created = _run_cli([*_globals(fake_apikley), "create", "--video-url", VIDEO_URL, "--json"], _cli_env())
    assert created.returncode == 16, (created.stdout, created.stderr)
    fake_apikley.drop_connection_next("recordInfo", when="after_read", times=None)
    dropped = _run_cli([*_globals(fake_apikley), "status", task_id, "--json"], _cli_env())
    fake_apikley.clear_faults()
    assert dropped.returncode == 9, (dropped.stdout, dropped.stderr)
    # The key from the environment instead of --api-key, and a key the fake refuses (401, exit 3).
    from_env = _run_cli(
        [
            "--base-url",
            fake_apikley.base_url,
            "--upload-base-url",
            fake_apikley.upload_base_url,
            "status",
            "nope",
        ],
        _cli_env(APIKLEY_API_KEY=CANARY),
    )
    assert from_env.returncode == 5, (from_env.stdout, from_env.stderr)
    wrong_key = CANARY.replace("never", "wrong")
    refused = _run_cli([*_globals(fake_apikley, wrong_key), "credits"], _cli_env())
    assert refused.returncode == 3, (refused.stdout, refused.stderr)
    # Plain http to a non-loopback host: refused locally (exit 2), nothing sent.
    insecure = _run_cli(
        ["--api-key", CANARY, "--base-url", "http://api.example.com", "credits", "--json"], _cli_env()
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


# ---- webhook signatures --------------------------------------------------------------------------

SECRET = "whsec-test"
NOW = 1_765_174_300
TASK = "task_sora-2-characters_1765174270120"


def _body(task_id: str = TASK, **data: Any) -> bytes:
    payload = {"code": 200, "msg": "success", "data": {"taskId": task_id, "state": "success", **data}}
    return json.dumps(payload).encode()


def _reject(body: bytes | str | Mapping[str, Any], headers: Mapping[str, str], **kwargs: Any) -> str:
    with pytest.raises(WebhookVerificationError) as caught:
        webhooks.verify_signature(body, headers, kwargs.pop("secret", SECRET), **kwargs)
    return str(caught.value)


def test_a_valid_signature_passes() -> None:
    headers = webhooks.sign(TASK, SECRET, timestamp=NOW)
    webhooks.verify_signature(_body(), headers, SECRET, now=NOW + 10)
    webhooks.verify_signature(_body(), {k.lower(): v for k, v in headers.items()}, SECRET, now=NOW)
    webhooks.verify_signature(_body(), list(headers.items()), SECRET.encode(), now=NOW - 10)
    legacy = json.dumps({"code": 200, "data": {"task_id": TASK, "state": "success"}})
    webhooks.verify_signature(legacy, headers, SECRET, now=NOW)
    # The edge of the window is inside it.
    webhooks.verify_signature(_body(), headers, SECRET, now=NOW + webhooks.DEFAULT_TOLERANCE_S)


def test_a_bad_signature_is_rejected() -> None:
    headers = webhooks.sign(TASK, SECRET, timestamp=NOW)
    signature = headers[webhooks.SIGNATURE_HEADER]
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert "does not match" in _reject(_body(), {**headers, webhooks.SIGNATURE_HEADER: flipped}, now=NOW)
    assert "does not match" in _reject(_body(), headers, now=NOW, secret="another-secret")
    # Signed for another task: a body whose taskId was changed does not verify.
    assert "does not match" in _reject(_body("task_other"), headers, now=NOW)
    # The signature of another timestamp does not carry over.
    moved = {**headers, webhooks.TIMESTAMP_HEADER: str(NOW + 1)}
    assert "does not match" in _reject(_body(), moved, now=NOW)
    # Hex instead of base64, or the base64 of the raw message, do not pass.
    digest = hmac.new(SECRET.encode(), f"{TASK}.{NOW}".encode(), hashlib.sha256)
    for wrong in (digest.hexdigest(), base64.b64encode(f"{TASK}.{NOW}".encode()).decode()):
        assert "does not match" in _reject(_body(), {**headers, webhooks.SIGNATURE_HEADER: wrong}, now=NOW)


@pytest.mark.parametrize("skew", [webhooks.DEFAULT_TOLERANCE_S + 1, 3600, 10**9])
def test_stale_and_future_timestamps_are_rejected(skew: float) -> None:
    headers = webhooks.sign(TASK, SECRET, timestamp=NOW)
    assert "tolerance" in _reject(_body(), headers, now=NOW + skew)  # stale
    assert "tolerance" in _reject(_body(), headers, now=NOW - skew)  # from the future
    _reject(_body(), headers, now=NOW + 11, tolerance=10)


def test_a_replayed_signature_is_rejected_once_the_window_has_passed() -> None:
    """The verifier keeps no replay cache: a captured delivery replays only inside the window.

    Inside it, the same signature verifies again (and, since only taskId and timestamp are signed,
    even with another body), so handlers must be idempotent by task id (see the fault matrix).
    """
    headers = webhooks.sign(TASK, SECRET, timestamp=NOW)
    webhooks.verify_signature(_body(), headers, SECRET, now=NOW + 1)
    webhooks.verify_signature(_body(state="fail"), headers, SECRET, now=NOW + 60)
    assert "tolerance" in _reject(_body(), headers, now=NOW + webhooks.DEFAULT_TOLERANCE_S + 1)


@pytest.mark.parametrize(
    ("drop", "replace"),
    [
        (webhooks.SIGNATURE_HEADER, None),
        (webhooks.TIMESTAMP_HEADER, None),
        (None, {webhooks.SIGNATURE_HEADER: ""}),
        (None, {webhooks.TIMESTAMP_HEADER: ""}),
        (None, {webhooks.TIMESTAMP_HEADER: "yesterday"}),
        (None, {webhooks.TIMESTAMP_HEADER: "1765174300.5"}),
        (None, {webhooks.TIMESTAMP_HEADER: "9" * 40}),
    ],
)
def test_missing_or_unreadable_headers_are_rejected(drop: str | None, replace: dict[str, str] | None) -> None:
    headers = webhooks.sign(TASK, SECRET, timestamp=NOW)
    if drop is not None:
        del headers[drop]
    headers.update(replace or {})
    _reject(_body(), headers, now=NOW)
    _reject(_body(), {}, now=NOW)


def test_a_body_without_a_task_id_is_rejected() -> None:
    headers = webhooks.sign(TASK, SECRET, timestamp=NOW)
    for body in (b'{"code": 200, "data": {}}', b'{"code": 200, "data": null}', b'{"code": 200}'):
        _reject(body, headers, now=NOW)


@pytest.mark.parametrize("stamp", ["--5", "-+5", "--1765174300"])
def test_a_timestamp_with_repeated_signs_is_rejected_not_a_crash(stamp: str) -> None:
    """Found by the property below: ``"--5".lstrip("-").isdigit()`` passes, then ``int("--5")`` raises."""
    headers = {**webhooks.sign(TASK, SECRET, timestamp=NOW), webhooks.TIMESTAMP_HEADER: stamp}
    _reject(_body(), headers, now=NOW)


def test_a_secret_that_is_not_utf8_encodable_is_rejected_not_a_crash() -> None:
    """A str secret from ``os.environ`` may hold lone surrogates (undecodable bytes, surrogateescape)."""
    headers = webhooks.sign(TASK, SECRET, timestamp=NOW)
    _reject(_body(), headers, now=NOW, secret="whsec-\udcff")


# ---- hypothesis: nothing crashes the verifier ----------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
_TASK_IDS = st.one_of(st.just(TASK), st.text(max_size=30), st.integers(), st.none())
_CALLBACKS = st.builds(
    lambda task_id, key, extra, code: {"code": code, "msg": "x", "data": {key: task_id, **extra}},
    _TASK_IDS,
    st.sampled_from(["taskId", "task_id", "id"]),
    st.dictionaries(st.sampled_from(["state", "resultJson", "createTime", "failCode"]), _JSON, max_size=3),
    st.one_of(st.just(200), st.just(501), _JSON),
)
_ANY_TEXT = st.text(alphabet=st.characters(exclude_categories=()), max_size=40)  # surrogates included
_BODIES = st.one_of(
    st.binary(max_size=200),
    _ANY_TEXT,
    _JSON.map(json.dumps),
    _CALLBACKS.map(lambda payload: json.dumps(payload).encode()),
    _CALLBACKS.map(json.dumps),
    _CALLBACKS,
)
_STAMPS = st.one_of(
    st.integers(NOW - 1000, NOW + 1000).map(str),
    st.tuples(
        st.sampled_from(["", "-", "--", "+", " ", "-+", "+-", "---", "\u0660"]),
        st.integers(NOW - 1000, NOW + 1000).map(str) | st.integers(0, 10**17).map(str),
        st.sampled_from(["", " ", ".0", "e3", "\u0661"]),
    ).map("".join),
    _ANY_TEXT,
)
_SECRETS = st.one_of(st.just(SECRET), _ANY_TEXT, st.binary(max_size=40), st.none(), st.integers())
_HEADER_NAMES = st.sampled_from(
    [
        webhooks.SIGNATURE_HEADER,
        webhooks.TIMESTAMP_HEADER,
        webhooks.SIGNATURE_HEADER.lower(),
        webhooks.TIMESTAMP_HEADER.upper(),
        "Content-Type",
    ]
)
_NOWS = st.one_of(st.just(float(NOW)), st.integers(NOW - 1000, NOW + 1000).map(float), st.floats())
_TOLERANCES = st.one_of(
    st.just(webhooks.DEFAULT_TOLERANCE_S), st.floats(), st.integers(-5, 10**10), st.booleans()
)


def _expected_valid(body: Any, headers: Mapping[str, str], secret: Any, tolerance: Any, now: float) -> bool:  # noqa: PLR0911
    """An independent statement of when a signature is genuinely valid."""
    if isinstance(secret, str):
        try:
            secret = secret.encode("utf-8", "surrogateescape")  # as os.environ hands bytes over
        except UnicodeEncodeError:
            return False
    if not isinstance(secret, bytes) or not secret:
        return False
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not tolerance >= 0:
        return False
    found: dict[str, str] = {}
    for name, value in headers.items():
        if found.setdefault(name.lower(), value) != value:
            return False  # the same header twice with different values: ambiguous, refused
    signature = found.get(webhooks.SIGNATURE_HEADER.lower(), "").strip()
    stamp = found.get(webhooks.TIMESTAMP_HEADER.lower(), "").strip()
    digits = stamp[1:] if stamp.startswith("-") else stamp
    if not signature or not (digits.isascii() and digits.isdigit()) or len(stamp) > 15:
        return False
    if not math.isfinite(now) or abs(now - int(stamp)) > tolerance:
        return False
    try:
        payload = body if isinstance(body, Mapping) else json.loads(body)
    except (ValueError, RecursionError):
        return False
    data = payload.get("data") if isinstance(payload, Mapping) else None
    if not isinstance(data, Mapping):
        return False
    task_id = next(
        (data[key] for key in ("taskId", "task_id") if isinstance(data.get(key), str) and data[key]), None
    )
    if task_id is None:
        return False
    mac = hmac.new(secret, f"{task_id}.{stamp}".encode(), hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(mac), signature.encode("utf-8", "replace"))


@st.composite
def _deliveries(draw: st.DrawFn) -> tuple[Any, dict[str, str], Any, Any, float]:
    """Often a genuine signed delivery, then mutated (headers replaced, added, renamed); or noise."""
    body = draw(_BODIES)
    secret = draw(st.one_of(st.just(SECRET), _SECRETS))
    headers: dict[str, str] = {}
    if draw(st.booleans()):
        payload: Any = None
        if isinstance(body, Mapping):
            payload = body
        else:
            try:
                payload = json.loads(body)
            except (ValueError, RecursionError):
                payload = None
        data = payload.get("data") if isinstance(payload, Mapping) else None
        task_id = data.get("taskId") if isinstance(data, Mapping) else None
        headers = webhooks.sign(task_id if isinstance(task_id, str) else TASK, SECRET, timestamp=NOW)
    if draw(st.booleans()):
        headers[draw(st.sampled_from([webhooks.TIMESTAMP_HEADER, webhooks.TIMESTAMP_HEADER.lower()]))] = draw(
            _STAMPS
        )
    if draw(st.integers(0, 3)) == 0:
        headers[webhooks.SIGNATURE_HEADER] = draw(_ANY_TEXT)
    for _ in range(draw(st.integers(0, 2))):
        headers[draw(_HEADER_NAMES)] = draw(_STAMPS | _ANY_TEXT)
    return body, headers, secret, draw(_TOLERANCES), draw(_NOWS)


@settings(
    max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)
@given(_deliveries())
@example(
    (_body(), {webhooks.SIGNATURE_HEADER: "x", webhooks.TIMESTAMP_HEADER: "--5"}, SECRET, 300.0, float(NOW))
)
@example((_body(), webhooks.sign(TASK, SECRET, timestamp=NOW), "whsec-\udcff", 300.0, float(NOW)))
def test_no_input_crashes_the_verifier(delivery: tuple[Any, dict[str, str], Any, Any, float]) -> None:
    body, headers, secret, tolerance, now = delivery
    try:
        webhooks.verify_signature(body, headers, secret, tolerance=tolerance, now=now)
    except (WebhookVerificationError, MalformedResponseError):
        assert not _expected_valid(body, headers, secret, tolerance, now)
        return
    assert _expected_valid(body, headers, secret, tolerance, now), "accepted an invalid signature"


@settings(max_examples=300, deadline=None)
@given(
    task_id=st.text(min_size=1, max_size=60),
    secret=st.one_of(st.text(min_size=1, max_size=40), st.binary(min_size=1, max_size=40)),
    stamp=st.integers(0, 10**12),
    skew=st.integers(-300, 300),
    position=st.integers(0, 43),
)
def test_genuine_signatures_verify_and_any_change_breaks_them(
    task_id: str, secret: str | bytes, stamp: int, skew: int, position: int
) -> None:
    body = _body(task_id)
    headers = webhooks.sign(task_id, secret, timestamp=stamp)
    webhooks.verify_signature(body, headers, secret, now=float(stamp + skew))
    signature = headers[webhooks.SIGNATURE_HEADER]
    index = position % len(signature)
    replacement = "A" if signature[index] != "A" else "B"
    broken = {**headers, webhooks.SIGNATURE_HEADER: signature[:index] + replacement + signature[index + 1 :]}
    with pytest.raises(WebhookVerificationError):
        webhooks.verify_signature(body, broken, secret, now=float(stamp + skew))


@settings(max_examples=400, deadline=None)
@given(_BODIES)
def test_parse_callback_raises_nothing_but_malformed_response(body: Any) -> None:
    try:
        info = webhooks.parse_callback(body)
    except MalformedResponseError:
        return
    assert isinstance(info, TaskInfo)
    assert isinstance(info.task_id, str)
    assert info.task_id


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
