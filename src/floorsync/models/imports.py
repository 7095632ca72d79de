"""CSV imports (data model §7.3–§7.6, CSV import §11.1, §18): one row per import, its files
with their bytes and resume points, the issues found per row, and remembered mappings."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from floorsync.db.base import Base, IdPk, TenantOwned, Timestamps
from floorsync.db.types import JSONType, UTCDateTime
from floorsync.models.enums import (
    CsvImportStatus,
    ImportChannel,
    ImportPhase,
    IssueSeverity,
    SyncEntity,
    enum_column,
)


class CsvImport(IdPk, TenantOwned, Timestamps, Base):
    __tablename__ = "csv_imports"
    __table_args__ = (
        Index("ix_csv_imports_tenant_id_created_at", "tenant_id", "created_at"),
        Index(
            "ix_csv_imports_claim",
            "status",
            "locked_until",
            sqlite_where=text("status IN ('queued', 'running')"),
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
    )

    channel: Mapped[ImportChannel] = mapped_column(
        enum_column(ImportChannel, "import_channel"), nullable=False
    )
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    status: Mapped[CsvImportStatus] = mapped_column(
        enum_column(CsvImportStatus, "csv_import_status"), nullable=False
    )
    phase: Mapped[ImportPhase | None] = mapped_column(enum_column(ImportPhase, "import_phase"))
    external_source: Mapped[str] = mapped_column(String(100), nullable=False)
    options: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    total_rows: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    processed_rows: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    skipped_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    deleted_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # The preview's classification per file: {"<position>": {"create": n, …}} (§9).
    preview: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # Counts per file of the import itself: {"<position>": {"created": n, …}} (§12.1).
    file_counts: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    cancel_requested: Mapped[bool] = mapped_column(nullable=False, default=False)
    sync_group_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    error_report: Mapped[bytes | None] = mapped_column(LargeBinary)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CsvImportFile(IdPk, TenantOwned, Timestamps, Base):
    __tablename__ = "csv_import_files"
    __table_args__ = (UniqueConstraint("import_id", "position"),)

    import_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("csv_imports.id", ondelete="CASCADE"), nullable=False
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    size_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    encoding: Mapped[str | None] = mapped_column(String(16))
    delimiter: Mapped[str | None] = mapped_column(String(1))
    entity_type: Mapped[SyncEntity | None] = mapped_column(enum_column(SyncEntity, "sync_entity"))
    header: Mapped[list[Any] | None] = mapped_column(JSONType)
    # Column → field plus the file's options: {"columns": {"0": "job_number", …}, "choices": {…}}
    mapping: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    row_count: Mapped[int | None] = mapped_column(Integer)
    next_row: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class CsvImportIssue(IdPk, TenantOwned, Base):
    __tablename__ = "csv_import_issues"
    __table_args__ = (
        Index(
            "ix_csv_import_issues_import_id_phase_file_position_line",
            "import_id",
            "phase",
            "file_position",
            "line",
        ),
    )

    import_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("csv_imports.id", ondelete="CASCADE"), nullable=False
    )
    phase: Mapped[ImportPhase] = mapped_column(
        enum_column(ImportPhase, "import_phase"), nullable=False
    )
    file_position: Mapped[int] = mapped_column(Integer, nullable=False)
    line: Mapped[int | None] = mapped_column(Integer)
    column: Mapped[str | None] = mapped_column(String(255))
    column_number: Mapped[int | None] = mapped_column(Integer)
    field: Mapped[str | None] = mapped_column(String(100))
    entity_type: Mapped[SyncEntity | None] = mapped_column(enum_column(SyncEntity, "sync_entity"))
    external_id: Mapped[str | None] = mapped_column(String(255))
    severity: Mapped[IssueSeverity] = mapped_column(
        enum_column(IssueSeverity, "issue_severity"), nullable=False
    )
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    value: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class CsvImportMapping(IdPk, TenantOwned, Timestamps, Base):
    __tablename__ = "csv_import_mappings"
    __table_args__ = (UniqueConstraint("tenant_id", "entity_type", "signature"),)

    entity_type: Mapped[SyncEntity] = mapped_column(
        enum_column(SyncEntity, "sync_entity"), nullable=False
    )
    signature: Mapped[str] = mapped_column(String(64), nullable=False)
    mapping: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    options: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
