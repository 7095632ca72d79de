"""Fan-out in the outbox transaction: one `webhook_deliveries` row per new event for every active
endpoint of the tenant whose subscription matches (Events and webhooks §4.1 step 4: a change,
its event and the deliveries of that event commit together or not at all).

Every `Outbox` runs a `DeliveryFanOut` (events/outbox.py), so an event can't be written without
its deliveries. This module knows the delivery rows, not the webhooks feature that sends them.
"""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from floorsync.db.repository import TenantScope, scoped
from floorsync.events.registry import matches
from floorsync.kit.clock import Clock
from floorsync.kit.ids import new_id
from floorsync.models.enums import DeliveryStatus
from floorsync.models.webhooks import Webhook, WebhookDelivery


@dataclass
class EventRow:
    """What a fan-out receives for each written event."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    seq: int
    type: str


FanOut = Callable[[Session, uuid.UUID, Sequence[EventRow], Clock], None]


class DeliveryFanOut:
    """Queues the deliveries of freshly written events; `wake`, when given, runs after the
    transaction commits (the nudge that an in-process worker waits on)."""

    def __init__(self, wake: Callable[[], None] | None = None) -> None:
        self.wake = wake

    def __call__(
        self, session: Session, tenant_id: uuid.UUID, rows: Sequence[EventRow], clock: Clock
    ) -> None:
        hooks = session.execute(
            scoped(Webhook, TenantScope(tenant_id))
            .with_only_columns(Webhook.id, Webhook.events)
            .where(Webhook.active.is_(True))
        ).all()
        if not hooks:
            return
        now = clock.now()
        values: list[dict[str, Any]] = [
            {
                "id": new_id(),
                "tenant_id": tenant_id,
                "event_id": row.id,
                "webhook_id": hook_id,
                "replay_round": 0,
                "seq": row.seq,
                "event_type": row.type,
                "status": DeliveryStatus.pending,
                "attempts": 0,
                "first_attempt_due_at": now,
                "next_attempt_at": now,
                "created_at": now,
            }
            for row in rows
            for hook_id, patterns in hooks
            if matches(patterns or [], row.type)
        ]
        if not values:
            return
        session.execute(insert(WebhookDelivery), values)
        wake = self.wake
        if wake is not None:
            event.listen(session, "after_commit", lambda _s: wake(), once=True)


def make_fanout(wake: Callable[[], None] | None = None) -> DeliveryFanOut:
    return DeliveryFanOut(wake)
