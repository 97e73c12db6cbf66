"""Callback parsing and signature verification."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sora2_characters as sc
from contract_tests.support import task
from sora2_characters import webhooks

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


def test_a_secret_read_from_the_environment_with_undecodable_bytes_works() -> None:
    secret = b"whsec-\xff".decode("utf-8", "surrogateescape")  # what os.environ holds for that byte
    headers = webhooks.sign("task_1", secret, timestamp=NOW)
    webhooks.verify_signature({"data": {"taskId": "task_1"}}, headers, b"whsec-\xff", now=NOW)
    with pytest.raises(sc.WebhookVerificationError, match="encoded"):
        webhooks.sign("task_1", "whsec-\ud800", timestamp=NOW)
