"""Interleaved, repeated timing and the summary figures (median ratio with its spread).

Blocks are timed by this process's CPU time (``time.process_time``): the client's own work per
call. The servers run in other processes, and on shared cores the wall clock also counts the time
spent waiting for a core, which made per-round ratios swing from 0.1x to 10x under load.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

Block = Callable[[int], None]
AsyncBlock = Callable[[int], Awaitable[None]]


def quantile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile of ``values`` by linear interpolation (``values`` non-empty)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = q * (len(ordered) - 1)
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def spread(values: Sequence[float]) -> dict[str, float]:
    """Median, quartiles and extremes of ``values``."""
    return {
        "median": statistics.median(values),
        "q1": quantile(values, 0.25),
        "q3": quantile(values, 0.75),
        "min": min(values),
        "max": max(values),
    }


def _rotation(names: Sequence[str], round_no: int) -> list[str]:
    shift = round_no % len(names)
    return list(names[shift:]) + list(names[:shift])


def summarize(
    per_call: Mapping[str, list[float]], floor: str, calls: int, rounds: int, reference: str | None = None
) -> dict[str, Any]:
    """Per-contender median per-call time and per-round ratios to ``floor`` (and ``reference``)."""
    contenders: dict[str, Any] = {}
    for name, times in per_call.items():
        entry: dict[str, Any] = {"per_call_us": {k: v * 1e6 for k, v in spread(times).items()}}
        for label, base in (("floor", floor), ("reference", reference)):
            if base is not None:
                ratios = [t / b for t, b in zip(times, per_call[base], strict=True)]
                entry[f"ratio_to_{label}"] = spread(ratios)
        contenders[name] = entry
    return {
        "floor": floor,
        "reference": reference,
        "calls_per_block": calls,
        "rounds": rounds,
        "contenders": contenders,
    }


def interleave(
    blocks: Mapping[str, Block], *, calls: int, rounds: int, warmup: int
) -> dict[str, list[float]]:
    """Run ``calls`` calls of each contender per round in rotating order; per-call seconds per round."""
    names = list(blocks)
    for name in names:
        blocks[name](warmup)
    per_call: dict[str, list[float]] = {name: [] for name in names}
    for round_no in range(rounds):
        for name in _rotation(names, round_no):
            gc.collect()
            start = time.process_time()
            blocks[name](calls)
            per_call[name].append((time.process_time() - start) / calls)
    return per_call


async def interleave_async(
    blocks: Mapping[str, AsyncBlock], *, calls: int, rounds: int, warmup: int
) -> dict[str, list[float]]:
    """The same as :func:`interleave` for coroutine blocks, on the running event loop."""
    names = list(blocks)
    for name in names:
        await blocks[name](warmup)
    per_call: dict[str, list[float]] = {name: [] for name in names}
    for round_no in range(rounds):
        for name in _rotation(names, round_no):
            gc.collect()
            start = time.process_time()
            await blocks[name](calls)
            per_call[name].append((time.process_time() - start) / calls)
    return per_call
