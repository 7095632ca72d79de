"""The endpoint's circuit breaker (issue 11). Pure.

A failed delivery steps aside onto its own retry schedule (schedule.py) and the endpoint keeps
sending the next ones. The endpoint as a whole stops only when it is clearly down:

    closed ──(a run of `failures` consecutive failed attempts, or every attempt failing
    │         for `failing_for`)──▶ open: nothing is sent until `open_for` has passed
    │                               │
    │                               ▼
    └──(the probe succeeds)──── half-open: the next claim sends one delivery, the probe
                                    │
                                    └─(the probe fails)─▶ open again, for twice as long
                                                          (at most `open_max`)

A run of failures is counted across claims and worker processes (`webhooks.consecutive_failures`,
`failing_since`); any success resets it and closes the breaker.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class BreakerPolicy:
    # A receiver failing 20 % of requests at random has a run of 10 failures about once in
    # ten million attempts, so at plant load it never trips; a dead receiver trips it at once.
    failures: int = 10
    failing_for: timedelta = timedelta(seconds=60)
    open_for: timedelta = timedelta(seconds=30)
    open_max: timedelta = timedelta(minutes=5)


def should_open(
    policy: BreakerPolicy, consecutive: int, failing_since: datetime | None, now: datetime
) -> bool:
    """Whether a run of failures means the receiver is down (the breaker is closed)."""
    if consecutive >= policy.failures:
        return True
    return (
        consecutive >= 2 and failing_since is not None and now - failing_since >= policy.failing_for
    )


def open_time(policy: BreakerPolicy, trips: int) -> timedelta:
    """How long the breaker stays open after its `trips`-th failed probe (0: it just opened)."""
    longer: timedelta = policy.open_for * (2 ** min(trips, 30))
    return min(longer, policy.open_max)
