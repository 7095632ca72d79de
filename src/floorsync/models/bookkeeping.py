"""Sync history, idempotency keys, and the worker's bookkeeping: periodic-task leases and the
queue of one-off jobs."""

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
)
from sqlalchemy.orm import Mapped, mapped_column

from floorsync.db.base import Base, IdPk, TenantOwned
from floorsync.db.types import JSONType, UTCDateTime
from floorsync.models.enums import (
    IdempotencyState,
    RunStatus,
    SyncEntity,
    SyncTrigger,
    WorkerJobState,
    enum_column,
)


class SyncRun(IdPk, TenantOwned, Base):
    __tablename__ = "sync_runs"
    __table_args__ = (
        Index("ix_sync_runs_group_id", "group_id"),
        Index("ix_sync_runs_csv_import_id", "csv_import_id"),
        Index("ix_sync_runs_tenant_id_started_at", "tenant_id", "started_at"),
        Index(
            "ix_sync_runs_tenant_id_entity_type_started_at",
            "tenant_id",
            "entity_type",
            "started_at",
        ),
    )

    group_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    entity_type: Mapped[SyncEntity] = mapped_column(
        enum_column(SyncEntity, "sync_entity"), nullable=False
    )
    trigger: Mapped[SyncTrigger] = mapped_column(
        enum_column(SyncTrigger, "sync_trigger"), nullable=False
    )
    source: Mapped[str] = mapped_column(String(100), nullable=False)
    status: Mapped[RunStatus] = mapped_column(enum_column(RunStatus, "run_status"), nullable=False)
    options: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    total_records: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    skipped_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    deleted_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    error_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    errors: Mapped[list[Any]] = mapped_column(JSONType, nullable=False, default=list)
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    request_id: Mapped[str | None] = mapped_column(String(200))
    # The CSV import whose rows this run counts (trigger csv_import; CSV import §11.3); no
    # foreign key, the history outlives purged imports.
    csv_import_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int | None] = mapped_column(Integer)


class IdempotencyKey(IdPk, TenantOwned, Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("tenant_id", "key"),
        Index("ix_idempotency_keys_expires_at", "expires_at"),
    )

    key: Mapped[str] = mapped_column(String(255), nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    # The API key that made the request: a stored reply is replayed to that key only (null:
    # a claim from before this column existed, replayed to nobody).
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    state: Mapped[IdempotencyState] = mapped_column(
        enum_column(IdempotencyState, "idempotency_state"),
        nullable=False,
        default=IdempotencyState.in_progress,
    )
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class PeriodicTask(Base):
    """One row per periodic task (worker/periodic.py): whoever holds the lease runs it, and
    `next_run_at` keeps the runs of all worker processes an interval apart."""

    __tablename__ = "periodic_tasks"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    run_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    last_run_by: Mapped[str | None] = mapped_column(String(64))


class WorkerJob(IdPk, Base):
    """A one-off background job (worker/queue.py): a kind, its payload, and the lease of the
    worker running it. Tenant-less jobs are allowed; a tenant's jobs go with the tenant."""

    __tablename__ = "worker_jobs"
    __table_args__ = (
        Index("ix_worker_jobs_kind_state_run_after", "kind", "state", "run_after"),
        Index("ix_worker_jobs_tenant_id", "tenant_id"),
    )

    kind: Mapped[str] = mapped_column(String(100), nullable=False)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("tenants.id", ondelete="CASCADE")
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    state: Mapped[WorkerJobState] = mapped_column(
        enum_column(WorkerJobState, "worker_job_state"),
        nullable=False,
        default=WorkerJobState.queued,
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, nullable=False)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
