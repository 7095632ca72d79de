"""The pure time arithmetic: durations in minutes and the exact batch distribution."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from floorsync.entities.shopfloor.minutes import (
    distribute,
    minutes_between,
    seconds_between,
    split_evenly,
)

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


class TestMinutesBetween:
    def test_rounds_half_up_and_subtracts_pauses(self) -> None:
        assert minutes_between(T0, T0 + timedelta(seconds=89)) == 1
        assert minutes_between(T0, T0 + timedelta(seconds=90)) == 2
        assert minutes_between(T0, T0 + timedelta(minutes=30), paused_seconds=600) == 20
        assert minutes_between(T0, T0 - timedelta(minutes=5)) == 0
        assert minutes_between(T0, T0 + timedelta(minutes=1), paused_seconds=3600) == 0

    def test_seconds_between_is_never_negative(self) -> None:
        assert seconds_between(T0, T0 + timedelta(milliseconds=1500)) == 2
        assert seconds_between(T0 + timedelta(seconds=5), T0) == 0


class TestDistribute:
    def test_the_contract_example(self) -> None:
        assert distribute(95, [40, 55]) == ("weighted", [40, 55])
        assert distribute(100, [10, 20, 30]) == ("weighted", [17, 33, 50])
        assert distribute(10, [5, 0, 5]) == ("equal", [4, 3, 3])
        assert distribute(0, [1, 1]) == ("weighted", [0, 0])
        assert distribute(7, []) == ("none", [])

    @given(
        st.integers(min_value=0, max_value=10**7),
        st.lists(st.integers(min_value=0, max_value=10**5), min_size=1, max_size=200),
    )
    def test_shares_always_sum_exactly_and_never_fall_below_the_floor(
        self, total: int, estimates: list[int]
    ) -> None:
        method, shares = distribute(total, estimates)
        assert sum(shares) == total
        assert len(shares) == len(estimates)
        if method == "weighted":
            weight = sum(estimates)
            floors = [total * e // weight for e in estimates]
        else:
            assert any(e == 0 for e in estimates)
            floors = [total // len(estimates)] * len(estimates)
        assert all(0 <= s - f <= 1 for s, f in zip(shares, floors, strict=True))
        extra = [s - f for s, f in zip(shares, floors, strict=True)]
        assert extra == sorted(extra, reverse=True)  # leftovers go to the first participants

    @given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=1, max_value=50))
    def test_a_share_splits_over_entries_exactly_with_the_remainder_to_the_earliest(
        self, share: int, parts: int
    ) -> None:
        split = split_evenly(share, parts)
        assert sum(split) == share
        assert len(split) == parts
        assert all(x == share // parts for x in split[1:])
        assert split[0] == share // parts + share % parts
