"""The transactional outbox: events are buffered during a unit of work and written, numbered in
commit order, immediately before it commits, together with their webhook deliveries
(events/fanout.py). A rolled-back unit leaves no event and no delivery.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from floorsync.db.engine import JSONText

# What a unit of work records; importable from here too, where the outbox is.
from floorsync.db.uow import Origin as Origin
from floorsync.db.uow import PendingEvent as PendingEvent
from floorsync.db.uow import new_event as new_event
from floorsync.db.upsert import insert_rows
from floorsync.events.fanout import DeliveryFanOut, EventRow, FanOut
from floorsync.events.registry import unknown_types
from floorsync.kit.clock import Clock
from floorsync.models.events import Event, EventSequence


@dataclass
class Outbox:
    """Writes a unit of work's events and hands them to its fan-outs, in that transaction.

    Every outbox queues webhook deliveries: a `DeliveryFanOut` always runs, whether or not one
    is handed in, so no way of building an outbox leaves events undelivered. The composition
    root (bootstrap.py) hands in the one that wakes its worker; other fan-outs run after it.
    """

    clock: Clock
    fanouts: Sequence[FanOut] = ()

    def __post_init__(self) -> None:
        deliveries = [f for f in self.fanouts if isinstance(f, DeliveryFanOut)]
        if len(deliveries) > 1:
            raise ValueError("an outbox queues each event's webhook deliveries once")
        self.fanouts = (*(() if deliveries else (DeliveryFanOut(),)), *self.fanouts)

    def write_pending(
        self, session: Session, tenant_id: uuid.UUID, events: list[PendingEvent]
    ) -> list[EventRow]:
        """Number the buffered events in commit order and insert them (then fan out).

        The counter row's lock, taken here and held until COMMIT, is what makes the sequence
        follow commit order, so this must run last, right before the commit.
        """
        if not events:
            return []
        unknown = unknown_types([ev.type for ev in events])
        if unknown:
            raise ValueError(f"event types not in the catalogue (events/registry.py): {unknown}")
        n = len(events)
        last = session.execute(
            update(EventSequence)
            .where(EventSequence.tenant_id == tenant_id)
            .values(last_seq=EventSequence.last_seq + n)
            .returning(EventSequence.last_seq)
        ).scalar_one()
        now = self.clock.now()
        rows: list[dict[str, Any]] = [
            {
                "id": ev.id,
                "tenant_id": tenant_id,
                "seq": last - n + 1 + i,
                "type": ev.type,
                "entity_type": ev.entity_type,
                "entity_id": ev.entity_id,
                "occurred_at": now,
                "data": ev.data if ev.data_json is None else JSONText(ev.data_json),
            }
            for i, ev in enumerate(events)
        ]
        insert_rows(session, Event.__table__, rows)  # one multi-row statement (db/upsert.py)
        written = [
            EventRow(r["id"], tenant_id, r["seq"], r["type"], *origin_of(ev.data))
            for r, ev in zip(rows, events, strict=True)
        ]
        for fanout in self.fanouts:
            fanout(session, tenant_id, written, self.clock)
        return written


def origin_of(data: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """`(channel, external_source, api_key_id)` from an event's `data.origin` (fan-out filters)."""
    origin = data.get("origin")
    if not isinstance(origin, dict):
        return None, None, None
    return origin.get("channel"), origin.get("external_source"), origin.get("api_key_id")
