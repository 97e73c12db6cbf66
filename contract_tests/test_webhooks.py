"""``sora2_characters.webhooks``: callback parsing, signing and verification; nothing crashes the verifier."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import math
import os
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import sora2_characters as sc
from contract_tests.support import task
from sora2_characters import (
    MalformedResponseError,
    TaskInfo,
    WebhookVerificationError,
    webhooks,
)

NOW = 1_765_174_300
SECRET = "whsec-test"


def _body(state: str = "success", **extra: Any) -> bytes:
    code = 200 if state == "success" else 501
    return json.dumps({"code": code, "msg": "done", "data": task(state, **extra)}).encode()


def test_sign_matches_the_reference_formula() -> None:
    headers = webhooks.sign("task_1", SECRET, timestamp=NOW)
    expected = base64.b64encode(
        hmac.new(SECRET.encode(), f"task_1.{NOW}".encode(), hashlib.sha256).digest()
    ).decode()
    assert headers == {"X-Webhook-Timestamp": str(NOW), "X-Webhook-Signature": expected}
    assert webhooks.sign("task_1", SECRET.encode(), timestamp=NOW) == headers


def test_parse_success_and_failure_callbacks() -> None:
    info = webhooks.parse_callback(_body())
    assert info.state is sc.TaskState.SUCCESS
    assert info.character_id == "char_1"
    failed = webhooks.parse_callback(_body("fail", failCode="500", failMsg="boom", resultJson=None).decode())
    assert failed.state is sc.TaskState.FAIL
    assert (failed.fail_code, failed.fail_message) == ("500", "boom")
    assert webhooks.parse_callback(json.loads(_body())).task_id == "task_1"


@pytest.mark.parametrize(
    "body", [b"", b"not json", b"[]", b'{"code": 200}', b'{"data": "x"}', b'{"data": {"state": "success"}}']
)
def test_malformed_callbacks(body: bytes) -> None:
    with pytest.raises(sc.MalformedResponseError):
        webhooks.parse_callback(body)


def test_verify_accepts_a_good_signature_case_insensitively() -> None:
    headers = {k.lower(): v for k, v in webhooks.sign("task_1", SECRET, timestamp=NOW).items()}
    webhooks.verify_signature(_body(), headers, SECRET, now=NOW + 299)
    webhooks.verify_signature(_body(), list(headers.items()), SECRET.encode(), now=NOW - 10)


def test_verify_falls_back_to_task_id_key() -> None:
    body = json.dumps({"code": 200, "data": {"task_id": "task_7", "state": "success"}})
    webhooks.verify_signature(body, webhooks.sign("task_7", SECRET, timestamp=NOW), SECRET, now=NOW)


@pytest.mark.parametrize(
    ("headers", "now", "match"),
    [
        ({}, NOW, "Signature header is missing"),
        ({"X-Webhook-Signature": "abc"}, NOW, "Timestamp header is missing"),
        (webhooks.sign("task_1", SECRET, timestamp=NOW), NOW + 301, "tolerance"),
        (webhooks.sign("task_1", SECRET, timestamp=NOW), NOW - 301, "tolerance"),
        (webhooks.sign("task_1", "other", timestamp=NOW), NOW, "does not match"),
        (webhooks.sign("task_2", SECRET, timestamp=NOW), NOW, "does not match"),
        ({"X-Webhook-Signature": "abc", "X-Webhook-Timestamp": "yesterday"}, NOW, "Unix seconds"),
    ],
)
def test_verify_rejects(headers: dict[str, str], now: float, match: str) -> None:
    with pytest.raises(sc.WebhookVerificationError, match=match):
        webhooks.verify_signature(_body(), headers, SECRET, now=now)


def test_verify_rejects_a_replayed_timestamp_with_a_stale_signature() -> None:
    headers = webhooks.sign("task_1", SECRET, timestamp=NOW)
    headers["X-Webhook-Timestamp"] = str(NOW + 5)
    with pytest.raises(sc.WebhookVerificationError):
        webhooks.verify_signature(_body(), headers, SECRET, now=NOW)


def test_custom_tolerance() -> None:
    headers = webhooks.sign("task_1", SECRET, timestamp=NOW)
    with pytest.raises(sc.WebhookVerificationError):
        webhooks.verify_signature(_body(), headers, SECRET, tolerance=10, now=NOW + 11)


@settings(max_examples=150)
@given(
    body=st.binary(max_size=100) | st.text(max_size=50),
    signature=st.text(max_size=50),
    stamp=st.text(max_size=20),
)
def test_arbitrary_input_raises_only_our_errors(body: bytes | str, signature: str, stamp: str) -> None:
    headers = {"X-Webhook-Signature": signature, "X-Webhook-Timestamp": stamp}
    for call in (
        lambda: webhooks.verify_signature(body, headers, SECRET, now=NOW),
        lambda: webhooks.parse_callback(body),
    ):
        with contextlib.suppress(sc.WebhookVerificationError, sc.MalformedResponseError):
            call()


def test_a_replay_cache_refuses_a_signature_presented_twice_within_the_window() -> None:
    cache = webhooks.ReplayCache()
    headers = webhooks.sign("task_1", "s3cret", timestamp=1_700_000_000)
    body = {"code": 200, "msg": "success", "data": {"taskId": "task_1", "state": "success"}}
    webhooks.verify_signature(body, headers, "s3cret", now=1_700_000_001.0, replay_cache=cache)
    with pytest.raises(sc.WebhookVerificationError, match="replay"):
        webhooks.verify_signature(body, headers, "s3cret", now=1_700_000_002.0, replay_cache=cache)
    # Another task, or a fresh timestamp for the same task, is a new delivery.
    fresh = webhooks.sign("task_1", "s3cret", timestamp=1_700_000_003)
    webhooks.verify_signature(body, fresh, "s3cret", now=1_700_000_004.0, replay_cache=cache)


def test_a_replay_cache_forgets_entries_older_than_the_window_and_stays_bounded() -> None:
    cache = webhooks.ReplayCache(max_entries=3)
    for n in range(10):
        assert cache.remember((f"task_{n}", "1", "sig"), now=float(n), window=300.0)
    assert len(cache._seen) <= 3
    assert cache.remember(("task_0", "1", "sig"), now=1000.0, window=300.0)  # forgotten: window passed


def test_a_header_given_twice_with_different_values_is_refused() -> None:
    body = {"code": 200, "msg": "success", "data": {"taskId": "task_1"}}
    good = webhooks.sign("task_1", SECRET, timestamp=NOW)
    twice = [*good.items(), ("x-webhook-timestamp", str(NOW - 1000))]
    with pytest.raises(sc.WebhookVerificationError, match="more than once"):
        webhooks.verify_signature(body, twice, SECRET, now=NOW)
    same_twice = [*good.items(), ("x-webhook-timestamp", good["X-Webhook-Timestamp"])]
    webhooks.verify_signature(body, same_twice, SECRET, now=NOW)


@pytest.mark.parametrize("stamp", ["--5", "+5", "5.0", "0x10", "1e9", "", " "])
def test_timestamps_that_are_not_unix_seconds_are_refused(stamp: str) -> None:
    headers = {"X-Webhook-Signature": "c2ln", "X-Webhook-Timestamp": stamp}
    with pytest.raises(sc.WebhookVerificationError):
        webhooks.verify_signature({"data": {"taskId": "t"}}, headers, SECRET, now=NOW)


def test_a_secret_read_from_the_environment_with_undecodable_bytes_works(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """os.environ hands an undecodable byte over as a lone surrogate; it signs as the byte itself."""
    monkeypatch.setitem(os.environb, b"SORA2_TEST_WEBHOOK_SECRET", b"whsec-\xff")
    from_env = os.environ["SORA2_TEST_WEBHOOK_SECRET"]
    assert from_env == "whsec-\udcff"
    headers = webhooks.sign("task_1", from_env, timestamp=NOW)
    assert headers == webhooks.sign("task_1", b"whsec-\xff", timestamp=NOW)
    body = {"data": {"taskId": "task_1"}}
    webhooks.verify_signature(body, headers, b"whsec-\xff", now=NOW)
    webhooks.verify_signature(body, webhooks.sign("task_1", b"whsec-\xff", timestamp=NOW), from_env, now=NOW)


# ---- signatures: every way a delivery is refused -------------------------------------------------

TASK = "task_sora-2-characters_1765174270120"


def _signed_body(task_id: str = TASK, **data: Any) -> bytes:
    payload = {"code": 200, "msg": "success", "data": {"taskId": task_id, "state": "success", **data}}
    return json.dumps(payload).encode()


def _reject(body: bytes | str | Mapping[str, Any], headers: Mapping[str, str], **kwargs: Any) -> str:
    with pytest.raises(WebhookVerificationError) as caught:
        webhooks.verify_signature(body, headers, kwargs.pop("secret", SECRET), **kwargs)
    return str(caught.value)


def test_a_valid_signature_passes() -> None:
    headers = webhooks.sign(TASK, SECRET, timestamp=NOW)
    webhooks.verify_signature(_signed_body(), headers, SECRET, now=NOW + 10)
    webhooks.verify_signature(_signed_body(), {k.lower(): v for k, v in headers.items()}, SECRET, now=NOW)
    webhooks.verify_signature(_signed_body(), list(headers.items()), SECRET.encode(), now=NOW - 10)
    legacy = json.dumps({"code": 200, "data": {"task_id": TASK, "state": "success"}})
    webhooks.verify_signature(legacy, headers, SECRET, now=NOW)
    # The edge of the window is inside it.
    webhooks.verify_signature(_signed_body(), headers, SECRET, now=NOW + webhooks.DEFAULT_TOLERANCE_S)


def test_a_bad_signature_is_rejected() -> None:
    headers = webhooks.sign(TASK, SECRET, timestamp=NOW)
    signature = headers[webhooks.SIGNATURE_HEADER]
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert "does not match" in _reject(
        _signed_body(), {**headers, webhooks.SIGNATURE_HEADER: flipped}, now=NOW
    )
    assert "does not match" in _reject(_signed_body(), headers, now=NOW, secret="another-secret")
    # Signed for another task: a body whose taskId was changed does not verify.
    assert "does not match" in _reject(_signed_body("task_other"), headers, now=NOW)
    # The signature of another timestamp does not carry over.
    moved = {**headers, webhooks.TIMESTAMP_HEADER: str(NOW + 1)}
    assert "does not match" in _reject(_signed_body(), moved, now=NOW)
    # Hex instead of base64, or the base64 of the raw message, do not pass.
    digest = hmac.new(SECRET.encode(), f"{TASK}.{NOW}".encode(), hashlib.sha256)
    for wrong in (digest.hexdigest(), base64.b64encode(f"{TASK}.{NOW}".encode()).decode()):
        assert "does not match" in _reject(
            _signed_body(), {**headers, webhooks.SIGNATURE_HEADER: wrong}, now=NOW
        )


@pytest.mark.parametrize("skew", [webhooks.DEFAULT_TOLERANCE_S + 1, 3600, 10**9])
def test_stale_and_future_timestamps_are_rejected(skew: float) -> None:
    headers = webhooks.sign(TASK, SECRET, timestamp=NOW)
    assert "tolerance" in _reject(_signed_body(), headers, now=NOW + skew)  # stale
    assert "tolerance" in _reject(_signed_body(), headers, now=NOW - skew)  # from the future
    _reject(_signed_body(), headers, now=NOW + 11, tolerance=10)


def test_a_replayed_signature_is_rejected_once_the_window_has_passed() -> None:
    """The verifier keeps no replay cache: a captured delivery replays only inside the window.

    Inside it, the same signature verifies again (and, since only taskId and timestamp are signed,
    even with another body), so handlers must be idempotent by task id (see the fault matrix).
    """
    headers = webhooks.sign(TASK, SECRET, timestamp=NOW)
    webhooks.verify_signature(_signed_body(), headers, SECRET, now=NOW + 1)
    webhooks.verify_signature(_signed_body(state="fail"), headers, SECRET, now=NOW + 60)
    assert "tolerance" in _reject(_signed_body(), headers, now=NOW + webhooks.DEFAULT_TOLERANCE_S + 1)


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
    _reject(_signed_body(), headers, now=NOW)
    _reject(_signed_body(), {}, now=NOW)


def test_a_body_without_a_task_id_is_rejected() -> None:
    headers = webhooks.sign(TASK, SECRET, timestamp=NOW)
    for body in (b'{"code": 200, "data": {}}', b'{"code": 200, "data": null}', b'{"code": 200}'):
        _reject(body, headers, now=NOW)


@pytest.mark.parametrize("stamp", ["--5", "-+5", "--1765174300"])
def test_a_timestamp_with_repeated_signs_is_rejected_not_a_crash(stamp: str) -> None:
    """Found by the property below: ``"--5".lstrip("-").isdigit()`` passes, then ``int("--5")`` raises."""
    headers = {**webhooks.sign(TASK, SECRET, timestamp=NOW), webhooks.TIMESTAMP_HEADER: stamp}
    _reject(_signed_body(), headers, now=NOW)


@pytest.mark.parametrize(
    "secret", ["whsec-" + chr(0xD800), chr(0xDBFF), "whsec-" + chr(0xDC7F)], ids=["d800", "dbff", "dc7f"]
)
def test_a_secret_that_is_not_utf8_encodable_is_rejected_not_a_crash(secret: str) -> None:
    """A lone surrogate outside U+DC80-U+DCFF stands for no byte: the secret itself is refused.

    The refusal names the secret and comes before the headers are read (a delivery without any
    header gets it too), so it can never be mistaken for a signature that does not match.
    """
    headers = webhooks.sign(TASK, SECRET, timestamp=NOW)
    for presented in (headers, {}):
        message = _reject(_signed_body(), presented, now=NOW, secret=secret)
        assert "secret holds a lone surrogate" in message
    with pytest.raises(WebhookVerificationError, match="secret holds a lone surrogate") as caught:
        webhooks.sign(TASK, secret, timestamp=NOW)
    assert isinstance(caught.value.__cause__, UnicodeEncodeError)


# ---- properties: nothing crashes the verifier ----------------------------------------------------

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
    (
        _signed_body(),
        {webhooks.SIGNATURE_HEADER: "x", webhooks.TIMESTAMP_HEADER: "--5"},
        SECRET,
        300.0,
        float(NOW),
    )
)
@example((_signed_body(), webhooks.sign(TASK, SECRET, timestamp=NOW), "whsec-\udcff", 300.0, float(NOW)))
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
    body = _signed_body(task_id)
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
