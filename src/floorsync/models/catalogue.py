"""The tables of the catalogue completion (api-catalogue-completion §14): scrap reasons, quality
issues and NCRs, substeps, templates and their items, batch exceptions and stored files."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
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

from floorsync.db.base import Base, IdPk, SyncColumns, TenantOwned, Timestamps
from floorsync.db.types import JSONType, UTCDateTime
from floorsync.models.enums import (
    BatchExceptionStatus,
    BatchExceptionType,
    FilePurpose,
    FileState,
    NcrCategory,
    NcrDisposition,
    QualityIssueSeverity,
    QualityIssueStatus,
    QualityIssueType,
    ScrapCategory,
    StorageBackendKind,
    SubstepStatus,
    TemplateKind,
    enum_column,
)
from floorsync.models.master import sync_table_args


def _bool(name: str, default: bool) -> Any:
    return mapped_column(
        Boolean(create_constraint=True, name=name), nullable=False, default=default
    )


def _partial(name: str, *cols: str, where: str, unique: bool = False) -> Index:
    return Index(
        name,
        *cols,
        unique=unique,
        postgresql_where=text(where),
        sqlite_where=text(where),
    )


class ScrapReason(IdPk, TenantOwned, Timestamps, SyncColumns, Base):
    __tablename__ = "scrap_reasons"
    __table_args__ = (
        *sync_table_args("scrap_reasons"),
        UniqueConstraint("tenant_id", "code"),
        Index("ix_scrap_reasons_tenant_id_category_code", "tenant_id", "category", "code"),
    )

    code: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str] = mapped_column(String(1000), nullable=False)
    category: Mapped[ScrapCategory] = mapped_column(
        enum_column(ScrapCategory, "scrap_category"), nullable=False
    )
    active: Mapped[bool] = _bool("active_bool", True)
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONType, nullable=False, default=dict
    )


class Issue(IdPk, TenantOwned, Timestamps, Base):
    __tablename__ = "issues"
    __table_args__ = (
        # NO ACTION: an operation's hard delete is refused (409) while issues reference it.
        ForeignKeyConstraint(
            ["tenant_id", "operation_id"], ["operations.tenant_id", "operations.id"]
        ),
        CheckConstraint(
            "affected_quantity IS NULL OR affected_quantity >= 0", name="affected_quantity"
        ),
        _partial(
            "uq_issues_tenant_id_ncr_number",
            "tenant_id",
            "ncr_number",
            where="ncr_number IS NOT NULL",
            unique=True,
        ),
        Index("ix_issues_tenant_id_status", "tenant_id", "status"),
        Index("ix_issues_tenant_id_created_at", "tenant_id", "created_at"),
        Index("ix_issues_operation_id", "operation_id"),
        _partial(
            "ix_issues_open_standstill",
            "operation_id",
            where="causes_standstill AND status = 'pending'",
        ),
    )

    operation_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    title: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    severity: Mapped[QualityIssueSeverity] = mapped_column(
        enum_column(QualityIssueSeverity, "quality_issue_severity"),
        nullable=False,
        default=QualityIssueSeverity.medium,
    )
    status: Mapped[QualityIssueStatus] = mapped_column(
        enum_column(QualityIssueStatus, "quality_issue_status"),
        nullable=False,
        default=QualityIssueStatus.pending,
    )
    issue_type: Mapped[QualityIssueType] = mapped_column(
        enum_column(QualityIssueType, "quality_issue_type"),
        nullable=False,
        default=QualityIssueType.general,
    )
    ncr_number: Mapped[str | None] = mapped_column(String(50))
    ncr_category: Mapped[NcrCategory | None] = mapped_column(
        enum_column(NcrCategory, "ncr_category")
    )
    disposition: Mapped[NcrDisposition | None] = mapped_column(
        enum_column(NcrDisposition, "ncr_disposition")
    )
    affected_quantity: Mapped[int | None] = mapped_column(Integer)
    root_cause: Mapped[str | None] = mapped_column(Text)
    corrective_action: Mapped[str | None] = mapped_column(Text)
    preventive_action: Mapped[str | None] = mapped_column(Text)
    resolution_notes: Mapped[str | None] = mapped_column(Text)
    verification_required: Mapped[bool] = _bool("verification_required_bool", False)
    causes_standstill: Mapped[bool] = _bool("causes_standstill_bool", False)
    created_by: Mapped[str | None] = mapped_column(String(64))
    reported_by_id: Mapped[str | None] = mapped_column(String(64))
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    current_cell_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("cells.id", ondelete="SET NULL")
    )
    intended_next_cell_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("cells.id", ondelete="SET NULL")
    )
    image_paths: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONType, nullable=False, default=dict
    )


class Substep(IdPk, TenantOwned, Timestamps, Base):
    __tablename__ = "substeps"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "operation_id"],
            ["operations.tenant_id", "operations.id"],
            ondelete="CASCADE",
        ),
        CheckConstraint("sequence >= 1", name="sequence_positive"),
        CheckConstraint("(status = 'completed') = (completed_at IS NOT NULL)", name="completed"),
        Index("ix_substeps_operation_id_sequence", "operation_id", "sequence"),
        Index("ix_substeps_tenant_id_status", "tenant_id", "status"),
    )

    operation_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    sequence: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[SubstepStatus] = mapped_column(
        enum_column(SubstepStatus, "substep_status"),
        nullable=False,
        default=SubstepStatus.not_started,
    )
    icon_name: Mapped[str | None] = mapped_column(String(100))
    notes: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by: Mapped[str | None] = mapped_column(String(64))

    @property
    def completed(self) -> bool:
        """The read-only `completed` of the wire record."""
        return bool(self.status == SubstepStatus.completed)


class Template(IdPk, TenantOwned, Timestamps, Base):
    __tablename__ = "templates"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id", name="uq_templates_tenant_id_id"),
        UniqueConstraint("tenant_id", "name"),
        CheckConstraint("(kind = 'substeps') = (body IS NULL)", name="body_kind"),
    )

    kind: Mapped[TemplateKind] = mapped_column(
        enum_column(TemplateKind, "template_kind"), nullable=False, default=TemplateKind.substeps
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    operation_type: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)

    @property
    def is_global(self) -> bool:
        """Always false: floorsync has no cross-tenant templates (§9.1)."""
        return False


class TemplateItem(IdPk, TenantOwned, Timestamps, Base):
    __tablename__ = "template_items"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "template_id"],
            ["templates.tenant_id", "templates.id"],
            ondelete="CASCADE",
        ),
        UniqueConstraint("template_id", "sequence"),
        CheckConstraint("sequence >= 1", name="sequence_positive"),
    )

    template_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    sequence: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    notes: Mapped[str | None] = mapped_column(Text)
    icon_name: Mapped[str | None] = mapped_column(String(100))


class BatchException(IdPk, TenantOwned, Timestamps, Base):
    __tablename__ = "batch_exceptions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "batch_id"], ["batches.tenant_id", "batches.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["tenant_id", "operation_id"],
            ["operations.tenant_id", "operations.id"],
            ondelete="CASCADE",
        ),
        CheckConstraint("overdue_minutes >= 0", name="overdue_minutes_non_negative"),
        _partial(
            "uq_batch_exceptions_open",
            "batch_id",
            "operation_id",
            where="status = 'open'",
            unique=True,
        ),
        Index("ix_batch_exceptions_tenant_id_status", "tenant_id", "status"),
    )

    batch_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    operation_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    exception_type: Mapped[BatchExceptionType] = mapped_column(
        enum_column(BatchExceptionType, "batch_exception_type"),
        nullable=False,
        default=BatchExceptionType.non_occurrence,
    )
    status: Mapped[BatchExceptionStatus] = mapped_column(
        enum_column(BatchExceptionStatus, "batch_exception_status"),
        nullable=False,
        default=BatchExceptionStatus.open,
    )
    expected_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    overdue_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str | None] = mapped_column(String(32))


class StoredFile(IdPk, TenantOwned, Timestamps, Base):
    __tablename__ = "stored_files"
    __table_args__ = (
        UniqueConstraint("tenant_id", "path"),
        CheckConstraint(
            "purpose <> 'part_image' OR part_id IS NOT NULL OR state = 'deleted'",
            name="image_has_part",
        ),
        _partial("ix_stored_files_part_id_purpose", "part_id", "purpose", where="state = 'stored'"),
        _partial("ix_stored_files_purge", "state", "upload_expires_at", where="state <> 'stored'"),
    )

    path: Mapped[str] = mapped_column(String(1024), nullable=False)
    purpose: Mapped[FilePurpose] = mapped_column(
        enum_column(FilePurpose, "file_purpose"), nullable=False
    )
    state: Mapped[FileState] = mapped_column(
        enum_column(FileState, "file_state"), nullable=False, default=FileState.pending
    )
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(String(127), nullable=False)
    max_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    expected_bytes: Mapped[int | None] = mapped_column(BigInteger)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    backend: Mapped[StorageBackendKind] = mapped_column(
        enum_column(StorageBackendKind, "storage_backend"), nullable=False
    )
    storage_key: Mapped[str] = mapped_column(String(512), nullable=False)
    job_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("jobs.id", ondelete="SET NULL")
    )
    part_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("parts.id", ondelete="SET NULL")
    )
    upload_expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    upload_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    stored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
