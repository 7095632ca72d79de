"""Cell values (CSV import §6.2–§6.4, §7.4): European numbers, dates in every form and order,
every boolean spelling, status aliases and unit hints."""

from zoneinfo import ZoneInfo

import pytest

from floorsync.csv_import.columns import ValueType
from floorsync.csv_import.issues import Code
from floorsync.csv_import.values import CellError, clean, converter, unit_factor


def value(kind: ValueType, text: str, **kw: object) -> object:
    return converter(kind, **kw)(text)  # type: ignore[arg-type]


def error(kind: ValueType, text: str, **kw: object) -> str:
    with pytest.raises(CellError) as caught:
        value(kind, text, **kw)
    return str(caught.value.code)


class TestNumbers:
    @pytest.mark.parametrize(
        ("text", "separator", "expected"),
        [
            ("1.234,5", "comma", 1234.5),
            ("1 234,5", "comma", 1234.5),
            ("1\u00a0234,50", "comma", 1234.5),
            ("-12,75", "comma", -12.75),
            ("1.234.567", "comma", 1234567),
            ("1,234.5", "point", 1234.5),
            ("0.125", "point", 0.125),
            ("+7", "point", 7),
        ],
    )
    def test_decimals_with_thousands_separators(
        self, text: str, separator: str, expected: float
    ) -> None:
        assert value(ValueType.decimal, text, separator=separator) == expected

    @pytest.mark.parametrize(
        ("text", "separator"),
        [
            ("12.5", "comma"),
            ("1,23", "point"),
            ("1.23.4", "point"),
            ("12a", "point"),
            ("1e3", "point"),
        ],
    )
    def test_a_value_that_fits_neither_form_is_a_type_error(
        self, text: str, separator: str
    ) -> None:
        assert error(ValueType.decimal, text, separator=separator) == Code.TYPE_DECIMAL

    def test_integers_allow_a_zero_fraction_only(self) -> None:
        assert value(ValueType.integer, "12,0", separator="comma") == 12
        assert value(ValueType.integer, "1.200", separator="comma") == 1200
        assert error(ValueType.integer, "12,5", separator="comma") == Code.TYPE_INTEGER
        assert error(ValueType.integer, "twelve") == Code.TYPE_INTEGER

    def test_whole_minutes_round_half_up_after_the_unit_hint(self) -> None:
        hours, seconds = unit_factor("60"), unit_factor("1/60")
        assert value(ValueType.whole_minutes, "1,5", separator="comma", factor=hours) == 90
        assert value(ValueType.whole_minutes, "90", factor=seconds) == 2  # 1.5 rounds up
        assert value(ValueType.whole_minutes, "12.5") == 13
        assert value(ValueType.minutes, "0.25", factor=hours) == 15
        assert value(ValueType.length_mm, "0.4", factor=unit_factor("10")) == 4
        assert value(ValueType.length_mm, "1", factor=unit_factor("25.4")) == 25.4


class TestDates:
    amsterdam = ZoneInfo("Europe/Amsterdam")

    @pytest.mark.parametrize(
        ("text", "order", "expected"),
        [
            ("2026-07-15", "mdy", "2026-07-15"),
            ("15-07-2026", "dmy", "2026-07-15"),
            ("15.07.2026", "dmy", "2026-07-15"),
            ("15/07/2026", "dmy", "2026-07-15"),
            ("07/15/2026", "mdy", "2026-07-15"),
            ("2026/07/15", "ymd", "2026-07-15"),
            ("15-07-2026 10:30", "dmy", "2026-07-15T10:30:00.000Z"),
        ],
    )
    def test_every_date_form_in_its_order(self, text: str, order: str, expected: str) -> None:
        assert value(ValueType.date_or_datetime, text, date_order=order) == expected

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("2026-06-01T07:30:00+02:00", "2026-06-01T05:30:00.000Z"),
            ("2026-06-01 07:30", "2026-06-01T05:30:00.000Z"),
            ("01.06.2026 07:30:15", "2026-06-01T05:30:15.000Z"),
            ("2026-01-10T07:30:00Z", "2026-01-10T07:30:00.000Z"),
            ("2026-01-10 07:30", "2026-01-10T06:30:00.000Z"),
            ("2026-01-10", "2026-01-09T23:00:00.000Z"),
        ],
    )
    def test_date_times_without_an_offset_are_in_the_imports_time_zone(
        self, text: str, expected: str
    ) -> None:
        assert value(ValueType.datetime, text, zone=self.amsterdam) == expected

    def test_two_digit_years_excel_serials_and_impossible_dates_are_type_errors(self) -> None:
        assert error(ValueType.date_or_datetime, "15-07-26") == Code.TYPE_DATE
        assert error(ValueType.date_or_datetime, "31-02-2026") == Code.TYPE_DATE
        with pytest.raises(CellError, match="format the column as a date"):
            value(ValueType.date_or_datetime, "45809")
        assert error(ValueType.datetime, "2026-07-01 25:00") == Code.TYPE_DATETIME
        assert error(ValueType.datetime, "tomorrow") == Code.TYPE_DATETIME


class TestBooleansAndStatus:
    @pytest.mark.parametrize(
        "text", ["true", "TRUE", "yes", "Y", "1", "x", "ja", "J", "waar", "Wahr"]
    )
    def test_every_true_spelling(self, text: str) -> None:
        assert value(ValueType.boolean, text) is True

    @pytest.mark.parametrize("text", ["false", "No", "n", "0", "nee", "Nein", "onwaar", "falsch"])
    def test_every_false_spelling(self, text: str) -> None:
        assert value(ValueType.boolean, text) is False

    def test_anything_else_is_not_silently_false(self) -> None:
        assert error(ValueType.boolean, "maybe") == Code.TYPE_BOOLEAN

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("In Progress", "in_progress"),
            ("on-hold", "on_hold"),
            ("Gepland", "not_started"),
            ("in Bearbeitung", "in_progress"),
            ("pausiert", "on_hold"),
            ("Erledigt", "completed"),
            ("afgerond", "completed"),
            ("shipped", "shipped"),
        ],
    )
    def test_status_values_and_aliases_become_api_values_and_others_pass_through(
        self, text: str, expected: str
    ) -> None:
        assert value(ValueType.status, text) == expected


def test_cells_are_trimmed_of_spaces_tabs_and_no_break_spaces_and_made_nfc() -> None:
    assert clean(" \t\u00a0Acme\u202f ") == "Acme"
    assert clean("Cafe\u0301") == "Café"
    assert clean(" two\nlines ") == "two\nlines"
