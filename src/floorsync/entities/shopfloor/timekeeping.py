"""Opening and closing time entries and keeping `operations.actual_time` equal to the sum of the
closed entries' durations (API §3.8, data model §6.3). Shared by `api-time-entries` and the
operation and batch lifecycles; callers record the events, in the order their action needs."""

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from floorsync.db.repository import scoped, tenant_filter
from floorsync.db.uow import Work
from floorsync.entities.fields import INT32_MAX
from floorsync.entities.shopfloor.minutes import minutes_between, seconds_between
from floorsync.kit.ids import new_id
from floorsync.models.enums import TimeEntryOrigin, TimeType
from floorsync.models.master import Operation
from floorsync.models.shopfloor import TimeEntry


def open_entry_id(
    work: Work, operation_id: uuid.UUID, operator_id: str, *, excluding: uuid.UUID | None = None
) -> uuid.UUID | None:
    """The operator's open entry on the operation, if any."""
    stmt = (
        scoped(TimeEntry, work.scope)
        .with_only_columns(TimeEntry.id)
        .where(
            TimeEntry.operation_id == operation_id,
            TimeEntry.operator_id == operator_id,
            TimeEntry.end_time.is_(None),
        )
    )
    if excluding is not None:
        stmt = stmt.where(TimeEntry.id != excluding)
    return work.session.scalar(stmt.limit(1))


def open_entries(work: Work, operation_ids: Iterable[uuid.UUID]) -> list[TimeEntry]:
    """Open entries of the operations, earliest first (locked on PostgreSQL)."""
    ids = list(set(operation_ids))
    if not ids:
        return []
    stmt = (
        scoped(TimeEntry, work.scope)
        .where(TimeEntry.operation_id.in_(ids), TimeEntry.end_time.is_(None))
        .order_by(TimeEntry.start_time, TimeEntry.id)
        .with_for_update()
    )
    return list(work.session.scalars(stmt))


def operators_open_entries(
    work: Work, operation_ids: Iterable[uuid.UUID], operator_id: str
) -> set[uuid.UUID]:
    """The operations among `operation_ids` the operator has an open entry on (one query)."""
    ids = sorted(set(operation_ids))
    if not ids:
        return set()
    stmt = (
        scoped(TimeEntry, work.scope)
        .with_only_columns(TimeEntry.operation_id)
        .where(
            TimeEntry.operation_id.in_(ids),
            TimeEntry.operator_id == operator_id,
            TimeEntry.end_time.is_(None),
        )
        .distinct()
    )
    return set(work.session.scalars(stmt))


def open_entries_for(
    work: Work,
    operation_ids: Sequence[uuid.UUID],
    operator_id: str,
    *,
    time_type: str = TimeType.run,
    notes: str | None = None,
    batch_id: uuid.UUID | None = None,
    origin: TimeEntryOrigin,
) -> list[TimeEntry]:
    """`open_entry` for several operations, in their order, inserted with one flush."""
    now = work.clock.now()
    rows = [
        TimeEntry(
            id=new_id(),
            tenant_id=work.scope.tenant_id,
            operation_id=operation_id,
            operator_id=operator_id,
            time_type=TimeType(time_type),
            start_time=now,
            end_time=None,
            is_paused=False,
            paused_at=None,
            paused_seconds=0,
            duration=None,
            batch_id=batch_id,
            origin=origin,
            notes=notes,
            created_at=now,
            updated_at=now,
        )
        for operation_id in operation_ids
    ]
    if rows:
        work.session.add_all(rows)
        work.session.flush()
    return rows


def open_entry(
    work: Work,
    operation_id: uuid.UUID,
    operator_id: str,
    *,
    time_type: str = TimeType.run,
    notes: str | None = None,
    batch_id: uuid.UUID | None = None,
    origin: TimeEntryOrigin,
) -> TimeEntry:
    """Insert an open entry starting now."""
    now = work.clock.now()
    row = TimeEntry(
        id=new_id(),
        tenant_id=work.scope.tenant_id,
        operation_id=operation_id,
        operator_id=operator_id,
        time_type=TimeType(time_type),
        start_time=now,
        end_time=None,
        is_paused=False,
        paused_at=None,
        paused_seconds=0,
        duration=None,
        batch_id=batch_id,
        origin=origin,
        notes=notes,
        created_at=now,
        updated_at=now,
    )
    work.session.add(row)
    work.session.flush()
    return row


def end_pause(entry: TimeEntry, at: datetime) -> None:
    """Fold a running pause into `paused_seconds` (a pause ends when the entry resumes or closes)."""
    if entry.is_paused and entry.paused_at is not None:
        entry.paused_seconds += seconds_between(entry.paused_at, max(at, entry.paused_at))
    entry.is_paused = False
    entry.paused_at = None


def close_entry(
    entry: TimeEntry, end: datetime, now: datetime, *, duration: int | None = None
) -> None:
    """Close an open entry at `end`; its duration excludes pauses unless a share is given."""
    end_pause(entry, end)
    entry.end_time = max(end, entry.start_time)
    entry.duration = (
        duration
        if duration is not None
        else minutes_between(entry.start_time, entry.end_time, entry.paused_seconds)
    )
    entry.updated_at = now


def recompute_actual_time(work: Work, operation_ids: Iterable[uuid.UUID | None]) -> None:
    """`actual_time` = sum of `duration` over the operation's closed entries. Emits no event
    (the time-entry or lifecycle event of the same change covers it); touches `updated_at`
    only when the value really changes."""
    ids = sorted({i for i in operation_ids if i is not None})
    if not ids:
        return
    work.session.flush()
    totals = dict(
        work.session.execute(
            scoped(TimeEntry, work.scope)
            .with_only_columns(
                TimeEntry.operation_id, func.coalesce(func.sum(TimeEntry.duration), 0)
            )
            .where(TimeEntry.operation_id.in_(ids), TimeEntry.end_time.is_not(None))
            .group_by(TimeEntry.operation_id)
        ).all()
    )
    current = dict(
        work.session.execute(
            select(Operation.id, Operation.actual_time).where(
                tenant_filter(Operation, work.scope), Operation.id.in_(ids)
            )
        ).all()
    )
    now = work.clock.now()
    # Saturates at the column's maximum (about 4000 years of minutes) rather than overflow it.
    summed = {op_id: min(int(totals.get(op_id) or 0), INT32_MAX) for op_id in current}
    changed = {op_id: summed[op_id] for op_id, old in current.items() if summed[op_id] != old}
    if not changed:
        return
    table = cast(Table, Operation.__table__)
    work.session.execute(  # one executemany, however many operations changed
        update(table)
        .where(tenant_filter(table, work.scope), table.c.id == bindparam("changed_id"))
        .values(actual_time=bindparam("changed_time"), updated_at=now),
        [{"changed_id": op_id, "changed_time": new} for op_id, new in changed.items()],
    )
    for op_id, new in changed.items():  # what synchronize_session did for loaded rows
        row = work.session.identity_map.get(identity_key(Operation, op_id))
        if row is not None:
            set_committed_value(row, "actual_time", new)
            set_committed_value(row, "updated_at", now)


Changes = dict[str, tuple[Any, Any]]

_CLOSING_FIELDS = ("end_time", "is_paused", "paused_seconds", "duration")


def snapshot(entry: TimeEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in _CLOSING_FIELDS}


def changes_since(entry: TimeEntry, before: dict[str, Any]) -> Changes:
    """The stored fields a close changed, for the `time_entry.stopped` event."""
    return {
        name: (old, getattr(entry, name))
        for name, old in before.items()
        if getattr(entry, name) != old
    }


def close_open_entries(
    work: Work, operation_ids: Sequence[uuid.UUID]
) -> list[tuple[TimeEntry, Changes]]:
    """Close every open entry of the operations now (pauses subtracted) and recompute the
    operations' `actual_time`; returns the entries with what changed on each."""
    entries = open_entries(work, operation_ids)
    now = work.clock.now()
    out: list[tuple[TimeEntry, Changes]] = []
    for entry in entries:
        before = snapshot(entry)
        close_entry(entry, now, now)
        out.append((entry, changes_since(entry, before)))
    work.session.flush()
    recompute_actual_time(work, operation_ids)
    return out
