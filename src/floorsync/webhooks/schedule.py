"""The retry schedule (Events and webhooks §5.4) and Retry-After handling. Pure.

Attempt 1 is due at once; attempt k+1 waits `delays[k-1]` seconds after attempt k failed, each
wait multiplied by a uniform factor in [1 - jitter, 1 + jitter] from an injected random source.
After the last attempt the delivery is `exhausted`; a next attempt that would fall past the
round's max age makes it `expired` instead.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

RETRY_AFTER_DELIVERY_CAP = timedelta(hours=24)
RETRY_AFTER_PAUSE_CAP = timedelta(hours=1)
FAILURE_PAUSE = timedelta(seconds=5)


@dataclass(frozen=True)
class Schedule:
    delays: tuple[float, ...]  # waits before attempts 2, 3, …
    jitter: float = 0.2
    max_age: timedelta = timedelta(days=4)

    @property
    def max_attempts(self) -> int:
        return len(self.delays) + 1


@dataclass(frozen=True)
class NextStep:
    """What follows a failed attempt: a retry time, or a failure reason."""

    at: datetime | None
    failure: str | None  # "exhausted" or "expired"


def after_failure(
    schedule: Schedule,
    attempts_done: int,
    now: datetime,
    round_started: datetime,
    rng: random.Random,
    retry_after: timedelta | None = None,
) -> NextStep:
    if attempts_done >= schedule.max_attempts:
        return NextStep(None, "exhausted")
    wait = schedule.delays[attempts_done - 1] * rng.uniform(
        1 - schedule.jitter, 1 + schedule.jitter
    )
    at = now + timedelta(seconds=wait)
    if retry_after is not None:
        at = max(at, now + min(retry_after, RETRY_AFTER_DELIVERY_CAP))
    if at > round_started + schedule.max_age:
        return NextStep(None, "expired")
    return NextStep(at, None)


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Retry-After as delay-seconds or an HTTP date; None when absent or unparseable."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        # The receiver picks this number: clamp it before int() or timedelta can overflow (a
        # raise here would fail the whole record step and wedge the endpoint). Callers cap the
        # wait at 24 h anyway.
        cap = int(RETRY_AFTER_DELIVERY_CAP.total_seconds())
        return timedelta(seconds=cap if len(text) > 9 else min(int(text), cap))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        return None
    return max(when - now, timedelta(0))


def parse_delays(raw: str) -> tuple[float, ...]:
    """`FLOORSYNC_WEBHOOK_RETRY_DELAYS`: comma-separated seconds (`5,300,1800`)."""
    out = []
    for item in raw.split(","):
        item = item.strip().lower().removesuffix("s")
        if item:
            out.append(float(item))
    return tuple(out)
