"""`retention.purge` for the event log: events older than the retention period go, except any
event at or after the oldest one that still has a pending delivery (a pending delivery holds its
event, and the purge only ever removes a prefix of the sequence so the feed can say exactly what
is gone), and except any event a planning connection has not dispatched yet.
`event_sequences.purged_through_seq` records the boundary for 410 CURSOR_EXPIRED."""

import uuid
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from floorsync.db.repository import TenantScope, scoped, tenant_filter
from floorsync.kit.clock import Clock
from floorsync.models.events import Event, EventSequence


def purge_events(sessions: sessionmaker[Session], clock: Clock, retention: timedelta) -> int:
    """Delete expired events of every tenant; returns how many were deleted."""
    from floorsync.models.enums import DeliveryStatus
    from floorsync.models.planning import PlanningConnection
    from floorsync.models.webhooks import WebhookDelivery

    cutoff = clock.now() - retention
    with sessions() as session:
        tenants: list[uuid.UUID] = list(
            session.scalars(select(Event.tenant_id).where(Event.occurred_at < cutoff).distinct())
        )
        session.rollback()
    deleted = 0
    for tenant_id in tenants:
        scope = TenantScope(tenant_id)
        with sessions() as session, session.begin():
            oldest = session.scalar(
                scoped(Event, scope)
                .with_only_columns(func.max(Event.seq))
                .where(Event.occurred_at < cutoff)
            )
            if oldest is None:
                continue
            held = session.scalar(
                scoped(WebhookDelivery, scope)
                .with_only_columns(func.min(WebhookDelivery.seq))
                .where(WebhookDelivery.status == DeliveryStatus.pending)
            )
            through = int(oldest) if held is None else min(int(oldest), int(held) - 1)
            # A planning connection holds every event after its dispatch cursor (Planning
            # planning adapters §7.1: retention never purges an event it has not dispatched yet).
            behind = session.scalar(
                scoped(PlanningConnection, scope).with_only_columns(
                    func.min(PlanningConnection.dispatch_cursor)
                )
            )
            if behind is not None:
                through = min(through, int(behind))
            counter = session.scalars(scoped(EventSequence, scope).with_for_update()).one()
            if through <= counter.purged_through_seq:
                continue
            result = session.execute(
                delete(Event).where(tenant_filter(Event, scope), Event.seq <= through)
            )
            deleted += int(getattr(result, "rowcount", 0) or 0)
            counter.purged_through_seq = through
    return deleted
