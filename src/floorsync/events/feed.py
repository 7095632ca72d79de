"""The change feed (Events and webhooks §10): a tenant's events in commit order behind an opaque
cursor. Sequence numbers are handed out at commit under the tenant's counter lock, so once a
reader sees the counter at n every event up to n is visible: following the cursor never skips.

The counter is read first and events are read up to it; reading them the other way round
could move `next_cursor` past an event that committed between the two statements.

Each entry is rendered on its own (`events.stored`): an event whose stored data can't be
rendered becomes a placeholder entry (`data: null`, `error.code` EVENT_UNRENDERABLE), logged
with its ids, instead of failing the page, so the cursor never gets stuck in front of it.
"""

import base64
import binascii
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlalchemy.orm import Session

from floorsync.db.repository import TenantScope, scoped
from floorsync.errors import BadRequest, CursorExpired, Detail, ValidationFailed
from floorsync.events.registry import check_pattern
from floorsync.events.stored import (
    STORED_EVENT_COLUMNS,
    StoredEvent,
    UnrenderableEvent,
    placeholder,
    render_stored,
)
from floorsync.kit.json_bytes import dumps
from floorsync.models.events import Event, EventSequence

log = logging.getLogger("floorsync.events.feed")
_CURSOR = re.compile(r"^seq:(0|[1-9][0-9]{0,18})$")
MAX_LIMIT = 1000
MAX_SEQ = 2**63 - 1


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"seq:{seq}".encode("ascii")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The position of a cursor; BadRequest when it isn't one of ours."""
    text = cursor.strip()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raw = ""
    match = _CURSOR.match(raw) if text and all(c.isalnum() or c in "-_" for c in text) else None
    # Sequence numbers are bigints: a larger position is no cursor of ours (and can't be bound).
    if match is None or int(match.group(1)) > MAX_SEQ:
        raise BadRequest(
            "Malformed cursor: pass back a next_cursor or cursor from an earlier response, or 'now'",
            [Detail("after", "malformed cursor", "INVALID_VALUE", cursor)],
        )
    return int(match.group(1))


def parse_types(raw: str | None) -> list[str]:
    if raw is None or not raw.strip():
        return []
    types = [t.strip() for t in raw.split(",") if t.strip()]
    bad = [
        Detail("types", f"{reason}", "ENUM_CONSTRAINT", t)
        for t in types
        if (reason := check_pattern(t))
    ]
    if bad:
        raise ValidationFailed("events", bad)
    return types


def type_filter(types: Sequence[str]) -> Any:
    if not types:
        return None
    clauses: list[Any] = []
    exact = [t for t in types if not t.endswith("*")]
    if exact:
        clauses.append(Event.type.in_(exact))
    for t in types:
        if t == "*":
            return None
        if t.endswith(".*"):
            clauses.append(Event.type.startswith(t[:-1], autoescape=True))
    return or_(*clauses)


@dataclass
class FeedPage:
    # The entries rendered one by one (what the endpoint sends, spliced into the page).
    rendered: list[bytes]
    next_cursor: str
    has_more: bool

    @property
    def events(self) -> list[dict[str, Any]]:
        """The entries as values (the admin page), read back from what was rendered."""
        return [json.loads(body) for body in self.rendered]


@dataclass(frozen=True)
class FeedPosition:
    """Where a tenant's feed stands: `head` is the latest sequence handed out (the position of
    `after=now`), and every event up to `purged` has been removed by retention."""

    head: int
    purged: int


@dataclass(frozen=True)
class RetainedEvents:
    """The events still kept: how many, and the oldest one's sequence and time (None: none)."""

    count: int
    oldest_seq: int | None
    oldest_at: datetime | None


def feed_position(session: Session, scope: TenantScope) -> FeedPosition:
    counter = session.execute(
        scoped(EventSequence, scope).with_only_columns(
            EventSequence.last_seq, EventSequence.purged_through_seq
        )
    ).one_or_none()
    return FeedPosition(*((int(counter[0]), int(counter[1])) if counter is not None else (0, 0)))


def retained_events(session: Session, scope: TenantScope) -> RetainedEvents:
    """Counted from the counter, not the table: sequence numbers have no gaps and retention
    only ever removes a prefix of them (`events.retention`), so the events kept are exactly
    purged+1 … head. One indexed lookup gives the oldest one's time."""
    position = feed_position(session, scope)
    count = max(position.head - position.purged, 0)
    if count == 0:
        return RetainedEvents(0, None, None)
    oldest_seq = position.purged + 1
    oldest_at = session.scalar(
        scoped(Event, scope).with_only_columns(Event.occurred_at).where(Event.seq == oldest_seq)
    )
    return RetainedEvents(count, oldest_seq, oldest_at)


def read_feed(
    session: Session, scope: TenantScope, *, after: str | None, types: Sequence[str], limit: int
) -> FeedPage:
    position_now = feed_position(session, scope)
    head, purged = position_now.head, position_now.purged
    if after is None or after == "":
        position = purged
    elif after.strip() == "now":
        position = head
    else:
        position = decode_cursor(after)
        if position < purged:
            raise CursorExpired(
                "Cursor is older than the retained event history; resynchronise",
                {"oldest_cursor": encode_cursor(purged)},
            )
    stmt = scoped(Event, scope).where(Event.seq > position, Event.seq <= head)
    condition = type_filter(types)
    if condition is not None:
        stmt = stmt.where(condition)
    rows = list(
        session.execute(
            stmt.with_only_columns(*STORED_EVENT_COLUMNS).order_by(Event.seq).limit(limit + 1)
        )
    )
    has_more = len(rows) > limit
    rows = rows[:limit]
    rendered = [_entry(r, scope) for r in rows]
    next_position = rows[-1].event_seq if has_more else max(position, head)
    return FeedPage(rendered, encode_cursor(next_position), has_more)


def _entry(row: StoredEvent, scope: TenantScope) -> bytes:
    cursor = encode_cursor(row.event_seq)
    try:
        return render_stored(row, cursor=cursor)
    except UnrenderableEvent as exc:
        log.error("tenant %s: %s; the feed shows a placeholder entry", scope.tenant_id, exc)
        return dumps(placeholder(row, cursor))
