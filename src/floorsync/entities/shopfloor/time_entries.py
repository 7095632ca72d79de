"""Time entries: `api-time-entries` (API §3.8). Time an operator spent on an operation; paused
and resumed in place (`is_paused`), closed by `end_time`, durations without the pauses.

At most one open entry per operator and operation (409); the operation's `actual_time` is
recomputed in the same transaction whenever an entry changes. Closing an entry emits
`time_entry.stopped` instead of `time_entry.updated`.
"""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from floorsync.db.repository import TenantScope
from floorsync.db.uow import Work
from floorsync.entities import fields as F
from floorsync.entities.fields import Kind
from floorsync.entities.operators import changed_operator_uses, operator_names, use_operators
from floorsync.entities.service import (
    diff_values,
    get_row,
    raise_if_invalid,
    record_event,
    resolve_tree,
)
from floorsync.entities.shopfloor.common import (
    delete_shop_record,
    operation_embeds,
    operations_of_job,
    operations_of_part,
    operator_name_input,
)
from floorsync.entities.shopfloor.minutes import minutes_between, seconds_between
from floorsync.entities.shopfloor.timekeeping import open_entry_id, recompute_actual_time
from floorsync.entities.spec import EntitySpec, ListOptions, RefSpec
from floorsync.entities.validation import Record, join, validate_record
from floorsync.errors import Conflict, Detail, ValidationFailed
from floorsync.models.enums import TimeType
from floorsync.models.shopfloor import TimeEntry


def _prepare(work: Work, _spec: EntitySpec, rec: Record, row: TimeEntry | None) -> None:
    v = rec.values
    errors = rec.errors
    if row is None and v.get("start_time") is None:
        v["start_time"] = work.clock.now()
    elif row is not None and "start_time" in v and v["start_time"] is None:
        errors.append(Detail(join(rec.path, "start_time"), "start_time cannot be null", "NOT_NULL"))
        return
    start = v.get("start_time", row.start_time if row is not None else None)
    end = v.get("end_time", row.end_time if row is not None else None)
    if end is not None and start is not None and end < start:
        errors.append(
            Detail(
                join(rec.path, "end_time"),
                "end_time must not be before start_time",
                "INVALID_VALUE",
                F.to_wire(Kind.timestamp, end),
            )
        )
    elif end is not None and start is not None and minutes_between(start, end) > F.INT32_MAX:
        errors.append(
            Detail(
                join(rec.path, "end_time"),
                f"a time entry can last at most {F.INT32_MAX} minutes",
                "MAX_VALUE",
                F.to_wire(Kind.timestamp, end),
            )
        )
    if v.get("is_paused") and end is not None:
        if row is not None and row.is_paused:
            del v["is_paused"]  # closing a paused entry ends its pause
        else:
            errors.append(
                Detail(
                    join(rec.path, "is_paused"),
                    "only an open time entry can be paused",
                    "INVALID_VALUE",
                    True,
                )
            )
    errors.extend(
        use_operators(
            work, changed_operator_uses(rec, row, ("operator_id",), rec.extras.get("operator_name"))
        )
    )
    if errors or end is not None:
        return
    operation_id: uuid.UUID = v.get("operation_id") or row.operation_id  # type: ignore[union-attr]
    operator_id = v.get("operator_id", row.operator_id if row is not None else None)
    reopening = (
        row is None
        or row.end_time is not None
        or operation_id != row.operation_id
        or operator_id != row.operator_id
    )
    if reopening and open_entry_id(
        work, operation_id, str(operator_id), excluding=row.id if row is not None else None
    ):
        message = f"Operator '{operator_id}' already has an open time entry on this operation"
        raise Conflict(
            message,
            [Detail(join(rec.path, "operator_id"), message, "UNIQUE_CONSTRAINT", operator_id)],
        )


def _after_insert(work: Work, _rec: Record, row: TimeEntry) -> None:
    """A new entry: closed ones get their duration, paused ones start their pause now."""
    if row.end_time is not None:
        row.is_paused = False
        row.duration = minutes_between(row.start_time, row.end_time)
    elif row.is_paused:
        row.paused_at = max(work.clock.now(), row.start_time)
    work.session.flush()
    recompute_actual_time(work, [row.operation_id])


def update_time_entry(work: Work, id_: uuid.UUID, body: Any) -> TimeEntry:
    """PATCH/PUT: pause (`is_paused: true`), resume (`false`), close (`end_time`) or correct an
    entry. A no-op writes nothing; closing emits `time_entry.stopped`, anything else
    `time_entry.updated`."""
    rec = validate_record(TIME_ENTRIES, body, "patch")
    raise_if_invalid(TIME_ENTRIES, [rec])
    row: TimeEntry = get_row(work.session, work.scope, TIME_ENTRIES, id_, for_update=True)
    resolve_tree(work, TIME_ENTRIES, [rec], [row])
    raise_if_invalid(TIME_ENTRIES, [rec])
    changes = diff_values(TIME_ENTRIES, row, rec.values)
    if not changes:
        return row
    now = work.clock.now()
    was_open = row.end_time is None
    before = {
        "is_paused": row.is_paused,
        "paused_seconds": row.paused_seconds,
        "duration": row.duration,
    }
    old_operation = row.operation_id
    for name, (_old, new) in changes.items():
        setattr(row, TIME_ENTRIES.by_name[name].attr, TimeType(new) if name == "time_type" else new)
    if row.end_time is None:
        row.duration = None
        if "is_paused" in changes:
            if row.is_paused:
                row.paused_at = now
            elif row.paused_at is not None:
                row.paused_seconds += seconds_between(row.paused_at, now)
                row.paused_at = None
    else:
        if row.paused_at is not None:
            row.paused_seconds += seconds_between(row.paused_at, max(row.end_time, row.paused_at))
            if row.paused_seconds > F.INT32_MAX:  # counted in a 32-bit column
                message = f"a pause can last at most {F.INT32_MAX} seconds (about 68 years)"
                raise ValidationFailed(
                    TIME_ENTRIES.singular,
                    [
                        Detail(
                            "end_time",
                            message,
                            "MAX_VALUE",
                            F.to_wire(Kind.timestamp, row.end_time),
                        )
                    ],
                )
        row.paused_at, row.is_paused = None, False
        if was_open or "start_time" in changes or "end_time" in changes:
            row.duration = minutes_between(row.start_time, row.end_time, row.paused_seconds)
    row.updated_at = now
    work.session.flush()
    recompute_actual_time(work, [old_operation, row.operation_id])
    for name, old in before.items():
        if getattr(row, name) != old and name not in changes:
            changes[name] = (old, getattr(row, name))
    verb = "stopped" if was_open and row.end_time is not None else "updated"
    record_event(work, TIME_ENTRIES, row, verb, changes=changes)
    return row


def delete_time_entry(work: Work, id_: uuid.UUID) -> None:
    row: TimeEntry = get_row(work.session, work.scope, TIME_ENTRIES, id_, for_update=True)
    operation_id = row.operation_id
    delete_shop_record(work, TIME_ENTRIES, row, "operation_id", "operator_id")
    recompute_actual_time(work, [operation_id])


def _extras(
    session: Session, scope: TenantScope, rows: Sequence[TimeEntry], mode: str
) -> dict[Any, dict[str, Any]]:
    names = operator_names(session, scope, (r.operator_id for r in rows))
    if mode == "nested":
        return {r.id: {"operator_name": names.get(r.operator_id)} for r in rows}
    ops = operation_embeds(session, scope, (r.operation_id for r in rows))
    return {
        r.id: {"operator_name": names.get(r.operator_id), "operation": ops.get(r.operation_id)}
        for r in rows
    }


TIME_ENTRIES: EntitySpec[TimeEntry] = EntitySpec(
    name="time_entries",
    singular="time_entry",
    model=TimeEntry,
    fields=(
        F.ref_id("operation_id", required=True),
        F.ident("operator_id", 64, required=True),
        # Output only, at its place in the field order: rendered from the identifier, then
        # replaced by the directory's name (render_extras). On input it is `extra_inputs`.
        F.read_only("operator_name", Kind.string, column="operator_id"),
        F.enum("time_type", TimeType, default="run"),
        F.timestamp("start_time"),
        F.timestamp("end_time"),
        F.boolean("is_paused", False),
        F.read_only("paused_seconds", Kind.integer),
        F.read_only("duration", Kind.integer),
        F.read_only("batch_id", Kind.uuid),
        F.long_text("notes"),
    ),
    synced=False,
    soft_delete=False,
    refs=(RefSpec("operations", "operation_id", "Operation", required=True),),
    natural_key="operator_id",
    listing=ListOptions(
        exact={
            "operation_id": Kind.uuid,
            "part_id": Kind.uuid,
            "job_id": Kind.uuid,
            "operator_id": Kind.string,
            "time_type": Kind.enum,
            "open": Kind.boolean,
        },
        search=("notes",),
        sortable=("start_time", "end_time", "duration", "created_at"),
        default_sort=("start_time", "desc"),
        date_ranges={"start_date": ("start_time", ">="), "end_date": ("start_time", "<=")},
    ),
    render_extras=_extras,
    extra_inputs={"operator_name": operator_name_input},
    prepare=_prepare,
    after_write=_after_insert,
    custom_filters={
        "part_id": lambda stmt, value: stmt.where(
            TimeEntry.operation_id.in_(operations_of_part(value))
        ),
        "job_id": lambda stmt, value: stmt.where(
            TimeEntry.operation_id.in_(operations_of_job(value))
        ),
        "open": lambda stmt, value: stmt.where(
            TimeEntry.end_time.is_(None) if value else TimeEntry.end_time.is_not(None)
        ),
    },
)
