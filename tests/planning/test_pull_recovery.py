"""A pull that dies mid-way (SIGKILL of its worker, a lost host) leaves its run records `running`
and its pull lease held. Once the lease has expired, the dead pull's runs are marked `failed`
(details `interrupted`), the connection is due again and the next pull redoes the work — on every
pull for its own connection and in the periodic task `planning.recover_runs`. A live pull's runs
(lease held and not expired) are never touched. The crash test kills a real worker process."""

import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from floorsync.auth.tenants import create_tenant
from floorsync.bootstrap import Services, build_services
from floorsync.config import Settings
from floorsync.db.repository import TenantScope, scoped
from floorsync.kit.clock import FakeClock
from floorsync.models.enums import PlanningRunKind, PlanningTrigger, RunStatus
from floorsync.models.planning import PlanningConnection, PlanningRun
from floorsync.planning.service import (
    INTERRUPTED,
    claim_due_pull,
    pull,
    recover_stale_runs,
    take_pull_lease,
)
from floorsync.planning.tasks import RECOVER
from tests.planning.app_support import add_frepple, deps_of, floor, no_wait_adapters
from tests.planning.conftest import FREPPLE_PASSWORD, FREPPLE_USER, SecretWatch
from tests.planning.fakes.frepple import FakeFrepple, seed_orders
from tests.support.worker_process import kill, start_worker, stop

LEASE = timedelta(minutes=30)


@pytest.fixture
def frepple(secret_watch: SecretWatch) -> Iterator[FakeFrepple]:
    secret_watch.register(FREPPLE_PASSWORD, FREPPLE_USER)
    fake = FakeFrepple()
    seed_orders(fake.data, 4, steps=2, work_centres=2)
    yield fake
    fake.stop()


def new_scope(services: Services, prefix: str) -> TenantScope:
    with services.sessions.begin() as s:
        tenant = create_tenant(s, f"{prefix}-{uuid.uuid4().hex[:8]}", services.clock.now())
        return TenantScope(tenant.id)


def pull_runs(services: Services, scope: TenantScope) -> list[PlanningRun]:
    with services.sessions() as s:
        rows = list(
            s.scalars(scoped(PlanningRun, scope).order_by(PlanningRun.started_at, PlanningRun.kind))
        )
        s.expunge_all()
        return rows


def connection(services: Services, scope: TenantScope) -> PlanningConnection:
    with services.sessions() as s:
        row = s.scalars(scoped(PlanningConnection, scope)).one()
        s.expunge(row)
        return row


class _Killed(BaseException):
    """Stands for SIGKILL in-process: no `except Exception` sees it, nothing is cleaned up."""


class _DiesOnWorkOrders:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __enter__(self) -> "_DiesOnWorkOrders":
        return self

    def __exit__(self, *exc: object) -> None:
        self.inner.close()

    def pull_work_orders(self, since: Any = None) -> Any:
        raise _Killed()


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = build_services(settings, FakeClock())
    yield built
    built.close()


def test_a_dead_pulls_runs_are_recovered_after_its_lease_and_the_pull_is_redone(
    services: Services, frepple: FakeFrepple
) -> None:
    scope = new_scope(services, "rec")
    cid = add_frepple(services, scope, frepple.base_url)
    clock = services.clock
    assert isinstance(clock, FakeClock)
    assert claim_due_pull(deps_of(services), "dead", LEASE, connection_id=cid) is not None
    dying = deps_of(services, lambda config: _DiesOnWorkOrders(no_wait_adapters(config)))
    with pytest.raises(_Killed):
        pull(dying, scope, cid, trigger=PlanningTrigger.schedule, owner="dead")
    assert [r.status for r in pull_runs(services, scope)] == [
        RunStatus.completed,  # pull_resources finished
        RunStatus.running,  # pull_work_orders: its process "died"
    ]
    deps = deps_of(services)

    # the lease is still held: the pull may be alive; nothing is touched, nothing is claimable
    clock.advance(29 * 60)
    assert recover_stale_runs(deps) == 0
    assert take_pull_lease(deps, scope, cid, "other", LEASE) is False
    assert claim_due_pull(deps, "w2", LEASE, connection_id=cid) is None
    assert pull_runs(services, scope)[1].status is RunStatus.running

    clock.advance(2 * 60)  # the lease has expired
    assert recover_stale_runs(deps, connection_id=cid) == 1
    dead = pull_runs(services, scope)[1]
    assert dead.kind is PlanningRunKind.pull_work_orders
    assert dead.status is RunStatus.failed
    assert dead.error_message == INTERRUPTED
    assert (dead.details or {})["interrupted"] is True
    assert dead.finished_at == clock.now()
    row = connection(services, scope)
    assert row.last_pull_status is RunStatus.failed
    assert row.pull_cursor is None
    assert recover_stale_runs(deps, connection_id=cid) == 0  # once

    due = claim_due_pull(deps, "w2", LEASE, connection_id=cid)  # the pull is retried
    assert due == (scope.tenant_id, cid)
    redo = pull(deps, scope, cid, trigger=PlanningTrigger.schedule, owner="w2")
    assert redo.status is RunStatus.completed
    assert floor(services, scope, "frepple") == (4, 8, 2)
    assert [r.status for r in pull_runs(services, scope)][2:] == [RunStatus.completed] * 2
    assert connection(services, scope).consecutive_pull_failures == 0


def test_the_lease_holder_recovers_at_once_and_the_periodic_task_covers_every_tenant(
    services: Services, frepple: FakeFrepple
) -> None:
    clock = services.clock
    assert isinstance(clock, FakeClock)
    dying = deps_of(services, lambda config: _DiesOnWorkOrders(no_wait_adapters(config)))
    scopes = [new_scope(services, "rec") for _ in range(2)]
    cids = [add_frepple(services, scope, frepple.base_url) for scope in scopes]
    for scope, cid in zip(scopes, cids, strict=True):
        assert take_pull_lease(deps_of(services), scope, cid, "dead", LEASE)
        with pytest.raises(_Killed):
            pull(dying, scope, cid, trigger=PlanningTrigger.cli, owner="dead")
    # a CLI pull whose connection's next scheduled pull lies ahead: made due now
    with services.sessions.begin() as s:
        s.execute(
            update(PlanningConnection)
            .where(PlanningConnection.id == cids[1])
            .values(next_pull_at=clock.now() + timedelta(hours=1))
        )

    clock.advance(1)
    # the same owner taking over its own lease (a restarted worker keeps its id) recovers at once
    outcome = pull(deps_of(services), scopes[0], cids[0], trigger=PlanningTrigger.cli, owner="dead")
    assert outcome.status is RunStatus.completed
    assert [r.status for r in pull_runs(services, scopes[0])] == [
        RunStatus.completed,
        RunStatus.failed,
        RunStatus.completed,
        RunStatus.completed,
    ]

    clock.advance(31 * 60)
    assert RECOVER.name == "planning.recover_runs"
    recover_stale_runs(deps_of(services))  # what the periodic task runs, over all tenants
    assert [r.status for r in pull_runs(services, scopes[1])] == [
        RunStatus.completed,
        RunStatus.failed,
    ]
    assert connection(services, scopes[1]).next_pull_at == clock.now()


def test_a_worker_killed_mid_pull_leaves_a_running_run_that_the_next_worker_recovers(
    settings: Settings, frepple: FakeFrepple
) -> None:
    real = build_services(settings)
    try:
        scope = new_scope(real, "kill")
        add_frepple(real, scope, frepple.base_url)
        with real.sessions.begin() as s:
            s.scalars(scoped(PlanningConnection, scope)).one().push_enabled = False
        frepple.fault("delay", match=lambda r: "manufacturingorder" in r.path, delay=4.0)
        env = {"FLOORSYNC_PLANNING_PULL_LEASE_MINUTES": "0.05"}  # 3 s: the test's heartbeat

        first = start_worker(settings, **env)
        try:
            deadline = time.monotonic() + 60
            while not any("manufacturingorder" in r.path for r in frepple.requests):
                assert time.monotonic() < deadline, "the worker never asked for work orders"
                time.sleep(0.05)
        finally:
            kill(first)  # SIGKILL while the work-order request is in flight
        runs = pull_runs(real, scope)
        assert [(r.kind, r.status) for r in runs] == [
            (PlanningRunKind.pull_resources, RunStatus.completed),
            (PlanningRunKind.pull_work_orders, RunStatus.running),
        ]
        assert floor(real, scope, "frepple")[0] == 0
        time.sleep(3.5)  # the killed worker's pull lease expires

        second = start_worker(settings, **env)
        try:
            deadline = time.monotonic() + 90
            while connection(real, scope).last_pull_status is not RunStatus.completed:
                assert time.monotonic() < deadline, "the next worker never redid the pull"
                time.sleep(0.2)
        finally:
            assert stop(second) == 0
        runs = pull_runs(real, scope)
        assert runs[1].status is RunStatus.failed
        assert (runs[1].details or {}).get("interrupted") is True
        assert [r.status for r in runs[2:]] == [RunStatus.completed] * 2
        assert all(r.status is not RunStatus.running for r in runs)
        assert floor(real, scope, "frepple") == (4, 8, 2)
    finally:
        real.close()


def test_a_dry_run_does_not_recover(services: Services, frepple: FakeFrepple) -> None:
    scope = new_scope(services, "rec")
    cid = add_frepple(services, scope, frepple.base_url)
    dying = deps_of(services, lambda config: _DiesOnWorkOrders(no_wait_adapters(config)))
    with pytest.raises(_Killed):
        pull(dying, scope, cid, trigger=PlanningTrigger.cli)

    dry = pull(deps_of(services), scope, cid, trigger=PlanningTrigger.cli, dry_run=True)

    assert dry.status is RunStatus.completed
    assert pull_runs(services, scope)[1].status is RunStatus.running  # a dry run writes nothing
