"""Run every benchmark, print a plain table and write ``benchmarks/results.json``.

Usage: ``python -m benchmarks.run [--quick] [--output PATH] [--only NAME ...]``. Each figure is
measured against its baseline in the same run. A missed target prints MISS and still exits 0; a
benchmark that crashes makes the run exit 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
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

HERE = Path(__file__).resolve().parent
BENCHMARKS = (
    "overhead_sync",
    "overhead_async",
    "overhead_async_in_process",
    "fan_out",
    "polling",
    "import_cost",
    "upload_memory",
)
OVERHEAD_TARGET = 1.10

FULL: dict[str, Any] = {
    "overhead": {"calls": 150, "rounds": 21, "warmup": 150},
    "fan_out": {"tasks": 1000, "task_duration": 2.0, "rate_tasks": 300, "rate": 100.0, "diagnostic": 1000},
    "polling": {"durations": (10.0, 60.0, 300.0), "tasks_per_duration": 5, "scale": 0.02},
    "import_cost": {"repetitions": 10},
    "upload_memory": {"repetitions": 3},
}
QUICK: dict[str, Any] = {
    "overhead": {"calls": 5, "rounds": 3, "warmup": 5},
    "fan_out": {"tasks": 20, "task_duration": 2.0, "rate_tasks": 10, "rate": 5.0, "diagnostic": 20},
    "polling": {"durations": (10.0, 60.0, 300.0), "tasks_per_duration": 1, "scale": 0.002},
    "import_cost": {"repetitions": 2},
    "upload_memory": {"repetitions": 1},
}


def _fmt_spread(s: dict[str, float], unit: str = "x", digits: int = 3) -> str:
    return f"{s['median']:.{digits}f}{unit} [{s['min']:.{digits}f}..{s['max']:.{digits}f}]"


def _row(
    rows: list[list[str]], bench: str, figure: str, value: str, *, target: str = "", met: bool | None = None
) -> None:
    verdict = "" if met is None else ("PASS" if met else "MISS")
    rows.append([bench, figure, value, target, verdict])


def _overhead_rows(rows: list[list[str]], name: str, result: dict[str, Any]) -> list[bool]:
    verdicts: list[bool] = []
    for op, summary in result.items():
        c = summary["contenders"]
        for who in ("httpx", "generated", "wrapper"):
            _row(rows, name, f"{op} {who} per call", _fmt_spread(c[who]["per_call_us"], " us", 1))
        vs_floor = c["wrapper"]["ratio_to_floor"]
        ok = vs_floor["median"] <= OVERHEAD_TARGET
        verdicts.append(ok)
        _row(
            rows,
            name,
            f"{op} wrapper / httpx",
            _fmt_spread(vs_floor),
            target=f"<= {OVERHEAD_TARGET:.2f}x",
            met=ok,
        )
        _row(rows, name, f"{op} generated / httpx", _fmt_spread(c["generated"]["ratio_to_floor"]))
        vs_gen = c["wrapper"]["ratio_to_reference"]
        ok = vs_gen["median"] <= 1.0
        verdicts.append(ok)
        _row(rows, name, f"{op} wrapper / generated", _fmt_spread(vs_gen), target="<= 1.00x", met=ok)
    return verdicts


def _fan_out_rows(rows: list[list[str]], r: dict[str, Any]) -> None:
    f, rl = r["fan_out"], r["rate_limited"]
    _row(
        rows,
        "fan_out",
        f"wall, {f['tasks']} tasks of {r['task_duration_s']:g} s",
        f"{f['wall_s']:.2f} s ({f['wall_ratio_to_task_plus_poll']:.2f}x of {f['slowest_task_s']:.2f}+"
        f"{r['poll_interval_s']:.2f} s)",
        target=f"<= {f['wall_bound_s']:.2f} s",
        met=f["wall_s"] <= f["wall_bound_s"] and not f["errors"],
    )
    _row(rows, "fan_out", "errors", json.dumps(f["errors"]) if f["errors"] else "none")
    _row(
        rows,
        "fan_out",
        "requests per task",
        f"{f['requests_per_task']:.2f} ({f['create_requests'] / f['tasks']:.2f} create + "
        f"{f['status_requests_per_task']:.2f} status)",
    )
    _row(rows, "fan_out", "creation spread", f"{f['creation_spread_s']:.2f} s")
    _row(
        rows,
        "fan_out",
        "peak open connections (server side)",
        f"{f['connections']['peak']} ({f['connections']['samples']} samples)",
        target=f"<= pool {r['pool_max_connections']}",
        met=f["connections_within_pool"],
    )
    _row(
        rows,
        "fan_out",
        f"rate limit {rl['rate_limit_per_s']:g}/s, {rl['tasks']} tasks: max creates sent in 1 s",
        f"{rl['max_creates_sent_in_1s_window']} (wall {rl['wall_s']:.2f} s)",
        target=f"<= {rl['rate_limit_per_s']:g}",
        met=rl["met"],
    )
    _row(
        rows,
        "fan_out",
        "  ... max creates processed by the fake in 1 s",
        f"{rl['max_creates_processed_in_1s_window']}",
    )
    diag = r.get("httpx_pool_diagnostic")
    if diag:
        _row(
            rows,
            "fan_out",
            f"bare httpx, {diag['requests']} concurrent POSTs: unbounded / gated {diag['gate']}",
            f"{diag['unbounded_s']:.2f} s / {diag['gated_to_pool_s']:.2f} s",
        )


def _polling_rows(rows: list[list[str]], r: dict[str, Any]) -> None:
    for d in r["durations"].values():
        delay = d["detection_delay_s"]
        _row(
            rows,
            "polling",
            f"{d['duration_s']:g} s task: detection delay (fake s)",
            f"median {delay['median']:.2f} ({100 * d['delay_fraction_median']:.1f}%), max {delay['max']:.2f}",
            target=f"<= {d['allowed_delay_s']:.1f} s",
            met=d["met"],
        )
        polls = d["status_requests"]
        _row(
            rows,
            "polling",
            f"{d['duration_s']:g} s task: status requests",
            f"median {polls['median']:g} [{polls['min']}..{polls['max']}]",
        )


def _import_rows(rows: list[list[str]], r: dict[str, Any]) -> None:
    for statement, figures in r["statements"].items():
        _row(rows, "import_cost", statement, _fmt_spread(figures["ms"], " ms", 1))
        if statement != "import httpx":
            _row(rows, "import_cost", "  ... / import httpx", _fmt_spread(figures["ratio_to_httpx"]))
    leaks = r["forbidden_imported"]
    leaked = "; ".join(f"{k}: {', '.join(v)}" for k, v in leaks.items() if v) or "none"
    _row(rows, "import_cost", "extras/hachoir imported by the library", leaked, target="none", met=r["met"])
    by_httpx = ", ".join(r["forbidden_imported_by_httpx"]) or "none"
    _row(rows, "import_cost", "  (imported by `import httpx` itself)", by_httpx)


def _upload_rows(rows: list[list[str]], r: dict[str, Any]) -> None:
    deltas = ", ".join(f"{d:.2f}" for d in r["streamed_delta_mb"])
    _row(
        rows,
        "upload_memory",
        f"peak RSS rise, {r['file_size_bytes'] / 2**20:g} MiB streamed",
        f"{r['streamed_worst_delta_mb']:.2f} MiB (runs: {deltas})",
        target="< 5 MiB",
        met=r["met"],
    )
    _row(
        rows, "upload_memory", "control: read whole + upload bytes", f"{r['control_bytes_delta_mb']:.2f} MiB"
    )


def _table(rows: list[list[str]]) -> str:
    header = ["benchmark", "figure", "value [min..max]", "target", "result"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def _verdicts(rows: list[list[str]], results: dict[str, Any]) -> dict[str, bool]:
    """Add each benchmark's rows; return whether each met all its targets."""
    verdicts: dict[str, bool] = {}
    for name in BENCHMARKS:
        if name not in results:
            continue
        r = results[name]
        if name.startswith("overhead"):
            verdicts[name] = all(_overhead_rows(rows, name, r))
        elif name == "fan_out":
            _fan_out_rows(rows, r)
            verdicts[name] = bool(r["fan_out"]["met"] and r["rate_limited"]["met"])
        elif name == "polling":
            _polling_rows(rows, r)
            verdicts[name] = bool(r["met"])
        elif name == "import_cost":
            _import_rows(rows, r)
            verdicts[name] = bool(r["met"])
        else:
            _upload_rows(rows, r)
            verdicts[name] = bool(r["met"])
    return verdicts


def main(argv: Sequence[str] | None = None) -> int:
    """Run the selected benchmarks; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny counts (a smoke run, figures meaningless)")
    parser.add_argument("--output", type=Path, default=HERE / "results.json", help="where to write the JSON")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, help="run only these benchmarks")
    args = parser.parse_args(argv)
    params = QUICK if args.quick else FULL
    selected = args.only or list(BENCHMARKS)
    results: dict[str, Any] = {}
    errors: dict[str, str] = {}
    rows: list[list[str]] = []
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
        attempt("overhead_async_in_process", lambda: overhead.run_async_in_process(**o))
        video = Path(tmp) / "character-10mib.mp4"
        attempt(
            "upload_memory",
            lambda: upload_memory.run(
                upload_memory.build_video(video), base_url, params["upload_memory"]["repetitions"]
            ),
        )
    attempt("import_cost", lambda: import_cost.run(params["import_cost"]["repetitions"]))
    p = params["polling"]
    attempt("polling", lambda: polling.run(**p))
    attempt("fan_out", lambda: fanout.run(**params["fan_out"]))

    verdicts = _verdicts(rows, results)
    for name, trace in errors.items():
        _row(rows, name, "CRASHED", trace.strip().splitlines()[-1][:100], met=False)

    command = "python -m benchmarks.run" + (" --quick" if args.quick else "")
    report = {
        "command": command,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
        },
        "quick": args.quick,
        "parameters": params,
        "seconds": durations,
        "results": results,
        "targets_met": verdicts,
        "errors": errors,
    }
    args.output.write_text(json.dumps(report, indent=2, default=list) + "\n")
    print(f"{command}  (Python {platform.python_version()}, {os.cpu_count()} CPUs)")
    print(_table(rows))
    print(f"\nJSON: {args.output}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
