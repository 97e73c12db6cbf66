"""The fake's public controls for holding tasks and keys in a given state, seen over real sockets.

``seed_task``, ``finish_task``, ``remove_task``, ``api_keys`` and ``accept_any_key`` are what the
Pact provider states and other engineers' tests build on: each test here asserts what a client of
the fake observes on the wire, not the fake's internals.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sora2_characters import AuthenticationError
from sora2_characters.testing import FakeApikley

RECORD = "/api/v1/jobs/recordInfo"
CREDITS = "/api/v1/chat/credit"
RUNNING = ("waiting", "queuing", "generating")


def record(http: httpx.Client, task_id: str) -> dict[str, Any]:
    payload: dict[str, Any] = http.get(RECORD, params={"taskId": task_id}).json()
    return payload


def data_of(http: httpx.Client, task_id: str) -> dict[str, Any]:
    payload = record(http, task_id)
    assert payload["code"] == 200, payload
    data: dict[str, Any] = payload["data"]
    return data


# ---- seed_task ---------------------------------------------------------------------------------


def test_seeded_success_has_the_given_id_and_character(fake_apikley: FakeApikley, http: httpx.Client) -> None:
    task_id = fake_apikley.seed_task(task_id="pact-task-1", character_id="char_fixed")

    assert task_id == "pact-task-1"
    data = data_of(http, "pact-task-1")
    assert data["taskId"] == "pact-task-1"
    assert data["state"] == "success"
    assert data["model"] == "sora-2-characters"
    assert json.loads(data["resultJson"]) == {"character_id": "char_fixed"}


def test_seeded_success_without_ids_gets_fresh_ones(fake_apikley: FakeApikley, http: httpx.Client) -> None:
    first = fake_apikley.seed_task()
    second = fake_apikley.seed_task()

    assert first != second
    results = [json.loads(data_of(http, each)["resultJson"])["character_id"] for each in (first, second)]
    assert all(results)
    assert results[0] != results[1]


def test_seeded_failure_has_the_default_code_and_message(
    fake_apikley: FakeApikley, http: httpx.Client
) -> None:
    task_id = fake_apikley.seed_task(state="fail")

    data = data_of(http, task_id)
    assert data["state"] == "fail"
    assert (data["failCode"], data["failMsg"]) == ("500", "internal error, please try again later")
    assert not data["resultJson"]


def test_seeded_failure_keeps_the_given_code_and_message(
    fake_apikley: FakeApikley, http: httpx.Client
) -> None:
    task_id = fake_apikley.seed_task(state="fail", fail_code="422", fail_msg="video too long")

    data = data_of(http, task_id)
    assert (data["failCode"], data["failMsg"]) == ("422", "video too long")


@pytest.mark.parametrize("state", RUNNING)
def test_a_seeded_running_task_stays_put_until_finished(
    fake_apikley: FakeApikley, http: httpx.Client, state: str
) -> None:
    task_id = fake_apikley.seed_task(state=state)  # type: ignore[arg-type]

    fake_apikley.advance(10_000)  # far past any schedule: a pinned task does not move
    assert data_of(http, task_id)["state"] == state

    fake_apikley.finish_task(task_id, character_id="char_done")
    data = data_of(http, task_id)
    assert data["state"] == "success"
    assert json.loads(data["resultJson"]) == {"character_id": "char_done"}


def test_finish_task_can_fail_a_running_task(fake_apikley: FakeApikley, http: httpx.Client) -> None:
    task_id = fake_apikley.seed_task(task_id="running-1", state="generating")

    fake_apikley.finish_task("running-1", state="fail", fail_code="501", fail_msg="gave up")

    data = data_of(http, task_id)
    assert (data["state"], data["failCode"], data["failMsg"]) == ("fail", "501", "gave up")


def test_finish_task_ends_a_created_task_at_once(fake_apikley: FakeApikley) -> None:
    fake_apikley.time_scale = 1.0  # a real 15 s schedule, which the test never waits for
    with fake_apikley.client() as client:
        task_id = client.create_character(
            "https://cdn.example.com/clip.mp4", character_prompt="a knight"
        ).task_id
        assert client.get_task(task_id).state != "success"
        fake_apikley.finish_task(task_id, state="success", character_id="char_now")
        assert client.get_task(task_id).character_id == "char_now"


def test_finish_task_on_an_unknown_id_is_a_key_error(fake_apikley: FakeApikley) -> None:
    with pytest.raises(KeyError, match="nope"):
        fake_apikley.finish_task("nope")


def test_seeded_tasks_cost_no_credits(fake_apikley: FakeApikley, http: httpx.Client) -> None:
    before = http.get(CREDITS).json()["data"]

    for state in ("success", "fail", "generating"):
        fake_apikley.seed_task(state=state)

    assert http.get(CREDITS).json()["data"] == before


def test_a_seeded_task_of_another_model_reports_that_model(
    fake_apikley: FakeApikley, http: httpx.Client
) -> None:
    task_id = fake_apikley.seed_task(model="sora-2-text-to-video", state="success")

    data = data_of(http, task_id)
    assert data["model"] == "sora-2-text-to-video"
    assert json.loads(data["param"])["model"] == "sora-2-text-to-video"


def test_seed_param_is_the_request_the_task_reports(fake_apikley: FakeApikley, http: httpx.Client) -> None:
    body = {"model": "sora-2-characters", "input": {"character_file_url": ["https://x.test/a.mp4"]}}

    from_body = fake_apikley.seed_task(param=body)
    from_text = fake_apikley.seed_task(param='{"model":"raw"}')

    # Live, ``input`` is a JSON string inside the JSON string, as the service encodes it.
    reported = json.loads(data_of(http, from_body)["param"])
    assert {**reported, "input": json.loads(reported["input"])} == body
    assert data_of(http, from_text)["param"] == '{"model":"raw"}'


def test_seeding_an_existing_id_replaces_the_task(fake_apikley: FakeApikley, http: httpx.Client) -> None:
    fake_apikley.seed_task(task_id="same", state="generating")
    fake_apikley.seed_task(task_id="same", state="fail")

    assert data_of(http, "same")["state"] == "fail"
    assert [task.task_id for task in fake_apikley.tasks] == ["same"]


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"state": "paused"}, "state"),
        ({"task_id": ""}, "task_id"),
        ({"model": ""}, "model"),
    ],
)
def test_seed_task_refuses_bad_arguments_naming_them(options: dict[str, Any], field: str) -> None:
    fake = FakeApikley()  # not started: argument checks need no server
    with pytest.raises(ValueError, match=field):
        fake.seed_task(**options)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(task_id=st.text(min_size=1, max_size=200))
def test_any_task_id_the_spec_allows_round_trips(fake_apikley: FakeApikley, task_id: str) -> None:
    # The spec allows any non-empty string; lone surrogates cannot travel in a URL, so they are
    # checked through the fake's own view instead of the wire.
    assert fake_apikley.seed_task(task_id=task_id) == task_id
    assert fake_apikley.task(task_id)["taskId"] == task_id
    try:
        task_id.encode("utf-8")
    except UnicodeEncodeError:
        return
    with httpx.Client(base_url=fake_apikley.base_url, timeout=10) as http:
        response = http.get(
            RECORD, params={"taskId": task_id}, headers={"Authorization": f"Bearer {fake_apikley.api_key}"}
        )
    assert response.json()["data"]["taskId"] == task_id


# ---- remove_task -------------------------------------------------------------------------------


def test_a_removed_task_answers_like_an_unknown_id(fake_apikley: FakeApikley, http: httpx.Client) -> None:
    task_id = fake_apikley.seed_task(task_id="gone")
    unknown = record(http, "never-existed")

    fake_apikley.remove_task(task_id)

    assert record(http, "gone") == unknown
    assert unknown["code"] != 200
    fake_apikley.remove_task("gone")  # absent already: no error


# ---- keys ----------------------------------------------------------------------------------------


def test_an_empty_key_set_refuses_every_key_and_restoring_it_accepts_again(
    fake_apikley: FakeApikley, http: httpx.Client
) -> None:
    accepted = fake_apikley.api_keys
    assert accepted == (fake_apikley.api_key,)

    fake_apikley.api_keys = ()
    refused = http.get(CREDITS).json()
    fake_apikley.api_keys = accepted

    assert refused["code"] == 401
    assert http.get(CREDITS).json()["code"] == 200


def test_api_keys_accepts_a_single_key_and_the_client_key_stays(
    fake_apikley: FakeApikley, http: httpx.Client
) -> None:
    original = fake_apikley.api_key
    fake_apikley.api_keys = "another-key"

    assert fake_apikley.api_keys == ("another-key",)
    assert fake_apikley.api_key == original  # what fake.client() sends, now refused
    assert http.get(CREDITS).json()["code"] == 401
    other = http.get(CREDITS, headers={"Authorization": "Bearer another-key"}).json()
    assert other["code"] == 200


def test_accept_any_key_can_be_switched_while_running(fake_apikley: FakeApikley, http: httpx.Client) -> None:
    stranger = {"Authorization": "Bearer someone-else"}
    assert http.get(CREDITS, headers=stranger).json()["code"] == 401

    fake_apikley.accept_any_key = True
    assert fake_apikley.accept_any_key
    assert http.get(CREDITS, headers=stranger).json()["code"] == 200

    fake_apikley.accept_any_key = False
    assert http.get(CREDITS, headers=stranger).json()["code"] == 401


def test_an_empty_key_in_api_keys_is_refused_naming_the_field(fake_apikley: FakeApikley) -> None:
    with pytest.raises(ValueError, match="api_keys"):
        fake_apikley.api_keys = ("ok", "")
    assert fake_apikley.api_keys == (fake_apikley.api_key,)


def test_the_client_sees_an_invalid_key_as_an_authentication_error(fake_apikley: FakeApikley) -> None:
    fake_apikley.api_keys = ()
    with fake_apikley.client() as client, pytest.raises(AuthenticationError):
        client.get_credits()
