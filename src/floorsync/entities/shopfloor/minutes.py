"""Time arithmetic of the shop floor, pure: durations in whole minutes and the exact split of a
batch's elapsed time over its operations (API §3.8, §5.4). No database, no clock."""

from collections.abc import Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

DistributionMethod = Literal["weighted", "equal", "none"]


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def seconds_between(start: datetime, end: datetime) -> int:
    """Whole seconds from start to end (never negative), rounded half up."""
    delta = end - start
    micro = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return max(0, round_half_up(Decimal(micro) / 1_000_000))


def minutes_between(start: datetime, end: datetime, paused_seconds: int = 0) -> int:
    """`round((end − start − pauses) / 60 s)`, half up, never negative."""
    delta = end - start
    micro = (
        (delta.days * 86_400 + delta.seconds) * 1_000_000
        + delta.microseconds
        - paused_seconds * 1_000_000
    )
    return max(0, round_half_up(Decimal(micro) / 60_000_000))


def distribute(total: int, estimates: Sequence[int]) -> tuple[DistributionMethod, list[int]]:
    """Split `total` minutes over participants given in `sequence_in_batch` order.

    `weighted` when every estimate is > 0 (each gets floor(total × estimate / sum)), else
    `equal` (each gets floor(total / n)); the minutes lost by rounding down go one at a time to
    the participants in order. The shares always sum to exactly `total`.
    """
    n = len(estimates)
    if n == 0:
        return "none", []
    total = max(0, total)
    if all(e > 0 for e in estimates):
        weight = sum(estimates)
        method: DistributionMethod = "weighted"
        shares = [total * e // weight for e in estimates]
    else:
        method = "equal"
        shares = [total // n] * n
    left = total - sum(shares)
    i = 0
    while left > 0:
        shares[i % n] += 1
        left -= 1
        i += 1
    return method, shares


def split_evenly(share: int, parts: int) -> list[int]:
    """Split one participant's share over its open entries (earliest first): equal parts, the
    remainder to the earliest."""
    if parts <= 0:
        return []
    base, rest = divmod(max(0, share), parts)
    return [base + rest] + [base] * (parts - 1)
