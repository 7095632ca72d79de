"""Compare-and-set status changes and the status roll-up from operations to parts and jobs
(API §5.1), in the caller's transaction.

Every status change is `UPDATE … SET status = new WHERE id = … AND status = <the status read>`
with a row-count check, so of two concurrent requests exactly one wins. Completion roll-up
locks the part (then the job) before counting its unfinished children: two operations of one
part completing at the same time cannot both miss that the other one finished.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, func, update

from floorsync.db.repository import scoped, tenant_filter
from floorsync.db.uow import Work
from floorsync.errors import InvalidStateTransition
from floorsync.lifecycle.payloads import job_payload, part_payload
from floorsync.lifecycle.rules import Transition, guard_message
from floorsync.models.master import Job, Operation, Part
from floorsync.shopfloor.minutes import minutes_between


def status_text(value: Any) -> str:
    return str(getattr(value, "value", value))


def move(work: Work, model: Any, id_: uuid.UUID, source: str, target: str, values: dict[str, Any]) -> bool:
    """`UPDATE model SET status=target, … WHERE id=id_ AND status=source`; True if it applied."""
    stmt = update(model).where(tenant_filter(model, work.scope), model.id == id_, model.status == source)
    if hasattr(model, "deleted_at"):
        stmt = stmt.where(model.deleted_at.is_(None))
    result = cast(CursorResult[Any], work.session.execute(
        stmt.values(status=target, updated_at=work.clock.now(), **values).execution_options(synchronize_session=False)
    ))
    return result.rowcount == 1


def compare_and_set(work: Work, model: Any, row: Any, entity: str, transition: Transition, values: Callable[[Any], dict[str, Any]]) -> str:
    """Apply a lifecycle transition to `row`, guarded by the status it had when read.

    Losing a race re-reads the row and judges again, so the error names the status the winner
    left behind. Returns the previous status; `row` is refreshed to the new state.
    """
    work.session.flush()
    for _attempt in range(3):
        current = status_text(row.status)
        if current not in transition.sources:
            break
        applied = move(work, model, row.id, current, transition.target, values(row))
        work.session.refresh(row)
        if applied:
            return current
    raise InvalidStateTransition(guard_message(entity, transition, status_text(row.status)))


@dataclass(frozen=True)
class RolledUp:
    entity_type: str
    id: uuid.UUID
    previous_status: str
    new_status: str

    def as_dict(self) -> dict[str, Any]:
        return {"entity_type": self.entity_type, "id": str(self.id), "previous_status": self.previous_status, "new_status": self.new_status}


def _live(work: Work, model: Any, id_: uuid.UUID, *, lock: bool = False) -> Any:
    stmt = scoped(model, work.scope, include_deleted=False).where(model.id == id_)
    if lock:
        stmt = stmt.with_for_update()
    return work.session.scalars(stmt.execution_options(populate_existing=True)).first()


def _job_of(work: Work, job_id: uuid.UUID) -> Job | None:
    return work.session.scalars(scoped(Job, work.scope).where(Job.id == job_id)).first()


def roll_up_started(work: Work, op: Operation, caused_by: dict[str, Any]) -> list[RolledUp]:
    """An operation moved to in_progress: a not_started part, then a not_started job, follow."""
    now = work.clock.now()
    out: list[RolledUp] = []
    part = _live(work, Part, op.part_id)
    if part is None:
        return out
    job = _job_of(work, part.job_id)
    if move(work, Part, part.id, "not_started", "in_progress", {"started_at": func.coalesce(Part.started_at, now)}):
        work.session.refresh(part)
        work.record("part.started", "part", part.id, part_payload(part, job, previous="not_started", new="in_progress", at=now, caused_by=caused_by), external_source=part.external_source)
        out.append(RolledUp("part", part.id, "not_started", "in_progress"))
    if job is not None and job.deleted_at is None and move(work, Job, job.id, "not_started", "in_progress", {"started_at": func.coalesce(Job.started_at, now)}):
        work.session.refresh(job)
        work.record("job.started", "job", job.id, job_payload(job, action=None, previous="not_started", new="in_progress", at=now, caused_by=caused_by), external_source=job.external_source)
        out.append(RolledUp("job", job.id, "not_started", "in_progress"))
    return out


def _unfinished(work: Work, model: Any, column: str, parent_id: uuid.UUID) -> int:
    stmt = scoped(model, work.scope, include_deleted=False).with_only_columns(func.count()).where(
        getattr(model, column) == parent_id, model.status != "completed",
    )
    return int(work.session.scalar(stmt) or 0)


def roll_up_completed(work: Work, op: Operation, caused_by: dict[str, Any]) -> list[RolledUp]:
    """An operation completed: its part completes when all its live operations are completed,
    and an in_progress job when all its live parts are. Never touches on_hold records."""
    now = work.clock.now()
    out: list[RolledUp] = []
    part = _live(work, Part, op.part_id, lock=True)
    if part is None:
        return out
    previous = status_text(part.status)
    if previous not in ("not_started", "in_progress") or _unfinished(work, Operation, "part_id", part.id):
        return out
    if not move(work, Part, part.id, previous, "completed", {"completed_at": now}):
        return out
    work.session.refresh(part)
    job = _live(work, Job, part.job_id, lock=True)
    work.record("part.completed", "part", part.id, part_payload(part, job or _job_of(work, part.job_id), previous=previous, new="completed", at=now, caused_by=caused_by), external_source=part.external_source)
    out.append(RolledUp("part", part.id, previous, "completed"))
    if job is None or status_text(job.status) != "in_progress" or _unfinished(work, Part, "job_id", job.id):
        return out
    duration = minutes_between(job.started_at, now) if job.started_at is not None else job.actual_duration
    if move(work, Job, job.id, "in_progress", "completed", {"completed_at": now, "actual_duration": duration}):
        work.session.refresh(job)
        work.record("job.completed", "job", job.id, job_payload(job, action=None, previous="in_progress", new="completed", at=now, caused_by=caused_by), external_source=job.external_source)
        out.append(RolledUp("job", job.id, "in_progress", "completed"))
    return out
