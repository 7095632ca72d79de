"""Compare-and-set status changes and the status roll-up from operations to parts and jobs
(API §5.1), in the caller's transaction.

Every status change is `UPDATE … SET status = new WHERE id = … AND status = <the status read>`
with a row-count check, so of two concurrent requests exactly one wins. Completion roll-up
locks the part (then the job) before counting its unfinished children: two operations of one
part completing at the same time cannot both miss that the other one finished.
"""

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, case, func, literal, update

from floorsync.db.locking import lock_order, locked_in_order
from floorsync.db.repository import scoped, tenant_filter
from floorsync.db.uow import Work
from floorsync.entities.payloads import job_payload, part_payload
from floorsync.entities.shopfloor.minutes import minutes_between
from floorsync.errors import InvalidStateTransition
from floorsync.lifecycle.rules import Transition, guard_message
from floorsync.models.master import Job, Operation, Part


def status_text(value: Any) -> str:
    return str(getattr(value, "value", value))


def move(
    work: Work, model: Any, id_: uuid.UUID, source: str, target: str, values: dict[str, Any]
) -> bool:
    """`UPDATE model SET status=target, … WHERE id=id_ AND status=source`; True if it applied."""
    stmt = update(model).where(
        tenant_filter(model, work.scope), model.id == id_, model.status == source
    )
    if hasattr(model, "deleted_at"):
        stmt = stmt.where(model.deleted_at.is_(None))
    result = cast(
        CursorResult[Any],
        work.session.execute(
            stmt.values(status=target, updated_at=work.clock.now(), **values).execution_options(
                synchronize_session=False
            )
        ),
    )
    return result.rowcount == 1


def compare_and_set(
    work: Work,
    model: Any,
    row: Any,
    entity: str,
    transition: Transition,
    values: Callable[[Any], dict[str, Any]],
) -> str:
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
        return {
            "entity_type": self.entity_type,
            "id": str(self.id),
            "previous_status": self.previous_status,
            "new_status": self.new_status,
        }


def move_many(
    work: Work,
    model: Any,
    ids: Iterable[uuid.UUID],
    source: str,
    target: str,
    values: dict[str, Any],
) -> set[uuid.UUID]:
    """`move` for many rows in one statement: `UPDATE … WHERE id IN (…) AND status=source
    RETURNING id`. Only the returned ids moved (the compare-and-set holds row by row). The rows
    are locked in the canonical order (db.locking): two batches sharing parts or jobs queue
    instead of deadlocking."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return set()
    stmt = update(model).where(
        tenant_filter(model, work.scope),
        locked_in_order(work.session, model, work.scope, wanted),
        model.status == source,
    )
    if hasattr(model, "deleted_at"):
        stmt = stmt.where(model.deleted_at.is_(None))
    stmt = stmt.values(status=target, updated_at=work.clock.now(), **values).returning(model.id)
    return set(work.session.scalars(stmt.execution_options(synchronize_session=False)))


def load_many(
    work: Work,
    model: Any,
    ids: Iterable[uuid.UUID | None],
    *,
    lock: bool = False,
    fresh: bool = True,
) -> dict[uuid.UUID, Any]:
    """Rows of `model` by id in one query, soft-deleted ones included (refreshed unless
    `fresh` is off; locked in the canonical order of db.locking when asked)."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    stmt = scoped(model, work.scope).where(model.id.in_(wanted)).order_by(model.id)
    if lock:
        dialect = work.session.get_bind().dialect.name
        stmt = stmt.order_by(None).order_by(*lock_order(model, dialect)).with_for_update()
    if fresh:
        stmt = stmt.execution_options(populate_existing=True)
    return {row.id: row for row in work.session.scalars(stmt)}


def _unfinished_many(
    work: Work, model: Any, column: str, parent_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, int]:
    wanted = sorted(set(parent_ids))
    if not wanted:
        return {}
    parent = getattr(model, column)
    stmt = (
        scoped(model, work.scope, include_deleted=False)
        .with_only_columns(parent, func.count())
        .where(
            parent.in_(wanted),
            model.status != "completed",
        )
        .group_by(parent)
    )
    return {key: int(count) for key, count in work.session.execute(stmt).all()}


@dataclass(frozen=True)
class PendingRollUp:
    """A roll-up already applied whose event is recorded after its cause's own event."""

    rolled: RolledUp
    event: str
    payload: dict[str, Any]
    external_source: str | None


def record_roll_ups(work: Work, pending: Iterable[PendingRollUp]) -> list[RolledUp]:
    out = []
    for item in pending:
        work.record(
            item.event,
            item.rolled.entity_type,
            item.rolled.id,
            item.payload,
            external_source=item.external_source,
        )
        out.append(item.rolled)
    return out


def _cause(op: Operation, event: str) -> dict[str, Any]:
    return {"type": event, "entity_id": str(op.id)}


def roll_up_started_many(
    work: Work,
    ops: Sequence[Operation],
    parts: dict[uuid.UUID, Part],
    jobs: dict[uuid.UUID, Job],
    event: str,
) -> dict[uuid.UUID, list[PendingRollUp]]:
    """`roll_up_started` for operations that moved together, in their order: each live part
    and live job follows the first of them under it, with one UPDATE per level. `parts` and
    `jobs` hold the operations' parts and those parts' jobs; moved rows are refreshed in them."""
    now = work.clock.now()
    part_cause: dict[uuid.UUID, Operation] = {}
    job_cause: dict[uuid.UUID, Operation] = {}
    for op in ops:
        part = parts.get(op.part_id)
        if part is None or part.deleted_at is not None:
            continue
        part_cause.setdefault(part.id, op)
        job = jobs.get(part.job_id)
        if job is not None and job.deleted_at is None:
            job_cause.setdefault(job.id, op)
    moved_parts = move_many(
        work,
        Part,
        part_cause,
        "not_started",
        "in_progress",
        {"started_at": func.coalesce(Part.started_at, now)},
    )
    moved_jobs = move_many(
        work,
        Job,
        job_cause,
        "not_started",
        "in_progress",
        {"started_at": func.coalesce(Job.started_at, now)},
    )
    parts.update(load_many(work, Part, moved_parts))
    jobs.update(load_many(work, Job, moved_jobs))
    out: dict[uuid.UUID, list[PendingRollUp]] = {op.id: [] for op in ops}
    for op in ops:
        part = parts.get(op.part_id)
        if part is None or part_cause.get(part.id) is not op:
            continue
        job = jobs.get(part.job_id)
        if part.id in moved_parts:
            out[op.id].append(
                PendingRollUp(
                    RolledUp("part", part.id, "not_started", "in_progress"),
                    "part.started",
                    part_payload(
                        part,
                        job,
                        previous="not_started",
                        new="in_progress",
                        at=now,
                        caused_by=_cause(op, event),
                    ),
                    part.external_source,
                )
            )
    for job_id in moved_jobs:
        op, job = job_cause[job_id], jobs[job_id]
        out[op.id].append(
            PendingRollUp(
                RolledUp("job", job.id, "not_started", "in_progress"),
                "job.started",
                job_payload(
                    job,
                    action=None,
                    previous="not_started",
                    new="in_progress",
                    at=now,
                    caused_by=_cause(op, event),
                ),
                job.external_source,
            )
        )
    return out


def roll_up_completed_many(
    work: Work,
    ops: Sequence[Operation],
    parts: dict[uuid.UUID, Part],
    jobs: dict[uuid.UUID, Job],
    event: str,
) -> dict[uuid.UUID, list[PendingRollUp]]:
    """`roll_up_completed` for operations completed together, in their order: a part completes
    under the first of its operations, a job under the operation whose part was its last to
    complete; one lock, one count and one UPDATE per level and previous status. `parts` holds
    the operations' parts locked (soft-deleted included), `jobs` their jobs; moved rows are
    refreshed in them."""
    now = work.clock.now()
    part_cause: dict[uuid.UUID, Operation] = {}
    for op in ops:
        part = parts.get(op.part_id)
        if (
            part is not None
            and part.deleted_at is None
            and status_text(part.status) in ("not_started", "in_progress")
        ):
            part_cause.setdefault(part.id, op)
    unfinished = _unfinished_many(work, Operation, "part_id", part_cause)
    done = [part_id for part_id in part_cause if not unfinished.get(part_id)]
    moved_parts: set[uuid.UUID] = set()
    for previous in ("not_started", "in_progress"):
        moved_parts |= move_many(
            work,
            Part,
            [i for i in done if status_text(parts[i].status) == previous],
            previous,
            "completed",
            {"completed_at": now},
        )
    previous_of = {i: status_text(parts[i].status) for i in moved_parts}
    parts.update(load_many(work, Part, moved_parts))
    locked = {
        i: job
        for i, job in load_many(
            work, Job, (parts[i].job_id for i in moved_parts), lock=True
        ).items()
        if job.deleted_at is None
    }
    jobs.update(locked)
    job_cause: dict[uuid.UUID, Operation] = {}
    for op in ops:  # the last operation that completed a part of the job
        part = parts.get(op.part_id)
        if (
            part is not None
            and part.id in moved_parts
            and part_cause[part.id] is op
            and part.job_id in locked
        ):
            job_cause[part.job_id] = op
    candidates = [i for i in job_cause if status_text(locked[i].status) == "in_progress"]
    open_parts = _unfinished_many(work, Part, "job_id", candidates)
    finishing = [i for i in candidates if not open_parts.get(i)]
    moved_jobs: set[uuid.UUID] = set()
    if finishing:
        durations = {
            i: minutes_between(locked[i].started_at, now)
            if locked[i].started_at is not None
            else locked[i].actual_duration
            for i in finishing
        }
        duration = case(
            *[(Job.id == i, literal(d, Job.actual_duration.type)) for i, d in durations.items()],
            else_=Job.actual_duration,
        )
        moved_jobs = move_many(
            work,
            Job,
            finishing,
            "in_progress",
            "completed",
            {"completed_at": now, "actual_duration": duration},
        )
        jobs.update(load_many(work, Job, moved_jobs))
    out: dict[uuid.UUID, list[PendingRollUp]] = {op.id: [] for op in ops}
    for op in ops:
        part = parts.get(op.part_id)
        if part is None or part.id not in moved_parts or part_cause[part.id] is not op:
            continue
        job = jobs.get(part.job_id)
        out[op.id].append(
            PendingRollUp(
                RolledUp("part", part.id, previous_of[part.id], "completed"),
                "part.completed",
                part_payload(
                    part,
                    job,
                    previous=previous_of[part.id],
                    new="completed",
                    at=now,
                    caused_by=_cause(op, event),
                ),
                part.external_source,
            )
        )
        if job is not None and job.id in moved_jobs and job_cause[job.id] is op:
            out[op.id].append(
                PendingRollUp(
                    RolledUp("job", job.id, "in_progress", "completed"),
                    "job.completed",
                    job_payload(
                        job,
                        action=None,
                        previous="in_progress",
                        new="completed",
                        at=now,
                        caused_by=_cause(op, event),
                    ),
                    job.external_source,
                )
            )
    return out


# One implementation of each roll-up: an operation moved on its own is a set of one.


def roll_up_started(work: Work, op: Operation, event: str) -> list[RolledUp]:
    """An operation moved to in_progress (by `event`): a not_started part, then a not_started
    job, follow; their events are recorded now. `roll_up_started_many` for a list of one."""
    parts = load_many(work, Part, [op.part_id])
    part = parts.get(op.part_id)
    jobs = load_many(work, Job, [part.job_id if part is not None else None])
    return record_roll_ups(work, roll_up_started_many(work, [op], parts, jobs, event)[op.id])


def roll_up_completed(work: Work, op: Operation, event: str) -> list[RolledUp]:
    """An operation completed (by `event`): its part completes when all its live operations
    are completed, and an in_progress job when all its live parts are; never touches on_hold
    records. `roll_up_completed_many` for a list of one (the part locked first, as there)."""
    parts = load_many(work, Part, [op.part_id], lock=True)
    part = parts.get(op.part_id)
    jobs = load_many(work, Job, [part.job_id if part is not None else None])
    return record_roll_ups(work, roll_up_completed_many(work, [op], parts, jobs, event)[op.id])
