"""Stored events rendered one at a time, so that one which can't be rendered fails alone.

The change feed and the delivery worker read a batch of events together. Loading `data` through
the JSON column would parse every row inside the query, and one row whose text can't be read
(SQLite keeps JSON as plain text) would fail the whole batch; writing a whole page at once
would fail it for one value the writer refuses (nested deeper than it goes). So `data` is
selected as its stored text and each event is parsed and rendered on its own: a failure is an
`UnrenderableEvent` naming the event, which the caller turns into a failure of that event only
(a placeholder feed entry, a failed delivery attempt).

Most stored texts are exactly what the writer would write again: the outbox writes `data` with
orjson, compact, and the database keeps JSON text as given. For those, parsing the text into
Python values only to write the same bytes back is most of a feed page's cost (issue 10: 34 ms
of server time for a 1000-event page). `spliced_data` checks that cheaply — orjson reads the
text and writes it back, and only a byte-identical result counts — and the text is then spliced
into the envelope as it is. Any other text (whitespace, a duplicate key, an integer beyond 64
bits, `NaN`, a lone surrogate, an exponent orjson writes differently) goes the full way, so the
bytes sent never depend on which path was taken.
"""

import json
import re
import uuid
from datetime import datetime
from functools import lru_cache
from typing import Any, Protocol

import orjson
from sqlalchemy import Text, cast

from floorsync.events.registry import envelope, event_id_text
from floorsync.kit.json_bytes import dumps
from floorsync.kit.timefmt import format_ts
from floorsync.models.events import Event

# The columns to select instead of the `Event` entity (their labels are `StoredEvent`'s).
STORED_EVENT_COLUMNS = (
    Event.id.label("event_id"),
    Event.tenant_id.label("event_tenant_id"),
    Event.seq.label("event_seq"),
    Event.type.label("event_type_name"),
    Event.occurred_at.label("event_occurred_at"),
    Event.entity_type.label("event_entity_type"),
    Event.entity_id.label("event_entity_id"),
    cast(Event.data, Text).label("event_data_text"),
)
UNRENDERABLE = "EVENT_UNRENDERABLE"


class StoredEvent(Protocol):
    """A result row selected with STORED_EVENT_COLUMNS."""

    event_id: uuid.UUID
    event_tenant_id: uuid.UUID
    event_seq: int
    event_type_name: str
    event_occurred_at: datetime
    event_entity_type: str
    event_entity_id: uuid.UUID | None
    event_data_text: str | None


class UnrenderableEvent(Exception):
    """A stored event whose data can't be parsed or written as JSON."""


def stored_envelope(row: StoredEvent, *, cursor: str | None = None) -> dict[str, Any]:
    """The event's envelope with its data parsed as the JSON column would parse it (integers
    of any size kept exact)."""
    try:
        data = json.loads(row.event_data_text or "")
    except Exception as exc:  # JSONDecodeError, RecursionError, an integer of 4,300+ digits
        raise UnrenderableEvent(_reason(row, exc)) from exc
    return _envelope(row, data, cursor)


def render(row: StoredEvent, entry: dict[str, Any]) -> bytes:
    """An envelope of `row` as JSON bytes: the one writer of what webhooks send and the feed
    shows. Compact, raw UTF-8, rendered the same way from the stored row on every attempt and
    every endpoint (so the bytes never change); integers beyond 64 bits are written exactly."""
    try:
        return dumps(entry)
    except Exception as exc:  # TypeError (nested deeper than the writer goes), RecursionError
        raise UnrenderableEvent(_reason(row, exc)) from exc


def render_stored(row: StoredEvent, *, cursor: str | None = None) -> bytes:
    """The webhook body (or, with a cursor, the feed entry) of a stored event;
    UnrenderableEvent when it has none."""
    data = spliced_data(row.event_data_text)
    if data is not None and _PLAIN_NAME.fullmatch(row.event_type_name):
        return _spliced_envelope(row, data, cursor)
    return render(row, stored_envelope(row, cursor=cursor))


def spliced_data(text: str | None) -> bytes | None:
    """The stored text as bytes to splice in, when writing its parsed value back out would give
    exactly these bytes (the common case, see the module's docstring); None otherwise."""
    if not text:
        return None
    try:
        raw = text.encode("utf-8", "surrogatepass")
        same = orjson.dumps(orjson.loads(raw)) == raw
    except Exception:  # JSONDecodeError, TypeError (64 bits, depth), RecursionError: the full way
        return None
    return raw if same else None


# Catalogue event names (`job.created`): nothing in them a JSON string would escape.
_PLAIN_NAME = re.compile(r"[a-z0-9_.]+")


def _spliced_envelope(row: StoredEvent, data: bytes, cursor: str | None) -> bytes:
    """`dumps(_envelope(row, <data parsed>, cursor))`, written directly: every value but `data`
    is ASCII with nothing to escape (hex ids, a formatted time, a base64 cursor, a plain event
    name), so the envelope is assembled as text around the stored bytes. The tests compare it
    with the full way for feed entries and webhook bodies."""
    name = row.event_type_name
    head = (
        f'{{"id":"evt_{row.event_id.hex}","type":"{name}","event":"{name}",'
        f'"timestamp":"{format_ts(row.event_occurred_at)}",'
        f'"tenant_id":"{_uuid_text(row.event_tenant_id)}","sequence":{int(row.event_seq)}'
    )
    if cursor is not None:
        head += f',"cursor":"{cursor}"'
    return b"".join((head.encode("ascii"), b',"data":', data, b"}"))


def placeholder(row: StoredEvent, cursor: str) -> dict[str, Any]:
    """The feed entry standing in for an event that can't be rendered: its envelope with
    `data: null` and an `error` naming the record, so a reader following the cursor moves past
    it and can re-read that record's current state."""
    entry = _envelope(row, None, cursor)
    entry["error"] = {
        "code": UNRENDERABLE,
        "message": "The stored data of this event could not be rendered; "
        "read the record's current state instead",
        "entity_type": row.event_entity_type,
        "entity_id": str(row.event_entity_id) if row.event_entity_id is not None else None,
    }
    return entry


def _envelope(row: StoredEvent, data: Any, cursor: str | None) -> dict[str, Any]:
    return envelope(
        row.event_id,
        row.event_type_name,
        row.event_occurred_at,
        row.event_tenant_id,
        row.event_seq,
        data,
        cursor=cursor,
    )


# A page or a batch shares its tenant (format_ts memoises the shared `occurred_at` itself).
_uuid_text = lru_cache(maxsize=256)(str)


def _reason(row: StoredEvent, exc: BaseException) -> str:
    detail = str(exc)[:200] or type(exc).__name__
    return (
        f"event {event_id_text(row.event_id)} ({row.event_type_name}, sequence {row.event_seq}) "
        f"could not be rendered: {type(exc).__name__}: {detail}"
    )
