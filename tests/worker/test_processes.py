"""Real `floorsync worker` processes running registered work: a test-only job kind survives a
SIGKILL of its worker (its lease expires and another worker process finishes it, exactly once),
and periodic upkeep runs once per interval across three worker processes."""

import itertools
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from floorsync.auth.tenants import create_tenant
from floorsync.config import Settings
from floorsync.db.repository import TenantScope, scoped
from floorsync.kit.clock import SystemClock
from floorsync.models.bookkeeping import PeriodicTask, WorkerJob
from floorsync.models.master import Cell
from floorsync.worker.queue import enqueue
from floorsync.worker.registry import PERIODIC_TASKS
from tests.support.worker_process import kill, start_worker, stop
from tests.worker.plugin import MAKE_CELL, TICK, TICK_LOG, plugin_env


def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def job_row(sessions: sessionmaker[Session], job_id: uuid.UUID) -> WorkerJob:
    with sessions() as s:
        row = s.get(WorkerJob, job_id)
        assert row is not None
        return row


class TestAJobKindInRealWorkers:
    def test_a_job_survives_a_sigkill_of_its_worker_and_another_worker_finishes_it_once(
        self, settings: Settings, sessions: sessionmaker[Session]
    ) -> None:
        name = f"made-by-job-{uuid.uuid4().hex[:8]}"
        now = SystemClock().now()
        with sessions.begin() as s:
            tenant_id = create_tenant(s, f"jobs-{name}", now).id
            job_id = enqueue(
                s, MAKE_CELL, {"name": name, "hold_seconds": 1.5}, now=now, tenant_id=tenant_id
            )
        first = start_worker(settings, **plugin_env())
        try:
            assert wait_until(lambda: job_row(sessions, job_id).state.value == "running", 30), (
                first.stderr
            )
            claimed = job_row(sessions, job_id)
        finally:
            kill(first)  # mid-job: the job holds 1.5 s before it writes anything
        assert (claimed.attempts, claimed.lease_owner) == (1, claimed.claimed_by)
        second = start_worker(settings, **plugin_env())
        try:
            assert wait_until(lambda: job_row(sessions, job_id).state.value == "succeeded", 30)
        finally:
            assert stop(second) == 0
        done = job_row(sessions, job_id)
        assert done.attempts == 2
        assert done.claimed_by not in (None, claimed.claimed_by)  # another process finished it
        assert done.lease_owner is None
        assert done.last_error is None
        with sessions() as s:
            cells = s.execute(
                scoped(Cell, TenantScope(tenant_id)).with_only_columns(Cell.name, Cell.created_at)
            ).all()
        assert [cell_name for cell_name, _ in cells] == [
            f"{name} #2"
        ]  # the killed one wrote nothing
        assert claimed.lease_until is not None
        assert cells[0].created_at >= claimed.lease_until  # taken over once the lease expired


def upkeep_runs(sessions: sessionmaker[Session]) -> dict[str, int]:
    names = [task.name for task in PERIODIC_TASKS]
    with sessions() as s:
        rows = s.execute(
            select(PeriodicTask.name, PeriodicTask.run_count).where(PeriodicTask.name.in_(names))
        ).all()
    return dict.fromkeys(names, 0) | dict(rows)


class TestPeriodicUpkeepAcrossWorkers:
    def test_upkeep_runs_once_per_interval_across_three_worker_processes(
        self, settings: Settings, sessions: sessionmaker[Session], tmp_path: Path
    ) -> None:
        interval = 1.0
        ticks = tmp_path / "ticks.log"
        # Other tests' workers ran the upkeep on a 60 s interval: make every task due now.
        with sessions.begin() as s:
            s.execute(
                update(PeriodicTask).values(
                    next_run_at=SystemClock().now(), lease_owner=None, lease_until=None
                )
            )
        before = upkeep_runs(sessions)
        env = plugin_env(
            **{
                TICK_LOG: str(ticks),
                "FLOORSYNC_WORKER_PERIODIC_SECONDS": str(interval),
                "FLOORSYNC_WORKER_DELIVERY_THREADS": "1",
            }
        )
        started = time.monotonic()
        workers = [start_worker(settings, **env) for _ in range(3)]
        try:
            assert wait_until(
                lambda: ticks.exists() and len(ticks.read_text().splitlines()) >= 5, 60
            ), [w.poll() for w in workers]
        finally:
            for w in workers:
                assert stop(w) == 0
        elapsed = time.monotonic() - started
        runs = sorted(
            (float(start), float(end), int(pid))
            for start, end, pid in (line.split() for line in ticks.read_text().splitlines())
        )
        assert len(runs) <= elapsed / interval + 1
        for (start, end, _), (next_start, _, _) in itertools.pairwise(runs):
            assert next_start >= end  # never two at once
            assert next_start - start >= interval * 0.75  # an interval apart (minus claim lag)
        after = upkeep_runs(sessions)
        for name in before:
            assert 1 <= after[name] - before[name] <= elapsed / interval + 1, name
        with sessions() as s:
            errors = s.execute(
                select(PeriodicTask.name, PeriodicTask.last_error).where(
                    PeriodicTask.name.in_([*before, TICK]), PeriodicTask.last_error.is_not(None)
                )
            ).all()
        assert errors == []
