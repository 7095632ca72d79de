"""Where a tenant's feed stands (what the admin Events page shows): the latest sequence, the
events retention has removed, and the oldest event still kept, read from the counter."""

from datetime import timedelta

from sqlalchemy import func
from sqlalchemy.orm import Session, sessionmaker

from floorsync.db.repository import TenantScope, scoped
from floorsync.events.feed import feed_position, retained_events
from floorsync.events.retention import purge_events
from floorsync.kit.clock import FakeClock, SystemClock
from floorsync.models.events import Event
from tests.support.tenants import TenantHandle


def make_cells(tenant: TenantHandle, n: int, prefix: str) -> None:
    for i in range(n):
        assert tenant.client.post("/api-cells", json={"name": f"{prefix}-{i}"}).status_code == 201


def counted(sessions: sessionmaker[Session], scope: TenantScope) -> tuple[int, int | None]:
    with sessions() as s:
        n, oldest = s.execute(
            scoped(Event, scope).with_only_columns(func.count(), func.min(Event.seq))
        ).one()
        return int(n), oldest


class TestFeedPosition:
    def test_a_tenant_without_events_stands_at_zero(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        scope = TenantScope(tenant.id)
        with sessions() as s:
            assert feed_position(s, scope).head == 0
            retained = retained_events(s, scope)
        assert (retained.count, retained.oldest_seq, retained.oldest_at) == (0, None, None)

    def test_after_a_purge_the_kept_events_are_those_after_the_purged_prefix(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        scope = TenantScope(tenant.id)
        make_cells(tenant, 3, "old")
        purge_events(
            sessions, FakeClock(SystemClock().now() + timedelta(days=31)), timedelta(days=30)
        )
        make_cells(tenant, 2, "new")
        with sessions() as s:
            position = feed_position(s, scope)
            retained = retained_events(s, scope)
            fourth = s.scalars(scoped(Event, scope).where(Event.seq == 4)).one()
        assert (position.head, position.purged) == (5, 3)
        assert (retained.count, retained.oldest_seq) == counted(sessions, scope) == (2, 4)
        assert retained.oldest_at == fourth.occurred_at
