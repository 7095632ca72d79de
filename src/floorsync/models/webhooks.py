"""Webhook endpoints, the delivery queue (one row per event per endpoint) and the attempt log."""

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
    AttemptOutcome,
    DeliveryFailure,
    DeliveryStatus,
    WebhookDisabledReason,
    enum_column,
)


class Webhook(IdPk, TenantOwned, Timestamps, Base):
    __tablename__ = "webhooks"
    __table_args__ = (Index("ix_webhooks_tenant_id_active", "tenant_id", "active"),)

    url: Mapped[str] = mapped_column(String(2048), nullable=False)
    description: Mapped[str | None] = mapped_column(String(500))
    events: Mapped[Any] = mapped_column(JSONType, nullable=False)
    active: Mapped[bool] = mapped_column(
        Boolean(create_constraint=True, name="active_bool"), nullable=False, default=True
    )
    disabled_reason: Mapped[WebhookDisabledReason | None] = mapped_column(
        enum_column(WebhookDisabledReason, "webhook_disabled_reason")
    )
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    secret_ciphertext: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    secret_prefix: Mapped[str] = mapped_column(String(12), nullable=False)
    previous_secret_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consecutive_failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # Issue 11. Requests in flight at once (1-16; 1 keeps first attempts in sequence order).
    max_in_flight: Mapped[int] = mapped_column(
        Integer, nullable=False, default=16, server_default=text("16")
    )
    # Echo suppression, applied at fan-out (events/fanout.py): no delivery row for an event made
    # with the bound API key (`api_key_id`), or synced in from one of `exclude_sources`.
    exclude_own_changes: Mapped[bool] = mapped_column(
        Boolean(create_constraint=True, name="exclude_own_changes_bool"),
        nullable=False,
        default=False,
        server_default=text("false"),
    )
    exclude_sources: Mapped[Any] = mapped_column(JSONType, nullable=True)
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # The circuit breaker: set while it is open (or half-open: `paused_until` has passed and the
    # next claim sends one probe); `breaker_trips` counts failed probes, doubling the open time.
    breaker_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breaker_trips: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default=text("0")
    )


_PENDING = text("status = 'pending'")
_SUCCEEDED = text("status = 'succeeded'")


class WebhookDelivery(IdPk, TenantOwned, Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "webhook_id"),
        # An endpoint's queue: the claim's only way in (its first due delivery, its batch, in
        # sequence order). Migration 0017 dropped the due index (next_attempt_at): nothing
        # needed it, and the planner sometimes walked it for every endpoint.
        Index(
            "ix_webhook_deliveries_queue",
            "webhook_id",
            "seq",
            postgresql_where=_PENDING,
            sqlite_where=_PENDING,
        ),
        Index(
            "ix_webhook_deliveries_tenant_id_status_created_at", "tenant_id", "status", "created_at"
        ),
        # The purge of succeeded deliveries (webhooks.deliveries) finds them by completion time.
        Index(
            "ix_webhook_deliveries_succeeded",
            "completed_at",
            postgresql_where=_SUCCEEDED,
            sqlite_where=_SUCCEEDED,
        ),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("events.id", ondelete="CASCADE"), nullable=False
    )
    webhook_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False
    )
    replay_round: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    event_type: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus, "delivery_status"),
        nullable=False,
        default=DeliveryStatus.pending,
    )
    failure_reason: Mapped[DeliveryFailure | None] = mapped_column(
        enum_column(DeliveryFailure, "delivery_failure")
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    first_attempt_due_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookLog(IdPk, TenantOwned, Base):
    __tablename__ = "webhook_logs"
    __table_args__ = (
        Index("ix_webhook_logs_tenant_id_created_at", "tenant_id", "created_at"),
        Index("ix_webhook_logs_webhook_id_created_at", "webhook_id", "created_at"),
        Index("ix_webhook_logs_event_id", "event_id"),
    )

    webhook_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("webhooks.id", ondelete="SET NULL")
    )
    delivery_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    event_type: Mapped[str] = mapped_column(String(64), nullable=False)
    url: Mapped[str] = mapped_column(String(2048), nullable=False)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    replay_round: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    outcome: Mapped[AttemptOutcome] = mapped_column(
        enum_column(AttemptOutcome, "attempt_outcome"), nullable=False
    )
    success: Mapped[bool] = mapped_column(
        Boolean(create_constraint=True, name="success_bool"), nullable=False
    )
    status_code: Mapped[int | None] = mapped_column(Integer)
    error_message: Mapped[str | None] = mapped_column(Text)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    worker_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
