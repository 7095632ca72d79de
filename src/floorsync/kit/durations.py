"""Durations in settings: `90s`, `15m`, `6h`, `30d`, `1w`, or plain seconds (`3600`). Pure."""

from datetime import timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> timedelta:
    """Raises ValueError for anything else (a negative or empty duration included)."""
    raw = text.strip().lower()
    unit = _UNITS.get(raw[-1:]) if raw else None
    number = raw[:-1] if unit is not None else raw
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"not a duration: {text!r} (use e.g. 90s, 15m, 6h, 30d)") from None
    if value < 0 or value != value:
        raise ValueError(f"not a duration: {text!r} (it must be zero or more)")
    return timedelta(seconds=value * (unit or 1))
