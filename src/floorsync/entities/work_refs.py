"""What recorded shop-floor work has to do with hard-deleting master data: the entity specs
declare these hooks (`hard_delete_blockers`, `before_hard_delete`), so the generic hard delete
(entities/service.py) knows no entity by name.

Recorded work (time entries and quantities of an operation, batches run at a cell) refuses a
hard delete; assignments and batch memberships go with the rows they name.
"""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from floorsync.db.repository import TenantScope, scoped, tenant_filter
from floorsync.db.uow import Work
from floorsync.entities.fields import Kind, to_wire
from floorsync.entities.service import record_delete
from floorsync.entities.spec import BeforeHardDelete, HardDeleteBlockers, get_spec
from floorsync.models.catalogue import Issue
from floorsync.models.shopfloor import (
    Assignment,
    Batch,
    BatchOperation,
    OperationQuantity,
    TimeEntry,
)


def count_where(
    session: Session, scope: TenantScope, model: Any, column: str, ids: Sequence[uuid.UUID]
) -> int:
    if not ids:
        return 0
    stmt = (
        scoped(model, scope).with_only_columns(func.count()).where(getattr(model, column).in_(ids))
    )
    return int(session.scalar(stmt) or 0)


def recorded_work(*refs: tuple[str, Any, str]) -> HardDeleteBlockers:
    """Blockers counting, per (name, model, column), the rows whose column names a removed row."""

    def blockers(
        session: Session, scope: TenantScope, ids: Sequence[uuid.UUID]
    ) -> list[tuple[str, int]]:
        return [
            (name, count_where(session, scope, model, column, ids)) for name, model, column in refs
        ]

    return blockers


OPERATION_WORK = recorded_work(
    ("time_entries", TimeEntry, "operation_id"),
    ("operation_quantities", OperationQuantity, "operation_id"),
    # issues keep their operation (api-catalogue-completion §1.2 item 4: an operation with
    # quality issues raised against it is recorded work)
    ("issues", Issue, "operation_id"),
)
CELL_WORK = recorded_work(("batches", Batch, "cell_id"))


def drop_assignments(column: str) -> BeforeHardDelete:
    """Remove the assignments naming the removed rows by `column` (an event for each)."""

    def before(work: Work, ids: Sequence[uuid.UUID], cause: dict[str, Any]) -> None:
        _delete_assignments(work, column, ids, cause)

    return before


def drop_operation_links(work: Work, ids: Sequence[uuid.UUID], cause: dict[str, Any]) -> None:
    """An operation's assignments, its batch memberships (the batches' counts follow) and its
    checklist substeps (an event each; the database cascades the rows)."""
    _delete_assignments(work, "operation_id", ids, cause)
    _leave_batches(work, ids)
    _announce_substeps(work, ids, cause)


def _delete_assignments(
    work: Work, column: str, ids: Sequence[uuid.UUID], cause: dict[str, Any]
) -> None:
    if not ids:
        return
    rows = list(
        work.session.scalars(
            scoped(Assignment, work.scope).where(getattr(Assignment, column).in_(ids))
        )
    )
    for a in rows:
        data = {
            "assignment": {
                "id": str(a.id),
                "operator_id": a.operator_id,
                "deleted_at": to_wire(Kind.timestamp, work.clock.now()),
                "deleted_by": str(work.origin.api_key_id) if work.origin.api_key_id else None,
            },
            "hard": True,
            "caused_by": cause,
        }
        work.record("assignment.deleted", "assignment", a.id, data)
        work.session.delete(a)
    work.session.flush()


def _announce_substeps(work: Work, op_ids: Sequence[uuid.UUID], cause: dict[str, Any]) -> None:
    if not op_ids:
        return
    substeps = get_spec("substeps")
    for kid in work.session.scalars(
        scoped(substeps.model, work.scope)
        .where(substeps.model.operation_id.in_(op_ids))
        .order_by(substeps.model.sequence, substeps.model.id)
    ):
        record_delete(work, substeps, kid, hard=True, caused_by=cause)


def _leave_batches(work: Work, op_ids: Sequence[uuid.UUID]) -> None:
    if not op_ids:
        return
    session, scope = work.session, work.scope
    batch_ids = list(
        session.scalars(
            select(BatchOperation.batch_id)
            .where(tenant_filter(BatchOperation, scope), BatchOperation.operation_id.in_(op_ids))
            .distinct()
        )
    )
    session.execute(
        delete(BatchOperation).where(
            tenant_filter(BatchOperation, scope), BatchOperation.operation_id.in_(op_ids)
        )
    )
    for batch_id in batch_ids:
        live = (
            select(func.count())
            .where(BatchOperation.batch_id == batch_id, BatchOperation.released_at.is_(None))
            .scalar_subquery()
        )
        session.execute(
            update(Batch)
            .where(tenant_filter(Batch, scope), Batch.id == batch_id)
            .values(operations_count=live)
        )
