"""The job queue (worker/queue.py) under a FakeClock: a job runs once and commits its effect with
its completion, a failing job is retried after a backoff until its attempts run out, and a job
whose worker vanished is taken over once its lease expires, with the late worker's completion
refused, so the effect happens exactly once."""

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from floorsync.auth.tenants import create_tenant
from floorsync.bootstrap import Services, build_services
from floorsync.config import Settings
from floorsync.db.repository import TenantScope, scoped
from floorsync.db.uow import unit_of_work
from floorsync.entities import service as entity_service
from floorsync.entities.cells import CELLS
from floorsync.kit.clock import FakeClock
from floorsync.models.bookkeeping import WorkerJob
from floorsync.models.master import Cell
from floorsync.worker.queue import JobRun, LeaseLost, claim_job, enqueue, queued_kind
from floorsync.worker.registry import WorkerRegistry
from floorsync.worker.runner import WorkerRunner

LEASE = timedelta(seconds=30)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def services(settings: Settings, clock: FakeClock) -> Iterator[Services]:
    built = build_services(settings, clock)
    yield built
    built.close()


@pytest.fixture
def scope(services: Services) -> TenantScope:
    with services.sessions.begin() as s:
        return TenantScope(
            create_tenant(s, f"queue-{uuid.uuid4().hex[:8]}", services.clock.now()).id
        )


@pytest.fixture
def kind() -> str:
    return f"test.queue-{uuid.uuid4().hex[:8]}"


def add_job(services: Services, scope: TenantScope, kind: str, max_attempts: int = 5) -> uuid.UUID:
    with services.sessions.begin() as s:
        return enqueue(
            s,
            kind,
            {"name": "made"},
            now=services.clock.now(),
            tenant_id=scope.tenant_id,
            max_attempts=max_attempts,
        )


def job(sessions: sessionmaker[Session], job_id: uuid.UUID) -> WorkerJob:
    with sessions() as s:
        row = s.get(WorkerJob, job_id)
        assert row is not None
        return row


def cell_names(services: Services, scope: TenantScope) -> list[str]:
    with services.sessions() as s:
        return list(s.scalars(scoped(Cell, scope).with_only_columns(Cell.name).order_by(Cell.name)))


def make_cell(run: JobRun) -> None:
    """A job whose effect is a row: written together with the job's completion."""
    assert run.job.tenant_id is not None
    with unit_of_work(
        run.services.sessions, run.services.outbox, TenantScope(run.job.tenant_id)
    ) as work:
        entity_service.create(
            work, CELLS, {"name": f"{run.job.payload['name']} #{run.job.attempt}"}
        )
        run.complete(work.session)


def runner(
    services: Services, kind: str, perform: Callable[[JobRun], None], worker: str
) -> WorkerRunner:
    registry = WorkerRegistry(kinds=(queued_kind(kind, perform, lease=LEASE),), periodic=())
    return WorkerRunner(services, registry=registry, worker_id=worker)


class TestRunningJobs:
    def test_a_queued_job_runs_once_and_commits_its_effect_with_its_completion(
        self, services: Services, scope: TenantScope, kind: str
    ) -> None:
        job_id = add_job(services, scope, kind)
        assert runner(services, kind, make_cell, "w1").run_once() == {kind: 1}
        row = job(services.sessions, job_id)
        assert (row.state.value, row.attempts, row.claimed_by, row.lease_owner) == (
            "succeeded",
            1,
            "w1",
            None,
        )
        assert cell_names(services, scope) == ["made #1"]
        assert runner(services, kind, make_cell, "w2").run_once() == {kind: 0}

    def test_a_job_that_returns_without_completing_is_marked_succeeded(
        self, services: Services, scope: TenantScope, kind: str
    ) -> None:
        job_id = add_job(services, scope, kind)
        runner(services, kind, lambda _run: None, "w1").run_once()
        assert job(services.sessions, job_id).state.value == "succeeded"

    def test_a_job_enqueued_in_a_transaction_that_rolls_back_does_not_exist(
        self, services: Services, scope: TenantScope, kind: str
    ) -> None:
        with services.sessions() as s:
            job_id = enqueue(s, kind, {}, now=services.clock.now(), tenant_id=scope.tenant_id)
            s.rollback()
        with services.sessions() as s:
            assert s.get(WorkerJob, job_id) is None

    def test_a_failing_job_is_retried_after_a_backoff_and_fails_when_its_attempts_run_out(
        self, services: Services, clock: FakeClock, scope: TenantScope, kind: str
    ) -> None:
        job_id = add_job(services, scope, kind, max_attempts=2)

        def boom(_run: JobRun) -> None:
            raise RuntimeError("planning system down")

        worker = runner(services, kind, boom, "w1")
        worker.run_once()
        row = job(services.sessions, job_id)
        assert (row.state.value, row.attempts, row.last_error) == (
            "queued",
            1,
            "RuntimeError: planning system down",
        )
        assert row.run_after == clock.now() + timedelta(seconds=5)
        assert worker.run_once() == {kind: 0}  # not due yet
        clock.advance(5)
        assert worker.run_once() == {kind: 1}
        row = job(services.sessions, job_id)
        assert (row.state.value, row.attempts, row.finished_at) == ("failed", 2, clock.now())


class TestCrashedWorkers:
    def test_a_job_whose_worker_vanished_is_taken_over_after_its_lease_and_done_once(
        self, services: Services, clock: FakeClock, scope: TenantScope, kind: str
    ) -> None:
        job_id = add_job(services, scope, kind)
        vanished = claim_job(services, kind, "w1", LEASE)  # then w1 stops answering
        assert vanished is not None
        assert runner(services, kind, make_cell, "w2").run_once() == {kind: 0}  # leased
        clock.advance(LEASE.total_seconds() + 1)
        assert runner(services, kind, make_cell, "w2").run_once() == {kind: 1}
        late = JobRun(vanished, services, "w1", LEASE, services.worker_wake)
        with pytest.raises(LeaseLost):
            make_cell(late)  # w1 wakes up and tries to finish: its transaction rolls back
        row = job(services.sessions, job_id)
        assert (row.state.value, row.attempts, row.claimed_by) == ("succeeded", 2, "w2")
        assert cell_names(services, scope) == ["made #2"]

    def test_a_heartbeat_keeps_the_lease_of_a_long_job(
        self, services: Services, clock: FakeClock, scope: TenantScope, kind: str
    ) -> None:
        add_job(services, scope, kind)
        claimed = claim_job(services, kind, "w1", LEASE)
        assert claimed is not None
        clock.advance(LEASE.total_seconds() - 1)
        JobRun(claimed, services, "w1", LEASE, services.worker_wake).heartbeat()
        clock.advance(2)  # past the first lease, inside the extended one
        assert claim_job(services, kind, "w2", LEASE) is None
        clock.advance(LEASE.total_seconds())
        taken = claim_job(services, kind, "w2", LEASE)
        assert taken is not None
        with pytest.raises(LeaseLost):
            JobRun(claimed, services, "w1", LEASE, services.worker_wake).heartbeat()

    def test_a_job_abandoned_on_its_last_attempt_fails_instead_of_running_again(
        self, services: Services, clock: FakeClock, scope: TenantScope, kind: str
    ) -> None:
        job_id = add_job(services, scope, kind, max_attempts=1)
        assert claim_job(services, kind, "w1", LEASE) is not None
        clock.advance(LEASE.total_seconds() + 1)
        assert claim_job(services, kind, "w2", LEASE) is None
        row = job(services.sessions, job_id)
        assert row.state.value == "failed"
        assert row.last_error == "abandoned: attempt 1 did not finish in its lease"
        with services.sessions() as s:
            assert s.scalar(select(WorkerJob.lease_owner).where(WorkerJob.id == job_id)) is None
