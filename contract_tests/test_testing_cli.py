"""``python -m sora2_characters.testing``, ``sora2-characters mock`` and the ``serve`` loop they share."""

from __future__ import annotations

import io
import json
import re
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from sora2_characters import testing
from sora2_characters._cli import _app
from sora2_characters._cli._exits import EXIT_PORT_IN_USE
from sora2_characters.testing import FakeApikley, PortInUseError, serve
from sora2_characters.testing.__main__ import build_parser, fake_from_args
from sora2_characters.testing.__main__ import main as module_main


def test_serve_prints_the_addresses_and_stops_on_request() -> None:
    out = io.StringIO()
    stop = threading.Event()
    fake = FakeApikley(api_key="cli-key")
    thread = threading.Thread(target=serve, args=(fake,), kwargs={"out": out, "stop": stop})
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while "Press Ctrl-C" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        text = out.getvalue()
        assert f"Fake Apikley jobs API:   {fake.base_url}" in text
        assert f"Fake Apikley upload API: {fake.upload_base_url}" in text
        assert "API key:                 cli-key" in text
        response = httpx.get(
            fake.base_url + "/api/v1/chat/credit", headers={"Authorization": "Bearer cli-key"}
        )
        assert response.json()["code"] == 200
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert not fake.running


def test_options_map_onto_the_constructor() -> None:
    argv = "--port 0 --error-style http --time-scale 0.01 --task-duration 3 --credits 9 --credits-per-task 1"
    args = build_parser().parse_args(
        [*argv.split(), "--accept-any-key", "--no-validate-media", "--remote-videos", "fail"]
    )
    fake = fake_from_args(args)
    assert (fake.port, fake.error_style, fake.time_scale, fake.credits) == (0, "http", 0.01, 9.0)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--error-style", "loud"])


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize(
    ("sig", "parent_ignores_sigint"),
    [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGINT, True)],
    ids=["ctrl-c", "sigterm", "ctrl-c-where-the-parent-ignores-it"],
)
def test_the_module_runs_until_interrupted(sig: signal.Signals, parent_ignores_sigint: bool) -> None:
    """Ctrl-C stops it even when started with SIGINT ignored (a shell's background job does that)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "sora2_characters.testing", "--port", "0", "--time-scale", "0.001"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_ignore_sigint if parent_ignores_sigint else None,  # noqa: PLW1509 - only a signal disposition
    )
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(4)]
        first = banner[0]  # the jobs API line
        assert banner[3] == "Press Ctrl-C to stop.\n"
        match = re.search(r"(http://127\.0\.0\.1:\d+)", first)
        assert match, first
        response = httpx.get(
            match[1] + "/api/v1/chat/credit", headers={"Authorization": "Bearer test-key"}, timeout=5
        )
        assert response.json() == {"code": 200, "msg": "success", "data": 100.0}
        process.send_signal(sig)
        stdout, stderr = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=5)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    if sig == signal.SIGINT:
        assert stdout.endswith("Stopping.\n")


def test_mock_builds_and_serves_through_the_testing_functions(monkeypatch: pytest.MonkeyPatch) -> None:
    """``sora2-characters mock`` is a thin wrapper: testing's defaults, fake_from_args and serve."""
    served: list[FakeApikley] = []
    monkeypatch.setattr(testing, "serve", lambda fake, **options: served.append(fake))
    argv = "mock --port 0 --key k-1 --accept-any-key --time-scale 0.5 --credits 7 --error-style http"
    assert _app.run(argv.split()) == 0
    (fake,) = served
    assert (fake.port, fake.api_key, fake.time_scale, fake.credits, fake.error_style) == (
        0,
        "k-1",
        0.5,
        7.0,
        "http",
    )


def test_serve_restores_the_sigterm_and_sigint_handlers() -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    stop = threading.Event()
    stop.set()
    serve(FakeApikley(), out=io.StringIO(), stop=stop)
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


def test_mock_on_a_busy_port_says_so_and_suggests_port_0(capsys: pytest.CaptureFixture[str]) -> None:
    with FakeApikley() as busy:
        code = _app.run(["mock", "--port", str(busy.port)])
    err = capsys.readouterr().err
    assert code == EXIT_PORT_IN_USE
    assert f"port {busy.port} on 127.0.0.1 is already in use" in err
    assert "--port 0" in err
    assert "Traceback" not in err


def test_mock_on_a_busy_port_in_json_mode_names_the_error(capsys: pytest.CaptureFixture[str]) -> None:
    with FakeApikley() as busy:
        code = _app.run(["mock", "--port", str(busy.port), "--json"])
    error = json.loads(capsys.readouterr().out)["error"]
    assert code == EXIT_PORT_IN_USE
    assert error["type"] == "PortInUseError"
    assert "--port 0" in error["message"]


def test_the_module_on_a_busy_port_exits_with_the_same_code(capsys: pytest.CaptureFixture[str]) -> None:
    with FakeApikley() as busy:
        code = module_main(["--port", str(busy.port)])
    assert code == EXIT_PORT_IN_USE
    assert "--port 0" in capsys.readouterr().err


def test_starting_on_a_busy_port_raises_a_typed_error_and_leaves_nothing_running() -> None:
    with FakeApikley() as busy:
        second = FakeApikley(port=busy.port)
        with pytest.raises(PortInUseError) as caught:
            second.start()
        assert (caught.value.host, caught.value.port) == ("127.0.0.1", busy.port)
        assert not second.running
        assert httpx.get(busy.base_url + "/api/v1/chat/credit").status_code == 200  # the first still serves


def test_optional_record_fields_can_be_asked_for_from_the_command_line() -> None:
    args = build_parser().parse_args(
        ["--port", "0", "--record-field", "progress", "--record-field", "updateTime"]
    )
    with fake_from_args(args) as fake:
        task_id = fake.seed_task(state="generating")
        assert {"progress", "updateTime"} <= set(fake.task(task_id))
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--record-field", "eta"])
