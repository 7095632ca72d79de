"""Shop-floor records: batches, memberships, time entries, assignments, quantities."""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from floorsync.db.base import Base, IdPk, TenantOwned, Timestamps
from floorsync.db.types import JSONType, PortableDecimal, UTCDateTime
from floorsync.models.enums import (
    AssignmentStatus,
    BatchStatus,
    BatchType,
    ProductionMode,
    TimeEntryOrigin,
    TimeType,
    enum_column,
)


class Batch(IdPk, TenantOwned, Timestamps, Base):
    __tablename__ = "batches"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id", name="uq_batches_tenant_id_id"),
        UniqueConstraint("tenant_id", "batch_number"),
        ForeignKeyConstraint(["tenant_id", "cell_id"], ["cells.tenant_id", "cells.id"]),
        CheckConstraint(
            "production_mode = 'manual' OR batch_type = 'laser_nesting'", name="automated_is_laser"
        ),
        Index("ix_batches_tenant_id_status", "tenant_id", "status"),
        Index("ix_batches_cell_id", "cell_id"),
        Index("ix_batches_parent_batch_id", "parent_batch_id"),
    )

    batch_number: Mapped[str] = mapped_column(String(255), nullable=False)
    batch_type: Mapped[BatchType] = mapped_column(
        enum_column(BatchType, "batch_type"), nullable=False, default=BatchType.general
    )
    status: Mapped[BatchStatus] = mapped_column(
        enum_column(BatchStatus, "batch_status"), nullable=False, default=BatchStatus.draft
    )
    production_mode: Mapped[ProductionMode] = mapped_column(
        enum_column(ProductionMode, "production_mode"),
        nullable=False,
        default=ProductionMode.manual,
    )
    cell_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    parent_batch_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("batches.id", ondelete="SET NULL")
    )
    material: Mapped[str | None] = mapped_column(String(255))
    thickness_mm: Mapped[Decimal | None] = mapped_column(PortableDecimal(10, 2))
    estimated_time: Mapped[Decimal | None] = mapped_column(PortableDecimal(10, 2))
    actual_time: Mapped[Decimal | None] = mapped_column(PortableDecimal(10, 2))
    operations_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    nesting_image_url: Mapped[str | None] = mapped_column(String(2048))
    layout_image_url: Mapped[str | None] = mapped_column(String(2048))
    notes: Mapped[str | None] = mapped_column(Text)
    nesting_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_by: Mapped[str | None] = mapped_column(String(64))
    started_by: Mapped[str | None] = mapped_column(String(64))
    completed_by: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BatchOperation(IdPk, TenantOwned, Timestamps, Base):
    __tablename__ = "batch_operations"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "batch_id"], ["batches.tenant_id", "batches.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["tenant_id", "operation_id"], ["operations.tenant_id", "operations.id"]
        ),
        UniqueConstraint("batch_id", "sequence_in_batch"),
        Index(
            "uq_batch_operations_operation_open",
            "operation_id",
            unique=True,
            postgresql_where=text("released_at IS NULL"),
            sqlite_where=text("released_at IS NULL"),
        ),
    )

    batch_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    operation_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    sequence_in_batch: Mapped[int] = mapped_column(Integer, nullable=False)
    quantity_in_batch: Mapped[int | None] = mapped_column(Integer)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TimeEntry(IdPk, TenantOwned, Timestamps, Base):
    __tablename__ = "time_entries"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "operation_id"], ["operations.tenant_id", "operations.id"]
        ),
        CheckConstraint("end_time IS NULL OR end_time >= start_time", name="end_after_start"),
        CheckConstraint("paused_seconds >= 0", name="paused_seconds_non_negative"),
        CheckConstraint("duration IS NULL OR duration >= 0", name="duration_non_negative"),
        Index(
            "uq_time_entries_open",
            "operation_id",
            "operator_id",
            unique=True,
            postgresql_where=text("end_time IS NULL"),
            sqlite_where=text("end_time IS NULL"),
        ),
        Index("ix_time_entries_tenant_id_start_time", "tenant_id", "start_time"),
        Index("ix_time_entries_tenant_id_operator_id", "tenant_id", "operator_id"),
    )

    operation_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    operator_id: Mapped[str] = mapped_column(String(64), nullable=False)
    time_type: Mapped[TimeType] = mapped_column(
        enum_column(TimeType, "time_type"), nullable=False, default=TimeType.run
    )
    start_time: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    end_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_paused: Mapped[bool] = mapped_column(
        Boolean(create_constraint=True, name="is_paused_bool"), nullable=False, default=False
    )
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_seconds: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    duration: Mapped[int | None] = mapped_column(Integer)
    batch_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("batches.id", ondelete="SET NULL")
    )
    origin: Mapped[TimeEntryOrigin] = mapped_column(
        enum_column(TimeEntryOrigin, "time_entry_origin"),
        nullable=False,
        default=TimeEntryOrigin.api,
    )
    notes: Mapped[str | None] = mapped_column(Text)


class Assignment(IdPk, TenantOwned, Timestamps, Base):
    __tablename__ = "assignments"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "job_id"], ["jobs.tenant_id", "jobs.id"]),
        ForeignKeyConstraint(["tenant_id", "part_id"], ["parts.tenant_id", "parts.id"]),
        ForeignKeyConstraint(
            ["tenant_id", "operation_id"], ["operations.tenant_id", "operations.id"]
        ),
        CheckConstraint(
            "job_id IS NOT NULL OR part_id IS NOT NULL OR operation_id IS NOT NULL",
            name="has_target",
        ),
        Index("ix_assignments_tenant_id_operator_id_status", "tenant_id", "operator_id", "status"),
        Index("ix_assignments_job_id", "job_id"),
        Index("ix_assignments_part_id", "part_id"),
        Index("ix_assignments_operation_id", "operation_id"),
    )

    operator_id: Mapped[str] = mapped_column(String(64), nullable=False)
    job_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    part_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    operation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    status: Mapped[AssignmentStatus] = mapped_column(
        enum_column(AssignmentStatus, "assignment_status"),
        nullable=False,
        default=AssignmentStatus.assigned,
    )
    assigned_by: Mapped[str | None] = mapped_column(String(64))
    notes: Mapped[str | None] = mapped_column(Text)


class OperationQuantity(IdPk, TenantOwned, Timestamps, Base):
    __tablename__ = "operation_quantities"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "operation_id"], ["operations.tenant_id", "operations.id"]
        ),
        CheckConstraint(
            "quantity_produced = quantity_good + quantity_scrap + quantity_rework AND quantity_produced >= 1",
            name="balanced",
        ),
        CheckConstraint(
            "quantity_good >= 0 AND quantity_scrap >= 0 AND quantity_rework >= 0",
            name="non_negative",
        ),
        # NO ACTION: a referenced scrap reason cannot be deleted (409).
        ForeignKeyConstraint(
            ["tenant_id", "scrap_reason_id"], ["scrap_reasons.tenant_id", "scrap_reasons.id"]
        ),
        Index("ix_operation_quantities_operation_id", "operation_id"),
        Index("ix_operation_quantities_tenant_id_recorded_at", "tenant_id", "recorded_at"),
    )

    operation_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    quantity_good: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    quantity_scrap: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    quantity_rework: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    quantity_produced: Mapped[int] = mapped_column(Integer, nullable=False)
    scrap_reason_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    material_lot: Mapped[str | None] = mapped_column(String(255))
    recorded_by: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    notes: Mapped[str | None] = mapped_column(Text)
