"""The change feed: cursor paging, filters, `after=now`, malformed and expired cursors, tenant
isolation, and the commit-order race with real concurrent transactions."""

import random
import threading
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from floorsync.auth.tenants import create_tenant
from floorsync.db.repository import TenantScope, scoped
from floorsync.db.uow import unit_of_work
from floorsync.entities import service as entity_service
from floorsync.entities.cells import CELLS
from floorsync.events.feed import decode_cursor, encode_cursor, read_feed
from floorsync.events.outbox import Outbox
from floorsync.events.retention import purge_events
from floorsync.kit.clock import FakeClock, SystemClock
from floorsync.models.master import Cell
from tests.support.tenants import TenantHandle


def make_cells(tenant: TenantHandle, n: int, prefix: str = "C") -> None:
    for i in range(n):
        assert tenant.client.post("/api-cells", json={"name": f"{prefix}-{i}"}).status_code == 201


def feed(tenant: TenantHandle, **params: Any) -> tuple[int, dict[str, Any]]:
    resp = tenant.client.get("/api-events", params=params)
    return resp.status_code, resp.json()


class TestCursor:
    def test_paging_follows_the_cursor_with_has_more_and_never_repeats(
        self, tenant: TenantHandle
    ) -> None:
        make_cells(tenant, 5)
        seen: list[int] = []
        cursor = None
        while True:
            _, body = feed(tenant, limit=2, **({"after": cursor} if cursor else {}))
            data = body["data"]
            seen += [e["sequence"] for e in data["events"]]
            cursor = data["next_cursor"]
            if not data["has_more"]:
                break
        assert seen == [1, 2, 3, 4, 5]
        _, again = feed(tenant, after=cursor)
        assert again["data"] == {"events": [], "next_cursor": cursor, "has_more": False}

    def test_a_filtered_feed_moves_its_cursor_past_skipped_events(
        self, tenant: TenantHandle
    ) -> None:
        make_cells(tenant, 3)
        job = tenant.client.post("/api-jobs", json={"job_number": "J-1"}).json()["data"]["job"]
        make_cells(tenant, 2, "D")
        _, body = feed(tenant, types="job.*,operation.completed")
        data = body["data"]
        assert [e["data"]["job"]["id"] for e in data["events"]] == [job["id"]]
        assert decode_cursor(data["next_cursor"]) == 6
        assert data["has_more"] is False

    def test_after_now_starts_at_the_head(self, tenant: TenantHandle) -> None:
        make_cells(tenant, 2)
        _, body = feed(tenant, after="now")
        assert body["data"]["events"] == []
        assert decode_cursor(body["data"]["next_cursor"]) == 2
        make_cells(tenant, 1, "N")
        _, body = feed(tenant, after=body["data"]["next_cursor"])
        assert [e["sequence"] for e in body["data"]["events"]] == [3]

    @pytest.mark.parametrize("bad", ["abc", "c2VxOi0x", "%%%", encode_cursor(1)[:-1] + "!"])
    def test_a_malformed_cursor_is_400(self, tenant: TenantHandle, bad: str) -> None:
        status, body = feed(tenant, after=bad)
        assert status == 400
        assert body["error"]["code"] == "BAD_REQUEST"

    def test_unknown_types_are_422_and_only_get_is_allowed(self, tenant: TenantHandle) -> None:
        status, body = feed(tenant, types="job.exploded")
        assert status == 422
        assert body["error"]["code"] == "VALIDATION_ERROR"
        assert tenant.client.post("/api-events", json={}).status_code == 405

    def test_another_tenant_never_sees_these_events(
        self, tenant: TenantHandle, other_tenant: TenantHandle
    ) -> None:
        make_cells(tenant, 2)
        assert feed(other_tenant)[1]["data"]["events"] == []

    def test_an_expired_cursor_is_410_with_the_oldest_cursor(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        make_cells(tenant, 3)
        _, first = feed(tenant, limit=1)
        purge_events(
            sessions, FakeClock(SystemClock().now() + timedelta(days=31)), timedelta(days=30)
        )
        status, body = feed(tenant, after=first["data"]["next_cursor"])
        assert status == 410
        assert body["error"]["code"] == "CURSOR_EXPIRED"
        oldest = body["error"]["details"]["oldest_cursor"]
        assert decode_cursor(oldest) == 3
        make_cells(tenant, 1, "late")
        _, after = feed(tenant, after=oldest)
        assert [e["sequence"] for e in after["data"]["events"]] == [4]
        _, fresh = feed(tenant)
        assert [e["sequence"] for e in fresh["data"]["events"]] == [4]


class SlowOutbox(Outbox):
    """Pauses between numbering and COMMIT (the counter lock is held meanwhile)."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__(SystemClock())
        self.rng, self.lock = rng, threading.Lock()

    def write_pending(self, session: Session, tenant_id: uuid.UUID, events: Any) -> Any:
        rows = super().write_pending(session, tenant_id, events)
        with self.lock:
            pause = self.rng.random() * 0.02
        time.sleep(pause)
        return rows


@pytest.fixture
def race_tenant(sessions: sessionmaker[Session]) -> TenantScope:
    with sessions.begin() as s:
        return TenantScope(create_tenant(s, f"race-{uuid.uuid4().hex[:8]}", SystemClock().now()).id)


class TestCommitOrderRace:
    def test_a_reader_following_the_cursor_sees_every_committed_event_once_in_order(
        self, sessions: sessionmaker[Session], race_tenant: TenantScope
    ) -> None:
        scope, rng = race_tenant, random.Random(5)
        outbox = SlowOutbox(rng)
        committed: list[str] = []
        done = threading.Event()
        lock = threading.Lock()

        def writer(w: int) -> None:
            local = random.Random(w)
            for i in range(15):
                with unit_of_work(sessions, outbox, scope) as work:
                    row = entity_service.create(work, CELLS, {"name": f"w{w}-{i}"})
                    time.sleep(local.random() * 0.02)  # slow before numbering
                    event_id = "evt_" + work.events[-1].id.hex
                with lock:
                    committed.append(event_id)
                assert row is not None

        read: list[tuple[int, str]] = []

        def reader() -> None:
            cursor: str | None = None
            while True:
                finished = done.is_set()
                with sessions() as s:
                    page = read_feed(s, scope, after=cursor, types=[], limit=7)
                    s.rollback()
                read.extend((e["sequence"], e["id"]) for e in page.events)
                cursor = page.next_cursor
                if finished and not page.has_more:
                    return
                if not page.has_more:
                    time.sleep(0.005)

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
        r = threading.Thread(target=reader)
        r.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        done.set()
        r.join(30)
        seqs = [s for s, _ in read]
        assert seqs == list(range(1, len(committed) + 1))
        assert sorted(i for _, i in read) == sorted(committed)

    @pytest.mark.postgres_only
    def test_control_an_updated_at_cursor_loses_the_event_that_commits_late(
        self, db_kind: str, sessions: sessionmaker[Session], race_tenant: TenantScope
    ) -> None:
        if db_kind != "postgresql":
            pytest.skip("SQLite serialises writers, so transactions never overlap")
        scope, outbox = race_tenant, Outbox(SystemClock())
        a_wrote, b_done = threading.Event(), threading.Event()

        def writer_a() -> None:  # starts first, commits last
            with unit_of_work(sessions, outbox, scope) as work:
                entity_service.create(work, CELLS, {"name": "A"})
                a_wrote.set()
                b_done.wait(10)

        ta = threading.Thread(target=writer_a)
        ta.start()
        a_wrote.wait(10)
        time.sleep(0.01)
        with unit_of_work(sessions, outbox, scope) as work:
            entity_service.create(work, CELLS, {"name": "B"})

        def by_timestamp(cursor: Any) -> list[Cell]:
            with sessions() as s:
                stmt = scoped(Cell, scope)
                if cursor is not None:
                    stmt = stmt.where(Cell.created_at > cursor)
                return list(s.scalars(stmt.order_by(Cell.created_at)))

        first = by_timestamp(None)
        cursor = max(c.created_at for c in first)
        with sessions() as s:
            feed_first = read_feed(s, scope, after=None, types=[], limit=100)
        b_done.set()
        ta.join(10)
        later = by_timestamp(cursor)
        assert [c.name for c in first] == ["B"]
        assert later == []
        with sessions() as s:
            feed_later = read_feed(s, scope, after=feed_first.next_cursor, types=[], limit=100)
        names = [e["data"]["cell"]["name"] for e in feed_first.events + feed_later.events]
        assert sorted(names) == ["A", "B"]  # the sequence cursor did not
