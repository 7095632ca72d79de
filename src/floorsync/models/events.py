"""The tenant's event log and its commit-order counter."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from floorsync.db.base import Base, IdPk, TenantOwned
from floorsync.db.types import UTCDateTime


class EventSequence(Base):
    __tablename__ = "event_sequences"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    last_seq: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    purged_through_seq: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class Event(IdPk, TenantOwned, Base):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("tenant_id", "seq"),
        Index("ix_events_tenant_id_type_seq", "tenant_id", "type", "seq"),
        Index(
            "ix_events_tenant_id_entity_type_entity_id_seq",
            "tenant_id",
            "entity_type",
            "entity_id",
            "seq",
        ),
        Index("ix_events_occurred_at", "occurred_at"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    type: Mapped[str] = mapped_column(String(64), nullable=False)
    entity_type: Mapped[str] = mapped_column(String(32), nullable=False)
    entity_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # Plain JSON (not JSONB) on PostgreSQL: the text stays exactly as written, key order
    # included, so every delivery and feed page carries the same bytes.
    data: Mapped[Any] = mapped_column(JSON, nullable=False)
