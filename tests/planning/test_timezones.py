"""Naive server-local times ⇄ aware UTC with the DST rules of spec §8.6, and Odoo's UTC strings."""

from datetime import UTC, datetime

import pytest

from floorsync.planning.timezones import (
    format_local,
    format_utc_naive,
    local_to_utc,
    parse_local,
    parse_utc_naive,
    zone,
)

AMS = zone("Europe/Amsterdam")
NY = zone("America/New_York")


def naive(*args: int) -> datetime:
    return datetime(*args)  # noqa: DTZ001 (a server-local wall time)


class TestReading:
    @pytest.mark.parametrize(
        ("tz", "wall", "expected"),
        [
            (AMS, naive(2026, 1, 15, 10, 0), datetime(2026, 1, 15, 9, 0, tzinfo=UTC)),
            (AMS, naive(2026, 7, 15, 10, 0), datetime(2026, 7, 15, 8, 0, tzinfo=UTC)),
            # spring gap 02:00–03:00: 02:30 is moved forward by the gap, to 03:30 CEST
            (AMS, naive(2026, 3, 29, 2, 30), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
            (AMS, naive(2026, 3, 29, 2, 0), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
            # autumn overlap 02:00–03:00 happens twice: the first occurrence (still CEST)
            (AMS, naive(2026, 10, 25, 2, 30), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
            (AMS, naive(2026, 10, 25, 3, 0), datetime(2026, 10, 25, 2, 0, tzinfo=UTC)),
            (NY, naive(2026, 3, 8, 2, 15), datetime(2026, 3, 8, 7, 15, tzinfo=UTC)),
            (NY, naive(2026, 11, 1, 1, 30), datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
        ],
    )
    def test_a_wall_time_becomes_the_instant_the_dst_rules_give(
        self, tz: object, wall: datetime, expected: datetime
    ) -> None:
        assert local_to_utc(wall, tz) == expected  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("2026-07-15T10:00:00", datetime(2026, 7, 15, 8, 0, tzinfo=UTC)),
            ("2026-07-15 10:00:00", datetime(2026, 7, 15, 8, 0, tzinfo=UTC)),
            ("2026-07-15T10:00:00.5", datetime(2026, 7, 15, 8, 0, 0, 500000, tzinfo=UTC)),
            ("2026-07-15", datetime(2026, 7, 14, 22, 0, tzinfo=UTC)),
            ("2026-07-15T10:00:00Z", datetime(2026, 7, 15, 10, 0, tzinfo=UTC)),
            ("2026-07-15T10:00:00-04:00", datetime(2026, 7, 15, 14, 0, tzinfo=UTC)),
            (None, None),
            ("  ", None),
        ],
    )
    def test_every_frepple_datetime_form_is_read(
        self, text: str | None, expected: datetime | None
    ) -> None:
        assert parse_local(text, AMS) == expected

    @pytest.mark.parametrize("text", ["yesterday", "2026-13-01T00:00:00", 1717000000])
    def test_an_unreadable_datetime_is_a_value_error(self, text: object) -> None:
        with pytest.raises(ValueError, match=r"datetime|month|format|Invalid"):
            parse_local(text, AMS)

    def test_an_unknown_zone_is_a_value_error_naming_it(self) -> None:
        with pytest.raises(ValueError, match="unknown time zone 'Europe/Atlantis'"):
            zone("Europe/Atlantis")


class TestWriting:
    def test_an_instant_is_written_as_naive_local_time_without_fraction_or_offset(self) -> None:
        assert (
            format_local(datetime(2026, 6, 1, 6, 5, 30, 999000, tzinfo=UTC), AMS)
            == "2026-06-01T08:05:30"
        )

    def test_both_instants_of_the_autumn_overlap_write_the_same_wall_time_read_back_as_the_first(
        self,
    ) -> None:
        first, second = (datetime(2026, 10, 25, h, 30, tzinfo=UTC) for h in (0, 1))

        assert format_local(first, AMS) == format_local(second, AMS) == "2026-10-25T02:30:00"
        assert parse_local(format_local(second, AMS), AMS) == first

    def test_a_naive_instant_is_refused(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            format_local(naive(2026, 1, 1), AMS)
        with pytest.raises(ValueError, match="timezone-aware"):
            format_utc_naive(naive(2026, 1, 1))


class TestOdooStrings:
    def test_odoo_datetimes_are_naive_utc_strings_both_ways(self) -> None:
        instant = datetime(2026, 5, 30, 10, 0, 7, tzinfo=UTC)

        assert format_utc_naive(instant.astimezone(AMS)) == "2026-05-30 10:00:07"
        assert parse_utc_naive("2026-05-30 10:00:07") == instant
        assert parse_utc_naive("2026-05-30") == datetime(2026, 5, 30, tzinfo=UTC)

    @pytest.mark.parametrize("empty", [False, None, ""])
    def test_odoos_empty_values_read_as_none(self, empty: object) -> None:
        assert parse_utc_naive(empty) is None
