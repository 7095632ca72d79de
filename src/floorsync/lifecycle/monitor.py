"""Batch monitoring (api-catalogue-completion §11): automated laser batches running past their
expected finish ("non-occurrence": the machine should be done and nobody confirmed it).

Eligible: `production_mode` automated, `batch_type` laser_nesting, status in_progress,
`started_at` set. Expected minutes: the batch's `estimated_time` when > 0, else the sum of its
members' `estimated_time` (0: skipped); expected at = started_at + those minutes. In an overdue
batch each member operation that is not completed and has no open exception for the batch gets
one, with `batch_exception.opened`; a unique index on open exceptions per (batch, operation)
makes concurrent runs safe. Open exceptions resolve with `batch_exception.resolved` on a batch
`stop` (`batch_completed`) or an operation `complete` (`operation_completed`).
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from floorsync.db.repository import TenantScope, scoped
from floorsync.db.uow import Work
from floorsync.entities.embeds import load_by_id
from floorsync.entities.fields import Kind, to_wire
from floorsync.errors import NotFound
from floorsync.kit.ids import new_id
from floorsync.models.catalogue import BatchException
from floorsync.models.enums import (
    BatchExceptionStatus,
    BatchExceptionType,
    BatchStatus,
    BatchType,
    ProductionMode,
    WorkStatus,
)
from floorsync.models.master import Job, Operation, Part
from floorsync.models.shopfloor import Batch, BatchOperation


@dataclass
class MonitorOutcome:
    monitored: int = 0
    created: list[dict[str, Any]] = field(default_factory=list)
    open_count: int = 0


def _v(x: Any) -> Any:
    return x.value if hasattr(x, "value") else x


def exception_records(work: Work, rows: Sequence[BatchException]) -> list[dict[str, Any]]:
    """The record form of §11 (also the event payload and the export record)."""
    s, scope = work.session, work.scope
    batches = load_by_id(s, scope, Batch, (r.batch_id for r in rows))
    ops = load_by_id(s, scope, Operation, (r.operation_id for r in rows))
    parts = load_by_id(s, scope, Part, (o.part_id for o in ops.values()))
    jobs = load_by_id(s, scope, Job, (p.job_id for p in parts.values()))
    out = []
    for r in rows:
        batch, op = batches.get(r.batch_id), ops.get(r.operation_id)
        part = parts.get(op.part_id) if op is not None else None
        job = jobs.get(part.job_id) if part is not None else None
        out.append(
            {
                "id": str(r.id),
                "batch_id": str(r.batch_id),
                "batch_number": batch.batch_number if batch else None,
                "operation_id": str(r.operation_id),
                "operation_name": op.operation_name if op else None,
                "part_id": str(part.id) if part else None,
                "part_number": part.part_number if part else None,
                "job_id": str(job.id) if job else None,
                "job_number": job.job_number if job else None,
                "exception_type": _v(r.exception_type),
                "status": _v(r.status),
                "expected_at": to_wire(Kind.timestamp, r.expected_at),
                "detected_at": to_wire(Kind.timestamp, r.detected_at),
                "overdue_minutes": r.overdue_minutes,
                "resolved_at": to_wire(Kind.timestamp, r.resolved_at),
                "resolution": r.resolution,
                "created_at": to_wire(Kind.timestamp, r.created_at),
                "updated_at": to_wire(Kind.timestamp, r.updated_at),
            }
        )
    return out


def _open_exists(work: Work, batch_id: uuid.UUID, operation_id: uuid.UUID) -> bool:
    return (
        work.session.scalar(
            scoped(BatchException, work.scope)
            .with_only_columns(BatchException.id)
            .where(
                BatchException.batch_id == batch_id,
                BatchException.operation_id == operation_id,
                BatchException.status == BatchExceptionStatus.open,
            )
            .limit(1)
        )
        is not None
    )


def monitor(work: Work, batch_id: uuid.UUID | None) -> MonitorOutcome:
    """Check one batch (404 "Batch not found" if it is not the tenant's) or all of them."""
    now = work.clock.now()
    stmt = scoped(Batch, work.scope)
    if batch_id is not None:
        if (
            work.session.scalar(stmt.with_only_columns(Batch.id).where(Batch.id == batch_id))
            is None
        ):
            raise NotFound("Batch not found")
        stmt = stmt.where(Batch.id == batch_id)
    eligible = list(
        work.session.scalars(
            stmt.where(
                Batch.production_mode == ProductionMode.automated,
                Batch.batch_type == BatchType.laser_nesting,
                Batch.status == BatchStatus.in_progress,
                Batch.started_at.is_not(None),
            ).order_by(Batch.id)
        )
    )
    outcome = MonitorOutcome(monitored=len(eligible))
    created: list[BatchException] = []
    for batch in eligible:
        members = list(
            work.session.scalars(
                scoped(Operation, work.scope)
                .where(
                    Operation.id.in_(
                        scoped(BatchOperation, work.scope)
                        .with_only_columns(BatchOperation.operation_id)
                        .where(
                            BatchOperation.batch_id == batch.id,
                            BatchOperation.released_at.is_(None),
                        )
                    )
                )
                .order_by(Operation.id)
            )
        )
        minutes = Decimal(batch.estimated_time or 0)
        if minutes <= 0:
            minutes = Decimal(sum(op.estimated_time or 0 for op in members))
        if minutes <= 0:
            continue
        expected_at = batch.started_at + timedelta(minutes=float(minutes))
        if now <= expected_at:
            continue
        overdue = round((now - expected_at).total_seconds() / 60)
        for op in members:
            if _v(op.status) == WorkStatus.completed.value or _open_exists(work, batch.id, op.id):
                continue
            row = BatchException(
                id=new_id(),
                tenant_id=work.scope.tenant_id,
                batch_id=batch.id,
                operation_id=op.id,
                exception_type=BatchExceptionType.non_occurrence,
                status=BatchExceptionStatus.open,
                expected_at=expected_at,
                detected_at=now,
                overdue_minutes=max(overdue, 0),
                created_at=now,
                updated_at=now,
            )
            try:
                with work.session.begin_nested():  # a concurrent run opened it: theirs stands
                    work.session.add(row)
                    work.session.flush()
            except IntegrityError:
                continue
            created.append(row)
    outcome.created = exception_records(work, created)
    for row, record in zip(created, outcome.created, strict=True):
        work.record(
            "batch_exception.opened", "batch_exception", row.id, {"batch_exception": record}
        )
    open_stmt = (
        scoped(BatchException, work.scope)
        .with_only_columns(func.count())
        .where(BatchException.status == BatchExceptionStatus.open)
    )
    if batch_id is not None:
        open_stmt = open_stmt.where(BatchException.batch_id == batch_id)
    outcome.open_count = int(work.session.scalar(open_stmt) or 0)
    return outcome


def resolve_exceptions(
    work: Work,
    *,
    batch_id: uuid.UUID | None = None,
    operation_ids: Sequence[uuid.UUID] = (),
    resolution: str,
    cause: dict[str, Any],
) -> int:
    """Resolve the open exceptions of a batch or of operations, each with
    `batch_exception.resolved` caused by `cause`."""
    stmt = scoped(BatchException, work.scope).where(
        BatchException.status == BatchExceptionStatus.open
    )
    if batch_id is not None:
        stmt = stmt.where(BatchException.batch_id == batch_id)
    elif operation_ids:
        stmt = stmt.where(BatchException.operation_id.in_(list(operation_ids)))
    else:
        return 0
    rows = list(work.session.scalars(stmt.order_by(BatchException.id).with_for_update()))
    if not rows:
        return 0
    now = work.clock.now()
    for row in rows:
        row.status = BatchExceptionStatus.resolved
        row.resolved_at, row.resolution, row.updated_at = now, resolution, now
    work.session.flush()
    for row, record in zip(rows, exception_records(work, rows), strict=True):
        work.record(
            "batch_exception.resolved",
            "batch_exception",
            row.id,
            {"batch_exception": record, "caused_by": cause},
        )
    return len(rows)


def monitor_all_tenants(services: Any) -> int:
    """The periodic `batches.monitor`: the same check for every tenant (origin channel
    `system`), one transaction per tenant."""
    from sqlalchemy import select

    from floorsync.db.uow import unit_of_work
    from floorsync.events.outbox import Origin
    from floorsync.models.tenancy import Tenant

    with services.sessions() as session:
        tenant_ids = list(session.scalars(select(Tenant.id).order_by(Tenant.id)))
    opened = 0
    for tenant_id in tenant_ids:
        with unit_of_work(
            services.sessions, services.outbox, TenantScope(tenant_id), origin=Origin("system")
        ) as work:
            opened += len(monitor(work, None).created)
    return opened


RESOLVED_RETENTION = timedelta(days=90)  # §14.7: resolved exceptions are kept this long


def purge_resolved_exceptions(
    sessions: Any, clock: Any, retention: timedelta = RESOLVED_RETENTION
) -> int:
    """Part of `retention.purge` (catalogue §14.7): exceptions resolved more than `retention`
    ago are deleted, tenant by tenant; open ones are never touched. Returns how many went."""
    from sqlalchemy import delete, select

    from floorsync.db.repository import tenant_filter

    cutoff = clock.now() - retention
    old = (
        BatchException.status == BatchExceptionStatus.resolved,
        BatchException.resolved_at < cutoff,
    )
    with sessions() as session:
        tenant_ids = list(session.scalars(select(BatchException.tenant_id).where(*old).distinct()))
        session.rollback()
    removed = 0
    for tenant_id in tenant_ids:
        scope = TenantScope(tenant_id)
        with sessions() as session, session.begin():
            result = session.execute(
                delete(BatchException).where(tenant_filter(BatchException, scope), *old)
            )
            removed += int(getattr(result, "rowcount", 0) or 0)
    return removed
