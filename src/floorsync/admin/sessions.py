"""Admin UI sessions (data model §4.3): an admin API key signs in once and the browser then
holds only a random token in a cookie; the database keeps its SHA-256, never the token.

A session is valid while all of these hold, checked on every request:

- its token's hash is in `admin_sessions` (sign-out and revoking the key delete the row);
- now < `expires_at` (absolute lifetime from sign-in) and now < `last_seen_at` + idle timeout;
- its API key is still active, unexpired and an admin key (revoked or expired: signed out).

Form posts carry a CSRF token derived from the session's own `csrf_secret`: `nonce.mac`, where
mac = HMAC-SHA256(secret, nonce). Every rendered form gets a fresh nonce (so the token in a page
differs from request to request) and any of them is accepted for the session's lifetime.
Services never commit; the caller's unit of work does.
"""

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from floorsync.config import Settings
from floorsync.db.repository import TenantScope, tenant_filter
from floorsync.kit.ids import new_id
from floorsync.models.enums import ApiKeyRole
from floorsync.models.tenancy import AdminSession, ApiKey, Tenant

# `last_seen_at` is written at most this often per session, so browsing doesn't write on every
# request; idle expiry is therefore exact to within this resolution.
TOUCH_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionPolicy:
    lifetime: timedelta
    idle: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> "SessionPolicy":
        return cls(
            lifetime=timedelta(hours=settings.admin_session_hours),
            idle=timedelta(minutes=settings.admin_idle_minutes),
        )


@dataclass(frozen=True)
class AdminIdentity:
    """Who a valid session belongs to: everything a page needs to scope and label itself."""

    session_id: uuid.UUID
    scope: TenantScope
    csrf_secret: str
    key_name: str
    key_prefix: str
    tenant_name: str
    tenant_slug: str
    expires_at: datetime
    touch_due: bool


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(
    session: Session, key: ApiKey, now: datetime, policy: SessionPolicy
) -> tuple[AdminSession, str]:
    """Open a session for an admin key that has just been verified; returns the row and the
    cookie token (shown to the browser only). The key's sessions that have already expired are
    removed on the way, so the table doesn't grow with abandoned sign-ins."""
    scope = TenantScope(key.tenant_id, key.id, key.role)
    session.execute(
        delete(AdminSession).where(
            tenant_filter(AdminSession, scope),
            AdminSession.api_key_id == key.id,
            (AdminSession.expires_at <= now) | (AdminSession.last_seen_at <= now - policy.idle),
        )
    )
    token = secrets.token_urlsafe(32)
    row = AdminSession(
        id=new_id(),
        tenant_id=key.tenant_id,
        api_key_id=key.id,
        token_hash=hash_token(token),
        csrf_secret=secrets.token_hex(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + policy.lifetime,
    )
    session.add(row)
    session.flush()
    return row, token


def resolve_session(
    session: Session, token: str | None, now: datetime, policy: SessionPolicy
) -> AdminIdentity | None:
    """The identity behind a cookie token, or None when the session is unknown, expired (either
    way) or its key is no longer an active admin key. Reads only; see touch_session."""
    if not token or len(token) > 200:
        return None
    digest = hash_token(token)
    found = session.execute(
        select(AdminSession, ApiKey)
        .join(ApiKey, ApiKey.id == AdminSession.api_key_id)
        .where(AdminSession.token_hash == digest)
    ).first()
    if found is None:
        return None
    row, key = found
    if (
        not hmac.compare_digest(row.token_hash, digest)
        or now >= row.expires_at
        or now >= row.last_seen_at + policy.idle
        or not key.active
        or key.role != ApiKeyRole.admin
        or (key.expires_at is not None and key.expires_at <= now)
    ):
        return None
    tenant = session.get(Tenant, row.tenant_id)
    if tenant is None:  # deleted with its sessions in the same statement; a race at worst
        return None
    return AdminIdentity(
        session_id=row.id,
        scope=TenantScope(row.tenant_id, key.id, key.role),
        csrf_secret=row.csrf_secret,
        key_name=key.name,
        key_prefix=key.key_prefix,
        tenant_name=tenant.name,
        tenant_slug=tenant.slug,
        expires_at=row.expires_at,
        touch_due=now - row.last_seen_at >= TOUCH_RESOLUTION,
    )


def touch_session(session: Session, identity: AdminIdentity, now: datetime) -> None:
    """Move `last_seen_at` forward (the idle clock), unless another request just did."""
    session.execute(
        update(AdminSession)
        .where(
            tenant_filter(AdminSession, identity.scope),
            AdminSession.id == identity.session_id,
            AdminSession.last_seen_at <= now - TOUCH_RESOLUTION,
        )
        .values(last_seen_at=now)
    )


def end_session(session: Session, identity: AdminIdentity) -> None:
    """Sign out: the row goes, so the cookie is worthless even if the browser keeps it."""
    session.execute(
        delete(AdminSession).where(
            tenant_filter(AdminSession, identity.scope), AdminSession.id == identity.session_id
        )
    )


# ---------------------------------------------------------------- CSRF


def _mac(secret: str, nonce: str) -> str:
    return hmac.new(
        secret.encode(), b"floorsync-admin-csrf:" + nonce.encode(), "sha256"
    ).hexdigest()


def csrf_token(secret: str) -> str:
    """A form token for the session with this secret (a fresh nonce each time)."""
    nonce = secrets.token_hex(16)
    return f"{nonce}.{_mac(secret, nonce)}"


def csrf_valid(secret: str, token: str | None) -> bool:
    """Whether `token` was made by csrf_token for this secret (compared in constant time)."""
    if not token or len(token) > 200 or token.count(".") != 1:
        return False
    nonce, mac = token.split(".")
    return bool(nonce) and hmac.compare_digest(mac, _mac(secret, nonce))
