"""``sora2_characters._cli._output``: redaction and exactly one JSON object per run."""

from __future__ import annotations

import io
import json

import pytest

from sora2_characters import (
    RateLimitError,
    TaskState,
    WaitTimeoutError,
)
from sora2_characters._cli._output import Output, Redactor, error_payload

TASK = "task_sora-2-characters_1"


def test_redactor_masks_every_registered_secret() -> None:
    redact = Redactor(["sk-SECRET-canary-123", None, " sk-other-key ", "ab"])
    assert redact("key sk-SECRET-canary-123 and sk-other-key") == "key *** and ***"
    assert redact("ab stays: too short to be a key") == "ab stays: too short to be a key"


def test_output_writes_one_redacted_json_object() -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    output = Output(Redactor(["sk-secret-1"]), json_mode=True, stdout=stdout, stderr=stderr)
    output.error(RateLimitError("key sk-secret-1 is over", code=429, http_status=429), task_id=TASK)
    assert json.loads(stdout.getvalue()) == {
        "error": {"type": "RateLimitError", "code": 429, "message": "key *** is over", "http_status": 429},
        "task_id": TASK,
    }
    with pytest.raises(RuntimeError):
        output.result({"again": True})


def test_error_payload_of_a_wait_timeout_keeps_the_last_state() -> None:
    payload = error_payload(WaitTimeoutError(TASK, TaskState.GENERATING, 5.0))
    assert payload["task_id"] == TASK
    assert payload["state"] == "generating"
    assert payload["error"]["code"] is None
