"""The benchmarks' figures as rows: the plain table of a run and the README's Markdown table.

Both are rendered from the same report (``benchmarks/results.json``): each benchmark's result, with
the command, date and machine of the run that measured it. Nothing here measures or imports the SDK.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

#: Per-call overhead, wrapper against bare httpx (the issue's target).
OVERHEAD_TARGET = 1.05
Row = list[str]


def fmt_spread(s: dict[str, float], unit: str = "x", digits: int = 3) -> str:
    """``median [min..max]`` with a unit."""
    return f"{s['median']:.{digits}f}{unit} [{s['min']:.{digits}f}..{s['max']:.{digits}f}]"


def _row(
    rows: list[Row], bench: str, figure: str, value: str, *, target: str = "", met: bool | None = None
) -> None:
    verdict = "" if met is None else ("PASS" if met else "MISS")
    rows.append([bench, figure, value, target, verdict])


def _overhead_rows(rows: list[Row], name: str, result: dict[str, Any]) -> bool:
    verdicts: list[bool] = []
    for op, summary in result.items():
        c = summary["contenders"]
        for who in ("httpx", "generated", "wrapper"):
            _row(rows, name, f"{op} {who} CPU per call", fmt_spread(c[who]["per_call_us"], " us", 1))
        vs_floor = c["wrapper"]["ratio_to_floor"]
        ok = vs_floor["median"] <= OVERHEAD_TARGET
        verdicts.append(ok)
        target = f"<= {OVERHEAD_TARGET:.2f}x"
        _row(rows, name, f"{op} wrapper / httpx", fmt_spread(vs_floor), target=target, met=ok)
        _row(rows, name, f"{op} generated / httpx", fmt_spread(c["generated"]["ratio_to_floor"]))
        _row(rows, name, f"{op} wrapper / generated", fmt_spread(c["wrapper"]["ratio_to_reference"]))
    return all(verdicts)


def _walls(outcomes: list[dict[str, Any]]) -> str:
    return ", ".join(f"{o['wall_s']:.2f}" for o in outcomes)


def _fan_out_rows(rows: list[Row], r: dict[str, Any]) -> bool:
    met, runs, n = r["met"], r["runs"], r["tasks"]
    ideal = r["runs"]["sdk"][0]["ideal_s"]
    b = "fan_out"
    _row(
        rows,
        b,
        f"{n} tasks of {r['task_duration_s']:g} s, default AsyncClient: wall / ideal ({ideal:.2f} s)",
        f"{fmt_spread(r['sdk_wall_ratio_to_ideal'], 'x', 2)} (s: {_walls(runs['sdk'])})",
        target="<= 1.25x every run",
        met=met["wall_vs_ideal"],
    )
    _row(
        rows,
        b,
        f"  ... / hand-tuned bare httpx (pool = semaphore = {r['peer_gate']})",
        f"{fmt_spread(r['sdk_wall_ratio_to_peer'], 'x', 2)} (peer s: {_walls(runs['peer'])})",
        target="<= 1.10x",
        met=met["wall_vs_peer"],
    )
    cpu = [o["cpu_per_request_ms"] for o in runs["sdk"]]
    _row(
        rows,
        b,
        f"  ... client CPU per request / isolated call ({r['isolated_cpu_per_request_ms']:.2f} ms)",
        f"{fmt_spread(r['sdk_cpu_ratio_to_isolated'], 'x', 2)} (ms: {', '.join(f'{c:.2f}' for c in cpu)})",
        target="<= 1.50x",
        met=met["cpu_vs_isolated"],
    )
    per_task = max(o["requests_per_task"] for o in runs["sdk"])
    _row(
        rows,
        b,
        "  ... requests per task (most of any run)",
        f"{per_task:.2f}",
        target="<= 2",
        met=per_task <= 2,
    )
    errors = [o["errors"] for o in runs["sdk"] if o["errors"]]
    _row(
        rows,
        b,
        "  ... errors; peak sockets; RSS rise",
        f"{json.dumps(errors) if errors else 'none'}; {max(o['peak_sockets'] for o in runs['sdk'])}; "
        f"{max(o['rss_rise_mib'] for o in runs['sdk']):.1f} MiB",
        target="none",
        met=met["no_errors"],
    )
    if "aiohttp" in runs:
        a = runs["aiohttp"]
        _row(
            rows,
            b,
            "  AsyncClient on httpx-aiohttp: wall / ideal; / default",
            ", ".join(f"{o['wall_ratio_to_ideal']:.2f}" for o in a) + "; "
            f"{fmt_spread(r['aiohttp_wall_ratio_to_sdk'], 'x', 2)}",
        )
        _row(
            rows,
            b,
            "  ... client CPU per request (ms)",
            ", ".join(f"{o['cpu_per_request_ms']:.2f}" for o in a),
        )
    for count, o in r["scale"].items():
        _row(
            rows,
            b,
            f"  default AsyncClient, {count} tasks: wall / ideal; CPU per request",
            f"{o['wall_ratio_to_ideal']:.2f}x; {o['cpu_per_request_ms']:.2f} ms"
            + (f"; errors {json.dumps(o['errors'])}" if o["errors"] else ""),
        )
    rl = r["rate_limited"]
    _row(
        rows,
        b,
        f"rate limit {rl['rate_limit_per_s']:g}/s, {rl['tasks']} tasks: max creates sent in 1 s",
        f"{rl['max_creates_sent_in_1s_window']} (processed: {rl['max_creates_processed_in_1s_window']})",
        target=f"<= {rl['rate_limit_per_s']:g}",
        met=rl["met"],
    )
    return bool(all(met.values()) and rl["met"])


def _many_rows(rows: list[Row], r: dict[str, Any]) -> bool:
    _row(
        rows,
        "fan_out_many",
        f"{r['tasks']} tasks of {r['task_duration_s']:g} s on one default AsyncClient: errors",
        json.dumps(r["errors"]) if r["errors"] else "none",
        target="none",
        met=r["met"],
    )
    _row(
        rows,
        "fan_out_many",
        "  ... wall (x ideal); peak sockets; peak RSS (rise)",
        f"{r['wall_s']:.1f} s ({r['wall_ratio_to_ideal']:.2f}x); {r['peak_sockets']}; "
        f"{r['peak_rss_mib']:.0f} MiB (+{r['rss_rise_mib']:.0f})",
    )
    _row(
        rows,
        "fan_out_many",
        "  ... client CPU per request (x isolated)",
        f"{r['cpu_per_request_ms']:.2f} ms ({r['cpu_ratio_to_isolated']:.2f}x)",
    )
    return bool(r["met"])


def _polling_rows(rows: list[Row], r: dict[str, Any]) -> bool:
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
    return bool(r["met"])


def _import_rows(rows: list[Row], r: dict[str, Any]) -> bool:
    for statement, figures in r["statements"].items():
        _row(rows, "import_cost", statement, fmt_spread(figures["ms"], " ms", 1))
        if statement == "import httpx":
            continue
        client = statement == "from sora2_characters import Client"
        _row(
            rows,
            "import_cost",
            "  ... / import httpx",
            fmt_spread(figures["ratio_to_httpx"]),
            target=f"<= {r['client_target_ratio']:.2f}x" if client else "",
            met=r["met_client_ratio"] if client else None,
        )
    steps = r.get("steps_beyond_httpx")  # absent from runs before it was measured
    if steps:
        shown = ", ".join(f"{name} {figures['median']:+.2f}x" for name, figures in steps.items())
        _row(rows, "import_cost", "  each step beyond import httpx (`import httpx; X`)", shown)
    loads = ", ".join(r["sync_client_loads"]) or "none"
    _row(
        rows,
        "import_cost",
        "async machinery / generated models loaded by Client",
        loads,
        target="none",
        met=not r["sync_client_loads"],
    )
    leaks = r["forbidden_imported"]
    leaked = "; ".join(f"{k}: {', '.join(v)}" for k, v in leaks.items() if v) or "none"
    _row(
        rows,
        "import_cost",
        "extras/hachoir imported by the library",
        leaked,
        target="none",
        met=not any(leaks.values()),
    )
    hidden = ", ".join(r.get("hidden_when_timing", [])) or "nothing"
    installed = "installed" if r["click_installed"] else "not installed"
    _row(rows, "import_cost", "  (timed without the CLI's modules)", f"{hidden} hidden; click {installed}")
    return bool(r["met"])


def _upload_rows(rows: list[Row], r: dict[str, Any]) -> bool:
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
    return bool(r["met"])


ROW_MAKERS: dict[str, Callable[[list[Row], dict[str, Any]], bool]] = {
    "overhead_sync": lambda rows, r: _overhead_rows(rows, "overhead_sync", r),
    "overhead_async": lambda rows, r: _overhead_rows(rows, "overhead_async", r),
    "overhead_async_no_sniffio": lambda rows, r: _overhead_rows(rows, "overhead_async_no_sniffio", r),
    "overhead_async_in_process": lambda rows, r: _overhead_rows(rows, "overhead_async_in_process", r),
    "fan_out": _fan_out_rows,
    "fan_out_many": _many_rows,
    "polling": _polling_rows,
    "import_cost": _import_rows,
    "upload_memory": _upload_rows,
}


def rows_and_verdicts(results: dict[str, Any]) -> tuple[list[Row], dict[str, bool]]:
    """Every benchmark's rows, in :data:`ROW_MAKERS` order, and whether each met all its targets."""
    rows: list[Row] = []
    verdicts: dict[str, bool] = {}
    for name, make in ROW_MAKERS.items():
        if name in results:
            verdicts[name] = make(rows, results[name])
    return rows, verdicts


def plain_table(rows: list[Row]) -> str:
    """Aligned columns for the terminal."""
    header = ["benchmark", "figure", "value [min..max]", "target", "result"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.strip().replace("|", "\\|") or "-"


def markdown(report: dict[str, Any]) -> str:
    """The README's table: each benchmark's command and machine, then its figures with their spread."""
    rows, _ = rows_and_verdicts(report["results"])
    lines = ["Each figure: median [min..max] over the run's rounds. The commands that measured them:", ""]
    by_run: dict[tuple[str, str], list[str]] = {}
    for name in ROW_MAKERS:
        if name in report["results"]:
            run = report["runs"][name]
            by_run.setdefault((run["command"], run["date"]), []).append(name)
    for (command, date), names in by_run.items():
        run = report["runs"][names[0]]
        m = run["machine"]
        venv = f", {run['venv']}" if run.get("venv") else ""
        lines.append(
            f"- `{command}` ({date[:10]}, Python {m['python']}, {m['cpu_count']} CPUs{venv}): "
            + ", ".join(f"`{n}`" for n in names)
        )
    lines += [
        "",
        "| benchmark | figure | value [min..max] | target | result |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
