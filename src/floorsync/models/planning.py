"""Planning connections, their run records and the push queue (data model §10; Planning
adapters spec §5, §6.7, §7.3, §13)."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
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
    DeliveryFailure,
    DeliveryStatus,
    PlanningAuthMethod,
    PlanningErrorClass,
    PlanningPushKind,
    PlanningRunKind,
    PlanningSystemName,
    PlanningTrigger,
    RunStatus,
    enum_column,
)


def _flag(name: str, default: bool = False) -> Any:
    return mapped_column(
        Boolean(create_constraint=True, name=name), nullable=False, default=default
    )


_PULL_ENABLED = text("pull_enabled")


class PlanningConnection(IdPk, TenantOwned, Timestamps, Base):
    """One planning system per tenant (its name is the external_source of what it pulls and the
    source whose jobs it pushes). The credential is sealed with the secret box."""

    __tablename__ = "planning_connections"
    __table_args__ = (
        UniqueConstraint("tenant_id", "system"),
        UniqueConstraint("tenant_id", "name"),
        Index(
            "ix_planning_connections_next_pull_at",
            "next_pull_at",
            postgresql_where=_PULL_ENABLED,
            sqlite_where=_PULL_ENABLED,
        ),
    )

    system: Mapped[PlanningSystemName] = mapped_column(
        enum_column(PlanningSystemName, "planning_system"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    base_url: Mapped[str] = mapped_column(String(2048), nullable=False)
    auth_method: Mapped[PlanningAuthMethod] = mapped_column(
        enum_column(PlanningAuthMethod, "auth_method"), nullable=False
    )
    username: Mapped[str | None] = mapped_column(String(255))
    credential_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    pull_enabled: Mapped[bool] = _flag("pull_enabled_bool")
    push_enabled: Mapped[bool] = _flag("push_enabled_bool")
    pull_interval_minutes: Mapped[int] = mapped_column(Integer, nullable=False, default=15)
    settings: Mapped[Any] = mapped_column(JSONType, nullable=False)
    pull_cursor: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_pull_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_reconcile_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_pull_status: Mapped[RunStatus | None] = mapped_column(enum_column(RunStatus, "run_status"))
    consecutive_pull_failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_pull_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pull_lease_owner: Mapped[str | None] = mapped_column(String(64))
    pull_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_test_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_test_ok: Mapped[bool | None] = mapped_column(
        Boolean(create_constraint=True, name="last_test_ok_bool")
    )
    last_error: Mapped[str | None] = mapped_column(Text)
    dispatch_cursor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    detected_version: Mapped[str | None] = mapped_column(String(20))
    capabilities: Mapped[Any] = mapped_column(JSONType, nullable=True)


class PlanningRun(IdPk, TenantOwned, Base):
    """One pull step (`pull_resources`, `pull_work_orders`) or one executed push."""

    __tablename__ = "planning_runs"
    __table_args__ = (
        Index("ix_planning_runs_connection_id_started_at", "connection_id", "started_at"),
    )

    connection_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("planning_connections.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[PlanningRunKind] = mapped_column(
        enum_column(PlanningRunKind, "planning_run_kind"), nullable=False
    )
    trigger: Mapped[PlanningTrigger] = mapped_column(
        enum_column(PlanningTrigger, "planning_trigger"), nullable=False
    )
    status: Mapped[RunStatus] = mapped_column(
        enum_column(RunStatus, "run_status"), nullable=False, default=RunStatus.running
    )
    since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    records_received: Mapped[int | None] = mapped_column(Integer)
    counts: Mapped[Any] = mapped_column(JSONType, nullable=False)
    details: Mapped[Any] = mapped_column(JSONType, nullable=True)
    error_class: Mapped[PlanningErrorClass | None] = mapped_column(
        enum_column(PlanningErrorClass, "planning_error_class")
    )
    error_message: Mapped[str | None] = mapped_column(Text)
    sync_group_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


_PENDING = text("status = 'pending'")


class PlanningPush(IdPk, TenantOwned, Base):
    """One push of one lifecycle event to one connection, made once by the dispatcher."""

    __tablename__ = "planning_pushes"
    __table_args__ = (
        UniqueConstraint("connection_id", "event_id", "kind"),
        Index(
            "ix_planning_pushes_due",
            "connection_id",
            "next_attempt_at",
            postgresql_where=_PENDING,
            sqlite_where=_PENDING,
        ),
        Index("ix_planning_pushes_connection_id_status_seq", "connection_id", "status", "seq"),
    )

    connection_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("planning_connections.id", ondelete="CASCADE"), nullable=False
    )
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)  # events are purged apart
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    kind: Mapped[PlanningPushKind] = mapped_column(
        enum_column(PlanningPushKind, "planning_push_kind"), nullable=False
    )
    order_external_id: Mapped[str] = mapped_column(String(255), nullable=False)
    payload: Mapped[Any] = mapped_column(JSONType, nullable=False)
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus, "delivery_status"),
        nullable=False,
        default=DeliveryStatus.pending,
    )
    failure_reason: Mapped[DeliveryFailure | None] = mapped_column(
        enum_column(DeliveryFailure, "delivery_failure")
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PlanningFingerprint(TenantOwned, Base):
    """What a connection last sent the sync engine for one work order, as a digest of the nested
    job record (`planning.records.fingerprint`), kept only when the engine took the whole record
    without an error. A pull skips an order before the engine when its record has the same digest
    and floorsync's job, part and operations are still live and unedited (`sync_hash` set)."""

    __tablename__ = "planning_fingerprints"

    connection_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("planning_connections.id", ondelete="CASCADE"), primary_key=True
    )
    external_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
