"""A queue of one-off background jobs (`worker_jobs`): work that a request or a command asks for
and a worker does later (a CSV import, a planning pull).

A feature enqueues a job inside its own unit of work, so the job exists if and only if the
change that asked for it committed. A kind declared with `queued_kind` claims the oldest due job
of its kind under a lease (db/leases.py), runs it, and records the outcome:

    queued ──claim──▶ running ──▶ succeeded
      ▲                  │
      └── it raised, attempts left (after a backoff)
                         └── it raised, none left ──▶ failed

A running job whose lease expired (its worker died or hung) is claimed again like a queued one;
if that was its last attempt, it fails instead. A job whose effects are database writes makes
them exactly once by committing them together with its completion: `JobRun.complete(session)`
in its last transaction refuses (LeaseLost, so the transaction rolls back) when another worker
has taken the job over. A long job calls `JobRun.heartbeat()` between steps to keep its lease.
"""

import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from floorsync.bootstrap import Services
from floorsync.config import Settings
from floorsync.db import leases
from floorsync.kit.ids import new_id
from floorsync.models.bookkeeping import WorkerJob
from floorsync.models.enums import WorkerJobState
from floorsync.ops.logs import FIELDS, fields
from floorsync.ops.metrics import instruments
from floorsync.worker.kinds import JobKind, WorkerContext, five_seconds, one_thread

log = logging.getLogger("floorsync.worker.queue")
DEFAULT_MAX_ATTEMPTS = 5
_OPEN = (WorkerJobState.queued, WorkerJobState.running)


class LeaseLost(Exception):
    """Another worker took the job over (this one outlasted its lease): write nothing more."""


def enqueue(
    session: Session,
    kind: str,
    payload: Mapping[str, Any],
    *,
    now: datetime,
    tenant_id: uuid.UUID | None = None,
    run_after: datetime | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    wake: Callable[[], None] | None = None,
) -> uuid.UUID:
    """Queue a job in the caller's transaction; `wake` (Services.worker_wake.set) runs after
    it commits, so a worker in this process starts it without waiting for its poll."""
    job_id = new_id()
    session.add(
        WorkerJob(
            id=job_id,
            kind=kind,
            tenant_id=tenant_id,
            payload=dict(payload),
            state=WorkerJobState.queued,
            attempts=0,
            max_attempts=max_attempts,
            run_after=run_after or now,
            created_at=now,
        )
    )
    if wake is not None:
        event.listen(session, "after_commit", lambda _s: wake(), once=True)
    return job_id


def backoff(attempt: int) -> timedelta:
    """The pause before retrying a job whose `attempt`-th run raised: 5 s, 20 s, 80 s, … ≤ 1 h."""
    return timedelta(seconds=min(3600, 5 * 4 ** (attempt - 1)))


@dataclass(frozen=True)
class QueuedJob:
    id: uuid.UUID
    kind: str
    tenant_id: uuid.UUID | None
    payload: dict[str, Any]
    attempt: int  # 1 for the first run, 2 for the first retry or takeover, …
    lease_until: datetime


def claim_job(services: Services, kind: str, owner: str, lease: timedelta) -> QueuedJob | None:
    """Lease the oldest due job of `kind` (a short transaction of its own)."""
    with services.sessions.begin() as session:
        now = services.clock.now()
        while True:
            row = session.scalars(
                leases.claimable(
                    select(WorkerJob)
                    .where(
                        WorkerJob.kind == kind,
                        WorkerJob.state.in_(_OPEN),
                        WorkerJob.run_after <= now,
                    )
                    .order_by(WorkerJob.run_after, WorkerJob.created_at)
                    .limit(1),
                    WorkerJob,
                    now,
                )
            ).first()
            if row is None:
                return None
            if row.attempts >= row.max_attempts:  # its last run's worker died or hung
                row.state, row.finished_at = WorkerJobState.failed, now
                row.last_error = f"abandoned: attempt {row.attempts} did not finish in its lease"
                leases.let_go(row, now)
                session.flush()  # so that the next look no longer finds it
                log.error("job %s (%s): %s", row.id, row.kind, row.last_error)
                continue
            until = leases.take(row, owner, now + lease)
            row.state, row.attempts, row.claimed_by = (
                WorkerJobState.running,
                row.attempts + 1,
                owner,
            )
            row.started_at = row.started_at or now
            lag = max(0.0, (now - row.run_after).total_seconds())
            instruments().job_lag_seconds.labels(row.kind).observe(lag)
            log.info(
                "job %s (%s): claimed, attempt %d",
                row.id,
                row.kind,
                row.attempts,
                extra=fields(job_id=str(row.id), kind=row.kind, attempt=row.attempts, lag_s=lag),
            )
            return QueuedJob(
                row.id, row.kind, row.tenant_id, dict(row.payload), row.attempts, until
            )


@dataclass
class JobRun:
    """One run of a claimed job, handed to the kind's `perform`."""

    job: QueuedJob
    services: Services
    worker_id: str
    lease: timedelta
    stopping: threading.Event
    completed: bool = field(default=False, init=False)

    def _mine(self) -> tuple[Any, ...]:
        return (WorkerJob.id == self.job.id, WorkerJob.state == WorkerJobState.running)

    def heartbeat(self) -> None:
        """Extend the lease from now; raises LeaseLost if another worker has taken the job."""
        with self.services.sessions.begin() as session:
            until = self.services.clock.now() + self.lease
            if not leases.extend(
                session, WorkerJob, *self._mine(), owner=self.worker_id, until=until
            ):
                raise LeaseLost(str(self.job.id))

    def complete(self, session: Session) -> None:
        """Mark the job succeeded inside the caller's transaction, so that its effects and its
        completion commit together; raises LeaseLost (the caller's transaction must roll back)
        if another worker has taken the job over."""
        now = self.services.clock.now()
        if not leases.release(
            session,
            WorkerJob,
            *self._mine(),
            owner=self.worker_id,
            now=now,
            state=WorkerJobState.succeeded,
            finished_at=now,
            last_error=None,
        ):
            raise LeaseLost(str(self.job.id))
        self.completed = True


def _record_success(run: JobRun) -> None:
    with run.services.sessions.begin() as session:
        run.complete(session)


def _record_failure(run: JobRun, error: str) -> bool:
    """Queue the job again after a backoff, or fail it when it has no attempts left (True)."""
    services, job = run.services, run.job
    with services.sessions.begin() as session:
        now = services.clock.now()
        max_attempts = session.scalar(select(WorkerJob.max_attempts).where(WorkerJob.id == job.id))
        last = max_attempts is not None and job.attempt >= max_attempts
        values: dict[str, Any] = (
            {"state": WorkerJobState.failed, "finished_at": now}
            if last
            else {"state": WorkerJobState.queued, "run_after": now + backoff(job.attempt)}
        )
        if not leases.release(
            session,
            WorkerJob,
            *run._mine(),
            owner=run.worker_id,
            now=now,
            last_error=error[:2000],
            **values,
        ):
            log.warning(
                "job %s (%s): lost its lease before its failure was recorded", job.id, job.kind
            )
    return last


@dataclass(frozen=True)
class _QueueState:
    ctx: WorkerContext
    kind: str
    lease: timedelta


def queued_kind(
    name: str,
    perform: Callable[[JobRun], None],
    *,
    lease: timedelta,
    threads: Callable[[Settings], int] = one_thread,
    finish_within: Callable[[Settings], float] = five_seconds,
) -> JobKind[_QueueState, QueuedJob]:
    """A job kind over the queue: `perform(run)` does one job (see the module docstring);
    a job whose `perform` returns without calling `run.complete` is marked succeeded then."""

    def setup(ctx: WorkerContext, _threads: int) -> _QueueState:
        return _QueueState(ctx, name, lease)

    def claim(state: _QueueState) -> QueuedJob | None:
        return claim_job(state.ctx.services, state.kind, state.ctx.worker_id, state.lease)

    def run(state: _QueueState, job: QueuedJob) -> None:
        ctx = state.ctx
        job_run = JobRun(job, ctx.services, ctx.worker_id, state.lease, ctx.stopping)
        began = time.perf_counter()
        about = fields(job_id=str(job.id), kind=job.kind, attempt=job.attempt)
        try:
            perform(job_run)
            if not job_run.completed:
                _record_success(job_run)
        except LeaseLost:
            instruments().jobs.labels(job.kind, "lost").inc()
            log.warning("job %s (%s): another worker took it over", job.id, job.kind, extra=about)
        except Exception as exc:
            log.exception(
                "job %s (%s): attempt %d failed", job.id, job.kind, job.attempt, extra=about
            )
            last = _record_failure(job_run, f"{type(exc).__name__}: {exc}")
            instruments().jobs.labels(job.kind, "failed" if last else "retried").inc()
        else:
            ms = (time.perf_counter() - began) * 1000
            instruments().jobs.labels(job.kind, "succeeded").inc()
            log.info(
                "job %s (%s): finished in %.0f ms",
                job.id,
                job.kind,
                ms,
                extra=fields(**about[FIELDS], ms=round(ms)),
            )

    return JobKind(
        name=name,
        setup=setup,
        claim=claim,
        run=run,
        lease=lambda _services: lease,
        threads=threads,
        finish_within=finish_within,
    )
