"""Run the benchmarks, print a plain table and write ``benchmarks/results.json``.

Usage: ``python -m benchmarks.run [--quick] [--output PATH] [--only NAME ...]``. Each figure is
measured against its baseline in the same run. A missed target prints MISS and still exits 0; a
benchmark that crashes makes the run exit 1. A run with ``--only`` replaces those benchmarks'
entries in an existing output and keeps the others, each with the command, date and machine that
measured it: ``python -m benchmarks.readme`` renders the README's table from that file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import fanout, import_cost, overhead, polling, upload_memory
from ._local_server import local_server
from .report import plain_table, rows_and_verdicts

HERE = Path(__file__).resolve().parent
BENCHMARKS = (
    "overhead_sync",
    "overhead_async",
    "overhead_async_no_sniffio",
    "overhead_async_in_process",
    "fan_out",
    "fan_out_many",
    "polling",
    "import_cost",
    "upload_memory",
)
#: Run only when named with ``--only`` (10,000 tasks in flight: run it sparingly).
ON_REQUEST = ("fan_out_many",)

FULL: dict[str, Any] = {
    "overhead": {"calls": 150, "rounds": 21, "warmup": 150},
    "fan_out": {
        "tasks": 1000,
        "task_duration": 2.0,
        "runs": 3,
        "isolated_calls": 300,
        "scale": (10, 100),
        "rate_tasks": 300,
        "rate": 100.0,
    },
    "fan_out_many": {"tasks": 10_000, "task_duration": 2.0},
    "polling": {"durations": (10.0, 60.0, 300.0), "tasks_per_duration": 5, "scale": 0.02},
    "import_cost": {"repetitions": 10},
    "upload_memory": {"repetitions": 3},
}
QUICK: dict[str, Any] = {
    "overhead": {"calls": 5, "rounds": 3, "warmup": 5},
    "fan_out": {
        "tasks": 20,
        "task_duration": 2.0,
        "runs": 1,
        "isolated_calls": 10,
        "scale": (5,),
        "rate_tasks": 10,
        "rate": 5.0,
    },
    "fan_out_many": {"tasks": 50, "task_duration": 2.0},
    "polling": {"durations": (10.0, 60.0, 300.0), "tasks_per_duration": 1, "scale": 0.002},
    "import_cost": {"repetitions": 2},
    "upload_memory": {"repetitions": 1},
}


def _machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }


def _venv() -> str:
    extras = [name for name in ("click", "sniffio", "httpx_aiohttp") if importlib.util.find_spec(name)]
    return "venv with " + (", ".join(extras) if extras else "none of click, sniffio, httpx_aiohttp")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the selected benchmarks; return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny counts (a smoke run, figures meaningless)")
    parser.add_argument("--output", type=Path, default=HERE / "results.json", help="where to write the JSON")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, help="run only these benchmarks")
    args = parser.parse_args(argv)
    params = QUICK if args.quick else FULL
    selected = args.only or [name for name in BENCHMARKS if name not in ON_REQUEST]
    results: dict[str, Any] = {}
    errors: dict[str, str] = {}
    durations: dict[str, float] = {}

    def attempt(name: str, job: Callable[[], dict[str, Any]]) -> None:
        if name not in selected:
            return
        print(f"running {name} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        try:
            results[name] = job()
        except Exception:  # noqa: BLE001 - recorded, reported, and turned into the exit status
            errors[name] = traceback.format_exc()
            print(errors[name], file=sys.stderr)
        durations[name] = time.perf_counter() - start

    with tempfile.TemporaryDirectory() as tmp, local_server() as base_url:
        o = params["overhead"]
        attempt("overhead_sync", lambda: overhead.run_sync(base_url, **o))
        attempt("overhead_async", lambda: overhead.run_async(base_url, **o))
        attempt("overhead_async_no_sniffio", lambda: overhead.run_async_without_sniffio(base_url, **o))
        attempt("overhead_async_in_process", lambda: overhead.run_async_in_process(**o))
        video = Path(tmp) / "character-10mib.mp4"
        attempt(
            "upload_memory",
            lambda: upload_memory.run(
                upload_memory.build_video(video), base_url, params["upload_memory"]["repetitions"]
            ),
        )
    attempt("import_cost", lambda: import_cost.run(params["import_cost"]["repetitions"]))
    attempt("polling", lambda: polling.run(**params["polling"]))
    attempt("fan_out", lambda: fanout.run(**params["fan_out"]))
    attempt("fan_out_many", lambda: fanout.run_many(**params["fan_out_many"]))

    command = " ".join(["python -m benchmarks.run", *argv]).replace(f" --output {args.output}", "")
    date = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    this_run = {"command": command, "date": date, "machine": _machine(), "venv": _venv(), "quick": args.quick}
    previous: dict[str, Any] = {}
    if args.only and args.output.exists():
        previous = json.loads(args.output.read_text())
    merged = {**previous.get("results", {}), **results}
    runs = {**previous.get("runs", {})}
    for name in results:
        runs[name] = {**this_run, "seconds": durations[name], "parameters": _parameters(name, params)}
    rows, verdicts = rows_and_verdicts(merged)
    for name, trace in errors.items():
        rows.append([name, "CRASHED", trace.strip().splitlines()[-1][:100], "", "MISS"])
    report = {
        "command": command,
        "date": date,
        "machine": this_run["machine"],
        "quick": args.quick,
        "results": {name: merged[name] for name in BENCHMARKS if name in merged},
        "runs": {name: runs[name] for name in BENCHMARKS if name in runs},
        "targets_met": verdicts,
        "errors": errors,
    }
    args.output.write_text(json.dumps(report, indent=2, default=list) + "\n")
    print(f"{command}  (Python {platform.python_version()}, {os.cpu_count()} CPUs)")
    print(plain_table(rows))
    print(f"\nJSON: {args.output}")
    return 1 if errors else 0


def _parameters(name: str, params: dict[str, Any]) -> Any:
    key = "overhead" if name.startswith("overhead") else name
    return params.get(key)


if __name__ == "__main__":
    sys.exit(main())
