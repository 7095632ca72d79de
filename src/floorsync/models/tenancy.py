"""Tenants, API keys, admin UI sessions and rate-limit counters."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from floorsync.db.base import Base, IdPk, TenantOwned, Timestamps
from floorsync.db.types import UTCDateTime
from floorsync.models.enums import ApiKeyRole, enum_column


class Tenant(IdPk, Timestamps, Base):
    __tablename__ = "tenants"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    slug: Mapped[str] = mapped_column(String(63), nullable=False, unique=True)
    rate_limit_requests: Mapped[int | None] = mapped_column(Integer)
    rate_limit_window_seconds: Mapped[int] = mapped_column(Integer, nullable=False, default=60)


class ApiKey(IdPk, TenantOwned, Base):
    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_tenant_id_active", "tenant_id", "active"),)

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[ApiKeyRole] = mapped_column(
        enum_column(ApiKeyRole, "api_key_role"), nullable=False
    )
    key_prefix: Mapped[str] = mapped_column(String(12), nullable=False)
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    active: Mapped[bool] = mapped_column(
        Boolean(create_constraint=True, name="active_bool"), nullable=False, default=True
    )
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class RateLimitCounter(Base):
    __tablename__ = "rate_limit_counters"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class AdminSession(IdPk, TenantOwned, Base):
    """A signed-in `/admin` browser (data model §4.3). Only the SHA-256 of the cookie token is
    stored; the session is valid only while its API key is active, and until the absolute
    `expires_at` or `last_seen_at` + the idle timeout, whichever comes first."""

    __tablename__ = "admin_sessions"
    __table_args__ = (Index("ix_admin_sessions_api_key_id", "api_key_id"),)

    api_key_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("api_keys.id", ondelete="CASCADE"), nullable=False
    )
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    csrf_secret: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
