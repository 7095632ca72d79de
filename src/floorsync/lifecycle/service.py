"""Job and operation lifecycles (API §5.2, §5.3): guarded, compare-and-set transitions with
their timestamps, time entries, `actual_time`, roll-up and events, all in the caller's unit
of work. Services never commit."""

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func

from floorsync.db.repository import TenantRepository, scoped
from floorsync.db.uow import Work
from floorsync.entities.operators import OperatorUse, use_operators
from floorsync.entities.payloads import job_payload, operation_payload
from floorsync.entities.service import record_event
from floorsync.entities.shopfloor.minutes import minutes_between
from floorsync.entities.shopfloor.time_entries import TIME_ENTRIES
from floorsync.entities.shopfloor.timekeeping import (
    Changes,
    close_open_entries,
    open_entry,
    open_entry_id,
)
from floorsync.errors import NotFound, ValidationFailed
from floorsync.lifecycle.monitor import resolve_exceptions
from floorsync.lifecycle.rollup import RolledUp, compare_and_set, roll_up_completed, roll_up_started
from floorsync.lifecycle.rules import JOB_ACTIONS, OPERATION_ACTIONS
from floorsync.models.enums import TimeEntryOrigin
from floorsync.models.master import Job, Operation, Part
from floorsync.models.shopfloor import TimeEntry


@dataclass(frozen=True)
class OperatorInput:
    """The operator a lifecycle call names (query `operator_id`/`user_id` or the body)."""

    operator_id: str
    operator_name: str | None = None
    time_type: str = "run"
    notes: str | None = None


def register_operator(work: Work, operator: OperatorInput | None, entity: str) -> None:
    """Register a new identifier; 422 for an inactive operator."""
    if operator is None:
        return
    errors = use_operators(
        work, [OperatorUse("operator_id", operator.operator_id, operator.operator_name)]
    )
    if errors:
        raise ValidationFailed(entity, errors)


# ---------------------------------------------------------------- jobs


def run_job_action(work: Work, job_id: uuid.UUID, action: str) -> tuple[Job, str, str]:
    """Apply a job lifecycle action; returns (job, previous status, new status). Never rolls down."""
    transition = JOB_ACTIONS[action]
    job = TenantRepository(work.session, work.scope, Job).get(job_id)
    if job is None:
        raise NotFound("Job not found")
    now = work.clock.now()

    def values(row: Job) -> dict[str, Any]:
        if action == "start":
            return {"started_at": func.coalesce(Job.started_at, now), "paused_at": None}
        if action == "resume":
            return {"resumed_at": now, "paused_at": None}
        if action == "complete":
            done: dict[str, Any] = {"completed_at": now}
            if row.started_at is not None:
                done["actual_duration"] = minutes_between(row.started_at, now)
            return done
        return {"paused_at": now}  # stop, pause

    previous = compare_and_set(work, Job, job, "job", transition, values)
    work.record(
        transition.event,
        "job",
        job.id,
        job_payload(job, action=action, previous=previous, new=transition.target, at=now),
        external_source=job.external_source,
    )
    return job, previous, transition.target


# ---------------------------------------------------------------- operations


@dataclass
class OperationOutcome:
    operation: Operation
    previous: str
    new: str
    created: TimeEntry | None = None
    ended: list[tuple[TimeEntry, Changes]] = field(default_factory=list)
    rolled_up: list[RolledUp] = field(default_factory=list)


def _operation_values(action: str, now: Any) -> dict[str, Any]:
    # Any lifecycle action clears the Yellow Card's memory (api-catalogue-completion §6.2), so
    # an operation resumed by hand is not touched again when its issue closes.
    held = {"status_before_hold": None}
    if action == "start":
        return {"started_at": func.coalesce(Operation.started_at, now), "paused_at": None, **held}
    if action == "pause":
        return {"paused_at": now, **held}
    if action == "resume":
        return {"resumed_at": now, "paused_at": None, **held}
    return {"completed_at": now, "completion_percentage": 100, **held}


def run_operation_action(
    work: Work, operation_id: uuid.UUID, action: str, operator: OperatorInput | None
) -> OperationOutcome:
    """Apply an operation lifecycle action.

    start/resume with an operator open a time entry for them (unless they already have one open
    on this operation); pause/complete close every open entry and recompute `actual_time`.
    Events: the operation's own, its roll-ups, then the time entries'.
    """
    transition = OPERATION_ACTIONS[action]
    op = TenantRepository(work.session, work.scope, Operation).get(operation_id)
    if op is None:
        raise NotFound("Operation not found")
    register_operator(work, operator, "operation")
    now = work.clock.now()
    previous = compare_and_set(
        work, Operation, op, "operation", transition, lambda _row: _operation_values(action, now)
    )
    outcome = OperationOutcome(op, previous, transition.target)
    if transition.target in ("on_hold", "completed"):
        outcome.ended = close_open_entries(work, [op.id])
        work.session.refresh(op)
    elif operator is not None and open_entry_id(work, op.id, operator.operator_id) is None:
        outcome.created = open_entry(
            work,
            op.id,
            operator.operator_id,
            time_type=operator.time_type,
            notes=operator.notes,
            origin=TimeEntryOrigin.operation_lifecycle,
        )
    record_operation_event(
        work,
        op,
        transition.event,
        action=action,
        previous=previous,
        new=transition.target,
        operator_id=operator.operator_id if operator else None,
    )
    if transition.target == "in_progress":
        outcome.rolled_up = roll_up_started(work, op, transition.event)
    elif transition.target == "completed":
        outcome.rolled_up = roll_up_completed(work, op, transition.event)
        resolve_exceptions(
            work,
            operation_ids=[op.id],
            resolution="operation_completed",
            cause={"type": transition.event, "entity_id": str(op.id)},
        )
    if outcome.created is not None:
        record_event(work, TIME_ENTRIES, outcome.created, "created")
    for entry, changes in outcome.ended:
        record_event(work, TIME_ENTRIES, entry, "stopped", changes=changes)
    return outcome


def record_operation_event(
    work: Work,
    op: Operation,
    event: str,
    *,
    action: str,
    previous: str,
    new: str,
    operator_id: str | None,
    batch_id: uuid.UUID | None = None,
) -> None:
    part = work.session.scalars(scoped(Part, work.scope).where(Part.id == op.part_id)).first()
    job = (
        work.session.scalars(scoped(Job, work.scope).where(Job.id == part.job_id)).first()
        if part is not None
        else None
    )
    record_operation_event_with(
        work,
        op,
        part,
        job,
        event,
        action=action,
        previous=previous,
        new=new,
        operator_id=operator_id,
        batch_id=batch_id,
    )


def record_operation_event_with(
    work: Work,
    op: Operation,
    part: Part | None,
    job: Job | None,
    event: str,
    *,
    action: str,
    previous: str,
    new: str,
    operator_id: str | None,
    batch_id: uuid.UUID | None = None,
) -> None:
    """`record_operation_event` with the operation's part and job already loaded (batches load
    them for all their operations at once)."""
    payload = operation_payload(
        op,
        part,
        job,
        action=action,
        previous=previous,
        new=new,
        at=work.clock.now(),
        operator_id=operator_id,
        batch_id=batch_id,
    )
    work.record(event, "operation", op.id, payload, external_source=op.external_source)
