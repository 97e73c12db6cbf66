"""``sora2_characters._cli._app``: the ``sora2-characters`` command line against the fake Apikley.

Almost every run goes through :func:`run_cli`, in process (the command's entry function, with its
own environment, stdout and stderr), which also asserts that the API key (a canary accepted by the
fake) appears in neither stream. A handful stay real subprocesses, for what only a process shows:
Ctrl-C and SIGTERM, ``mock`` serving until interrupted, the installed console script, a missing
``cli`` extra. Every run is bounded by a timeout.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import pytest

from contract_tests import support
from contract_tests.support import DATA, ROOT
from sora2_characters import (
    Client,
)
from sora2_characters._cli._exits import EXIT_CODES, exit_code_markdown, exit_code_table
from sora2_characters.testing import FakeApikley

SAMPLE = ROOT / "examples" / "character.mp4"
CANARY = "sk-SECRET-canary-123"
#: The README's first command (the main job), exactly as written there.
MAIN_JOB = "sora2-characters create --video examples/character.mp4 --wait"
#: A fast but visible task: 15 fake seconds at 0.02 wall seconds each.
FAST_SCALE = 0.02
POLL = ["--poll-interval", "0.02"]
TIMEOUT = 60.0


@pytest.fixture(scope="module")
def server() -> Iterator[FakeApikley]:
    with FakeApikley(api_key=CANARY, time_scale=FAST_SCALE) as fake:
        yield fake


@pytest.fixture
def fake(server: FakeApikley) -> FakeApikley:
    server.reset()
    server.time_scale = FAST_SCALE
    server.set_task_durations(None)
    return server


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("APIKLEY_")}
    env.update({"NO_COLOR": "1", "PYTHONUNBUFFERED": "1", "COLUMNS": "120"})
    env.update(extra or {})
    return env


def fake_env(fake: FakeApikley, key: str = CANARY) -> dict[str, str]:
    return clean_env(
        {
            "APIKLEY_API_KEY": key,
            "APIKLEY_BASE_URL": fake.base_url,
            "APIKLEY_UPLOAD_BASE_URL": fake.upload_base_url,
        }
    )


def assert_no_key(*texts: str) -> None:
    for text in texts:
        assert CANARY not in text
        assert "canary" not in text


def run_cli(*args: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the CLI in process (:func:`contract_tests.support.run_cli`); the key must show nowhere."""
    return support.run_cli(*args, env=env, secrets=(CANARY, "canary"))


def run_console_script(*args: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the installed ``sora2-characters`` console script in a subprocess; the key must show nowhere."""
    script = Path(sys.executable).parent / "sora2-characters"
    assert script.exists(), "the console script is installed with the package"
    result = subprocess.run(
        [str(script), *args],
        env=dict(env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert_no_key(result.stdout, result.stderr)
    return result


def show_each_state_once(fake: FakeApikley, states: tuple[str, ...]) -> None:
    """Make the next task's first answers show ``states``, one per poll, then the truth (success).

    Timing plays no part: the task is over at once (``time_scale`` 0), and chained overrides rewrite
    its answers by count. The n-th gate turns the n-th answer into a marker (each gate is used once,
    and a later gate only sees an answer no earlier gate marked); the mappers turn markers into states.
    """
    fake.time_scale = 0
    markers = [f"answer-{index}" for index in range(len(states))]
    for marker in markers:
        fake.override_task(fields={"state": marker}, when_state="success", times=1)
    for marker, state in zip(markers, states, strict=True):
        fake.override_task(fields={"state": state}, when_state=marker)


def one_json(stdout: str) -> dict[str, Any]:
    """The single JSON object stdout must hold."""
    lines = stdout.splitlines()
    assert len(lines) == 1, stdout
    value = json.loads(lines[0])
    assert isinstance(value, dict)
    return value


def human(stdout: str) -> dict[str, str]:
    rows = {}
    for line in stdout.splitlines():
        key, _, value = line.partition(":")
        rows[key.strip()] = value.strip()
    return rows


def create_task(fake: FakeApikley, url: str = "https://example.com/character.mp4") -> str:
    with Client(CANARY, base_url=fake.base_url, upload_base_url=fake.upload_base_url) as client:
        return client.create_character(url).task_id


# ---- the main job ------------------------------------------------------------------------------


def test_create_video_wait_human(fake: FakeApikley) -> None:
    show_each_state_once(fake, ("waiting", "queuing", "generating"))
    result = run_cli(
        "create", "--video", str(SAMPLE), "--wait", "--poll-interval", "0.02", env=fake_env(fake)
    )
    assert result.returncode == 0, result.stderr
    (task,) = fake.tasks
    assert result.stdout.splitlines()[-1] == f"character_id:     {task.character_id}"
    rows = human(result.stdout)
    assert rows["task_id"] == task.task_id
    assert rows["state"] == "success"
    assert rows["backend"].startswith("custom")
    # Plain progress lines (stderr is a pipe, not a terminal), in order.
    states = re.findall(rf"^\[\s*[\d.]+s\] {re.escape(task.task_id)} (\w+)", result.stderr, re.MULTILINE)
    assert states[0] == "polling"
    assert states[1:] == ["waiting", "queuing", "generating", "success"]
    assert f"validated and uploaded {SAMPLE}: video/mp4, 23748 bytes -> {fake.base_url}" in result.stderr
    assert "\x1b[" not in result.stderr  # no terminal control codes when not a TTY
    # The video went through the upload API, and the task points at the uploaded file.
    (upload,) = fake.requests_for("upload")
    assert upload.status == 200
    assert task.body["input"]["character_file_url"][0].startswith(fake.base_url)


def test_create_video_wait_json(fake: FakeApikley) -> None:
    result = run_cli("create", "--video", str(SAMPLE), "--wait", *POLL, "--json", env=fake_env(fake))
    assert result.returncode == 0, result.stderr
    payload = one_json(result.stdout)
    (task,) = fake.tasks
    assert payload["task_id"] == task.task_id
    assert payload["state"] == "success"
    assert payload["character_id"] == task.character_id
    assert payload["backend"] == "custom"
    assert "success" in result.stderr  # progress still goes to stderr


def test_create_video_url_without_wait(fake: FakeApikley) -> None:
    args = [
        "create",
        "--video-url",
        "https://example.com/c.mp4",
        "--prompt",
        "a ball",
        "--safety",
        "no faces",
    ]
    result = run_cli(*args, "--callback-url", "http://127.0.0.1:9/cb", env=fake_env(fake))
    assert result.returncode == 0, result.stderr
    (task,) = fake.tasks
    rows = human(result.stdout)
    assert rows["task_id"] == task.task_id
    assert rows["state"] == "submitted"
    assert task.body["input"] == {
        "character_file_url": ["https://example.com/c.mp4"],
        "character_prompt": "a ball",
        "safety_instruction": "no faces",
    }
    assert task.body["callBackUrl"] == "http://127.0.0.1:9/cb"
    assert not fake.requests_for("upload")

    result = run_cli("create", "--video-url", "https://example.com/c.mp4", "--json", env=fake_env(fake))
    assert result.returncode == 0, result.stderr
    payload = one_json(result.stdout)
    assert payload["task_id"] == fake.tasks[-1].task_id
    assert payload["state"] == "submitted"
    assert "character_id" not in payload


# ---- status, wait, upload, credits -------------------------------------------------------------


def test_status_human_and_json(fake: FakeApikley) -> None:
    # A seeded task stays waiting, however slowly the machine runs, until the test finishes it.
    task_id = fake.seed_task(state="waiting")
    result = run_cli("status", task_id, env=fake_env(fake))
    assert result.returncode == 0, result.stderr
    rows = human(result.stdout)
    assert rows["state"] == "waiting"
    assert rows["character_id"] == "-"

    fake.finish_task(task_id, state="success")
    result = run_cli("status", task_id, "--json", env=fake_env(fake))
    assert result.returncode == 0, result.stderr
    payload = one_json(result.stdout)
    assert payload["task_id"] == task_id
    assert payload["state"] == "success"
    assert payload["character_id"] == fake.tasks[0].character_id


def test_wait_human_and_json(fake: FakeApikley) -> None:
    task_id = create_task(fake)
    result = run_cli("wait", task_id, *POLL, env=fake_env(fake))
    assert result.returncode == 0, result.stderr
    assert human(result.stdout)["character_id"] == fake.tasks[0].character_id
    assert re.search(rf"{re.escape(task_id)} success$", result.stderr, re.MULTILINE)

    result = run_cli("wait", task_id, "--json", *POLL, env=fake_env(fake))
    assert result.returncode == 0, result.stderr
    payload = one_json(result.stdout)
    assert (payload["task_id"], payload["state"]) == (task_id, "success")
    assert payload["character_id"] == fake.tasks[0].character_id


def test_upload_human_and_json(fake: FakeApikley) -> None:
    result = run_cli("upload", str(DATA / "clip-2s.webm"), env=fake_env(fake))
    assert result.returncode == 0, result.stderr
    rows = human(result.stdout)
    (stored,) = fake.uploaded_files.values()
    assert rows["download_url"].startswith(fake.base_url)
    assert rows["download_url"].endswith(stored.file_path)
    assert rows["mime_type"] == "video/webm"

    result = run_cli("upload", str(SAMPLE), "--json", env=fake_env(fake))
    assert result.returncode == 0, result.stderr
    payload = one_json(result.stdout)
    assert payload["size"] == SAMPLE.stat().st_size
    assert payload["file_name"] == "character.mp4"
    assert any(payload["download_url"].endswith(path) for path in fake.uploaded_files)


def test_credits_human_and_json(fake: FakeApikley) -> None:
    fake.credits = 42.5
    result = run_cli("credits", env=fake_env(fake))
    assert result.returncode == 0, result.stderr
    assert human(result.stdout)["credits"] == "42.5"
    result = run_cli("credits", "--json", env=fake_env(fake))
    assert result.returncode == 0, result.stderr
    assert one_json(result.stdout) == {"credits": 42.5, "backend": "custom"}


def test_global_options_override_the_environment(fake: FakeApikley) -> None:
    env = clean_env({"APIKLEY_API_KEY": "wrong-key", "APIKLEY_BASE_URL": "http://127.0.0.1:9"})
    args = ["--api-key", CANARY, "--base-url", fake.base_url, "--upload-base-url", fake.upload_base_url]
    result = run_cli(*args, "credits", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert one_json(result.stdout)["credits"] == fake.credits


# ---- exit codes --------------------------------------------------------------------------------

API_CODES = [
    (400, 14, "BadRequestError"),
    (401, 3, "AuthenticationError"),
    (402, 4, "InsufficientCreditsError"),
    (404, 5, "NotFoundError"),
    (422, 15, "UnprocessableEntityError"),
    (429, 6, "RateLimitError"),
    (433, 7, "UsageLimitError"),
    (455, 8, "ServiceUnavailableError"),
    (500, 16, "InternalServerError"),
    (501, 17, "GenerationFailedError"),
    (505, 18, "FeatureDisabledError"),
    (599, 19, "APIError"),
]


@pytest.mark.parametrize(("code", "exit_code", "type_name"), API_CODES)
def test_each_api_error_class_has_its_exit_code(
    fake: FakeApikley, code: int, exit_code: int, type_name: str
) -> None:
    fake.fail_next("credits", code=code, msg=f"injected {code}", times=2)
    env = fake_env(fake)
    result = run_cli("--max-retries", "0", "credits", "--json", env=env)
    assert result.returncode == exit_code, result.stderr
    assert one_json(result.stdout) == {
        "error": {"type": type_name, "code": code, "message": f"injected {code}", "http_status": 200}
    }
    result = run_cli("--max-retries", "0", "credits", env=env)
    assert result.returncode == exit_code
    assert result.stdout == ""
    assert f"error: {type_name}: injected {code}" in result.stderr


def test_wrong_key_exits_3(fake: FakeApikley) -> None:
    result = run_cli("credits", "--json", env=fake_env(fake, key="sk-wrong-key"))
    assert result.returncode == 3
    assert one_json(result.stdout)["error"]["type"] == "AuthenticationError"
    assert "sk-wrong-key" not in result.stdout + result.stderr


def test_insufficient_credits_on_create(fake: FakeApikley) -> None:
    fake.credits = 0
    result = run_cli("create", "--video-url", "https://example.com/c.mp4", "--json", env=fake_env(fake))
    assert result.returncode == 4
    assert one_json(result.stdout)["error"]["code"] == 402
    assert not fake.tasks


def test_unknown_task_exits_5(fake: FakeApikley) -> None:
    result = run_cli("status", "task_sora-2-characters_1", "--json", env=fake_env(fake))
    assert result.returncode == 5
    payload = one_json(result.stdout)
    assert payload["error"]["type"] == "NotFoundError"
    assert payload["task_id"] == "task_sora-2-characters_1"


def test_connection_refused_exits_9() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = clean_env({"APIKLEY_API_KEY": CANARY, "APIKLEY_BASE_URL": f"http://127.0.0.1:{port}"})
    result = run_cli("--max-retries", "0", "credits", "--json", env=env)
    assert result.returncode == 9
    assert one_json(result.stdout)["error"]["type"] == "APIConnectionError"


def test_dropped_connection_exits_9(fake: FakeApikley) -> None:
    fake.drop_connection_next("credits")
    result = run_cli("--max-retries", "0", "credits", env=fake_env(fake))
    assert result.returncode == 9
    assert "error: APIConnectionError" in result.stderr


def test_request_timeout_exits_12(fake: FakeApikley) -> None:
    fake.set_latency(3.0, operation="credits", times=1)
    result = run_cli("--timeout", "0.3", "--max-retries", "0", "credits", "--json", env=fake_env(fake))
    assert result.returncode == 12
    assert one_json(result.stdout)["error"]["type"] == "APITimeoutError"


def test_malformed_answer_exits_13(fake: FakeApikley) -> None:
    fake.malformed_next("credits", kind="not_json", times=3)
    result = run_cli("--max-retries", "0", "credits", "--json", env=fake_env(fake))
    assert result.returncode == 13
    assert one_json(result.stdout)["error"]["type"] == "MalformedResponseError"


def test_failed_task_exits_10(fake: FakeApikley) -> None:
    fake.fail_task(fail_code="500", fail_msg="Generation failed")
    args = ["create", "--video", str(SAMPLE), "--wait", *POLL]
    result = run_cli(*args, "--json", env=fake_env(fake))
    assert result.returncode == 10, result.stderr
    (task,) = fake.tasks
    assert one_json(result.stdout) == {
        "error": {
            "type": "TaskFailedError",
            "code": None,
            "fail_code": "500",
            "transient": True,
            "message": (
                f"task {task.task_id} failed [failCode 500]: Generation failed"
                " (a failure on the service's side: submitting again may succeed)"
            ),
        },
        "task_id": task.task_id,
        "state": "fail",
    }
    fake.fail_task(fail_code="422", fail_msg="bad video")
    result = run_cli(*args, env=fake_env(fake))
    assert result.returncode == 10
    assert "error: TaskFailedError" in result.stderr
    assert "bad video" in result.stderr
    assert re.search(r"\] \S+ fail$", result.stderr, re.MULTILINE)


def test_wait_timeout_exits_11_and_says_how_to_resume(fake: FakeApikley) -> None:
    task_id = fake.seed_task(state="waiting")  # waiting until finished, however slow the machine
    result = run_cli(
        "wait", task_id, "--max-wait", "0.3", "--poll-interval", "0.05", "--json", env=fake_env(fake)
    )
    assert result.returncode == 11
    payload = one_json(result.stdout)
    assert payload["error"]["type"] == "WaitTimeoutError"
    assert payload["task_id"] == task_id
    assert payload["state"] == "waiting"
    assert f"sora2-characters wait {task_id}" in result.stderr


@pytest.mark.parametrize(
    ("args", "type_name", "needle"),
    [
        (["create", "--video", str(DATA / "clip-6s.mp4")], "InvalidInputError", "1 to 4 s"),
        (["create", "--video", str(DATA / "clip-0_5s.mp4")], "InvalidInputError", "1 to 4 s"),
        (["upload", str(DATA / "clip-2s.mkv")], "InvalidInputError", "mp4, webm or avi"),
        (["create", "--video-url", "ftp://example.com/a.mp4"], "InvalidInputError", "http"),
        (
            ["create", "--video-url", "https://e.com/a.mp4", "--prompt", "x" * 5001],
            "InvalidInputError",
            "5000",
        ),
        (
            ["create", "--video", str(SAMPLE), "--video-url", "https://e.com/a.mp4"],
            "UsageError",
            "exactly one",
        ),
        (["create"], "UsageError", "exactly one"),
        (["upload", str(DATA / "missing.mp4")], "UsageError", "does not exist"),
        (["wait", "task_x", "--max-wait", "0"], "UsageError", "max-wait"),
        (["nonsense"], "UsageError", "No such command"),
    ],
)
def test_local_input_errors_exit_2(fake: FakeApikley, args: list[str], type_name: str, needle: str) -> None:
    result = run_cli(*args, "--json", env=fake_env(fake))
    assert result.returncode == 2, result.stderr
    payload = one_json(result.stdout)
    assert payload["error"]["type"] == type_name
    assert needle in payload["error"]["message"]
    result = run_cli(*args, env=fake_env(fake))
    assert result.returncode == 2
    assert needle in result.stderr
    assert result.stdout == ""
    # Refused before any upload or task (a request cut short by an earlier test may still land).
    assert fake.requests_for("upload") == []
    assert fake.requests_for("createTask") == []


def test_key_missing_with_a_base_url_exits_2(fake: FakeApikley) -> None:
    env = clean_env({"APIKLEY_BASE_URL": fake.base_url})
    result = run_cli("credits", "--json", env=env)
    assert result.returncode == 2
    error = one_json(result.stdout)["error"]
    assert error["type"] == "InvalidInputError"
    assert "APIKLEY_API_KEY" in error["message"]


# ---- the key never shows -----------------------------------------------------------------------


def test_key_given_as_option_never_shows(fake: FakeApikley) -> None:
    env = clean_env()
    base = ["--api-key", CANARY, "--base-url", fake.base_url, "--upload-base-url", fake.upload_base_url]
    fake.fail_next("*", code=401, msg=f"bad key {CANARY}", times=1)  # even an echoing server
    # wait: a task that stays waiting, so the run ends at --max-wait (an unknown id is looked for
    # during the CLI's 10 s grace period; `status task_missing` covers the unknown id).
    running = fake.seed_task(state="waiting")
    for args in (
        ["credits"],
        ["credits", "--json"],
        ["create", "--video", str(SAMPLE), "--wait", *POLL],
        ["create", "--video", str(SAMPLE), "--wait", *POLL, "--json"],
        ["upload", str(SAMPLE)],
        ["status", "task_missing", "--json"],
        ["wait", running, "--max-wait", "0.2", *POLL],
        [f"--api-key={CANARY}", "credits"],
        ["nonsense", "--json"],
    ):
        result = run_cli(*base, *args, env=env)  # run_cli asserts the canary is absent
        assert result.stdout or result.stderr


# ---- Ctrl-C ------------------------------------------------------------------------------------


class LineReader:
    """Reads a pipe's lines in a thread, so the test can wait for one with a timeout."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line)

    def wait_for(self, pattern: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no line matching {pattern!r} in {self.seen}"
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            self.seen.append(line)
            if re.search(pattern, line):
                return line

    def rest(self) -> str:
        """Everything read so far and until the pipe closes (bounded)."""
        self._thread.join(10)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return "".join(self.seen)


@contextlib.contextmanager
def start_cli(
    *args: str, env: Mapping[str, str]
) -> Iterator[tuple[subprocess.Popen[str], LineReader, LineReader]]:
    """Start the CLI with piped output; always killed, reaped and its pipes closed at the end."""
    with subprocess.Popen(
        [sys.executable, "-m", "sora2_characters", *args],
        env=dict(env),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        out, err = LineReader(process.stdout), LineReader(process.stderr)
        try:
            yield process, out, err
        finally:
            process.kill()
            process.wait(timeout=10)
            out.rest()
            err.rest()


@pytest.mark.parametrize("as_json", [False, True])
def test_ctrl_c_during_wait_exits_130_with_the_task_id(fake: FakeApikley, as_json: bool) -> None:
    task_id = fake.seed_task(state="waiting")  # still waiting when interrupted, however slow the machine
    with start_cli("wait", task_id, *POLL, *(["--json"] if as_json else []), env=fake_env(fake)) as (
        process,
        out,
        err,
    ):
        err.wait_for(rf"{re.escape(task_id)} waiting")
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 130
        stdout, stderr = out.rest(), err.rest()
    assert_no_key(stdout, stderr)
    assert f"Resume with: sora2-characters wait {task_id}" in stderr
    if as_json:
        payload = one_json(stdout)
        assert payload["error"]["type"] == "KeyboardInterrupt"
        assert payload["task_id"] == task_id
    else:
        assert stdout == ""
        assert "error: KeyboardInterrupt: interrupted" in stderr


# ---- mock --------------------------------------------------------------------------------------


def test_mock_serves_until_interrupted() -> None:
    with start_cli("mock", "--port", "0", "--time-scale", "0", "--json", env=clean_env()) as (
        process,
        out,
        err,
    ):
        info = json.loads(out.wait_for(r"^\{"))
        assert info["base_url"].startswith("http://127.0.0.1:")
        assert info["upload_base_url"] == info["base_url"] + "/file-upload"
        env = clean_env(
            {
                "APIKLEY_API_KEY": info["api_key"],
                "APIKLEY_BASE_URL": info["base_url"],
                "APIKLEY_UPLOAD_BASE_URL": info["upload_base_url"],
            }
        )
        result = run_cli("create", "--video", str(SAMPLE), "--wait", *POLL, "--json", env=env)
        assert result.returncode == 0, result.stderr
        payload = one_json(result.stdout)
        assert payload["character_id"].startswith("char_")
        status = run_cli("status", payload["task_id"], env=env)
        assert human(status.stdout)["state"] == "success"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
        assert out.rest().count("{") == 1
        assert "Press Ctrl-C to stop." in err.rest()


def test_mock_human_output_names_urls_and_key() -> None:
    with start_cli("mock", "--port", "0", "--key", "demo-key", env=clean_env()) as (process, out, _err):
        base = out.wait_for(r"^base_url:").split(":", 1)[1].strip()
        assert out.wait_for(r"^upload_base_url:").split(":", 1)[1].strip() == base + "/file-upload"
        assert out.wait_for(r"^api_key:").split(":", 1)[1].strip() == "demo-key"
        env = clean_env({"APIKLEY_API_KEY": "demo-key", "APIKLEY_BASE_URL": base})
        assert run_cli("credits", env=env).returncode == 0
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0


# ---- help, the embedded default and the README --------------------------------------------------


def test_help_documents_every_exit_code() -> None:
    result = run_cli("--help", env=clean_env())
    assert result.returncode == 0
    for code, name, _meaning in exit_code_table():
        assert re.search(rf"^\s+{code}\s+{re.escape(name)}\s", result.stdout, re.MULTILINE), name
    for command in ("create", "status", "wait", "upload", "credits", "mock"):
        assert re.search(rf"^\s+{command}\s", result.stdout, re.MULTILINE)
    for command in ("create", "status", "wait", "upload", "credits", "mock"):
        sub = run_cli(command, "--help", env=clean_env())
        assert sub.returncode == 0
        assert "--json" in sub.stdout


def test_main_job_json_says_embedded_fake() -> None:
    result = run_cli(*MAIN_JOB.split()[1:], "--json", env=clean_env())
    assert result.returncode == 0, result.stderr
    payload = one_json(result.stdout)
    assert payload["backend"] == "embedded-fake"
    assert payload["state"] == "success"
    assert payload["character_id"].startswith("char_")


def test_embedded_fake_forgets_tasks_and_says_so() -> None:
    result = run_cli("status", "task_sora-2-characters_1", env=clean_env())
    assert result.returncode == 5
    assert "embedded fake" in result.stderr


def readme_commands() -> list[str]:
    """The ``sora2-characters`` invocations in the README's code blocks, in order (after any ``&&``)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", readme, re.MULTILINE | re.DOTALL)
    found = []
    for block in blocks:
        for line in block.splitlines():
            command = line.split("&&")[-1].split("#")[0].strip().removeprefix("$ ")
            program, _, args = command.partition(" ")
            if Path(program).name == "sora2-characters" and args:  # `.venv/bin/sora2-characters` too
                found.append(f"sora2-characters {args}")
    return found


def test_readme_first_command_is_the_main_job_and_runs_as_written() -> None:
    """The README's first command, as written: no key, no base URL, no network."""
    commands = readme_commands()
    assert commands, "the README documents the command line"
    assert commands[0] == MAIN_JOB
    program, *args = shlex.split(commands[0])
    assert program == "sora2-characters"
    result = run_console_script(*args, env=clean_env())
    assert result.returncode == 0, result.stderr
    last = result.stdout.splitlines()[-1]
    assert re.fullmatch(r"character_id:\s+char_[0-9a-f]+", last)
    assert "embedded-fake (NOT Apikley" in result.stdout
    assert "EMBEDDED FAKE" in result.stderr
    states = re.findall(r"^\[\s*[\d.]+s\] \S+ (\w+)", result.stderr, re.MULTILINE)
    assert states[-1] == "success"
    assert {"generating", "success"} <= set(states)


def test_readme_shows_the_exit_code_table() -> None:
    assert exit_code_markdown() in (ROOT / "README.md").read_text(encoding="utf-8")


def test_without_the_cli_extra_main_says_how_to_install_it() -> None:
    code = (
        "import sys; sys.modules['click'] = None; from sora2_characters._cli import main; main(['credits'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 1
    assert "pip install 'sora2-characters[cli]'" in result.stderr


def test_exit_code_table_is_distinct_per_class() -> None:
    codes = [code for _cls, code, _meaning in EXIT_CODES]
    assert len(codes) == len(set(codes))
    assert {code for code, _name, _meaning in exit_code_table()} >= {0, 1, 2, 130}
    assert {code for _c, code, _t in API_CODES} <= set(codes)
