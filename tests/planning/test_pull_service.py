"""The pull cycle (spec §6, matrix rows 20–27) on the test database against the fake servers:
a first pull creates cells, jobs, parts and operations with the system's source and events; a
repeated pull writes nothing; an incremental pull sends the naive local `lastmodified__gte` and
brings in only what changed; withdrawn and missing orders follow §6.6; a failing pull writes
nothing and keeps the cursor; an authentication failure blocks the connection; run records link
to the sync history and never carry the secret."""

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from floorsync.bootstrap import Services
from floorsync.db.repository import TenantScope, scoped
from floorsync.models.bookkeeping import SyncRun
from floorsync.models.enums import PlanningTrigger, RunStatus
from floorsync.models.events import Event
from floorsync.models.master import Cell, Job
from floorsync.models.planning import PlanningConnection, PlanningRun
from floorsync.planning.service import pull
from tests.planning.app_support import (
    add_frepple,
    add_odoo,
    deps_of,
    events,
    floor,
    no_wait_adapters,
)
from tests.planning.conftest import FREPPLE_PASSWORD, FREPPLE_USER, SecretWatch
from tests.planning.fakes.frepple import FakeFrepple, oplan, seed_orders
from tests.planning.fakes.odoo import FakeOdoo, seed_productions


@pytest.fixture
def frepple(secret_watch: SecretWatch) -> Iterator[FakeFrepple]:
    secret_watch.register(FREPPLE_PASSWORD, FREPPLE_USER)
    fake = FakeFrepple()
    seed_orders(fake.data, 6, steps=3, work_centres=3)
    yield fake
    fake.stop()


def connection(services: Services, scope: TenantScope, cid: uuid.UUID) -> PlanningConnection:
    with services.sessions() as s:
        row = s.scalars(scoped(PlanningConnection, scope).where(PlanningConnection.id == cid)).one()
        s.expunge(row)
        return row


def runs(services: Services, scope: TenantScope) -> list[PlanningRun]:
    with services.sessions() as s:
        rows = list(
            s.scalars(scoped(PlanningRun, scope).order_by(PlanningRun.started_at, PlanningRun.kind))
        )
        s.expunge_all()
        return rows


class TestFreppleFirstAndRepeatedPull:
    def test_a_first_pull_creates_everything_and_a_second_writes_nothing(
        self, services: Services, scope: TenantScope, frepple: FakeFrepple
    ) -> None:
        cid = add_frepple(services, scope, frepple.base_url)
        deps = deps_of(services)

        first = pull(deps, scope, cid, trigger=PlanningTrigger.cli)

        assert first.status is RunStatus.completed, first
        assert first.mode == "reconcile"
        assert floor(services, scope, "frepple") == (6, 18, 3)
        assert first.counts["jobs"]["created"] == 6
        row = connection(services, scope, cid)
        assert row.pull_cursor is not None
        assert row.last_reconcile_at is not None
        written = events(services, scope)
        assert written > 0
        with services.sessions() as s:
            summaries = [
                e.type for e in s.scalars(scoped(Event, scope).where(Event.type.like("sync.%")))
            ]
        # one summary per entity written and pull step, not one per chunk: the work-centre run
        # (cells and resources: a batch summary too; no tooling here) and the work-order run
        assert sorted(summaries) == [
            "sync.batch.completed",
            "sync.cells.completed",
            "sync.jobs.completed",
        ]

        second = pull(deps, scope, cid, trigger=PlanningTrigger.cli)

        assert second.mode == "incremental"
        assert second.counts["jobs"]["created"] == second.counts["jobs"]["updated"] == 0
        assert events(services, scope) == written  # zero row writes, zero events
        assert floor(services, scope, "frepple") == (6, 18, 3)

    def test_run_records_link_the_sync_history_and_hold_no_secret(
        self,
        services: Services,
        scope: TenantScope,
        frepple: FakeFrepple,
        secret_watch: SecretWatch,
    ) -> None:
        cid = add_frepple(services, scope, frepple.base_url)

        pull(deps_of(services), scope, cid, trigger=PlanningTrigger.schedule)

        records = runs(services, scope)
        assert [r.kind.value for r in records] == ["pull_resources", "pull_work_orders"]
        assert {r.status for r in records} == {RunStatus.completed}
        with services.sessions() as s:
            groups = {r.group_id: r.trigger.value for r in s.scalars(scoped(SyncRun, scope))}
        assert all(r.sync_group_id in groups for r in records)
        assert set(groups.values()) == {"planning_pull"}
        for r in records:
            secret_watch.check_text(repr((r.details, r.error_message, r.counts)))

    def test_an_incremental_pull_asks_for_naive_local_time_and_takes_only_the_change(
        self, services: Services, scope: TenantScope, frepple: FakeFrepple
    ) -> None:
        cid = add_frepple(services, scope, frepple.base_url)
        deps = deps_of(services)
        pull(deps, scope, cid, trigger=PlanningTrigger.cli)
        written = events(services, scope)
        frepple.data.wos["MO-000002-20"].update(
            quantity="99.00000000", lastmodified="2026-05-30T11:00:00"
        )
        frepple.requests.clear()

        again = pull(deps, scope, cid, trigger=PlanningTrigger.cli)

        assert again.mode == "incremental"
        mo_queries = [r.query for r in frepple.requests if r.path.endswith("/manufacturingorder/")]
        # cursor 2026-05-28T16:12:40 (Amsterdam, CEST) minus the 5-minute overlap, naive local
        assert mo_queries[0]["lastmodified__gte"] == ["2026-05-28T16:07:40"]
        # the overlap re-reads the orders stamped at the cursor; unchanged ones are skipped
        assert again.received == 6
        assert again.counts["jobs"]["skipped"] == 6
        assert (again.counts["operations"]["updated"], again.counts["operations"]["skipped"]) == (
            1,
            17,
        )
        assert events(services, scope) > written

    def test_failure_in_the_work_order_step_writes_nothing_and_keeps_the_cursor(
        self, services: Services, scope: TenantScope, frepple: FakeFrepple
    ) -> None:
        cid = add_frepple(services, scope, frepple.base_url)
        deps = deps_of(services)
        pull(deps, scope, cid, trigger=PlanningTrigger.cli)
        before = connection(services, scope, cid).pull_cursor
        frepple.data.add_mo(oplan("MO-NEW", lastmodified="2026-05-30T11:00:00"))
        frepple.fault(
            "status", match=lambda r: r.path.endswith("/manufacturingorder/"), status=503, times=10
        )

        failed = pull(deps, scope, cid, trigger=PlanningTrigger.cli)

        assert failed.status is RunStatus.failed
        assert failed.error_class == "unavailable"
        row = connection(services, scope, cid)
        assert row.pull_cursor == before
        assert row.consecutive_pull_failures == 1
        assert row.next_pull_at == services.clock.now() + timedelta(minutes=1)
        # both pulls' runs share one instant of the fake clock: compare them as a multiset
        assert sorted((r.kind.value, r.status.value) for r in runs(services, scope)) == [
            ("pull_resources", "completed"),
            ("pull_resources", "completed"),
            ("pull_work_orders", "completed"),
            ("pull_work_orders", "failed"),
        ]
        assert floor(services, scope, "frepple")[0] == 6

    def test_an_authentication_failure_blocks_the_connection_with_the_reason(
        self, services: Services, scope: TenantScope, frepple: FakeFrepple
    ) -> None:
        cid = add_frepple(services, scope, frepple.base_url)
        frepple.users["planner"].password = "changed-upstream"

        failed = pull(deps_of(services), scope, cid, trigger=PlanningTrigger.schedule)

        assert failed.error_class == "auth"
        row = connection(services, scope, cid)
        assert row.last_test_ok is False
        assert row.last_error is not None
        assert row.last_error.startswith("auth:")


class TestWithdrawnAndMissing:
    def test_cancelled_not_started_is_deleted_started_is_kept_with_a_warning(
        self, services: Services, scope: TenantScope
    ) -> None:
        fake = FakeOdoo(17)
        try:
            ids = seed_productions(fake, 3, steps=2, work_centres=2)
            cid = add_odoo(services, scope, fake.base_url, fake.database)
            deps = deps_of(services)
            pull(deps, scope, cid, trigger=PlanningTrigger.cli)
            assert floor(services, scope, "odoo")[0] == 3
            with services.sessions.begin() as s:
                started = s.scalars(scoped(Job, scope).where(Job.external_id == str(ids[1]))).one()
                started.status = "in_progress"
            fake.tick(600)
            for mo_id in ids[:2]:
                order = fake.tables["mrp.production"][mo_id]
                order["state"] = "cancel"
                order["write_date"] = fake.now.strftime("%Y-%m-%d %H:%M:%S")

            again = pull(deps, scope, cid, trigger=PlanningTrigger.cli)

            assert floor(services, scope, "odoo")[0] == 2
            codes = {(w["code"], w["external_id"]) for w in again.warnings}
            assert ("withdrawn_upstream", str(ids[1])) in codes
        finally:
            fake.stop()

    def test_a_reconcile_deletes_missing_not_started_orders_and_deactivates_missing_cells(
        self, services: Services, scope: TenantScope, frepple: FakeFrepple
    ) -> None:
        cid = add_frepple(services, scope, frepple.base_url)
        deps = deps_of(services)
        pull(deps, scope, cid, trigger=PlanningTrigger.cli)
        del frepple.data.mos["MO-000005"]
        del frepple.data.resources["WC-002"]

        again = pull(deps, scope, cid, trigger=PlanningTrigger.cli, full=True)

        assert again.mode == "reconcile"
        assert floor(services, scope, "frepple")[0] == 5
        with services.sessions() as s:
            cell = s.scalars(scoped(Cell, scope).where(Cell.external_id == "WC-002")).one()
            assert cell.active is False
            assert cell.deleted_at is None
        with services.sessions() as s:
            assert s.scalars(select(Job.id).where(Job.external_id == "MO-000005")).first()


class _Broken:
    """The real adapter, except that pulling work orders hits a bug (not a planning error)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __enter__(self) -> "_Broken":
        return self

    def __exit__(self, *exc: object) -> None:
        self.inner.close()

    def pull_work_orders(self, since: Any = None) -> Any:
        raise RuntimeError("a bug")


def test_an_unexpected_error_is_raised_and_leaves_no_run_running(
    services: Services, scope: TenantScope, frepple: FakeFrepple
) -> None:
    cid = add_frepple(services, scope, frepple.base_url)
    deps = deps_of(services, lambda config: _Broken(no_wait_adapters(config)))

    with pytest.raises(RuntimeError):
        pull(deps, scope, cid, trigger=PlanningTrigger.cli)

    assert [r.status for r in runs(services, scope)] == [RunStatus.completed, RunStatus.failed]
    assert connection(services, scope, cid).pull_cursor is None
