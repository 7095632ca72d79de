"""Naive server-local wall-clock times ⇄ aware UTC instants (spec §8.6), and Odoo's naive UTC
strings (§9.3). Pure; `zoneinfo` with the pinned `tzdata` package as fallback, so zone rules do
not depend on the host.

FrePPLe runs without Django time-zone support: its datetimes are naive wall-clock times in the
server's zone (the connection's `time_zone`). Reading one:

* in the autumn overlap (a wall time that happens twice) the **first** occurrence is taken;
* a wall time inside the spring gap (one that never happens) is moved **forward by the gap
  length** (02:30 on a day whose clocks jump 02:00 → 03:00 reads as 03:30 local);
* a value that carries an offset or `Z` (a deployment with time-zone support) is honoured as is.

Writing: the aware value is converted to the zone and written as `YYYY-MM-DDTHH:MM:SS` with no
fraction and **never an offset** — FrePPLe would convert offset-aware input to naive UTC and
shift the stored time by the zone offset. Two instants of the autumn overlap therefore write the
same wall time; reading it back gives the first.
"""

from datetime import UTC, datetime
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@cache
def zone(name: str) -> ZoneInfo:
    """The zone; raises ValueError for a name zoneinfo does not know."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def local_to_utc(wall: datetime, tz: ZoneInfo) -> datetime:
    """A naive wall-clock time in `tz` as an aware UTC instant, with the DST rules above."""
    if wall.tzinfo is not None:
        return wall.astimezone(UTC)
    # PEP 495: with fold=0 an ambiguous time (autumn overlap) takes the offset before the
    # transition, i.e. its first occurrence; a time that does not exist (spring gap) also takes
    # the offset before the transition, which lands the instant after the gap by exactly the gap
    # length (02:30 → 03:30 local). Both are the rules above, in one conversion.
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)


def utc_to_local(instant: datetime, tz: ZoneInfo) -> datetime:
    """The naive wall-clock time in `tz` of an aware instant, to the second."""
    if instant.tzinfo is None:
        raise ValueError("instant must be timezone-aware")
    return instant.astimezone(tz).replace(tzinfo=None, microsecond=0)


def parse_local(text: object, tz: ZoneInfo) -> datetime | None:
    """A FrePPLe datetime (`YYYY-MM-DDTHH:MM:SS`, with a space instead of `T`, with a fraction, a
    date alone, or with an offset) as aware UTC; None for null or blank. ValueError otherwise."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise ValueError(f"not a datetime: {text!r}")
    return _parse_local(text, tz)


@lru_cache(maxsize=65_536)
def _parse_local(text: str, tz: ZoneInfo) -> datetime | None:
    # Cached: a pull reads the same start, end and modification times many times over.
    value = text.strip()
    if not value:
        return None
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    return local_to_utc(datetime.fromisoformat(value), tz)


def format_local(instant: datetime, tz: ZoneInfo) -> str:
    """An aware instant as FrePPLe wants it written: naive local `YYYY-MM-DDTHH:MM:SS`."""
    return utc_to_local(instant, tz).strftime("%Y-%m-%dT%H:%M:%S")


def parse_utc_naive(text: object) -> datetime | None:
    """An Odoo datetime string (naive UTC `YYYY-MM-DD HH:MM:SS`) or a date as aware UTC; None for
    `false`, null or blank. ValueError otherwise."""
    if text is None or text is False:
        return None
    if not isinstance(text, str):
        raise ValueError(f"not a datetime: {text!r}")
    value = text.strip()
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_utc_naive(instant: datetime) -> str:
    """An aware instant as an Odoo datetime string: UTC `YYYY-MM-DD HH:MM:SS`."""
    if instant.tzinfo is None:
        raise ValueError("instant must be timezone-aware")
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
