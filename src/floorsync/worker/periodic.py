"""Periodic tasks run at most once per interval across all worker processes.

Each task has a row in `periodic_tasks`. A worker whose clock has passed the row's `next_run_at`
claims it with the lease helper (db/leases.py), runs the task with no transaction open, then
sets `next_run_at` to the run's start plus the interval and releases the lease in one update.
Another worker finds the task either leased or not yet due, so runs are an interval apart
whichever process makes them. A worker killed mid-run leaves the lease to expire and the task
due: the next worker runs it again.
"""

import logging
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from floorsync.bootstrap import Services
from floorsync.db import leases
from floorsync.db.engine import read_sessions
from floorsync.models.bookkeeping import PeriodicTask as TaskRow
from floorsync.worker.kinds import PeriodicTask

log = logging.getLogger("floorsync.worker.periodic")
MAX_IDLE = timedelta(seconds=60)  # look again at least this often (a task added, a row reset)
MIN_IDLE = timedelta(seconds=0.1)  # a task due but locked by a claim in progress


class PeriodicRunner:
    def __init__(self, services: Services, tasks: Sequence[PeriodicTask], worker_id: str) -> None:
        self.services, self.tasks, self.worker_id = services, tuple(tasks), worker_id

    def ready_times(self) -> dict[str, datetime]:
        """When each task may next be claimed: its `next_run_at`, or the end of a lease another
        worker holds on it. Tasks without a row are missing."""
        names = [task.name for task in self.tasks]
        with read_sessions(self.services.sessions)() as session:
            rows = session.execute(
                select(TaskRow.name, TaskRow.next_run_at, TaskRow.lease_until).where(
                    TaskRow.name.in_(names)
                )
            ).all()
            session.rollback()
        now = self.services.clock.now()
        return {
            name: max(next_run_at, lease_until)
            if lease_until and lease_until > now
            else next_run_at
            for name, next_run_at, lease_until in rows
        }

    def add_missing_rows(self, present: set[str]) -> None:
        """A task seen for the first time is due at once."""
        now = self.services.clock.now()
        for task in self.tasks:
            if task.name in present:
                continue
            try:
                with self.services.sessions.begin() as session:
                    session.add(TaskRow(name=task.name, next_run_at=now, run_count=0))
            except IntegrityError:
                pass  # another worker added it first

    def claim(self, task: PeriodicTask) -> datetime | None:
        """Lease a due task; returns the run's start, or None when it isn't ours to run now."""
        with self.services.sessions.begin() as session:
            now = self.services.clock.now()
            row = session.scalars(
                leases.claimable(
                    select(TaskRow).where(TaskRow.name == task.name, TaskRow.next_run_at <= now),
                    TaskRow,
                    now,
                )
            ).first()
            if row is None:
                return None
            leases.take(row, self.worker_id, now + task.lease)
            row.last_started_at = now
            return now

    def finish(self, task: PeriodicTask, started: datetime, error: str | None) -> None:
        """Record the run and release the task until its next interval, if the lease is still
        ours (a run that outlasted its lease leaves the record to the worker that took over)."""
        settings, now = self.services.settings, self.services.clock.now()
        with self.services.sessions.begin() as session:
            recorded = leases.release(
                session,
                TaskRow,
                TaskRow.name == task.name,
                owner=self.worker_id,
                now=now,
                next_run_at=started + task.every(settings),
                last_finished_at=now,
                last_error=error,
                last_run_by=self.worker_id,
                run_count=TaskRow.run_count + 1,
            )
        if not recorded:
            log.warning("periodic task %s outlasted its lease (%s)", task.name, task.lease)

    def run_task(self, task: PeriodicTask) -> bool:
        """Claim and run one task if it is due; returns whether it ran."""
        started = self.claim(task)
        if started is None:
            return False
        began, error = time.perf_counter(), None
        try:
            task.run(self.services)
        except Exception as exc:
            log.exception("periodic task %s failed", task.name)
            error = f"{type(exc).__name__}: {exc}"[:2000]
        # DEBUG: the tasks run every minute or so; an INFO line each time would drown the log
        # (a failure is logged above, at ERROR, with its traceback).
        log.debug(
            "periodic task %s ran in %.0f ms", task.name, (time.perf_counter() - began) * 1000
        )
        self.finish(task, started, error)
        return True

    def run_due(self, stopping: threading.Event | None = None) -> float:
        """Run every task that is due now; returns the seconds until one may be due next."""
        ready = self.ready_times()
        if len(ready) < len(self.tasks):
            self.add_missing_rows(set(ready))
            ready = self.ready_times()
        now = self.services.clock.now()
        for task in self.tasks:
            if stopping is not None and stopping.is_set():
                break
            if ready.get(task.name, now) <= now:
                self.run_task(task)
        ready = self.ready_times()
        now = self.services.clock.now()
        wait = min([*(at - now for at in ready.values()), MAX_IDLE])
        return max(wait, MIN_IDLE).total_seconds()
