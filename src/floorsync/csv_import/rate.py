"""The progress rate of a running preview or import (CSV import §11.4): rows per second over the
last 10 seconds, and the remaining time from it. Pure.

The job appends one sample `[epoch seconds, rows done]` after every batch (and one when it
starts) and keeps only what a reader may still need: the samples of the last window plus the
newest one before it. A reader interpolates the rows done at `now - window` between the two
samples around it, so a job that stalls shows a falling rate (0 after a whole window without a
batch) instead of the average since it started.
"""

from collections.abc import Sequence

WINDOW_SECONDS = 10.0
Sample = Sequence[float]  # [epoch seconds, rows done]


def add_sample(
    samples: Sequence[Sample], at: float, done: int, window: float = WINDOW_SECONDS
) -> list[list[float]]:
    """The samples with `(at, done)` appended, pruned to the window and one sample before it."""
    kept = [[float(t), float(n)] for t, n in samples if float(t) <= at]
    kept.append([at, float(done)])
    start = at - window
    older = [s for s in kept if s[0] <= start]
    recent = [s for s in kept if s[0] > start]
    return ([older[-1]] if older else []) + recent


def _done_at(samples: Sequence[Sample], at: float) -> float:
    """Rows done at time `at`, linearly between the samples around it."""
    before = [s for s in samples if s[0] <= at]
    after = [s for s in samples if s[0] > at]
    if not before:
        return float(samples[0][1])
    t0, n0 = before[-1]
    if not after:
        return float(n0)
    t1, n1 = after[0]
    return n0 + (n1 - n0) * (at - t0) / (t1 - t0)


def window_rate(samples: Sequence[Sample], now: float, window: float = WINDOW_SECONDS) -> float:
    """Rows per second over the last `window` seconds before `now` (0.0 without two samples or
    without progress). A job younger than the window is measured from its first sample."""
    ordered = sorted((float(t), float(n)) for t, n in samples)
    if not ordered or now <= ordered[0][0]:
        return 0.0
    start = max(now - window, ordered[0][0])
    span = now - start
    if span <= 0:
        return 0.0
    gained = _done_at(ordered, now) - _done_at(ordered, start)
    return max(gained, 0.0) / span


def eta_seconds(remaining: int, rate: float) -> float | None:
    """Seconds left at `rate`, or None while the rate is unknown (0)."""
    return round(remaining / rate, 1) if rate > 0 else None
