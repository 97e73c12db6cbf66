"""The fake in its default (live) style answers like the captured live service, situation by situation.

For each sample in ``contract_tests/live/samples`` the fake is put in the same situation (the same
route, state or error) and its answer is compared with the capture: HTTP status, ``content-type``,
the envelope's keys (absent vs ``null`` vs ``""``), the record's keys and value kinds, the values
of ``code``/``msg``/``success`` and of Spring's fields, and for callbacks the body and headers.
Every difference found must be listed, with its reason, in ``sora2_characters._fake.likeness``; and
every listed difference must still be found (a fixed difference is taken off the list).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from contract_tests.support import CallbackReceiver
from sora2_characters._fake.likeness import KNOWN_DIFFERENCES, NOT_COMPARED
from sora2_characters.testing import FakeApikley

SAMPLES_DIR = Path(__file__).resolve().parent / "live" / "samples"
SAMPLES: dict[str, dict[str, Any]] = {
    path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(SAMPLES_DIR.glob("*.json"))
}
CREATE = "/api/v1/jobs/createTask"
RECORD = "/api/v1/jobs/recordInfo"
CREDIT = "/api/v1/chat/credit"
VIDEO = "https://cdn.example.test/character.mp4"
TASK_BODY = {"model": "sora-2-characters", "input": {"character_file_url": [VIDEO]}}
# Top-level fields whose values (not only kinds) must agree.
VALUE_FIELDS = ("code", "msg", "message", "success", "status", "error", "path")


@dataclass(frozen=True)
class Answer:
    """One HTTP message as the comparison sees it: status (``None`` for a callback), headers, body."""

    status: int | None
    headers: dict[str, str]
    body_text: str


def kind(value: Any) -> str:
    """Name a JSON value's kind the way a client must tell them apart."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str):
        return "empty string" if value == "" else "string"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "object" if isinstance(value, dict) else "array"


def shape(payload: Any) -> dict[str, str]:
    """Each top-level key's kind, and each ``data`` key's kind when ``data`` is an object."""
    if not isinstance(payload, dict):
        return {"(body)": kind(payload)}
    found = {key: kind(value) for key, value in payload.items()}
    data = payload.get("data")
    if isinstance(data, dict):
        found.update({f"data.{key}": kind(value) for key, value in data.items()})
    return found


def differences(fake: Answer, live: Answer) -> set[str]:
    """Every way ``fake`` differs from ``live``, one short sentence each."""
    found: set[str] = set()
    if fake.status != live.status:
        found.add(f"status: fake {fake.status} vs live {live.status}")
    fake_type, live_type = fake.headers.get("content-type"), live.headers.get("content-type")
    if fake_type != live_type:
        found.add(f"content-type: fake {fake_type!r} vs live {live_type!r}")
    for header in ("x-webhook-signature", "x-webhook-timestamp"):
        if (header in fake.headers) != (header in live.headers):
            found.add(f"header {header}: fake {header in fake.headers} vs live {header in live.headers}")
    try:
        fake_body, live_body = json.loads(fake.body_text), json.loads(live.body_text)
    except ValueError:
        if fake.body_text != live.body_text:
            found.add("body text differs")
        return found
    fake_shape, live_shape = shape(fake_body), shape(live_body)
    for key in sorted(fake_shape.keys() | live_shape.keys()):
        fake_kind, live_kind = fake_shape.get(key, "absent"), live_shape.get(key, "absent")
        if fake_kind != live_kind:
            found.add(f"{key}: fake {fake_kind} vs live {live_kind}")
    if isinstance(fake_body, dict) and isinstance(live_body, dict):
        for key in VALUE_FIELDS:
            if key in fake_body and key in live_body and fake_body[key] != live_body[key]:
                found.add(f"{key}: fake {fake_body[key]!r} vs live {live_body[key]!r}")
    return found


def _answer(response: httpx.Response) -> Answer:
    return Answer(response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.text)


def captured(sample: dict[str, Any]) -> Answer:
    """The sample's answer (or, for a callback, the request the service sent)."""
    message = sample["response"] or sample["request"]
    headers = {key.lower(): value for key, value in message["headers"].items()}
    return Answer(message.get("status") if sample["response"] else None, headers, message["body_text"])


# ---- situations: put the fake where the capture was made and take its answer ---------------------


Situation = Callable[[FakeApikley, httpx.Client], Answer]


def _create(fake: FakeApikley, http: httpx.Client, body: Any = None) -> Answer:
    return _answer(http.post(CREATE, json=TASK_BODY if body is None else body))


def _record(task_id: str) -> Situation:
    return lambda fake, http: _answer(http.get(RECORD, params={"taskId": task_id}))


def _seeded(state: str, **options: Any) -> Situation:
    def situation(fake: FakeApikley, http: httpx.Client) -> Answer:
        return _record(fake.seed_task(state=state, **options))(fake, http)  # type: ignore[arg-type]

    return situation


def _fault(operation: str, code: int) -> Situation:
    def situation(fake: FakeApikley, http: httpx.Client) -> Answer:
        fake.fail_next(operation, code=code)
        return _create(fake, http) if operation == "createTask" else _record("any")(fake, http)

    return situation


def _credits(balance: float) -> Situation:
    def situation(fake: FakeApikley, http: httpx.Client) -> Answer:
        fake.credits = balance
        return _answer(http.get(CREDIT))

    return situation


def _no_credits(fake: FakeApikley, http: httpx.Client) -> Answer:
    fake.credits = 0
    return _create(fake, http)


def _bad_key(path: str) -> Situation:
    def situation(fake: FakeApikley, http: httpx.Client) -> Answer:
        headers = {"Authorization": "Bearer not-the-key"}
        if path == CREATE:
            return _answer(http.post(CREATE, json=TASK_BODY, headers=headers))
        if path == RECORD:
            return _answer(http.get(RECORD, params={"taskId": "any"}, headers=headers))
        return _answer(http.post(path, json={"base64Data": "aGk=", "uploadPath": "a"}, headers=headers))

    return situation


def _upload_base64(fake: FakeApikley, http: httpx.Client) -> Answer:
    body = {"base64Data": "aGVsbG8gd29ybGQ=", "uploadPath": "test-uploads", "fileName": "test.txt"}
    return _answer(http.post(f"{fake.upload_base_url}/api/file-base64-upload", json=body))


def _upload_stream(fake: FakeApikley, http: httpx.Client) -> Answer:
    files = {"file": ("frame.jpg", b"\xff\xd8\xff\xe0" + b"\0" * 64, "image/jpeg")}
    return _answer(
        http.post(
            f"{fake.upload_base_url}/api/file-stream-upload", files=files, data={"uploadPath": "test-uploads"}
        )
    )


def _upload_missing_path(fake: FakeApikley, http: httpx.Client) -> Answer:
    return _answer(http.post(f"{fake.upload_base_url}/api/file-base64-upload", json={"base64Data": "aGk="}))


def _rate_limited(fake: FakeApikley, http: httpx.Client) -> Answer:
    fake.rate_limit_next("createTask")
    return _create(fake, http)


def _html_502(fake: FakeApikley, http: httpx.Client) -> Answer:
    fake.malformed_next("createTask", kind="html")
    return _create(fake, http)


def _callback(fail: bool) -> Situation:
    def situation(fake: FakeApikley, http: httpx.Client) -> Answer:
        fake.time_scale = 0
        if fail:
            fake.fail_task(fail_code="500", fail_msg="Internal server error")
        with CallbackReceiver() as receiver:
            assert _create(fake, http, {**TASK_BODY, "callBackUrl": receiver.url}).status == 200
            fake.wait_for_callbacks(1)
        (delivery,) = receiver.deliveries
        headers = {key.lower(): value for key, value in delivery.headers.items()}
        return Answer(None, headers, delivery.body.decode())

    return situation


SITUATIONS: dict[str, Situation] = {
    "cb_doc_failure": _callback(fail=True),
    "cb_doc_failure_remained_credits": _callback(fail=True),
    "cb_success_seedream_readme": _callback(fail=False),
    "cloudflare_502_html_create": _html_502,
    "doc_characters_create": _create,
    "doc_characters_success": _seeded("success"),
    "doc_credits_int": _credits(100),
    "doc_feature_disabled_505": _fault("createTask", 505),
    "doc_maintenance_455_query": _fault("recordInfo", 455),
    "doc_rate_limited_429": _rate_limited,
    "doc_recordinfo_fail_message_key": _seeded("fail", fail_code="422", fail_msg="Invalid prompt"),
    "doc_recordinfo_generating_progress": _seeded("generating"),
    "doc_upload_auth_401": _bad_key("/file-upload/api/file-base64-upload"),
    "doc_upload_missing_path_400": _upload_missing_path,
    "har_createtask_success_recordid": _create,
    "har_credits_fractional": _credits(5916.25),
    "har_downloadurl_422": lambda fake, http: _answer(
        http.post("/api/v1/common/download-url", json={"url": "https://elsewhere.test/a.mp4"})
    ),
    "har_recordinfo_generating": _seeded("generating"),
    "har_recordinfo_success_long": _seeded("success"),
    "har_recordinfo_success_video": _seeded("success"),
    "har_recordinfo_waiting": _seeded("waiting"),
    "har_upload_base64_success": _upload_base64,
    "har_upload_stream_success": _upload_stream,
    "har_validation_422_data_null": lambda fake, http: _create(
        fake, http, {**TASK_BODY, "callBackUrl": "not a url"}
    ),
    "live_402_insufficient_on_create": _no_credits,
    "live_433_daily_limit_on_create": _fault("createTask", 433),
    "live_500_is_validation_on_create": lambda fake, http: _create(
        fake, http, {"model": "sora-2-characters"}
    ),
    "live_model_not_supported_422": lambda fake, http: _create(fake, http, {**TASK_BODY, "model": "gpt-4o"}),
    "live_recordinfo_is_null": _record("no-such-task"),
    "live_unauthorized_http200": _bad_key(RECORD),
    "live_unauthorized_http200_on_create": _bad_key(CREATE),
    "live_unknown_path_spring_404": lambda fake, http: _answer(http.get("/v1/completions")),
}


@pytest.fixture(scope="module")
def live_fake() -> Iterator[FakeApikley]:
    with FakeApikley(time_scale=0.001) as fake:
        yield fake


@pytest.fixture
def fake(live_fake: FakeApikley) -> FakeApikley:
    live_fake.reset()
    live_fake.time_scale = 0.001
    return live_fake


def test_every_sample_is_compared_or_excused() -> None:
    assert set(SAMPLES) == set(SITUATIONS) | set(NOT_COMPARED)
    assert not set(SITUATIONS) & set(NOT_COMPARED)
    assert set(KNOWN_DIFFERENCES) <= set(SITUATIONS)
    assert all(reason.strip() for reason in NOT_COMPARED.values())
    assert all(reason.strip() for listed in KNOWN_DIFFERENCES.values() for reason in listed.values())


@pytest.mark.parametrize("sample_id", sorted(SITUATIONS))
def test_the_fake_answers_like_the_capture(fake: FakeApikley, sample_id: str) -> None:
    with httpx.Client(base_url=fake.base_url, headers={"Authorization": f"Bearer {fake.api_key}"}) as http:
        answer = SITUATIONS[sample_id](fake, http)
    found = differences(answer, captured(SAMPLES[sample_id]))
    listed = set(KNOWN_DIFFERENCES.get(sample_id, {}))
    assert found - listed == set(), "unlisted differences (fix the fake, or list them with a reason)"
    assert listed - found == set(), "listed differences that are gone (take them off the list)"


def test_a_configured_webhook_secret_signs_the_callback(fake: FakeApikley) -> None:
    """The captured callbacks carry no signature; the fake adds one only when a secret is set."""
    with FakeApikley(time_scale=0, webhook_secret="s3cret") as signing:  # noqa: SIM117
        with httpx.Client(base_url=signing.base_url, headers={"Authorization": "Bearer test-key"}) as http:
            answer = _callback(fail=False)(signing, http)
    assert {"x-webhook-signature", "x-webhook-timestamp"} <= set(answer.headers)
    assert answer.headers["content-type"] == "application/json; charset=utf-8"


def test_failed_tasks_refund_and_successes_debit(fake: FakeApikley) -> None:
    with httpx.Client(base_url=fake.base_url, headers={"Authorization": f"Bearer {fake.api_key}"}) as http:
        fake.time_scale = 0
        fake.fail_task(fail_code="500", fail_msg="internal error, please try again later")
        failed = http.post(CREATE, json=TASK_BODY).json()["data"]["taskId"]
        assert http.get(CREDIT).json()["data"] == 100  # the failure gave its 2.5 back
        assert http.get(RECORD, params={"taskId": failed}).json()["data"]["creditsConsumed"] == 0
        succeeded = http.post(CREATE, json=TASK_BODY).json()["data"]["taskId"]
        assert http.get(CREDIT).json()["data"] == 97.5
        assert http.get(RECORD, params={"taskId": succeeded}).json()["data"]["creditsConsumed"] == 2.5


def test_optional_record_fields_appear_only_when_configured() -> None:
    with FakeApikley(time_scale=1.0, record_fields=("progress", "updateTime")) as configured:
        task_id = configured.seed_task(state="generating")
        data = configured.task(task_id)
    assert {"progress", "updateTime"} <= set(data)
    with pytest.raises(ValueError, match="record_fields"):
        FakeApikley(record_fields=("eta",))


def test_live_task_ids_are_32_hex_characters_and_recordid_repeats_it(fake: FakeApikley) -> None:
    with httpx.Client(base_url=fake.base_url, headers={"Authorization": f"Bearer {fake.api_key}"}) as http:
        data = http.post(CREATE, json=TASK_BODY).json()["data"]
    assert len(data["taskId"]) == 32
    assert int(data["taskId"], 16) >= 0
    assert data["recordId"] == data["taskId"]


def test_the_http_style_keeps_the_documented_contract(fake: FakeApikley) -> None:
    fake.error_style = "http"
    try:
        with httpx.Client(
            base_url=fake.base_url, headers={"Authorization": f"Bearer {fake.api_key}"}
        ) as http:
            missing = http.get(RECORD, params={"taskId": "nope"})
            created = http.post(CREATE, json=TASK_BODY).json()["data"]
            unknown = http.get("/v1/completions")
    finally:
        fake.error_style = "live"
    assert (missing.status_code, missing.json()) == (
        422,
        {"code": 422, "msg": "recordInfo is null", "data": None},
    )
    assert set(created) == {"taskId"}
    assert created["taskId"].startswith("task_sora-2-characters_")
    assert unknown.json()["code"] == 404
