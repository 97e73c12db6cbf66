"""The poll schedule of ``wait``: a pure function of the elapsed time and a random draw.

The docs advise polling every 2-3 s for the first 30 s, every 5-10 s until 2 minutes, then every
15-30 s. Taken alone, that schedule can notice a 35-second task up to 10 s late; so the delay is also
capped at 10 % of the elapsed time (never below 2 s), which keeps the detection delay under about
10 % of the task's duration plus one poll. The draw spreads clients apart (jitter).
"""

from __future__ import annotations

__all__ = ["DEFAULT_MAX_WAIT_S", "MIN_POLL_S", "NOT_FOUND_GRACE_S", "poll_delay"]

DEFAULT_MAX_WAIT_S = 900.0
#: How long ``wait`` treats "no such task" as "not visible yet" after it starts.
NOT_FOUND_GRACE_S = 10.0
MIN_POLL_S = 2.0

_BANDS: tuple[tuple[float, float, float], ...] = (
    # (until elapsed, low, high)
    (30.0, 2.0, 3.0),
    (120.0, 5.0, 10.0),
    (float("inf"), 15.0, 30.0),
)


def poll_delay(elapsed: float, draw: float) -> float:
    """Return the delay before the next poll, ``elapsed`` seconds into a wait, for a draw in [0, 1).

    >>> poll_delay(0.0, 0.0), poll_delay(60.0, 0.5), poll_delay(600.0, 0.0)
    (2.0, 6.0, 15.0)
    """
    draw = min(max(draw, 0.0), 1.0)
    elapsed = max(elapsed, 0.0)
    for until, low, high in _BANDS:
        if elapsed < until:
            band = low + (high - low) * draw
            break
    else:  # pragma: no cover - the last band is unbounded
        band = _BANDS[-1][2]
    cap = max(MIN_POLL_S + draw, 0.1 * elapsed)
    return min(band, cap)
