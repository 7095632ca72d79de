"""Batches: `api-batches` (API §3.7). A batch groups operations run together (a laser nest, a
saw run); an operation belongs to at most one batch that is not cancelled.

PATCH may only move `draft` ⇄ `ready` or cancel a `draft`/`ready` batch (which releases its
operations and emits `batch.cancelled`); `api-batch-lifecycle` does the rest. Deleting is hard
and refused while the batch is `in_progress`.
"""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from floorsync.db.repository import TenantScope, scoped, tenant_filter
from floorsync.db.uow import Work
from floorsync.entities import fields as F
from floorsync.entities.embeds import cell_brief, load_by_id
from floorsync.entities.fields import Kind
from floorsync.entities.operators import changed_operator_uses, use_operators
from floorsync.entities.service import (
    apply_changes,
    get_row,
    insert_tree,
    raise_if_invalid,
    record_event,
    resolve_tree,
)
from floorsync.entities.shopfloor.common import delete_shop_record
from floorsync.entities.spec import EntitySpec, ListOptions, RefSpec, UniqueRule
from floorsync.entities.validation import ExtraErrors, Record, join, validate_record
from floorsync.errors import Conflict, Detail, InvalidStateTransition, ValidationFailed
from floorsync.kit.ids import new_id
from floorsync.kit.timefmt import format_ts
from floorsync.models.enums import BatchStatus, BatchType, ProductionMode
from floorsync.models.master import Cell, Operation
from floorsync.models.shopfloor import Batch, BatchOperation, TimeEntry

MAX_OPERATIONS = 1000

# Status changes a batch PATCH may make (everything else goes through the lifecycle).
BATCH_PATCH_TRANSITIONS = frozenset(
    {
        ("draft", "ready"),
        ("ready", "draft"),
        ("draft", "cancelled"),
        ("ready", "cancelled"),
    }
)
PATCH_OPERATION_IDS = (
    "operation_ids cannot be changed with PATCH; use api-batch-lifecycle/add-operations"
)


# ---------------------------------------------------------------- operation_ids


def parse_operation_ids(
    value: Any, where: str = "operation_ids", *, min_items: int = 0
) -> list[uuid.UUID]:
    """An array of up to 1000 distinct UUIDs (422 details per item otherwise)."""
    if not isinstance(value, list):
        raise ExtraErrors(
            [Detail(where, f"{where} must be an array of UUIDs", "TYPE_MISMATCH", value)]
        )
    if len(value) > MAX_OPERATIONS:
        raise ExtraErrors(
            [
                Detail(
                    where,
                    f"{where} must have at most {MAX_OPERATIONS} items",
                    "MAX_LENGTH",
                    len(value),
                )
            ]
        )
    if len(value) < min_items:
        raise ExtraErrors(
            [Detail(where, f"{where} must have at least {min_items} item", "MIN_LENGTH")]
        )
    errors: list[Detail] = []
    out: list[uuid.UUID] = []
    seen: dict[uuid.UUID, int] = {}
    for i, raw in enumerate(value):
        path = f"{where}[{i}]"
        try:
            id_ = uuid.UUID(raw.strip()) if isinstance(raw, str) else None
        except ValueError:
            id_ = None
        if id_ is None:
            errors.append(Detail(path, "must be a UUID", "UUID_FORMAT", raw))
        elif id_ in seen:
            errors.append(
                Detail(path, f"duplicate of {where}[{seen[id_]}]", "UNIQUE_CONSTRAINT", raw)
            )
        else:
            seen[id_] = i
            out.append(id_)
    if errors:
        raise ExtraErrors(errors)
    return out


def missing_operations(
    work: Work, ids: Sequence[uuid.UUID], where: str = "operation_ids"
) -> list[Detail]:
    """REFERENCE_NOT_FOUND for ids that are not live operations of the tenant."""
    if not ids:
        return []
    live = set(
        work.session.scalars(
            scoped(Operation, work.scope, include_deleted=False)
            .with_only_columns(Operation.id)
            .where(Operation.id.in_(ids))
        )
    )
    return [
        Detail(
            f"{where}[{i}]", f'Operation with id "{id_}" not found', "REFERENCE_NOT_FOUND", str(id_)
        )
        for i, id_ in enumerate(ids)
        if id_ not in live
    ]


def check_not_batched(work: Work, ids: Sequence[uuid.UUID], where: str = "operation_ids") -> None:
    """409 when an operation already belongs to a batch that is not cancelled."""
    if not ids:
        return
    taken = dict(
        work.session.execute(
            scoped(BatchOperation, work.scope)
            .with_only_columns(BatchOperation.operation_id, BatchOperation.batch_id)
            .where(BatchOperation.operation_id.in_(ids), BatchOperation.released_at.is_(None))
        ).all()
    )
    details = [
        Detail(
            f"{where}[{i}]",
            f"operation {id_} already belongs to batch {taken[id_]}",
            "UNIQUE_CONSTRAINT",
            str(taken[id_]),
        )
        for i, id_ in enumerate(ids)
        if id_ in taken
    ]
    if details:
        raise Conflict(details[0].message, details)


def add_members(work: Work, batch: Batch, ids: Sequence[uuid.UUID]) -> None:
    """Append operations after the current members and refresh `operations_count`."""
    session = work.session
    top = (
        session.scalar(
            scoped(BatchOperation, work.scope)
            .with_only_columns(func.max(BatchOperation.sequence_in_batch))
            .where(BatchOperation.batch_id == batch.id)
        )
        or 0
    )
    now = work.clock.now()
    for n, op_id in enumerate(ids, start=1):
        session.add(
            BatchOperation(
                id=new_id(),
                tenant_id=work.scope.tenant_id,
                batch_id=batch.id,
                operation_id=op_id,
                sequence_in_batch=top + n,
                created_at=now,
                updated_at=now,
            )
        )
    session.flush()
    batch.operations_count = count_members(work, batch.id)
    session.flush()


def count_members(work: Work, batch_id: uuid.UUID) -> int:
    return int(
        work.session.scalar(
            scoped(BatchOperation, work.scope)
            .with_only_columns(func.count())
            .where(BatchOperation.batch_id == batch_id, BatchOperation.released_at.is_(None))
        )
        or 0
    )


def member_rows(work: Work, batch_id: uuid.UUID) -> list[tuple[BatchOperation, Operation]]:
    """Current memberships with their operations, in `sequence_in_batch` order."""
    stmt = (
        select(BatchOperation, Operation)
        .join(Operation, Operation.id == BatchOperation.operation_id)
        .where(
            tenant_filter(BatchOperation, work.scope),
            BatchOperation.batch_id == batch_id,
            BatchOperation.released_at.is_(None),
        )
        .order_by(BatchOperation.sequence_in_batch)
    )
    return [(m, op) for m, op in work.session.execute(stmt)]


# ---------------------------------------------------------------- hooks


def _prepare(work: Work, _spec: EntitySpec, rec: Record, row: Batch | None) -> None:
    v, path = rec.values, rec.path
    if row is None and v.get("status") not in (None, BatchStatus.draft, BatchStatus.ready):
        rec.errors.append(
            Detail(
                join(path, "status"),
                "A batch is created as 'draft' or 'ready'; use api-batch-lifecycle to start it",
                "INVALID_VALUE",
                v["status"],
            )
        )
    batch_type = v.get("batch_type") or (row.batch_type if row is not None else BatchType.general)
    mode = v.get("production_mode") or (
        row.production_mode if row is not None else ProductionMode.manual
    )
    if mode == ProductionMode.automated and batch_type != BatchType.laser_nesting:
        field = "production_mode" if "production_mode" in v else "batch_type"
        rec.errors.append(
            Detail(
                join(path, field),
                "production_mode 'automated' requires batch_type 'laser_nesting'",
                "INVALID_VALUE",
                v.get(field),
            )
        )
    parent = v.get("parent_batch_id")
    if parent is not None:
        if row is not None and parent == row.id:
            rec.errors.append(
                Detail(
                    join(path, "parent_batch_id"),
                    "a batch cannot be its own parent",
                    "INVALID_VALUE",
                    str(parent),
                )
            )
        elif (
            work.session.scalar(
                scoped(Batch, work.scope).with_only_columns(Batch.id).where(Batch.id == parent)
            )
            is None
        ):
            rec.errors.append(
                Detail(
                    join(path, "parent_batch_id"),
                    f'Batch with id "{parent}" not found',
                    "REFERENCE_NOT_FOUND",
                    str(parent),
                )
            )
    if "operation_ids" in rec.extras:
        rec.errors.extend(missing_operations(work, rec.extras["operation_ids"]))
    rec.errors.extend(use_operators(work, changed_operator_uses(rec, row, ("created_by",))))


def _after_insert(work: Work, rec: Record, row: Batch) -> None:
    """Memberships of a new batch, in `operation_ids` order (sequence_in_batch 1, 2, …)."""
    ids = rec.extras.get("operation_ids")
    if ids:
        check_not_batched(work, ids)
        add_members(work, row, ids)


def _extras(
    session: Session, scope: TenantScope, rows: Sequence[Batch], mode: str
) -> dict[Any, dict[str, Any]]:
    cells = load_by_id(session, scope, Cell, (r.cell_id for r in rows))
    out: dict[Any, dict[str, Any]] = {}
    for r in rows:
        extra: dict[str, Any] = {"cell": cell_brief(cells.get(r.cell_id))}
        if mode == "single":
            stmt = (
                select(BatchOperation.sequence_in_batch, Operation)
                .join(Operation, Operation.id == BatchOperation.operation_id)
                .where(
                    tenant_filter(BatchOperation, scope),
                    BatchOperation.batch_id == r.id,
                    BatchOperation.released_at.is_(None),
                )
                .order_by(BatchOperation.sequence_in_batch)
            )
            extra["operations"] = [
                {
                    "id": str(op.id),
                    "operation_name": op.operation_name,
                    "sequence": op.sequence,
                    "status": str(op.status.value),
                    "part_id": str(op.part_id),
                    "sequence_in_batch": seq,
                }
                for seq, op in session.execute(stmt)
            ]
        extra["nesting_metadata"] = r.nesting_metadata  # free-form data goes last
        out[r.id] = extra
    return out


# ---------------------------------------------------------------- create, update, delete


def create_batch(work: Work, body: Any) -> tuple[Batch, int]:
    """POST: the batch and its memberships in one transaction; returns (row, operations assigned)."""
    rec = validate_record(BATCHES, body, "create")
    raise_if_invalid(BATCHES, [rec])
    resolve_tree(work, BATCHES, [rec])
    raise_if_invalid(BATCHES, [rec])
    row: Batch = insert_tree(work, BATCHES, rec)
    return row, len(rec.extras.get("operation_ids") or [])


def update_batch(work: Work, id_: uuid.UUID, body: Any) -> Batch:
    """PATCH/PUT: merge the fields; status only draft ⇄ ready or draft/ready → cancelled."""
    if isinstance(body, dict) and "operation_ids" in body:
        raise ValidationFailed(
            "batch", [Detail("operation_ids", PATCH_OPERATION_IDS, "INVALID_VALUE")]
        )
    rec = validate_record(BATCHES, body, "patch")
    raise_if_invalid(BATCHES, [rec])
    row: Batch = get_row(work.session, work.scope, BATCHES, id_, for_update=True)
    resolve_tree(work, BATCHES, [rec], [row])
    raise_if_invalid(BATCHES, [rec])
    old, new = str(row.status.value), rec.values.get("status")
    if new is not None and new != old and (old, new) not in BATCH_PATCH_TRANSITIONS:
        raise InvalidStateTransition(
            f"Cannot change batch status from '{old}' to '{new}'; use api-batch-lifecycle"
        )
    if new != BatchStatus.cancelled or old == BatchStatus.cancelled:
        apply_changes(work, BATCHES, row, rec)
        return row
    changes = apply_changes(work, BATCHES, row, rec, event=False)
    other = {k: c for k, c in changes.items() if k != "status"}
    if other:
        record_event(work, BATCHES, row, "updated", changes=other)
    released = cancel_batch(work, row)
    payload = batch_payload(
        row,
        previous=old,
        new="cancelled",
        monitoring_source=None,
        operator_id=None,
        operations_released=[str(i) for i in released],
    )
    work.record("batch.cancelled", "batch", row.id, payload)
    return row


def cancel_batch(work: Work, row: Batch) -> list[uuid.UUID]:
    """Release the memberships so the operations can be batched again; returns their ids."""
    now = work.clock.now()
    released = [m.operation_id for m, _op in member_rows(work, row.id)]
    work.session.execute(
        update(BatchOperation)
        .where(
            tenant_filter(BatchOperation, work.scope),
            BatchOperation.batch_id == row.id,
            BatchOperation.released_at.is_(None),
        )
        .values(released_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    row.cancelled_at, row.operations_count, row.updated_at = now, 0, now
    work.session.flush()
    return released


def delete_batch(work: Work, id_: uuid.UUID) -> None:
    """Hard delete: memberships go, child batches lose their parent, time entries their batch."""
    row: Batch = get_row(work.session, work.scope, BATCHES, id_, for_update=True)
    if row.status == BatchStatus.in_progress:
        raise Conflict(
            "Cannot delete a batch that is in progress; stop it first",
            [Detail("status", "the batch is in_progress", "INVALID_VALUE", "in_progress")],
        )
    session, scope = work.session, work.scope
    session.execute(
        delete(BatchOperation)
        .where(tenant_filter(BatchOperation, scope), BatchOperation.batch_id == row.id)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Batch)
        .where(tenant_filter(Batch, scope), Batch.parent_batch_id == row.id)
        .values(parent_batch_id=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(TimeEntry)
        .where(tenant_filter(TimeEntry, scope), TimeEntry.batch_id == row.id)
        .values(batch_id=None)
        .execution_options(synchronize_session=False)
    )
    delete_shop_record(work, BATCHES, row, "batch_number")


BATCHES: EntitySpec[Batch] = EntitySpec(
    name="batches",
    singular="batch",
    model=Batch,
    fields=(
        F.ident("batch_number", 100, required=True),
        F.enum("batch_type", BatchType, default="general"),
        F.enum("status", BatchStatus, default="draft"),
        F.ref_id("cell_id", required=True),
        F.enum("production_mode", ProductionMode, default="manual"),
        F.short("material", 255),
        F.number("thickness_mm", 10, 2),
        F.number("estimated_time", 10, 2),
        F.read_only("actual_time", Kind.number),
        F.read_only("operations_count", Kind.integer),
        F.ref_id("parent_batch_id"),
        F.short("nesting_image_url", 2048),
        F.short("layout_image_url", 2048),
        F.long_text("notes"),
        F.ident("created_by", 64),
        F.read_only("started_by", Kind.string),
        F.read_only("completed_by", Kind.string),
        F.read_only("started_at", Kind.timestamp),
        F.read_only("completed_at", Kind.timestamp),
        F.read_only("cancelled_at", Kind.timestamp),
        F.Field("nesting_metadata", Kind.object, output=False),  # rendered last, by _extras
    ),
    synced=False,
    soft_delete=False,
    refs=(
        RefSpec(
            "cells",
            "cell_id",
            "Cell",
            "cell_external_id",
            "cell_external_source",
            "cell_name",
            required=True,
        ),
    ),
    unique=(UniqueRule(("batch_number",), live_only=False),),
    natural_key="batch_number",
    listing=ListOptions(
        exact={
            "status": Kind.enum,
            "batch_type": Kind.enum,
            "cell_id": Kind.uuid,
            "production_mode": Kind.enum,
            "parent_batch_id": Kind.uuid,
        },
        fuzzy=("batch_number", "material"),
        search=("batch_number", "material", "notes"),
        sortable=(
            "batch_number",
            "status",
            "batch_type",
            "created_at",
            "started_at",
            "completed_at",
        ),
        default_sort=("created_at", "desc"),
    ),
    render_extras=_extras,
    extra_inputs={"operation_ids": lambda value, where: parse_operation_ids(value, where)},
    prepare=_prepare,
    after_write=_after_insert,
)


def insert_after(record: dict[str, Any], after: str, key: str, value: Any) -> dict[str, Any]:
    """A copy of a rendered record with `key` placed right after `after` (wire key order)."""
    out: dict[str, Any] = {}
    for k, v in record.items():
        out[k] = v
        if k == after:
            out[key] = value
    return out


def _text(value: Any) -> str | None:
    return None if value is None else str(getattr(value, "value", value))


def batch_payload(
    batch: Any,
    *,
    previous: str,
    new: str,
    monitoring_source: str | None,
    operator_id: str | None,
    total_minutes: int | None = None,
    distribution: list[dict[str, Any]] | None = None,
    operation_ids: list[str] | None = None,
    operations_released: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "batch_id": str(batch.id),
        "batch_number": batch.batch_number,
        "batch_type": _text(batch.batch_type),
        "production_mode": _text(batch.production_mode),
        "monitoring_source": monitoring_source,
        "previous_status": previous,
        "new_status": new,
        "operations": batch.operations_count,
        "operator_id": operator_id,
        "started_at": format_ts(batch.started_at),
        "completed_at": format_ts(batch.completed_at),
        "cancelled_at": format_ts(batch.cancelled_at),
        "total_minutes": total_minutes,
        "distribution": distribution,
        "operation_ids": operation_ids,
        "operations_released": operations_released,
    }
