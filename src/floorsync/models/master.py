"""ERP-synced master data: cells, resources, materials, jobs, parts, operations, operators."""

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

from floorsync.db.base import Base, IdPk, SoftDeletable, SyncColumns, TenantOwned, Timestamps
from floorsync.db.types import JSONType, PortableDecimal, UTCDateTime
from floorsync.models.enums import WorkStatus, enum_column


def _bool(name: str, default: bool) -> Any:
    return mapped_column(
        Boolean(create_constraint=True, name=name), nullable=False, default=default
    )


def _live(name: str, *cols: str) -> Index:
    return Index(
        name,
        *cols,
        unique=True,
        postgresql_where=text("deleted_at IS NULL"),
        sqlite_where=text("deleted_at IS NULL"),
    )


def live_page_index(table: str) -> Index:
    """`(tenant_id, created_at, id)` of the live rows: a list's default order (newest first,
    then id) read from the index alone, so a deep page's deferred join skips its offset without
    reading rows (entities/listing.page_rows; migration 0016)."""
    return Index(
        f"ix_{table}_live_page",
        "tenant_id",
        "created_at",
        "id",
        postgresql_where=text("deleted_at IS NULL"),
        sqlite_where=text("deleted_at IS NULL"),
    )


def sync_table_args(table: str, *, tenant_id_uq: bool = True) -> tuple[Any, ...]:
    args: list[Any] = [
        CheckConstraint("(external_id IS NULL) = (external_source IS NULL)", name="external_ref"),
        Index(
            f"uq_{table}_external_key",
            "tenant_id",
            "external_source",
            "external_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL"),
            sqlite_where=text("external_id IS NOT NULL"),
        ),
    ]
    if tenant_id_uq:
        args.append(UniqueConstraint("tenant_id", "id", name=f"uq_{table}_tenant_id_id"))
    return tuple(args)


class Cell(IdPk, TenantOwned, Timestamps, SyncColumns, SoftDeletable, Base):
    __tablename__ = "cells"
    __table_args__ = (
        *sync_table_args("cells"),
        _live("uq_cells_name_live", "tenant_id", "name"),
        Index("ix_cells_tenant_id_sequence", "tenant_id", "sequence"),
        CheckConstraint("sequence >= 0", name="sequence_non_negative"),
    )

    name: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    color: Mapped[str | None] = mapped_column(String(32))
    sequence: Mapped[int] = mapped_column(Integer, nullable=False)
    active: Mapped[bool] = _bool("active_bool", True)
    wip_limit: Mapped[int | None] = mapped_column(Integer)
    wip_warning_threshold: Mapped[int | None] = mapped_column(Integer)
    enforce_wip_limit: Mapped[bool] = _bool("enforce_wip_limit_bool", False)
    show_capacity_warning: Mapped[bool] = _bool("show_capacity_warning_bool", True)
    capacity_hours_per_day: Mapped[Decimal] = mapped_column(
        PortableDecimal(4, 2), nullable=False, default=Decimal(8)
    )
    icon_name: Mapped[str | None] = mapped_column(String(100))
    image_url: Mapped[str | None] = mapped_column(String(2048))
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONType, nullable=False, default=dict
    )


class Resource(IdPk, TenantOwned, Timestamps, SyncColumns, SoftDeletable, Base):
    __tablename__ = "resources"
    __table_args__ = (
        *sync_table_args("resources"),
        _live("uq_resources_name_live", "tenant_id", "name"),
        Index("ix_resources_tenant_id_type", "tenant_id", "type"),
    )

    name: Mapped[str] = mapped_column(String(255), nullable=False)
    type: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    identifier: Mapped[str | None] = mapped_column(String(255))
    location: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(50), nullable=False, default="available")
    active: Mapped[bool] = _bool("active_bool", True)
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONType, nullable=False, default=dict
    )


class Material(IdPk, TenantOwned, Timestamps, SyncColumns, SoftDeletable, Base):
    __tablename__ = "materials"
    __table_args__ = (
        *sync_table_args("materials", tenant_id_uq=False),
        _live("uq_materials_code_live", "tenant_id", "code"),
        Index("ix_materials_tenant_id_name", "tenant_id", "name"),
    )

    code: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    grade: Mapped[str | None] = mapped_column(String(100))
    thickness: Mapped[Decimal | None] = mapped_column(PortableDecimal(10, 3))
    unit: Mapped[str | None] = mapped_column(String(20))
    color: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = _bool("active_bool", True)
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONType, nullable=False, default=dict
    )


class Job(IdPk, TenantOwned, Timestamps, SyncColumns, SoftDeletable, Base):
    __tablename__ = "jobs"
    __table_args__ = (
        *sync_table_args("jobs"),
        _live("uq_jobs_job_number_live", "tenant_id", "job_number"),
        CheckConstraint("priority >= 0", name="priority_non_negative"),
        Index("ix_jobs_tenant_id_status", "tenant_id", "status"),
        Index("ix_jobs_tenant_id_created_at", "tenant_id", "created_at"),
        live_page_index("jobs"),
        Index("ix_jobs_tenant_id_due_date", "tenant_id", "due_date"),
        Index("ix_jobs_current_cell_id", "current_cell_id"),
    )

    job_number: Mapped[str] = mapped_column(String(255), nullable=False)
    customer: Mapped[str | None] = mapped_column(String(255))
    due_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_date_override: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[WorkStatus] = mapped_column(
        enum_column(WorkStatus, "job_status"), nullable=False, default=WorkStatus.not_started
    )
    priority: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    notes: Mapped[str | None] = mapped_column(Text)
    current_cell_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("cells.id", ondelete="SET NULL")
    )
    delivery_address: Mapped[str | None] = mapped_column(Text)
    delivery_city: Mapped[str | None] = mapped_column(String(100))
    delivery_postal_code: Mapped[str | None] = mapped_column(String(20))
    delivery_country: Mapped[str | None] = mapped_column(String(2))
    total_weight_kg: Mapped[Decimal | None] = mapped_column(PortableDecimal(12, 2))
    total_volume_m3: Mapped[Decimal | None] = mapped_column(PortableDecimal(12, 3))
    package_count: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actual_duration: Mapped[int | None] = mapped_column(Integer)
    template_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("templates.id", ondelete="SET NULL")
    )
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONType, nullable=False, default=dict
    )


class Part(IdPk, TenantOwned, Timestamps, SyncColumns, SoftDeletable, Base):
    __tablename__ = "parts"
    __table_args__ = (
        *sync_table_args("parts"),
        ForeignKeyConstraint(
            ["tenant_id", "job_id"], ["jobs.tenant_id", "jobs.id"], ondelete="CASCADE"
        ),
        Index(
            "uq_parts_part_number_live",
            "job_id",
            "part_number",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
            sqlite_where=text("deleted_at IS NULL"),
        ),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        Index("ix_parts_job_id", "job_id"),
        Index("ix_parts_tenant_id_status", "tenant_id", "status"),
        Index("ix_parts_tenant_id_created_at", "tenant_id", "created_at"),
        live_page_index("parts"),
        Index("ix_parts_material_id", "material_id"),
        Index("ix_parts_parent_part_id", "parent_part_id"),
    )

    job_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    part_number: Mapped[str] = mapped_column(String(255), nullable=False)
    material: Mapped[str | None] = mapped_column(String(255))
    material_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("materials.id", ondelete="SET NULL")
    )
    quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    status: Mapped[WorkStatus] = mapped_column(
        enum_column(WorkStatus, "job_status"), nullable=False, default=WorkStatus.not_started
    )
    parent_part_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("parts.id", ondelete="SET NULL")
    )
    current_cell_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("cells.id", ondelete="SET NULL")
    )
    drawing_no: Mapped[str | None] = mapped_column(String(255))
    cnc_program_name: Mapped[str | None] = mapped_column(String(255))
    is_bullet_card: Mapped[bool] = _bool("is_bullet_card_bool", False)
    file_paths: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    image_paths: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    material_lot: Mapped[str | None] = mapped_column(String(255))
    material_supplier: Mapped[str | None] = mapped_column(String(255))
    material_cert_number: Mapped[str | None] = mapped_column(String(255))
    weight_kg: Mapped[Decimal | None] = mapped_column(PortableDecimal(12, 3))
    length_mm: Mapped[Decimal | None] = mapped_column(PortableDecimal(12, 2))
    width_mm: Mapped[Decimal | None] = mapped_column(PortableDecimal(12, 2))
    height_mm: Mapped[Decimal | None] = mapped_column(PortableDecimal(12, 2))
    notes: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    template_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("templates.id", ondelete="SET NULL")
    )
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONType, nullable=False, default=dict
    )


class Operation(IdPk, TenantOwned, Timestamps, SyncColumns, SoftDeletable, Base):
    __tablename__ = "operations"
    __table_args__ = (
        *sync_table_args("operations"),
        ForeignKeyConstraint(
            ["tenant_id", "part_id"], ["parts.tenant_id", "parts.id"], ondelete="CASCADE"
        ),
        CheckConstraint("sequence >= 1", name="sequence_positive"),
        CheckConstraint("completion_percentage BETWEEN 0 AND 100", name="completion_range"),
        Index("ix_operations_part_id_sequence", "part_id", "sequence"),
        Index("ix_operations_tenant_id_status", "tenant_id", "status"),
        Index("ix_operations_cell_id_status", "cell_id", "status"),
        Index("ix_operations_tenant_id_assigned_operator_id", "tenant_id", "assigned_operator_id"),
    )

    part_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    cell_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("cells.id", ondelete="SET NULL")
    )
    operation_name: Mapped[str] = mapped_column(String(255), nullable=False)
    sequence: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[WorkStatus] = mapped_column(
        enum_column(WorkStatus, "job_status"), nullable=False, default=WorkStatus.not_started
    )
    estimated_time: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    setup_time: Mapped[Decimal] = mapped_column(
        PortableDecimal(10, 2), nullable=False, default=Decimal(0)
    )
    run_time_per_unit: Mapped[Decimal] = mapped_column(
        PortableDecimal(10, 2), nullable=False, default=Decimal(0)
    )
    wait_time: Mapped[Decimal] = mapped_column(
        PortableDecimal(10, 2), nullable=False, default=Decimal(0)
    )
    changeover_time: Mapped[Decimal] = mapped_column(
        PortableDecimal(10, 2), nullable=False, default=Decimal(0)
    )
    actual_time: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    completion_percentage: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    assigned_operator_id: Mapped[str | None] = mapped_column(String(64))
    planned_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    planned_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    icon_name: Mapped[str | None] = mapped_column(String(100))
    notes: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The status a Yellow Card (a standstill issue) parked the operation from; cleared on
    # release and by any lifecycle action (api-catalogue-completion §6.2).
    # (The job_status values; the CHECK needs a name of its own on this table.)
    status_before_hold: Mapped[WorkStatus | None] = mapped_column(
        enum_column(WorkStatus, "status_before_hold")
    )
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONType, nullable=False, default=dict
    )


class OperationResource(IdPk, TenantOwned, Timestamps, Base):
    __tablename__ = "operation_resources"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "operation_id"],
            ["operations.tenant_id", "operations.id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "resource_id"],
            ["resources.tenant_id", "resources.id"],
            ondelete="CASCADE",
        ),
        UniqueConstraint("operation_id", "resource_id"),
        Index("ix_operation_resources_resource_id", "resource_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    operation_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    resource_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    quantity: Mapped[Decimal] = mapped_column(
        PortableDecimal(10, 3), nullable=False, default=Decimal(1)
    )
    notes: Mapped[str | None] = mapped_column(Text)


class Operator(IdPk, TenantOwned, Timestamps, SyncColumns, Base):
    __tablename__ = "operators"
    __table_args__ = (
        *sync_table_args("operators", tenant_id_uq=False),
        UniqueConstraint("tenant_id", "operator_id"),
        Index("ix_operators_tenant_id_name", "tenant_id", "name"),
    )

    operator_id: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    employee_number: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = _bool("active_bool", True)
