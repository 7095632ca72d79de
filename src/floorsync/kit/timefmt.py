"""The wire form of timestamps: RFC 3339, UTC, exactly three fractional digits and Z."""

from datetime import UTC, date, datetime, time
from functools import lru_cache


def format_ts(value: datetime | None) -> str | None:
    if value is None:
        return None
    # A naive value is local time (and its `fold` matters, which equality ignores): not cached.
    return _format(value) if value.tzinfo is not None else _format.__wrapped__(value)


# Memoised: a batch formats and parses the same instants over and over (a sync's `now`, the
# due dates of an ERP's orders); datetimes are immutable, and equal aware ones format alike.
@lru_cache(maxsize=4096)
def _format(value: datetime) -> str:
    value = value.astimezone(UTC)
    # Not strftime("%Y"): it writes year 1 as "1", not "0001".
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:{value.minute:02d}:"
        f"{value.second:02d}.{value.microsecond // 1000:03d}Z"
    )


def parse_ts(value: object) -> datetime:
    """Parse any RFC 3339 / ISO 8601 date-time or date; no offset means UTC.

    Raises ValueError for anything else (numbers included: timestamps are strings on the wire).
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time.min)
    elif isinstance(value, str):
        return _parse_text(value)
    else:
        raise ValueError("not a timestamp")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


@lru_cache(maxsize=4096)
def _parse_text(value: str) -> datetime:
    """parse_ts of a string (a ValueError is raised again on every call: not cached)."""
    text = value.strip()
    if not text:
        raise ValueError("empty timestamp")
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    if len(text) == 10:
        parsed = datetime.combine(date.fromisoformat(text), time.min)
    else:
        if "T" not in text and " " not in text and "t" not in text:
            raise ValueError("not a date-time")
        parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
