"""Cell text → the JSON value the sync engine takes (CSV import §6).

Each converter takes a trimmed, non-empty cell and returns a str, int, float or bool, or raises
CellError with the row-level code (`TYPE_INTEGER`, `TYPE_DECIMAL`, `TYPE_DATE`,
`TYPE_DATETIME`, `TYPE_BOOLEAN`). Values are converted to the API's JSON types so a row from
CSV and the same record sent as JSON hash alike. Numbers follow the file's number format
(§6.3): with *comma*, `.` and spaces group thousands (`1.234,5`); with *point*, `,` and spaces
do (`1,234.5`); groups must be three digits, so `12.5` in a comma file is an error rather than
125. Dates follow the file's date order (§6.4); two-digit years are refused.
"""

import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal
from zoneinfo import ZoneInfo

from floorsync.csv_import.columns import ValueType
from floorsync.csv_import.issues import Code
from floorsync.kit.timefmt import format_ts

DecimalSeparator = Literal["comma", "point"]
DateOrder = Literal["dmy", "mdy", "ymd"]

TRIM = " \t\u00a0\u202f\u2007"  # spaces, tabs and no-break spaces (§6.1)


class CellError(Exception):
    def __init__(self, code: Code, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def clean(cell: str) -> str:
    """Trimmed (§6.1) and in Unicode NFC, so `ë` typed two ways is one value (§3.2)."""
    value = cell.strip(TRIM)
    if not value.isascii():
        value = unicodedata.normalize("NFC", value)
    return value


# --- numbers -------------------------------------------------------------------------------

_NUMBER = {
    "point": re.compile(
        r"^(?P<sign>[+-]?)(?P<int>\d{1,3}(?P<sep>[, \u00a0\u202f])\d{3}(?:(?P=sep)\d{3})*|\d*)"
        r"(?:\.(?P<frac>\d+))?$"
    ),
    "comma": re.compile(
        r"^(?P<sign>[+-]?)(?P<int>\d{1,3}(?P<sep>[. \u00a0\u202f])\d{3}(?:(?P=sep)\d{3})*|\d*)"
        r"(?:,(?P<frac>\d+))?$"
    ),
}


def parse_number(text: str, separator: DecimalSeparator) -> Decimal | None:
    """The exact value of a number in the file's format, or None when it fits neither form."""
    if text.isdigit():  # the common case, and fast
        return Decimal(text)
    found = _NUMBER[separator].match(text)
    if found is None or not (found.group("int") or found.group("frac")):
        return None
    digits = re.sub(r"\D", "", found.group("int")) or "0"
    frac = found.group("frac")
    try:
        return Decimal(
            f"{found.group('sign')}{digits}.{frac}" if frac else f"{found.group('sign')}{digits}"
        )
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        return None


def to_json_number(value: Decimal) -> int | float:
    """A JSON number with the decimal's value: an int when whole, else the nearest float (exact
    for the at most 15 significant digits of the API's numeric columns)."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def _integer(separator: DecimalSeparator) -> Callable[[str], Any]:
    def convert(text: str) -> int:
        if text.isdigit():
            return int(text)
        value = parse_number(text, separator)
        if value is None or value != value.to_integral_value():
            raise CellError(Code.TYPE_INTEGER, "Expected a whole number")
        return int(value)

    return convert


def _decimal(
    separator: DecimalSeparator, factor: Decimal | None, whole: bool = False
) -> Callable[[str], Any]:
    code = Code.TYPE_INTEGER if whole else Code.TYPE_DECIMAL
    expected = "Expected a number of minutes" if whole else "Expected a number"

    def convert(text: str) -> int | float:
        value = parse_number(text, separator)
        if value is None:
            raise CellError(
                code, f"{expected} ({'1.234,5' if separator == 'comma' else '1,234.5'} style)"
            )
        if factor is not None:
            value = value / 60 if factor == _PER_SIXTY else value * factor
        if whole:
            return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
        return to_json_number(value)

    return convert


_PER_SIXTY = Decimal(-60)  # marker: divide by 60 (seconds to minutes)


def unit_factor(hint: str) -> Decimal:
    return _PER_SIXTY if hint == "1/60" else Decimal(hint)


# --- booleans and status --------------------------------------------------------------------

_TRUE = {"true", "yes", "y", "1", "x", "ja", "j", "waar", "wahr"}
_FALSE = {"false", "no", "n", "0", "nee", "nein", "onwaar", "falsch"}


def to_boolean(text: str) -> bool:
    key = text.casefold()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise CellError(
        Code.TYPE_BOOLEAN, "Expected true or false (yes/no, 1/0, x, ja/nee, ja/nein, wahr/falsch)"
    )


_STATUS = {
    **{s: s for s in ("not_started", "in_progress", "on_hold", "completed")},
    **dict.fromkeys(
        ("open", "new", "planned", "nieuw", "gepland", "neu", "offen", "geplant"), "not_started"
    ),
    **dict.fromkeys(
        ("started", "active", "running", "bezig", "gestart", "in_bearbeitung", "laufend"),
        "in_progress",
    ),
    **dict.fromkeys(("hold", "paused", "gepauzeerd", "pausiert", "angehalten"), "on_hold"),
    **dict.fromkeys(
        (
            "done",
            "finished",
            "complete",
            "closed",
            "gereed",
            "klaar",
            "afgerond",
            "fertig",
            "erledigt",
            "abgeschlossen",
        ),
        "completed",
    ),
}


def to_status(text: str) -> str:
    """The API value for a status in any case, with spaces or hyphens, or an alias; anything
    else is passed on as written so the engine reports ENUM_CONSTRAINT."""
    key = re.sub(r"[\s-]+", "_", text.casefold())
    return _STATUS.get(key, text)


# --- dates ----------------------------------------------------------------------------------

_DATE = re.compile(r"^(?P<a>\d{1,4})(?P<s>[-./])(?P<b>\d{1,2})(?P=s)(?P<c>\d{1,4})")
_TIME = re.compile(
    r"^(?:[Tt]|\s+)(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<sec>\d{2})(?:[.,](?P<frac>\d{1,9}))?)?"
    r"\s*(?P<tz>[Zz]|[+-]\d{2}(?::?\d{2})?)?$"
)
_SERIAL = re.compile(r"^\d{4,6}([.,]\d+)?$")


def split_date(text: str) -> tuple[str, str, str, str] | None:
    """(a, b, c, rest) of a value starting with a date of three numeric components."""
    found = _DATE.match(text)
    if found is None:
        return None
    return found.group("a"), found.group("b"), found.group("c"), text[found.end() :]


def _calendar(text: str, order: DateOrder, datetime_code: Code) -> tuple[date, str]:
    parts = split_date(text)
    if parts is None:
        if _SERIAL.match(text):
            raise CellError(
                datetime_code,
                "This looks like an Excel date number; format the column as a date before saving",
            )
        raise CellError(datetime_code, "Expected a date such as 2026-07-15 or 15-07-2026")
    a, b, c, rest = parts
    if len(a) == 4:
        year, month, day = a, b, c
    elif len(c) == 4 and order != "ymd":
        day, month, year = (a, b, c) if order == "dmy" else (b, a, c)
    elif len(c) == 4:
        raise CellError(datetime_code, "Expected the year first (date order ymd)")
    else:
        raise CellError(
            datetime_code, "Two-digit years are ambiguous; write the year with four digits"
        )
    if len(day) > 2 or len(month) > 2:
        raise CellError(datetime_code, "Expected a date such as 2026-07-15 or 15-07-2026")
    try:
        return date(int(year), int(month), int(day)), rest
    except ValueError:
        raise CellError(datetime_code, "Not a valid calendar date") from None


def _clock(rest: str, day: date, zone: ZoneInfo, code: Code) -> datetime:
    found = _TIME.match(rest)
    if found is None:
        raise CellError(code, "Expected a time as HH:MM or HH:MM:SS after the date")
    frac = (found.group("frac") or "0")[:6].ljust(6, "0")
    try:
        moment = datetime.combine(
            day,
            time(
                int(found.group("h")),
                int(found.group("m")),
                int(found.group("sec") or 0),
                int(frac),
            ),
        )
    except ValueError:
        raise CellError(code, "Not a valid time of day") from None
    tz = found.group("tz")
    if tz is None:
        return moment.replace(tzinfo=zone)
    if tz in ("Z", "z"):
        return moment.replace(tzinfo=UTC)
    try:
        return datetime.fromisoformat(
            moment.isoformat() + (tz if ":" in tz or len(tz) == 3 else f"{tz[:3]}:{tz[3:]}")
        )
    except ValueError:
        raise CellError(code, "Not a valid UTC offset") from None


def _date_or_datetime(order: DateOrder, zone: ZoneInfo) -> Callable[[str], str]:
    def convert(text: str) -> str:
        day, rest = _calendar(text, order, Code.TYPE_DATE)
        if not rest.strip():
            return day.isoformat()
        return format_ts(_clock(rest, day, zone, Code.TYPE_DATE)) or ""

    return convert


def _datetime(order: DateOrder, zone: ZoneInfo) -> Callable[[str], str]:
    def convert(text: str) -> str:
        day, rest = _calendar(text, order, Code.TYPE_DATETIME)
        if not rest.strip():  # a bare date: midnight in the import's time zone
            return format_ts(datetime.combine(day, time.min, tzinfo=zone)) or ""
        return format_ts(_clock(rest, day, zone, Code.TYPE_DATETIME)) or ""

    return convert


def converter(
    kind: ValueType,
    *,
    separator: DecimalSeparator = "point",
    date_order: DateOrder = "dmy",
    zone: ZoneInfo | None = None,
    factor: Decimal | None = None,
) -> Callable[[str], Any]:
    """The function that turns a cleaned, non-empty cell of this type into its JSON value."""
    zone = zone or ZoneInfo("UTC")
    if kind is ValueType.text:
        return str
    if kind is ValueType.integer:
        return _integer(separator)
    if kind in (ValueType.decimal, ValueType.minutes, ValueType.length_mm):
        return _decimal(separator, factor)
    if kind is ValueType.whole_minutes:
        return _decimal(separator, factor, whole=True)
    if kind is ValueType.boolean:
        return to_boolean
    if kind is ValueType.status:
        return to_status
    if kind is ValueType.date_or_datetime:
        return _date_or_datetime(date_order, zone)
    return _datetime(date_order, zone)


# --- detection helpers (§6.3, §6.4) ---------------------------------------------------------

_COMMA_DECIMAL = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+,\d+|\d*,\d+)$")
_POINT_DECIMAL = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+\.\d+|\d*\.\d+)$")
_AMBIGUOUS = re.compile(r"^[+-]?\d{1,3}[.,]\d{3}$")  # 1.234 / 1,234: a thousand, or one and a bit


def decimal_evidence(cell: str) -> DecimalSeparator | None:
    """`comma` for a value only a decimal comma explains (`12,5`, `1.234,5`), `point` for one
    only a decimal point explains (`12.5`, `1,234.5`); None for anything else (`1.234`,
    `12`, dates, text)."""
    if not cell or _AMBIGUOUS.match(cell):
        return None
    if _COMMA_DECIMAL.match(cell):
        return "comma"
    if _POINT_DECIMAL.match(cell):
        return "point"
    return None


def choose_separator(delimiter: str, cells: Iterable[str]) -> DecimalSeparator:
    """§6.3 auto: comma when the delimiter is not `,`, some numeric cells read only as decimal
    commas and none read only as decimal points; otherwise point."""
    if delimiter == ",":
        return "point"
    comma = False
    for cell in cells:
        evidence = decimal_evidence(cell)
        if evidence == "point":
            return "point"
        comma = comma or evidence == "comma"
    return "comma" if comma else "point"


def date_order_evidence(values: Iterable[str]) -> tuple[DateOrder, bool, bool, str | None]:
    """(order, conflict, assumed, example) for one column's values, §6.4: a first component
    above 12 means day first, a second above 12 month first, both is a conflict, neither is
    day first by assumption. ISO (year-first) values say nothing."""
    day_first = month_first = False
    example: str | None = None
    for value in values:
        parts = split_date(value)
        if parts is None or len(parts[0]) == 4:
            continue
        a, b = int(parts[0]), int(parts[1])
        day_first = day_first or a > 12
        month_first = month_first or b > 12
        example = example or value
    if day_first and month_first:
        return "dmy", True, False, example
    if month_first:
        return "mdy", False, False, example
    return "dmy", False, not day_first and example is not None, example
