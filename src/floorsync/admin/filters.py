"""Template filters: how times, durations, numbers and JSON look on every admin page.

Times are shown in UTC (the server has no idea where the planner sits), as
`2026-03-01 08:15:03`, with the exact RFC 3339 value in the `<time datetime>` attribute.
"""

import json
import uuid
from datetime import datetime
from typing import Any

import jinja2
from markupsafe import Markup, escape

from floorsync.events.registry import event_id_text
from floorsync.kit.timefmt import format_ts, parse_ts


def _as_datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    try:
        return parse_ts(value)
    except (ValueError, OverflowError):
        return None


def when(value: Any) -> Markup:
    """`<time>` with the UTC date and time, or an em dash for no value."""
    moment = _as_datetime(value)
    if moment is None:
        return Markup('<span class="muted">—</span>')
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    return Markup('<time datetime="{}">{}</time>').format(format_ts(moment), text)


def ago(value: Any, now: datetime) -> str:
    """How long before `now`, in the largest unit that fits (`3 min ago`, `2 days ago`)."""
    moment = _as_datetime(value)
    if moment is None:
        return ""
    seconds = (now - moment).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    for size, unit in ((86400, "day"), (3600, "h"), (60, "min")):
        if seconds >= size:
            n = int(seconds // size)
            label = f"{n} {unit}{'s' if unit == 'day' and n != 1 else ''}"
            return f"in {label}" if future else f"{label} ago"
    return "in under a minute" if future else "just now"


def duration(ms: Any) -> str:
    if ms is None:
        return "—"
    ms = int(ms)
    if ms < 1000:
        return f"{ms} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    return f"{ms // 60_000} min {ms % 60_000 // 1000} s"


def number(value: Any) -> str:
    """Thousands separated by a thin space, readable in any locale."""
    if value is None:
        return "—"
    return f"{int(value):,}".replace(",", "\u202f")


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


def event_id(value: Any) -> str:
    return event_id_text(value) if isinstance(value, uuid.UUID) else str(value)


def cut(value: Any, length: int = 80) -> Markup:
    """Text shortened to `length` characters; the whole text stays in the tooltip."""
    text = "" if value is None else str(value)
    if len(text) <= length:
        return Markup(escape(text))
    return Markup('<span title="{}">{}…</span>').format(text, text[: length - 1])


def install_filters(env: jinja2.Environment) -> None:
    env.filters.update(
        when=when,
        ago=ago,
        duration=duration,
        number=number,
        pretty_json=pretty_json,
        event_id=event_id,
        cut=cut,
    )
