"""The benchmark harness (``benchmarks/``): its helpers, and its quick run reporting every figure.

Only the shape and types of the report are checked: speeds are never asserted in tests. The report
checks (marker ``bench``) run the whole harness, about a minute of subprocesses on a busy two-core
machine, so they run in ``nox -s bench`` (``pytest -m bench``), not in the default suite; the
helpers' tests run everywhere.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from typing import Any

import pytest

from benchmarks import _fake_proc, _local_server
from benchmarks._child import read_line, reap
from benchmarks._stats import interleave, spread, summarize
from benchmarks.fanout import max_in_window
from contract_tests.support import ROOT

OPS = ("get_task", "create_character")
CONTENDERS = ("httpx", "generated", "wrapper")


def _number(value: Any, *, positive: bool = False) -> bool:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return ok and (value > 0 if positive else value >= 0)


def _spread_ok(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and {"median", "q1", "q3", "min", "max"} <= value.keys()
        and all(_number(value[k]) for k in ("median", "q1", "q3", "min", "max"))
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    output = tmp_path_factory.mktemp("bench") / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for verdict in ("benchmark", "figure", "target", "result"):
        assert verdict in proc.stdout
    data: dict[str, Any] = json.loads(output.read_text())
    return data


@pytest.mark.bench
def test_report_header(report: dict[str, Any]) -> None:
    assert report["quick"] is True
    assert report["command"] == "python -m benchmarks.run --quick"
    assert isinstance(report["machine"]["python"], str)
    assert isinstance(report["machine"]["cpu_count"], int)
    assert report["errors"] == {}
    assert set(report["targets_met"]) == {
        "overhead_sync",
        "overhead_async",
        "overhead_async_no_sniffio",
        "overhead_async_in_process",
        "fan_out",
        "polling",
        "import_cost",
        "upload_memory",
    }
    assert all(isinstance(v, bool) for v in report["targets_met"].values())


@pytest.mark.bench
@pytest.mark.parametrize(
    "name", ["overhead_sync", "overhead_async", "overhead_async_no_sniffio", "overhead_async_in_process"]
)
def test_overhead_figures(report: dict[str, Any], name: str) -> None:
    result = report["results"][name]
    for op in OPS:
        summary = result[op]
        assert summary["floor"] == "httpx"
        assert summary["reference"] == "generated"
        assert summary["rounds"] >= 1
        for who in CONTENDERS:
            entry = summary["contenders"][who]
            assert _spread_ok(entry["per_call_us"])
            assert _number(entry["per_call_us"]["median"], positive=True)
            assert _spread_ok(entry["ratio_to_floor"])
            assert _spread_ok(entry["ratio_to_reference"])


@pytest.mark.bench
def test_fan_out_figures(report: dict[str, Any]) -> None:
    result = report["results"]["fan_out"]
    assert _number(result["first_poll_max_s"], positive=True)
    assert isinstance(result["peer_gate"], int)
    assert _number(result["isolated_cpu_per_request_ms"], positive=True)
    outcomes = [o for runs in result["runs"].values() for o in runs] + list(result["scale"].values())
    assert {"sdk", "peer"} <= set(result["runs"])
    for entry in outcomes:
        assert entry["errors"] == {}
        assert entry["tasks_created"] >= 1
        assert _number(entry["wall_s"], positive=True)
        assert _number(entry["cpu_per_request_ms"], positive=True)
        assert entry["requests_per_task"] >= 2  # one createTask and at least one status request
        assert isinstance(entry["peak_sockets"], int)
        assert entry["peak_sockets"] >= 1
    for ratio in ("sdk_wall_ratio_to_ideal", "sdk_wall_ratio_to_peer", "sdk_cpu_ratio_to_isolated"):
        assert _number(result[ratio]["median"], positive=True)
    assert all(isinstance(v, bool) for v in result["met"].values())
    limited = result["rate_limited"]
    assert limited["errors"] == {}
    assert _number(limited["rate_limit_per_s"], positive=True)
    assert isinstance(limited["max_creates_sent_in_1s_window"], int)
    assert isinstance(limited["max_creates_processed_in_1s_window"], int)
    assert isinstance(limited["met"], bool)


@pytest.mark.bench
def test_polling_figures(report: dict[str, Any]) -> None:
    result = report["results"]["polling"]
    assert set(result["durations"]) == {"10", "60", "300"}
    for entry in result["durations"].values():
        assert _number(entry["detection_delay_s"]["median"])
        assert _number(entry["delay_fraction_max"])
        assert entry["status_requests"]["min"] >= 1
        assert _number(entry["allowed_delay_s"], positive=True)
        assert isinstance(entry["met"], bool)


@pytest.mark.bench
def test_import_cost_figures(report: dict[str, Any]) -> None:
    result = report["results"]["import_cost"]
    assert set(result["statements"]) == {
        "import sora2_characters",
        "from sora2_characters import Client",
        "from sora2_characters import AsyncClient, Client",
        "import httpx",
    }
    assert isinstance(result["sync_client_loads"], list)
    for entry in result["statements"].values():
        assert _spread_ok(entry["ms"])
        assert _spread_ok(entry["ratio_to_httpx"])
    assert set(result["forbidden_checked"]) == {"click", "rich", "starlette", "uvicorn", "hachoir"}
    assert all(isinstance(v, list) for v in result["forbidden_imported"].values())
    assert isinstance(result["forbidden_imported_by_httpx"], list)


@pytest.mark.bench
def test_upload_memory_figures(report: dict[str, Any]) -> None:
    result = report["results"]["upload_memory"]
    assert result["file_size_bytes"] == 10 * 1024 * 1024
    assert len(result["streamed_delta_mb"]) == result["repetitions"]
    assert isinstance(result["streamed_worst_delta_mb"], float)
    assert isinstance(result["control_bytes_delta_mb"], float)
    assert isinstance(result["met"], bool)


def test_max_in_window() -> None:
    assert max_in_window([]) == 0
    assert max_in_window([0.0, 0.5, 0.99, 1.0, 1.5]) == 3
    assert max_in_window([0.0, 1.0, 2.0]) == 1


def test_interleave_and_summary_shape() -> None:
    calls: list[str] = []

    def block(name: str) -> Any:
        return lambda n: calls.extend([name] * n)

    per_call = interleave({"a": block("a"), "b": block("b")}, calls=2, rounds=3, warmup=1)
    assert calls.count("a") == calls.count("b") == 1 + 2 * 3
    summary = summarize(per_call, "a", 2, 3, reference="b")
    assert summary["contenders"]["a"]["ratio_to_floor"]["median"] == 1.0
    assert spread([1.0, 2.0, 3.0])["median"] == 2.0


def _child(code: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )


def test_read_line_gives_up_at_its_deadline_and_reap_ends_the_child() -> None:
    proc = _child("import sys; sys.stdin.read()")  # silent until its stdin closes
    try:
        with pytest.raises(TimeoutError, match=r"no line within 0\.05 s"):
            read_line(proc, 0.05)
    finally:
        reap(proc, wait=10)
    assert proc.returncode == 0
    assert proc.stdout is not None
    assert proc.stdout.closed


def _spawn_instead(monkeypatch: pytest.MonkeyPatch, module: Any, code: str) -> list[subprocess.Popen[str]]:
    """Make ``module`` start ``python -c code`` instead of its child; return the started processes."""
    started: list[subprocess.Popen[str]] = []
    real_popen = subprocess.Popen

    def popen(_command: list[str], **kwargs: Any) -> subprocess.Popen[str]:
        proc = real_popen([sys.executable, "-c", code], **kwargs)
        started.append(proc)
        return proc

    monkeypatch.setattr(module.subprocess, "Popen", popen)
    return started


#: A child that prints a bad first line, then would wait for its stdin forever: it must be killed.
_GARBAGE_THEN_WAIT = "import sys; print('oops', flush=True); sys.stdin.read()"


def test_a_fake_process_that_fails_to_start_is_reaped(monkeypatch: pytest.MonkeyPatch) -> None:
    # The child prints garbage, then would wait for stdin forever: it must be killed and reaped.
    started = _spawn_instead(
        monkeypatch, _fake_proc, "import sys; print('oops', flush=True); sys.stdin.read()"
    )
    with pytest.raises(json.JSONDecodeError):
        _fake_proc.FakeProcess()
    (proc,) = started
    assert proc.returncode is not None


def test_a_local_server_that_fails_to_start_is_reaped(monkeypatch: pytest.MonkeyPatch) -> None:
    started = _spawn_instead(
        monkeypatch, _local_server, "import sys; print('oops', flush=True); sys.stdin.read()"
    )
    with pytest.raises(RuntimeError, match="did not start"), _local_server.local_server():
        pass  # pragma: no cover
    (proc,) = started
    assert proc.returncode is not None
