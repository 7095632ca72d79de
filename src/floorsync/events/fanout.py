"""Fan-out in the outbox transaction: one `webhook_deliveries` row per new event for every active
endpoint of the tenant whose subscription matches (Events and webhooks §4.1 step 4: a change,
its event and the deliveries of that event commit together or not at all).

Every `Outbox` runs a `DeliveryFanOut` (events/outbox.py), so an event can't be written without
its deliveries. This module knows the delivery rows, not the webhooks feature that sends them.

Echo suppression (issue 11) is decided here, so an excluded event never gets a delivery row for
that endpoint (nothing to claim, send or purge): an endpoint with `exclude_own_changes` skips
events whose `origin.api_key_id` is its bound key, and one with `exclude_sources` skips events
that came in through a sync (`origin.channel` `sync`, `erp_sync` or `csv_import`, the channels
the spec names as echoes, Events and webhooks §2.2) from one of those sources. Shop-floor
events about the same records (lifecycle calls, quantities) come through other channels and flow.
"""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from floorsync.db.repository import TenantScope, scoped
from floorsync.db.upsert import insert_rows
from floorsync.events.registry import matches
from floorsync.kit.clock import Clock
from floorsync.kit.ids import new_id
from floorsync.models.enums import DeliveryStatus
from floorsync.models.webhooks import Webhook, WebhookDelivery

SYNC_CHANNELS = frozenset({"sync", "erp_sync", "csv_import"})


@dataclass
class EventRow:
    """What a fan-out receives for each written event (with its `data.origin`)."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    seq: int
    type: str
    channel: str | None = None
    external_source: str | None = None
    api_key_id: str | None = None


@dataclass(frozen=True)
class Subscriber:
    """An active endpoint as the fan-out sees it."""

    id: uuid.UUID
    patterns: list[str]
    own_key: str | None  # exclude_own_changes: events made with this API key
    sources: frozenset[str]  # exclude_sources

    def wants(self, row: EventRow) -> bool:
        if not matches(self.patterns, row.type):
            return False
        if self.own_key is not None and row.api_key_id == self.own_key:
            return False
        return not (
            self.sources and row.channel in SYNC_CHANNELS and row.external_source in self.sources
        )


FanOut = Callable[[Session, uuid.UUID, Sequence[EventRow], Clock], None]


class DeliveryFanOut:
    """Queues the deliveries of freshly written events; `wake`, when given, runs after the
    transaction commits (the nudge that an in-process worker waits on)."""

    def __init__(self, wake: Callable[[], None] | None = None) -> None:
        self.wake = wake

    def __call__(
        self, session: Session, tenant_id: uuid.UUID, rows: Sequence[EventRow], clock: Clock
    ) -> None:
        hooks = [
            Subscriber(
                hook_id,
                patterns or [],
                str(key) if own and key is not None else None,
                frozenset(sources or ()),
            )
            for hook_id, patterns, own, key, sources in session.execute(
                scoped(Webhook, TenantScope(tenant_id))
                .with_only_columns(
                    Webhook.id,
                    Webhook.events,
                    Webhook.exclude_own_changes,
                    Webhook.api_key_id,
                    Webhook.exclude_sources,
                )
                .where(Webhook.active.is_(True))
            )
        ]
        if not hooks:
            return
        now = clock.now()
        values: list[dict[str, Any]] = [
            {
                "id": new_id(),
                "tenant_id": tenant_id,
                "event_id": row.id,
                "webhook_id": hook.id,
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
            for hook in hooks
            if hook.wants(row)
        ]
        if not values:
            return
        # One multi-row statement, or a binary COPY for a bulk sync's thousands (db/upsert.py):
        # the ORM's bulk insert spent about a quarter of the API's CPU under a soak's load here.
        insert_rows(session, WebhookDelivery.__table__, values)
        wake = self.wake
        if wake is not None:
            event.listen(session, "after_commit", lambda _s: wake(), once=True)


def make_fanout(wake: Callable[[], None] | None = None) -> DeliveryFanOut:
    return DeliveryFanOut(wake)
