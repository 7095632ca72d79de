"""Substeps: `api-substeps` (api-catalogue-completion §7). Checklist steps inside an operation.

`name` is also accepted as `description` (Eryxon's documented name); `completed: true` means
status `completed`, `false` un-completes a completed step (a `status` that disagrees is 422
ALIAS_CONFLICT). Entering `completed` stamps `completed_at`, leaving it clears `completed_at` and
`completed_by`. An omitted `sequence` is the operation's highest + 1. The step that becomes
completed emits `substep.completed` instead of `substep.updated`. Substeps survive their
operation's soft delete and go with its hard delete (one `substep.deleted` each).
"""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import Session

from floorsync.db.repository import TenantScope, scoped
from floorsync.db.uow import Work
from floorsync.entities import fields as F
from floorsync.entities import service
from floorsync.entities.embeds import load_by_id
from floorsync.entities.fields import FieldError, Kind
from floorsync.entities.openapi import obj
from floorsync.entities.operators import changed_operator_uses, use_operators
from floorsync.entities.shopfloor.common import (
    delete_shop_record,
    operations_of_job,
    operations_of_part,
)
from floorsync.entities.spec import EntitySpec, ListOptions, RefSpec
from floorsync.entities.validation import ExtraErrors, Record, join, validate_record
from floorsync.errors import Detail
from floorsync.models.catalogue import Substep
from floorsync.models.enums import SubstepStatus
from floorsync.models.master import Operation

_COMPLETED = F.boolean("completed", False)
DONE = SubstepStatus.completed.value


def _completed_input(value: Any, where: str) -> bool:
    try:
        return bool(_COMPLETED.coerce(value))
    except FieldError as err:
        raise ExtraErrors([err.detail(where, value)]) from None


def _value(x: Any) -> Any:
    return x.value if hasattr(x, "value") else x


def _prepare(work: Work, _spec: EntitySpec, rec: Record, row: Substep | None) -> None:
    v = rec.values
    if row is not None and "operation_id" in v and v["operation_id"] != row.operation_id:
        rec.errors.append(
            Detail(
                join(rec.path, "operation_id"),
                "operation_id cannot be changed",
                "INVALID_VALUE",
                str(v["operation_id"]),
            )
        )
        return
    old = _value(row.status) if row is not None else SubstepStatus.not_started.value
    completed = rec.extras.get("completed")
    if completed is not None:
        wanted = DONE if completed else (SubstepStatus.not_started.value if old == DONE else old)
        if "status" in v and (v["status"] == DONE) != completed:
            rec.errors.append(
                Detail(
                    join(rec.path, "completed"),
                    "completed and status disagree",
                    "ALIAS_CONFLICT",
                    completed,
                )
            )
            return
        v.setdefault("status", wanted)
    new = v.get("status", old)
    if new == DONE and old != DONE:
        v["completed_at"] = work.clock.now()
    elif new != DONE:
        if row is None or row.completed_at is not None:
            v["completed_at"] = None
        if row is None or row.completed_by is not None or "completed_by" in v:
            v["completed_by"] = None  # an operator is kept only while completed
    rec.errors.extend(use_operators(work, changed_operator_uses(rec, row, ("completed_by",))))


def _next_sequence(work: Work, values: dict[str, Any]) -> None:
    if values.get("sequence") is not None:
        return
    highest = work.session.scalar(
        scoped(Substep, work.scope)
        .with_only_columns(func.max(Substep.sequence))
        .where(Substep.operation_id == values["operation_id"])
    )
    values["sequence"] = min((highest or 0) + 1, F.INT32_MAX)


def update_substep(work: Work, id_: uuid.UUID, body: Any) -> Substep:
    """PATCH/PUT: merge; `substep.completed` instead of `substep.updated` on completion."""
    rec = validate_record(SUBSTEPS, body, "patch")
    service.raise_if_invalid(SUBSTEPS, [rec])
    row: Substep = service.get_row(work.session, work.scope, SUBSTEPS, id_, for_update=True)
    was = _value(row.status)
    service.resolve_tree(work, SUBSTEPS, [rec], [row])
    service.raise_if_invalid(SUBSTEPS, [rec])
    changes = service.apply_changes(work, SUBSTEPS, row, rec, event=False)
    if changes:
        verb = "completed" if _value(row.status) == DONE and was != DONE else "updated"
        service.record_event(work, SUBSTEPS, row, verb, changes=changes)
    return row


def delete_substep(work: Work, id_: uuid.UUID) -> None:
    row = service.get_row(work.session, work.scope, SUBSTEPS, id_, for_update=True)
    delete_shop_record(work, SUBSTEPS, row, "operation_id", "name")


def record_cascaded_deletes(
    work: Work, operation_ids: Sequence[uuid.UUID], cause: dict[str, Any]
) -> None:
    """`substep.deleted` for each substep of operations being hard-deleted (the rows go by the
    database's CASCADE)."""
    if not operation_ids:
        return
    rows = work.session.scalars(
        scoped(Substep, work.scope)
        .where(Substep.operation_id.in_(list(operation_ids)))
        .order_by(Substep.operation_id, Substep.sequence, Substep.id)
    )
    for row in rows:
        service.record_delete(work, SUBSTEPS, row, hard=True, caused_by=cause)


def _extras(
    session: Session, scope: TenantScope, rows: Sequence[Any], mode: str
) -> dict[Any, dict[str, Any]]:
    if mode == "nested":
        return {}
    ops = load_by_id(session, scope, Operation, (r.operation_id for r in rows))

    def embed(op_id: uuid.UUID) -> dict[str, Any] | None:
        op = ops.get(op_id)
        if op is None:
            return None
        return {"id": str(op.id), "operation_name": op.operation_name, "sequence": op.sequence}

    return {r.id: {"operation": embed(r.operation_id)} for r in rows}


def _completed_filter(stmt: Any, value: Any) -> Any:
    return stmt.where(Substep.status == DONE if value else Substep.status != DONE)


SUBSTEPS = EntitySpec(
    name="substeps",
    singular="substep",
    model=Substep,
    fields=(
        F.ref_id("operation_id", required=True),
        F.ident("name", 255, required=True),
        F.integer("sequence", min_value=1, nullable=False),
        F.enum("status", SubstepStatus, "not_started"),
        F.read_only("completed", Kind.boolean),
        F.short("icon_name", 100),
        F.long_text("notes"),
        F.read_only("completed_at", Kind.timestamp),
        F.ident("completed_by", 64),
    ),
    synced=False,
    soft_delete=False,
    aliases={"description": "name"},
    refs=(RefSpec("operations", "operation_id", "Operation", required=True),),
    natural_key="name",
    tombstone_extra=("operation_id",),
    listing=ListOptions(
        exact={
            "operation_id": Kind.uuid,
            "part_id": Kind.uuid,
            "job_id": Kind.uuid,
            "status": Kind.enum,
            "completed": Kind.boolean,
        },
        search=("name", "notes"),
        sortable=("sequence", "status", "created_at", "updated_at"),
        default_sort=("sequence", "asc"),
        secondary_sort="created_at",
    ),
    render_extras=_extras,
    extra_inputs={"completed": _completed_input},
    extra_input_schemas={"completed": {"type": "boolean", "description": "true: status completed"}},
    prepare=_prepare,
    fill_defaults=_next_sequence,
    custom_filters={
        "completed": _completed_filter,
        "part_id": lambda stmt, value: stmt.where(
            Substep.operation_id.in_(operations_of_part(value))
        ),
        "job_id": lambda stmt, value: stmt.where(
            Substep.operation_id.in_(operations_of_job(value))
        ),
    },
    embeds={"operation": obj("id", "operation_name", nullable=True, sequence={"type": "integer"})},
)
