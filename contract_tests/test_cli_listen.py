"""``sora2-characters listen`` over real sockets: 4 uvicorn workers, one handled outcome per task.

Each run starts the command in its own process group and stops it (also on failure); every wait is
bounded, and nothing asserts on elapsed time.
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from contract_tests.support import CliProcess, free_port, wait_for_http, wait_until
from sora2_characters._cli._app import run
from sora2_characters._cli._exits import EXIT_PORT_IN_USE, EXIT_USAGE
from sora2_characters._cli._listen import outcome_line
from sora2_characters.testing import FakeApikley
from sora2_characters.webhooks import sign

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "character.mp4"
SECRET = "whsec-listen-test-2718281828"
ENV = {"HOOK_SECRET": SECRET}


@contextlib.contextmanager
def listening(*args: str) -> Iterator[tuple[str, CliProcess]]:
    process = CliProcess(["listen", "--port", "0", "--secret-env", "HOOK_SECRET", *args], env=ENV)
    try:
        match = process.wait_for_stderr(r"listening on (http://\S+)")
        url = match.group(1)
        wait_for_http(url)
        yield url, process
    finally:
        process.stop()


def callback(task_id: str, state: str) -> bytes:
    data = {"taskId": task_id, "state": state, "model": "sora-2-characters"}
    if state == "success":
        data["resultJson"] = json.dumps({"character_id": f"char_{task_id}"})
    else:
        data.update(failCode="500", failMsg="internal error")
    return json.dumps({"code": 200 if state == "success" else 501, "msg": "success", "data": data}).encode()


def out_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def storm(url: str, outcomes: list[tuple[str, str]], *, deliveries: int, seed: int) -> list[int]:
    """Deliver every outcome at least once, ``deliveries`` POSTs in all, shuffled, 24 at a time."""
    rng = random.Random(seed)
    plan = list(outcomes) + [rng.choice(outcomes) for _ in range(deliveries - len(outcomes))]
    rng.shuffle(plan)
    # Concurrent repeats: some outcomes go out as a burst of identical POSTs side by side.
    for index in range(0, len(plan) - 4, 97):
        plan[index + 1 : index + 4] = [plan[index]] * 3

    def send(item: tuple[str, str]) -> int:
        body = callback(*item)
        headers = {"Content-Type": "application/json", **sign(item[0], SECRET)}
        return client.post(url, content=body, headers=headers).status_code

    with (
        httpx.Client(timeout=30.0, limits=httpx.Limits(max_connections=24)) as client,
        ThreadPoolExecutor(max_workers=24) as pool,
    ):
        return list(pool.map(send, plan))


def refusals(url: str) -> dict[str, int]:
    """Bad signatures, stale timestamps and an oversized body: each answered, none handled."""
    stale = sign("bad_stale", SECRET, timestamp=int(time.time()) - 3600)
    cases = {
        "bad_signature": (callback("bad_signature", "success"), sign("bad_signature", "not-the-secret")),
        "bad_stale": (callback("bad_stale", "success"), stale),
        "bad_unsigned": (callback("bad_unsigned", "success"), {}),
        "bad_oversized": (
            json.dumps(
                {"data": {"taskId": "bad_oversized", "state": "success", "pad": "x" * 2_000_000}}
            ).encode(),
            sign("bad_oversized", SECRET),
        ),
    }
    with httpx.Client(timeout=30.0) as client:
        return {
            name: client.post(url, content=body, headers=headers).status_code
            for name, (body, headers) in cases.items()
        }


def check_exactly_once(out: Path, outcomes: list[tuple[str, str]]) -> None:
    lines = out_lines(out)
    assert len(lines) == len(outcomes), f"{len(lines)} lines for {len(outcomes)} outcomes"
    assert sorted((line["task_id"], line["state"]) for line in lines) == sorted(outcomes)
    for line in lines:
        assert line["backend"] == "callback"
        if line["state"] == "success":
            assert line["character_id"] == f"char_{line['task_id']}"
        assert not str(line["task_id"]).startswith("bad_")


OUTCOMES = [(f"task_{index:03d}", "fail" if index % 10 == 0 else "success") for index in range(300)]


@pytest.mark.parametrize("store", ["sqlite", "redis"])
def test_four_workers_handle_1000_deliveries_of_300_outcomes_exactly_300_times(
    store: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store_url = (
        f"sqlite:{tmp_path / 'outcomes.sqlite'}"
        if store == "sqlite"
        else request.getfixturevalue("redis_url")
    )
    if store == "redis":
        # A fresh Redis database per run, so the session's server carries nothing over.
        store_url = store_url.rsplit("/", 1)[0] + f"/{random.Random(str(tmp_path)).randrange(1, 16)}"
    out = tmp_path / "outcomes.jsonl"
    with listening("--workers", "4", "--store", store_url, "--out", str(out)) as (url, process):
        statuses = storm(url, OUTCOMES, deliveries=1000, seed=15)
        refused = refusals(url)
        assert process.process.poll() is None
    assert set(statuses) == {200}, statuses
    assert refused == {"bad_signature": 401, "bad_stale": 401, "bad_unsigned": 401, "bad_oversized": 413}
    check_exactly_once(out, OUTCOMES)


def test_the_fakes_callbacks_reach_a_running_listen_once_each(tmp_path: Path) -> None:
    out = tmp_path / "outcomes.jsonl"
    with (
        listening("--workers", "2", "--store", f"sqlite:{tmp_path / 'o.sqlite'}", "--out", str(out)) as (
            url,
            _,
        ),
        FakeApikley(webhook_secret=SECRET, time_scale=0.001, initial_credits=1000) as fake,
        fake.client() as client,
    ):
        video = client.upload_video(SAMPLE).download_url
        fake.fail_task(fail_code="500", fail_msg="internal error")
        ids = [client.create_character(video, callback_url=url).task_id for _ in range(6)]
        attempts = fake.wait_for_callbacks(6, timeout=30)
        assert {attempt.task_id for attempt in attempts} == set(ids)
        assert {attempt.status_code for attempt in attempts} == {200}
        # The service delivering again (the same signed bodies) changes nothing.
        with httpx.Client(timeout=10) as http:
            for attempt in attempts:
                assert http.post(url, json=attempt.payload, headers=attempt.headers).status_code == 200
        wait_until(lambda: len(out_lines(out)) >= 6, timeout=10, what="six lines")
    lines = out_lines(out)
    assert sorted(line["task_id"] for line in lines) == sorted(ids)
    states = sorted(line["state"] for line in lines)
    assert states == ["fail"] + ["success"] * 5


def test_lines_go_to_stdout_without_out(tmp_path: Path) -> None:
    with listening() as (url, process):
        with httpx.Client(timeout=10) as http:
            for _ in range(3):
                response = http.post(
                    url, content=callback("task_x", "success"), headers=sign("task_x", SECRET)
                )
                assert response.status_code == 200
        wait_until(lambda: "task_x" in process.stdout, timeout=10, what="the line on stdout")
    (line,) = [json.loads(text) for text in process.stdout.splitlines()]
    assert (line["task_id"], line["character_id"]) == ("task_x", "char_task_x")
    assert SECRET not in process.stdout + process.stderr


def test_memory_store_with_several_workers_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["listen", "--workers", "2", "--store", "memory:"]) == EXIT_USAGE
    assert "--store memory: is one process's memory" in capsys.readouterr().err


def test_an_unset_secret_variable_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_SUCH_SECRET_VAR", raising=False)
    assert run(["listen", "--secret-env", "NO_SUCH_SECRET_VAR"]) == EXIT_USAGE
    assert "NO_SUCH_SECRET_VAR: that environment variable is unset or empty" in capsys.readouterr().err


def test_a_redis_that_is_down_fails_at_start_with_its_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["listen", "--store", f"redis://:pw-hidden-1@127.0.0.1:{free_port()}/0"])
    err = capsys.readouterr().err
    assert code == 32
    assert "error: StoreError: Redis at redis://:***@127.0.0.1" in err
    assert "pw-hidden-1" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--store", "postgres://x"], "unknown store"),
        (["--store", "sqlite:"], "sqlite: needs a file path"),
        (["--path", "hooks"], "--path must start with '/'"),
    ],
)
def test_bad_options_are_refused_before_serving(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["listen", *args]) in {EXIT_USAGE, 32}
    assert message in capsys.readouterr().err


def test_an_out_file_that_cannot_be_written_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["listen", "--out", str(tmp_path / "no" / "such" / "dir" / "x.jsonl")]) == EXIT_USAGE
    assert "cannot append to it" in capsys.readouterr().err


def test_a_line_has_the_fields_of_status_json(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeApikley(time_scale=0) as fake, fake.client() as client:
        task_id = client.create_character("https://example.com/c.mp4").task_id
        for key, value in {
            "APIKLEY_BASE_URL": fake.base_url,
            "APIKLEY_UPLOAD_BASE_URL": fake.upload_base_url,
            "APIKLEY_API_KEY": fake.api_key,
        }.items():
            monkeypatch.setenv(key, value)
        assert run(["status", task_id, "--json"]) == 0
        status = json.loads(capsys.readouterr().out)
        info = client.get_task(task_id)
    line = json.loads(outcome_line(info))
    assert set(line) == set(status)
    assert {key: line[key] for key in line if key != "backend"} == {
        key: status[key] for key in status if key != "backend"
    }


def test_a_port_in_use_is_refused_with_the_mocks_exit_code() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = CliProcess(["listen", "--port", str(port)])
        try:
            code = process.wait(timeout=60)
        finally:
            process.stop()
    assert code == EXIT_PORT_IN_USE
    assert f"port {port} on 127.0.0.1 is already in use" in process.stderr


def test_the_workers_answer_without_nagles_delay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """uvicorn binds one socket for its worker processes with protocol 0, where asyncio sets no
    TCP_NODELAY: listen serves with the protocol that sets it (which the fake's server test checks on
    real connections), else each answer waited 40 ms for the sender's delayed ACK."""
    import uvicorn

    from sora2_characters._h11 import NoDelayH11Protocol

    served: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.append(options))
    store = f"sqlite:{tmp_path / 'seen.db'}"

    assert (
        run(["listen", "--workers", "2", "--port", "0", "--store", store, "--out", str(tmp_path / "o")]) == 0
    )

    (options,) = served
    assert options["workers"] == 2
    assert options["http"] is NoDelayH11Protocol
