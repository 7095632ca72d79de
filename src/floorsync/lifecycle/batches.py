"""Batch lifecycle (API §5.4): `start` moves the batch's not-started operations to in progress
(opening time entries with an operator), `stop` completes them and splits the elapsed time over
them exactly, `add-operations` appends members to a draft or ready batch."""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func

from floorsync.db.repository import TenantRepository
from floorsync.db.uow import Work
from floorsync.entities.render import render_rows
from floorsync.entities.service import record_event
from floorsync.entities.shopfloor.batches import (
    BATCHES,
    add_members,
    batch_payload,
    check_not_batched,
    member_rows,
    missing_operations,
)
from floorsync.entities.shopfloor.minutes import (
    DistributionMethod,
    distribute,
    minutes_between,
    split_evenly,
)
from floorsync.entities.shopfloor.time_entries import TIME_ENTRIES
from floorsync.entities.shopfloor.timekeeping import (
    Changes,
    changes_since,
    close_entry,
    open_entries,
    open_entries_for,
    operators_open_entries,
    recompute_actual_time,
    snapshot,
)
from floorsync.errors import Detail, InvalidStateTransition, NotFound, ValidationFailed
from floorsync.lifecycle.monitor import resolve_exceptions
from floorsync.lifecycle.rollup import (
    PendingRollUp,
    RolledUp,
    compare_and_set,
    load_many,
    move_many,
    record_roll_ups,
    roll_up_completed_many,
    roll_up_started_many,
    status_text,
)
from floorsync.lifecycle.rules import BATCH_ACTIONS, BATCH_OPEN_STATUSES
from floorsync.lifecycle.service import (
    OperatorInput,
    record_operation_event_with,
    register_operator,
)
from floorsync.models.enums import ProductionMode, TimeEntryOrigin
from floorsync.models.master import Job, Operation, Part
from floorsync.models.shopfloor import Batch, TimeEntry


def _batch(work: Work, batch_id: uuid.UUID, *, lock: bool = False) -> Batch:
    batch = TenantRepository(work.session, work.scope, Batch).get(batch_id, for_update=lock)
    if batch is None:
        raise NotFound("Batch not found")
    return batch


def _monitoring(operator: OperatorInput | None) -> str:
    return "operator" if operator is not None else "machine"


@dataclass
class BatchOutcome:
    batch: Batch
    previous: str
    new: str
    monitoring_source: str = "machine"
    operations_moved: int = 0
    entries_created: list[TimeEntry] = field(default_factory=list)
    entries_ended: list[tuple[TimeEntry, Changes]] = field(default_factory=list)
    total_minutes: int = 0
    method: DistributionMethod = "none"
    distribution: list[dict[str, Any]] = field(default_factory=list)
    rolled_up: list[RolledUp] = field(default_factory=list)


def _parents(
    work: Work, ops: list[Operation], *, lock: bool = False
) -> tuple[dict[uuid.UUID, Part], dict[uuid.UUID, Job]]:
    """The operations' parts (locked when asked) and those parts' jobs, soft-deleted ones
    included: one query per level."""
    parts: dict[uuid.UUID, Part] = load_many(work, Part, (op.part_id for op in ops), lock=lock)
    jobs: dict[uuid.UUID, Job] = load_many(
        work, Job, (part.job_id for part in parts.values()), fresh=False
    )
    return parts, jobs


def _record_operations(
    work: Work,
    outcome: BatchOutcome,
    ops: list[tuple[Operation, str]],
    parts: dict[uuid.UUID, Part],
    jobs: dict[uuid.UUID, Job],
    roll_ups: dict[uuid.UUID, list[PendingRollUp]],
    *,
    event: str,
    action: str,
    new: str,
    operator_id: str | None,
) -> None:
    """Each moved operation's event followed by its roll-ups' events, in batch order."""
    for op, was in ops:
        part = parts.get(op.part_id)
        job = jobs.get(part.job_id) if part is not None else None
        record_operation_event_with(
            work,
            op,
            part,
            job,
            event,
            action=action,
            previous=was,
            new=new,
            operator_id=operator_id,
            batch_id=outcome.batch.id,
        )
        outcome.rolled_up += record_roll_ups(work, roll_ups[op.id])


def start_batch(work: Work, batch_id: uuid.UUID, operator: OperatorInput | None) -> BatchOutcome:
    """draft/ready → in_progress. Events: batch.started, operation.started (each followed by
    its roll-ups), time_entry.created. Set-based: the statements don't grow with the batch."""
    batch = _batch(work, batch_id)
    if operator is None and batch.production_mode != ProductionMode.automated:
        raise ValidationFailed(
            "batch",
            [Detail("operator_id", "operator_id is required for manual batches", "NOT_NULL")],
        )
    register_operator(work, operator, "batch")
    now = work.clock.now()
    operator_id = operator.operator_id if operator else None
    previous = compare_and_set(
        work,
        Batch,
        batch,
        "batch",
        BATCH_ACTIONS["start"],
        lambda _row: {"started_at": now, "started_by": operator_id},
    )
    members = [op for _m, op in member_rows(work, batch.id)]
    if not members:
        raise InvalidStateTransition("Cannot start batch with no operations")
    live = [op for op in members if op.deleted_at is None]
    outcome = BatchOutcome(batch, previous, "in_progress", monitoring_source=_monitoring(operator))
    moved = move_many(
        work,
        Operation,
        [op.id for op in live if status_text(op.status) == "not_started"],
        "not_started",
        "in_progress",
        {
            "started_at": func.coalesce(Operation.started_at, now),
            "paused_at": None,
            "status_before_hold": None,  # a lifecycle action: the Yellow Card forgets (§6.2)
        },
    )
    load_many(work, Operation, (op.id for op in live))  # refreshes the members in place
    started = [op for op in live if op.id in moved]
    if operator is not None:
        pending = [op.id for op in live if status_text(op.status) != "completed"]
        having = operators_open_entries(work, pending, operator.operator_id)
        outcome.entries_created = open_entries_for(
            work,
            [i for i in pending if i not in having],
            operator.operator_id,
            time_type=operator.time_type,
            batch_id=batch.id,
            origin=TimeEntryOrigin.batch_lifecycle,
        )
    outcome.operations_moved = len(started)
    work.record(
        "batch.started",
        "batch",
        batch.id,
        batch_payload(
            batch,
            previous=previous,
            new="in_progress",
            monitoring_source=outcome.monitoring_source,
            operator_id=operator_id,
            operation_ids=[str(op.id) for op in members],
        ),
    )
    parts, jobs = _parents(work, started)
    roll_ups = roll_up_started_many(work, started, parts, jobs, "operation.started")
    _record_operations(
        work,
        outcome,
        [(op, "not_started") for op in started],
        parts,
        jobs,
        roll_ups,
        event="operation.started",
        action="start",
        new="in_progress",
        operator_id=operator_id,
    )
    rendered = render_rows(work.session, work.scope, TIME_ENTRIES, outcome.entries_created, "event")
    for entry, record in zip(outcome.entries_created, rendered, strict=True):
        record_event(work, TIME_ENTRIES, entry, "created", rendered=record)
    return outcome


def _complete(work: Work, live: list[Operation], now: Any) -> dict[uuid.UUID, str]:
    """Complete every live operation that isn't: one compare-and-set UPDATE per status it was
    read in; a lost race re-reads the losers and tries again (three rounds, as `move` callers
    do). Returns the status each completed operation came from."""
    previous: dict[uuid.UUID, str] = {}
    pending = {
        op.id: status_text(op.status) for op in live if status_text(op.status) != "completed"
    }
    for attempt in range(3):
        for status in sorted(set(pending.values())):
            ids = [i for i, was in pending.items() if was == status]
            for i in move_many(
                work,
                Operation,
                ids,
                status,
                "completed",
                {"completed_at": now, "completion_percentage": 100, "status_before_hold": None},
            ):
                previous[i] = status
        lost = [i for i in pending if i not in previous]
        if not lost or attempt == 2:
            break
        pending = {
            i: status_text(row.status)
            for i, row in load_many(work, Operation, lost).items()
            if row.deleted_at is None and status_text(row.status) != "completed"
        }
    return previous


def stop_batch(work: Work, batch_id: uuid.UUID, operator: OperatorInput | None) -> BatchOutcome:
    """in_progress → completed: close the participants' open entries with their exact share of
    the elapsed time, complete every member operation. Events: batch.completed,
    operation.completed (each followed by its roll-ups), time_entry.stopped. Set-based: the
    statements don't grow with the batch."""
    batch = _batch(work, batch_id)
    register_operator(work, operator, "batch")
    now = work.clock.now()
    operator_id = operator.operator_id if operator else None
    previous = compare_and_set(
        work,
        Batch,
        batch,
        "batch",
        BATCH_ACTIONS["stop"],
        lambda _row: {"completed_at": now, "completed_by": operator_id},
    )
    members = [op for _m, op in member_rows(work, batch.id)]
    live = [op for op in members if op.deleted_at is None]
    outcome = BatchOutcome(batch, previous, "completed")
    # An operator named now, or the one who started the batch, means people tracked it.
    outcome.monitoring_source = (
        "operator" if operator is not None or batch.started_by else "machine"
    )

    entries: dict[uuid.UUID, list[TimeEntry]] = defaultdict(list)
    for entry in open_entries(work, (op.id for op in live)):
        entries[entry.operation_id].append(entry)
    participants = [op for op in live if entries.get(op.id)]
    if participants:
        earliest = min(e.start_time for op in participants for e in entries[op.id])
        outcome.total_minutes = minutes_between(earliest, now)
        outcome.method, shares = distribute(
            outcome.total_minutes, [op.estimated_time for op in participants]
        )
        for op, share in zip(participants, shares, strict=True):
            outcome.distribution.append({"id": str(op.id), "minutes": share})
            own = entries[op.id]  # earliest first
            for entry, minutes in zip(own, split_evenly(share, len(own)), strict=True):
                before = snapshot(entry)
                close_entry(entry, now, now, duration=minutes)
                outcome.entries_ended.append((entry, changes_since(entry, before)))
        work.session.flush()
        recompute_actual_time(work, (op.id for op in participants))

    moved = _complete(work, live, now)
    load_many(work, Operation, (op.id for op in live))  # refreshes the members in place
    completed = [(op, moved[op.id]) for op in live if op.id in moved]
    outcome.operations_moved = len(completed)
    batch.actual_time = Decimal(outcome.total_minutes)
    work.session.flush()

    work.record(
        "batch.completed",
        "batch",
        batch.id,
        batch_payload(
            batch,
            previous=previous,
            new="completed",
            monitoring_source=outcome.monitoring_source,
            operator_id=operator_id,
            total_minutes=outcome.total_minutes,
            distribution=outcome.distribution,
            operation_ids=[str(op.id) for op in members],
        ),
    )
    resolve_exceptions(
        work,
        batch_id=batch.id,
        resolution="batch_completed",
        cause={"type": "batch.completed", "entity_id": str(batch.id)},
    )
    ops = [op for op, _was in completed]
    parts, jobs = _parents(work, ops, lock=True)
    roll_ups = roll_up_completed_many(work, ops, parts, jobs, "operation.completed")
    _record_operations(
        work,
        outcome,
        completed,
        parts,
        jobs,
        roll_ups,
        event="operation.completed",
        action="complete",
        new="completed",
        operator_id=operator_id,
    )
    rendered = render_rows(
        work.session,
        work.scope,
        TIME_ENTRIES,
        [entry for entry, _ in outcome.entries_ended],
        "event",
    )
    for (entry, changes), record in zip(outcome.entries_ended, rendered, strict=True):
        record_event(work, TIME_ENTRIES, entry, "stopped", changes=changes, rendered=record)
    return outcome


def add_operations(
    work: Work, batch_id: uuid.UUID, operation_ids: list[uuid.UUID]
) -> tuple[Batch, str]:
    """Append operations to a draft or ready batch (all or nothing). Event: batch.updated with
    changed field `operations`."""
    batch = _batch(work, batch_id, lock=True)
    missing = missing_operations(work, operation_ids)
    if missing:
        raise ValidationFailed("batch", missing)
    status = status_text(batch.status)
    if status not in BATCH_OPEN_STATUSES:
        raise InvalidStateTransition(f"Cannot add operations to a batch in '{status}' status")
    check_not_batched(work, operation_ids)
    before = [str(op.id) for _m, op in member_rows(work, batch.id)]
    add_members(work, batch, operation_ids)
    batch.updated_at = work.clock.now()
    work.session.flush()
    after = before + [str(i) for i in operation_ids]
    record_event(work, BATCHES, batch, "updated", changes={"operations": (before, after)})
    return batch, status
