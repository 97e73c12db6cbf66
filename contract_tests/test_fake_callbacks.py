"""The fake's callbacks (``sora2_characters._fake.callbacks``): signed deliveries,
failures recorded, never fatal."""

from __future__ import annotations

import json

import httpx
import pytest

from contract_tests.support import VIDEO_MP4, CallbackReceiver, create, upload
from sora2_characters.testing import FakeApikley
from sora2_characters.webhooks import verify_signature


@pytest.mark.fake_apikley(webhook_secret="s3cret")
def test_callbacks_are_delivered_signed_for_success_and_failure(
    http: httpx.Client, fake_apikley: FakeApikley
) -> None:
    url = upload(http, fake_apikley, VIDEO_MP4)
    with CallbackReceiver() as receiver:
        ok = create(http, url, callBackUrl=receiver.url)
        fake_apikley.fail_task(fail_code="500", fail_msg="internal error")
        failed = create(http, url, callBackUrl=receiver.url)
        attempts = fake_apikley.wait_for_callbacks(2)
    assert {(a.task_id, a.outcome, a.status_code) for a in attempts} == {
        (ok, "delivered", 200),
        (failed, "delivered", 200),
    }
    by_task = {json.loads(d.body)["data"]["taskId"]: (d.headers, d.body) for d in receiver.deliveries}
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
    assert len(receiver.deliveries) == 2  # once per task


def test_callback_failures_are_recorded_not_fatal(http: httpx.Client, fake_apikley: FakeApikley) -> None:
    url = upload(http, fake_apikley, VIDEO_MP4)
    with CallbackReceiver() as receiver:
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
    url = upload(http, fake_apikley, VIDEO_MP4)
    fake_apikley.time_scale = 1.0  # tasks last 15 s until advanced
    bad_url = "http://127.0.0.1:99999/cb"  # createTask refuses it now; a task may still hold one
    with CallbackReceiver() as receiver:
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
    assert len(receiver.deliveries) == 1


def test_wait_for_callbacks_times_out(fake_apikley: FakeApikley) -> None:
    with pytest.raises(TimeoutError, match="0 callback attempt"):
        fake_apikley.wait_for_callbacks(1, timeout=0.05)
