"""The push queue (spec §7.3–§7.5, matrix rows 40–43) against the fake servers: retries by
error kind on the webhook schedule and `Retry-After`, expiry, immediate failure of a rejection
(`rejected`) and of an unknown order (`gone`), a write that landed upstream while its answer was
lost is not applied twice, an authentication failure blocks the connection without consuming
attempts until a successful test, a completion waits for its order's pending start, and a worker
killed with SIGKILL in the middle of a push leaves it to be finished exactly once by the next."""

import random
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from floorsync.auth.tenants import create_tenant
from floorsync.bootstrap import Services, build_services
from floorsync.config import Settings
from floorsync.db.repository import TenantScope, scoped
from floorsync.kit.clock import FakeClock
from floorsync.kit.ids import new_id
from floorsync.models.enums import DeliveryFailure, DeliveryStatus, PlanningPushKind
from floorsync.models.planning import PlanningConnection, PlanningPush, PlanningRun
from floorsync.planning.connections import config_of, find_connection, record_test
from floorsync.planning.factory import create_planning_adapter
from floorsync.planning.pushes import claim_pushes, push_due, run_pushes
from floorsync.webhooks.schedule import Schedule
from tests.planning.app_support import add_frepple, add_odoo, deps_of
from tests.planning.conftest import FREPPLE_PASSWORD, FREPPLE_USER, SecretWatch
from tests.planning.fakes.frepple import FakeFrepple, oplan
from tests.planning.fakes.odoo import FakeOdoo, seed_productions
from tests.support.worker_process import kill, start_worker, stop

SCHEDULE = Schedule((5.0, 300.0), jitter=0.0, max_age=timedelta(days=4))
LEASE = timedelta(minutes=5)
STARTED = "2026-06-01T05:30:00.000Z"  # 07:30 in Amsterdam (CEST)


@pytest.fixture
def frepple(secret_watch: SecretWatch) -> Iterator[FakeFrepple]:
    secret_watch.register(FREPPLE_PASSWORD, FREPPLE_USER)
    fake = FakeFrepple()
    fake.data.add_mo(oplan("MO/1", start="2026-06-01T07:30:00", end="2026-06-01T15:00:00"))
    fake.data.add_mo(oplan("MO-2"))
    yield fake
    fake.stop()


_seq = iter(range(1, 10**9))


def add_push(
    services: Services,
    scope: TenantScope,
    cid: uuid.UUID,
    order: str,
    kind: PlanningPushKind = PlanningPushKind.order_start,
    payload: dict[str, Any] | None = None,
) -> uuid.UUID:
    now = services.clock.now()
    with services.sessions.begin() as s:
        push = PlanningPush(
            id=new_id(),
            tenant_id=scope.tenant_id,
            connection_id=cid,
            event_id=new_id(),
            seq=next(_seq),
            kind=kind,
            order_external_id=order,
            payload=payload or {"started_at": STARTED},
            status=DeliveryStatus.pending,
            attempts=0,
            window_started_at=now,
            next_attempt_at=now,
            created_at=now,
        )
        s.add(push)
        return push.id


def completion(good: int = 8, scrap: int = 1) -> dict[str, Any]:
    return {"quantity_good": str(good), "quantity_scrap": str(scrap), "completed_at": None}


def push_row(services: Services, scope: TenantScope, push_id: uuid.UUID) -> PlanningPush:
    with services.sessions() as s:
        row = s.scalars(scoped(PlanningPush, scope).where(PlanningPush.id == push_id)).one()
        s.expunge(row)
        return row


def run_due(services: Services, cid: uuid.UUID) -> list[str]:
    """This connection's due pushes (the test database holds other tests' connections too)."""
    return push_due(deps_of(services), "w1", LEASE, SCHEDULE, random.Random(1), connection_id=cid)


def patches(fake: FakeFrepple) -> list[Any]:
    return [r for r in fake.requests if r.method == "PATCH"]


def test_unavailable_is_retried_on_the_schedule_then_expires(
    services: Services, scope: TenantScope, frepple: FakeFrepple
) -> None:
    cid = add_frepple(services, scope, frepple.base_url)
    pid = add_push(services, scope, cid, "MO/1")
    frepple.fault("status", match=lambda r: r.method == "PATCH", status=503, times=10)
    clock = services.clock
    assert isinstance(clock, FakeClock)

    assert run_due(services, cid) == ["unavailable"]
    row = push_row(services, scope, pid)
    assert (row.status, row.attempts) == (DeliveryStatus.pending, 1)
    assert row.next_attempt_at == clock.now() + timedelta(seconds=5)
    assert run_due(services, cid) == []  # not due yet
    clock.advance(5)
    assert run_due(services, cid) == ["unavailable"]
    assert push_row(services, scope, pid).next_attempt_at == clock.now() + timedelta(seconds=300)
    clock.advance(300)
    assert run_due(services, cid) == ["failed"]

    row = push_row(services, scope, pid)
    assert (row.status, row.failure_reason) == (DeliveryStatus.failed, DeliveryFailure.expired)
    assert row.last_error is not None
    assert "unavailable" in row.last_error


def test_retry_after_is_honoured(
    services: Services, scope: TenantScope, frepple: FakeFrepple
) -> None:
    cid = add_frepple(services, scope, frepple.base_url)
    pid = add_push(services, scope, cid, "MO/1")
    frepple.fault(
        "status",
        match=lambda r: r.method == "PATCH",
        status=429,
        headers={"Retry-After": "120"},
    )

    assert run_due(services, cid) == ["unavailable"]

    assert push_row(services, scope, pid).next_attempt_at == services.clock.now() + timedelta(
        seconds=120
    )


def test_a_rejection_fails_at_once_and_an_unknown_order_is_gone(
    services: Services, scope: TenantScope, frepple: FakeFrepple
) -> None:
    cid = add_frepple(services, scope, frepple.base_url)
    missing = add_push(services, scope, cid, "MO-404")
    negative = add_push(
        services, scope, cid, "MO-2", PlanningPushKind.order_completion, completion(-1)
    )

    assert run_due(services, cid) == ["failed", "failed"]

    gone, rejected = push_row(services, scope, missing), push_row(services, scope, negative)
    assert (gone.status, gone.failure_reason) == (DeliveryStatus.failed, DeliveryFailure.gone)
    assert rejected.failure_reason is DeliveryFailure.rejected
    assert patches(frepple) == []


def test_a_write_whose_answer_was_lost_is_not_applied_twice(
    services: Services, scope: TenantScope, frepple: FakeFrepple
) -> None:
    cid = add_frepple(services, scope, frepple.base_url)
    pid = add_push(services, scope, cid, "MO/1")
    frepple.fault("reset", match=lambda r: r.method == "PATCH", after=True)

    assert run_due(services, cid) == ["unavailable"]
    assert frepple.data.mos["MO/1"]["status"] == "confirmed"  # it landed
    services.clock.advance(5)  # type: ignore[attr-defined]
    assert run_due(services, cid) == ["already_applied"]

    assert len(patches(frepple)) == 1
    assert push_row(services, scope, pid).status is DeliveryStatus.succeeded
    with services.sessions() as s:
        outcomes = [
            (r.details or {}).get("outcome")
            for r in s.scalars(scoped(PlanningRun, scope).order_by(PlanningRun.started_at))
        ]
    assert outcomes == [None, "already_applied"]


def test_an_odoo_button_whose_answer_was_lost_runs_once(
    services: Services, scope: TenantScope
) -> None:
    fake = FakeOdoo(17)
    try:
        ids = seed_productions(fake, 1, steps=2, work_centres=1)
        cid = add_odoo(services, scope, fake.base_url, fake.database)
        add_push(services, scope, cid, str(ids[0]))
        fake.fault(
            "reset",
            match=lambda r: r.json is not None and "button_start" in str(r.json),
            after=True,
        )

        assert run_due(services, cid) == ["unavailable"]
        services.clock.advance(5)  # type: ignore[attr-defined]
        assert run_due(services, cid) == ["already_applied"]

        assert [c.method for c in fake.calls].count("button_start") == 1
    finally:
        fake.stop()


def test_auth_failure_blocks_without_consuming_attempts_until_a_test_succeeds(
    services: Services, scope: TenantScope, frepple: FakeFrepple
) -> None:
    cid = add_frepple(services, scope, frepple.base_url)
    first = add_push(services, scope, cid, "MO/1")
    second = add_push(services, scope, cid, "MO-2")
    frepple.users["planner"].password = "rotated"

    assert run_due(services, cid) == ["auth", "held"]

    with services.sessions() as s:
        row = s.scalars(scoped(PlanningConnection, scope)).one()
        assert row.last_test_ok is False
    assert push_row(services, scope, first).attempts == 0
    assert push_row(services, scope, second).status is DeliveryStatus.pending
    assert run_due(services, cid) == []  # blocked: nothing is claimed
    frepple.users["planner"].password = FREPPLE_PASSWORD
    with services.sessions.begin() as s:
        conn = find_connection(s, scope, str(cid))
        with create_planning_adapter(config_of(conn, services.secretbox)) as adapter:
            record_test(conn, adapter.test_connection(), services.clock.now())

    assert run_due(services, cid) == ["applied", "applied"]


def test_a_second_worker_claims_none_of_the_pushes_another_holds(
    services: Services, scope: TenantScope, frepple: FakeFrepple
) -> None:
    cid = add_frepple(services, scope, frepple.base_url)
    ids = {add_push(services, scope, cid, ref) for ref in ("MO/1", "MO-2")}
    deps = deps_of(services)

    first = claim_pushes(deps, "w1", LEASE, SCHEDULE, connection_id=cid)
    second = claim_pushes(deps, "w2", LEASE, SCHEDULE, connection_id=cid)

    assert first is not None
    assert {p.id for p in first.pushes} == ids
    assert second is None
    run_pushes(deps, first, "w1", SCHEDULE, random.Random(1))
    assert {push_row(services, scope, i).status for i in ids} == {DeliveryStatus.succeeded}
    assert len(patches(frepple)) == 2


def test_a_completion_waits_for_its_orders_pending_start(
    services: Services, scope: TenantScope, frepple: FakeFrepple
) -> None:
    cid = add_frepple(services, scope, frepple.base_url)
    start = add_push(services, scope, cid, "MO/1")
    done = add_push(services, scope, cid, "MO/1", PlanningPushKind.order_completion, completion())
    other = add_push(services, scope, cid, "MO-2")
    frepple.fault(
        "status",
        match=lambda r: r.method == "PATCH" and "MO%2F1" in r.raw_path,
        status=503,
    )

    assert run_due(services, cid) == ["unavailable", "held", "applied"]
    assert push_row(services, scope, done).attempts == 0
    assert run_due(services, cid) == []  # the start is not due yet; the completion waits for it
    services.clock.advance(5)  # type: ignore[attr-defined]

    assert run_due(services, cid) == ["applied", "applied"]
    assert frepple.data.mos["MO/1"]["status"] == "completed"
    assert push_row(services, scope, start).status is DeliveryStatus.succeeded
    assert push_row(services, scope, other).status is DeliveryStatus.succeeded


def test_a_worker_killed_mid_push_leaves_it_to_the_next_which_applies_it_once(
    settings: Settings, frepple: FakeFrepple
) -> None:
    real = build_services(settings)
    try:
        with real.sessions.begin() as s:
            scope = TenantScope(
                create_tenant(s, f"kill-{uuid.uuid4().hex[:8]}", real.clock.now()).id
            )
        cid = add_frepple(real, scope, frepple.base_url)
        with real.sessions.begin() as s:
            s.scalars(scoped(PlanningConnection, scope)).one().pull_enabled = False
        pid = add_push(real, scope, cid, "MO/1")
        frepple.fault("delay", match=lambda r: r.method == "PATCH", delay=2.0)
        env = {"FLOORSYNC_PLANNING_PUSH_LEASE_SECONDS": "3"}

        first = start_worker(settings, **env)
        try:
            deadline = time.monotonic() + 60
            while not patches(frepple) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert patches(frepple), "the worker never sent its PATCH"
        finally:
            kill(first)  # SIGKILL while the PATCH is in flight, before anything is recorded
        assert push_row(real, scope, pid).status is DeliveryStatus.pending
        deadline = time.monotonic() + 10
        while frepple.data.mos["MO/1"]["status"] != "confirmed" and time.monotonic() < deadline:
            time.sleep(0.05)  # the fake applies the delayed PATCH

        second = start_worker(settings, **env)
        try:
            deadline = time.monotonic() + 60
            while push_row(real, scope, pid).status is DeliveryStatus.pending:
                assert time.monotonic() < deadline, "the next worker never finished the push"
                time.sleep(0.2)
        finally:
            stop(second)

        assert push_row(real, scope, pid).status is DeliveryStatus.succeeded
        assert len(patches(frepple)) == 1
        with real.sessions() as s:
            run = s.scalars(scoped(PlanningRun, scope)).one()
            assert (run.details or {}).get("outcome") == "already_applied"
    finally:
        real.close()
