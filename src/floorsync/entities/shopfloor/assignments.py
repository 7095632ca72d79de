"""Assignments: `api-assignments` (API §3.9). Work given to an operator: a job, a part or one
operation. The most specific target fills the others (an operation sets its part and job, a
part its job); a supplied target that disagrees is 422 `REFERENCE_MISMATCH`."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from floorsync.db.repository import TenantScope, scoped
from floorsync.db.uow import Work
from floorsync.entities import fields as F
from floorsync.entities.embeds import load_by_id
from floorsync.entities.fields import Kind
from floorsync.entities.operators import changed_operator_uses, operator_names, use_operators
from floorsync.entities.shopfloor.common import operator_name_input
from floorsync.entities.spec import EntitySpec, ListOptions, RefSpec
from floorsync.entities.validation import Record, join
from floorsync.errors import Detail
from floorsync.models.enums import AssignmentStatus
from floorsync.models.master import Job, Operation, Part
from floorsync.models.shopfloor import Assignment

TARGETS = ("operation_id", "part_id", "job_id")  # most specific first


def _parent_of(work: Work, field: str, id_: uuid.UUID) -> tuple[str, uuid.UUID] | None:
    """The next less specific target: an operation's part, a part's job."""
    if field == "operation_id":
        part_id = work.session.scalar(
            scoped(Operation, work.scope)
            .with_only_columns(Operation.part_id)
            .where(Operation.id == id_)
        )
        return ("part_id", part_id) if part_id is not None else None
    if field == "part_id":
        job_id = work.session.scalar(
            scoped(Part, work.scope).with_only_columns(Part.job_id).where(Part.id == id_)
        )
        return ("job_id", job_id) if job_id is not None else None
    return None


def _prepare(work: Work, _spec: EntitySpec, rec: Record, row: Assignment | None) -> None:
    v = rec.values
    merged = {
        t: v[t] if t in v else (getattr(row, t) if row is not None else None) for t in TARGETS
    }
    if all(merged[t] is None for t in TARGETS):
        rec.errors.append(
            Detail(
                join(rec.path, "job_id"),
                "One of job_id, part_id or operation_id is required",
                "NOT_NULL",
            )
        )
        return
    # Walk down from the most specific target: each fills (or must agree with) the next one.
    # A value from the stored row that disagrees is replaced; a value sent in this request is
    # a mismatch.
    top = next(t for t in TARGETS if merged[t] is not None)
    current: tuple[str, uuid.UUID] | None = (top, merged[top])  # type: ignore[assignment]
    while current is not None:
        parent = _parent_of(work, *current)
        if parent is None:
            break
        field, value = parent
        if merged[field] is not None and merged[field] != value and field in v:
            rec.errors.append(
                Detail(
                    join(rec.path, field),
                    f"{field} does not match the {current[0].removesuffix('_id')} of this assignment",
                    "REFERENCE_MISMATCH",
                    str(merged[field]),
                )
            )
            return
        merged[field] = value
        if row is None or getattr(row, field) != value:
            v[field] = value
        current = parent
    rec.errors.extend(
        use_operators(
            work, changed_operator_uses(rec, row, ("operator_id",), rec.extras.get("operator_name"))
        )
    )
    rec.errors.extend(use_operators(work, changed_operator_uses(rec, row, ("assigned_by",))))


def _extras(
    session: Session, scope: TenantScope, rows: Sequence[Assignment], _mode: str
) -> dict[Any, dict[str, Any]]:
    names = operator_names(session, scope, (r.operator_id for r in rows))
    jobs = load_by_id(session, scope, Job, (r.job_id for r in rows))
    parts = load_by_id(session, scope, Part, (r.part_id for r in rows))
    ops = load_by_id(session, scope, Operation, (r.operation_id for r in rows))
    out: dict[Any, dict[str, Any]] = {}
    for r in rows:
        job = jobs.get(r.job_id) if r.job_id is not None else None
        part = parts.get(r.part_id) if r.part_id is not None else None
        op = ops.get(r.operation_id) if r.operation_id is not None else None
        out[r.id] = {
            "operator_name": names.get(r.operator_id),
            "job": None if job is None else {"id": str(job.id), "job_number": job.job_number},
            "part": None if part is None else {"id": str(part.id), "part_number": part.part_number},
            "operation": None
            if op is None
            else {"id": str(op.id), "operation_name": op.operation_name, "sequence": op.sequence},
        }
    return out


ASSIGNMENTS: EntitySpec[Assignment] = EntitySpec(
    name="assignments",
    singular="assignment",
    model=Assignment,
    fields=(
        F.ident("operator_id", 64, required=True),
        F.read_only("operator_name", Kind.string, column="operator_id"),  # see time_entries
        F.ref_id("job_id"),
        F.ref_id("part_id"),
        F.ref_id("operation_id"),
        F.enum("status", AssignmentStatus, default="assigned"),
        F.ident("assigned_by", 64),
        F.long_text("notes"),
    ),
    synced=False,
    soft_delete=False,
    aliases={"shop_floor_operator_id": "operator_id"},
    refs=(
        RefSpec("jobs", "job_id", "Job"),
        RefSpec("parts", "part_id", "Part"),
        RefSpec("operations", "operation_id", "Operation"),
    ),
    natural_key="operator_id",
    listing=ListOptions(
        exact={
            "job_id": Kind.uuid,
            "part_id": Kind.uuid,
            "operation_id": Kind.uuid,
            "operator_id": Kind.string,
            "shop_floor_operator_id": Kind.string,
            "status": Kind.enum,
        },
        search=("notes",),
        sortable=("created_at", "updated_at", "status"),
        default_sort=("created_at", "desc"),
    ),
    render_extras=_extras,
    extra_inputs={"operator_name": operator_name_input},
    prepare=_prepare,
    custom_filters={
        "shop_floor_operator_id": lambda stmt, value: stmt.where(Assignment.operator_id == value)
    },
)
