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
from floorsync.entities.service import record_event
from floorsync.errors import Detail, InvalidStateTransition, NotFound, ValidationFailed
from floorsync.lifecycle.payloads import batch_payload
from floorsync.lifecycle.rollup import (
    RolledUp,
    compare_and_set,
    move,
    roll_up_completed,
    roll_up_started,
    status_text,
)
from floorsync.lifecycle.rules import BATCH_ACTIONS, BATCH_OPEN_STATUSES
from floorsync.lifecycle.service import OperatorInput, record_operation_event, register_operator
from floorsync.models.enums import ProductionMode, TimeEntryOrigin
from floorsync.models.master import Operation
from floorsync.models.shopfloor import Batch, TimeEntry
from floorsync.shopfloor.batches import (
    BATCHES,
    add_members,
    check_not_batched,
    member_rows,
    missing_operations,
)
from floorsync.shopfloor.minutes import (
    DistributionMethod,
    distribute,
    minutes_between,
    split_evenly,
)
from floorsync.shopfloor.time_entries import TIME_ENTRIES
from floorsync.shopfloor.timekeeping import (
    Changes,
    changes_since,
    close_entry,
    open_entries,
    open_entry,
    open_entry_id,
    recompute_actual_time,
    snapshot,
)


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


def start_batch(work: Work, batch_id: uuid.UUID, operator: OperatorInput | None) -> BatchOutcome:
    """draft/ready → in_progress. Events: batch.started, operation.started (each followed by
    its roll-ups), time_entry.created."""
    batch = _batch(work, batch_id)
    if operator is None and batch.production_mode != ProductionMode.automated:
        raise ValidationFailed("batch", [Detail("operator_id", "operator_id is required for manual batches", "NOT_NULL")])
    register_operator(work, operator, "batch")
    now = work.clock.now()
    operator_id = operator.operator_id if operator else None
    previous = compare_and_set(work, Batch, batch, "batch", BATCH_ACTIONS["start"],
                               lambda _row: {"started_at": now, "started_by": operator_id})
    members = [op for _m, op in member_rows(work, batch.id)]
    if not members:
        raise InvalidStateTransition("Cannot start batch with no operations")
    live = [op for op in members if op.deleted_at is None]
    outcome = BatchOutcome(batch, previous, "in_progress", monitoring_source=_monitoring(operator))
    started: list[Operation] = []
    for op in live:
        if status_text(op.status) == "not_started" and move(
            work, Operation, op.id, "not_started", "in_progress",
            {"started_at": func.coalesce(Operation.started_at, now), "paused_at": None},
        ):
            started.append(op)
        work.session.refresh(op)
    if operator is not None:
        for op in live:
            if status_text(op.status) != "completed" and open_entry_id(work, op.id, operator.operator_id) is None:
                outcome.entries_created.append(open_entry(
                    work, op.id, operator.operator_id, time_type=operator.time_type, batch_id=batch.id,
                    origin=TimeEntryOrigin.batch_lifecycle,
                ))
    outcome.operations_moved = len(started)
    work.record("batch.started", "batch", batch.id, batch_payload(
        batch, previous=previous, new="in_progress", monitoring_source=outcome.monitoring_source, operator_id=operator_id,
        operation_ids=[str(op.id) for op in members],
    ))
    for op in started:
        record_operation_event(work, op, "operation.started", action="start", previous="not_started", new="in_progress",
                               operator_id=operator_id, batch_id=batch.id)
        outcome.rolled_up += roll_up_started(work, op, {"type": "operation.started", "entity_id": str(op.id)})
    for entry in outcome.entries_created:
        record_event(work, TIME_ENTRIES, entry, "created")
    return outcome


def stop_batch(work: Work, batch_id: uuid.UUID, operator: OperatorInput | None) -> BatchOutcome:
    """in_progress → completed: close the participants' open entries with their exact share of
    the elapsed time, complete every member operation. Events: batch.completed,
    operation.completed (each followed by its roll-ups), time_entry.stopped."""
    batch = _batch(work, batch_id)
    register_operator(work, operator, "batch")
    now = work.clock.now()
    operator_id = operator.operator_id if operator else None
    previous = compare_and_set(work, Batch, batch, "batch", BATCH_ACTIONS["stop"],
                               lambda _row: {"completed_at": now, "completed_by": operator_id})
    members = [op for _m, op in member_rows(work, batch.id)]
    live = [op for op in members if op.deleted_at is None]
    outcome = BatchOutcome(batch, previous, "completed")
    # An operator named now, or the one who started the batch, means people tracked it.
    outcome.monitoring_source = "operator" if operator is not None or batch.started_by else "machine"

    entries: dict[uuid.UUID, list[TimeEntry]] = defaultdict(list)
    for entry in open_entries(work, (op.id for op in live)):
        entries[entry.operation_id].append(entry)
    participants = [op for op in live if entries.get(op.id)]
    if participants:
        earliest = min(e.start_time for op in participants for e in entries[op.id])
        outcome.total_minutes = minutes_between(earliest, now)
        outcome.method, shares = distribute(outcome.total_minutes, [op.estimated_time for op in participants])
        for op, share in zip(participants, shares, strict=True):
            outcome.distribution.append({"id": str(op.id), "minutes": share})
            own = entries[op.id]  # earliest first
            for entry, minutes in zip(own, split_evenly(share, len(own)), strict=True):
                before = snapshot(entry)
                close_entry(entry, now, now, duration=minutes)
                outcome.entries_ended.append((entry, changes_since(entry, before)))
        work.session.flush()
        recompute_actual_time(work, (op.id for op in participants))

    completed: list[tuple[Operation, str]] = []
    for op in live:
        work.session.refresh(op)
        for _attempt in range(3):
            status = status_text(op.status)
            if status == "completed":
                break
            if move(work, Operation, op.id, status, "completed", {"completed_at": now, "completion_percentage": 100}):
                completed.append((op, status))
                work.session.refresh(op)
                break
            work.session.refresh(op)
    outcome.operations_moved = len(completed)
    batch.actual_time = Decimal(outcome.total_minutes)
    work.session.flush()

    work.record("batch.completed", "batch", batch.id, batch_payload(
        batch, previous=previous, new="completed", monitoring_source=outcome.monitoring_source, operator_id=operator_id,
        total_minutes=outcome.total_minutes, distribution=outcome.distribution, operation_ids=[str(op.id) for op in members],
    ))
    for op, was in completed:
        record_operation_event(work, op, "operation.completed", action="complete", previous=was, new="completed",
                               operator_id=operator_id, batch_id=batch.id)
        outcome.rolled_up += roll_up_completed(work, op, {"type": "operation.completed", "entity_id": str(op.id)})
    for entry, changes in outcome.entries_ended:
        record_event(work, TIME_ENTRIES, entry, "stopped", changes=changes)
    return outcome


def add_operations(work: Work, batch_id: uuid.UUID, operation_ids: list[uuid.UUID]) -> tuple[Batch, str]:
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
