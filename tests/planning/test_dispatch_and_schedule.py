"""The dispatcher (spec §7.1, matrix rows 38–39), retention's hold on undispatched events, the
scheduled pull job kind (§6.1: due connections only, not when blocked, next pull after the
interval ± 10 %) and DST edges through a whole pull (§8.6: the autumn overlap takes the first
occurrence, a time in the spring gap moves forward by the gap)."""

import random
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from floorsync.bootstrap import Services
from floorsync.db.repository import TenantScope, scoped
from floorsync.db.uow import unit_of_work
from floorsync.events.retention import purge_events
from floorsync.kit.clock import FakeClock
from floorsync.models.enums import PlanningTrigger
from floorsync.models.events import Event
from floorsync.models.master import Operation
from floorsync.models.planning import PlanningConnection, PlanningPush
from floorsync.planning.connections import tenant_head
from floorsync.planning.dispatch import dispatch_all, dispatch_round
from floorsync.planning.service import claim_due_pull, pull
from floorsync.planning.tasks import PULL, PULL_NOW, PlanningState, _pull_now
from floorsync.worker.queue import JobRun, QueuedJob
from tests.planning.app_support import add_frepple, deps_of
from tests.planning.conftest import FREPPLE_PASSWORD, FREPPLE_USER, SecretWatch
from tests.planning.fakes.frepple import FakeFrepple, oplan, seed_orders


@pytest.fixture
def frepple(secret_watch: SecretWatch) -> Iterator[FakeFrepple]:
    secret_watch.register(FREPPLE_PASSWORD, FREPPLE_USER)
    fake = FakeFrepple()
    yield fake
    fake.stop()


def record(services: Services, scope: TenantScope, type_: str, source: str, order: str) -> None:
    with unit_of_work(services.sessions, services.outbox, scope) as work:
        work.record(
            type_,
            "job",
            uuid.uuid4(),
            {
                "job_id": str(uuid.uuid4()),
                "external_source": source,
                "external_id": order,
                "started_at": "2026-06-01T05:30:00.000Z",
                "timestamp": "2026-06-01T05:30:00.000Z",
            },
            external_source=source,
        )


def push_rows(services: Services, scope: TenantScope) -> list[tuple[str, str]]:
    with services.sessions() as s:
        return [
            (p.kind.value, p.order_external_id)
            for p in s.scalars(scoped(PlanningPush, scope).order_by(PlanningPush.seq))
        ]


class TestDispatcher:
    def test_each_relevant_event_becomes_one_row_once_across_repeated_rounds(
        self, services: Services, scope: TenantScope, frepple: FakeFrepple
    ) -> None:
        record(services, scope, "job.started", "frepple", "OLD")  # before the connection
        cid = add_frepple(services, scope, frepple.base_url)
        deps = deps_of(services)
        record(services, scope, "job.started", "frepple", "MO-1")
        record(services, scope, "job.updated", "frepple", "MO-1")
        record(services, scope, "job.started", "erp", "E-1")
        record(services, scope, "job.started", "frepple", "MO-1")  # started again after a hold

        assert dispatch_round(deps, scope, cid) == 2
        # a restarted dispatcher, or a second worker, finds nothing more to do
        assert dispatch_round(deps, scope, cid) == 0
        assert dispatch_all(deps_of(services)) == 0

        assert push_rows(services, scope) == [("order_start", "MO-1"), ("order_start", "MO-1")]
        with services.sessions() as s:
            row = s.scalars(scoped(PlanningConnection, scope)).one()
            assert row.dispatch_cursor == tenant_head(s, scope)

    def test_retention_keeps_events_a_connection_has_not_dispatched(
        self, services: Services, scope: TenantScope, frepple: FakeFrepple
    ) -> None:
        add_frepple(services, scope, frepple.base_url)
        record(services, scope, "job.started", "frepple", "MO-1")
        clock = services.clock
        assert isinstance(clock, FakeClock)
        clock.advance(40 * 86400)

        purge_events(services.sessions, clock, timedelta(days=30))
        with services.sessions() as s:
            kept = s.scalars(scoped(Event, scope)).all()
        assert len(kept) == 1

        dispatch_all(deps_of(services))
        purge_events(services.sessions, clock, timedelta(days=30))
        with services.sessions() as s:
            assert s.scalars(scoped(Event, scope)).all() == []


class TestScheduledPulls:
    def test_a_due_connection_is_pulled_and_scheduled_again_after_its_interval(
        self, services: Services, scope: TenantScope, frepple: FakeFrepple
    ) -> None:
        seed_orders(frepple.data, 2, steps=1, work_centres=1)
        cid = add_frepple(services, scope, frepple.base_url)
        deps = deps_of(services)
        state = PlanningState(
            deps,
            "w1",
            random.Random(3),
            services.webhooks.config.schedule,
            timedelta(minutes=30),
            timedelta(minutes=5),
        )
        clock = services.clock
        assert isinstance(clock, FakeClock)

        lease = timedelta(minutes=30)
        # (claim_due_pull is PULL's claim narrowed to this test's connection: the test database
        # holds other tests' connections too)
        due = claim_due_pull(deps, "w1", lease, connection_id=cid)
        assert due == (scope.tenant_id, cid)
        assert claim_due_pull(deps, "w2", lease, connection_id=cid) is None  # leased
        PULL.run(state, due)

        with services.sessions() as s:
            row = s.scalars(scoped(PlanningConnection, scope)).one()
            wait = row.next_pull_at - clock.now()
            assert timedelta(minutes=13.5) <= wait <= timedelta(minutes=16.5)
            assert row.pull_lease_owner is None
            assert row.last_pull_status is not None
        assert claim_due_pull(deps, "w1", lease, connection_id=cid) is None
        clock.advance(17 * 60)
        assert claim_due_pull(deps, "w1", lease, connection_id=cid) == (scope.tenant_id, cid)

    def test_a_blocked_or_disabled_connection_is_not_claimed(
        self, services: Services, scope: TenantScope, frepple: FakeFrepple
    ) -> None:
        cid = add_frepple(services, scope, frepple.base_url)
        with services.sessions.begin() as s:
            s.scalars(scoped(PlanningConnection, scope)).one().last_test_ok = False

        assert (
            claim_due_pull(deps_of(services), "w1", timedelta(minutes=30), connection_id=cid)
            is None
        )

        with services.sessions.begin() as s:
            row = s.scalars(scoped(PlanningConnection, scope)).one()
            row.last_test_ok, row.pull_enabled = None, False
        assert (
            claim_due_pull(deps_of(services), "w1", timedelta(minutes=30), connection_id=cid)
            is None
        )


def test_dst_edges_reach_the_operations_as_utc(
    services: Services, scope: TenantScope, frepple: FakeFrepple
) -> None:
    frepple.data.add_resource({"name": "WC-1", "lastmodified": "2026-05-01T09:00:00"})
    for ref, start, end in (
        ("MO-AUTUMN", "2026-10-25T02:30:00", "2026-10-25T04:00:00"),  # overlap: CEST (+2) first
        ("MO-SPRING", "2026-03-29T02:30:00", "2026-03-29T04:00:00"),  # gap: moved to 03:30 CEST
        ("MO-WINTER", "2026-12-01T08:00:00", "2026-12-01T09:00:00"),  # CET (+1)
    ):
        frepple.data.add_mo(oplan(ref, start=start, end=end, resources=["WC-1"]))
    cid = add_frepple(services, scope, frepple.base_url)

    pull(deps_of(services), scope, cid, trigger=PlanningTrigger.cli)

    with services.sessions() as s:
        starts = {
            op.external_id: op.planned_start
            for op in s.scalars(scoped(Operation, scope, include_deleted=False))
        }
    assert starts == {
        "MO-AUTUMN": datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        "MO-SPRING": datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
        "MO-WINTER": datetime(2026, 12, 1, 7, 0, tzinfo=UTC),
    }


def test_a_queued_pull_now_job_pulls_even_with_scheduled_pulls_off(
    services: Services, scope: TenantScope, frepple: FakeFrepple
) -> None:
    seed_orders(frepple.data, 2, steps=1, work_centres=1)
    cid = add_frepple(services, scope, frepple.base_url)
    with services.sessions.begin() as s:
        s.scalars(scoped(PlanningConnection, scope)).one().pull_enabled = False
    job = QueuedJob(
        uuid.uuid4(),
        PULL_NOW,
        scope.tenant_id,
        {"tenant_id": str(scope.tenant_id), "connection_id": str(cid), "full": True},
        1,
        services.clock.now() + timedelta(minutes=30),
    )

    _pull_now(JobRun(job, services, "w1", timedelta(minutes=30), threading.Event()))

    with services.sessions() as s:
        row = s.scalars(scoped(PlanningConnection, scope)).one()
        assert row.last_pull_status is not None
        assert row.last_pull_status.value == "completed"
        assert row.pull_lease_owner is None
