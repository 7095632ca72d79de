"""API keys: issue (shown once), hash (SHA-256, the only thing stored) and verify."""

import hashlib
import hmac
import re
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from floorsync.db.repository import TenantScope
from floorsync.errors import Unauthorized
from floorsync.kit.ids import new_id
from floorsync.models.enums import ApiKeyRole
from floorsync.models.tenancy import ApiKey

KEY_FORMAT = re.compile(r"ery_(live|test)_[0-9a-f]{32}")
BEARER = re.compile(r"(?i:bearer) (\S+)")
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_key(
    session: Session,
    tenant_id: uuid.UUID,
    *,
    name: str,
    role: ApiKeyRole,
    now: datetime,
    created_by: uuid.UUID | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the plaintext, which is never stored."""
    plaintext = "ery_live_" + secrets.token_hex(16)
    row = ApiKey(
        id=new_id(),
        tenant_id=tenant_id,
        name=name,
        role=role,
        key_prefix=plaintext[:12],
        key_hash=hash_key(plaintext),
        active=True,
        expires_at=expires_at,
        created_by=created_by,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row, plaintext


def verify_key(
    session: Session, authorization: str | None, now: datetime
) -> tuple[TenantScope, bool]:
    """Resolve an Authorization header to a scope (reads only), or raise one of the three 401s.

    The flag says whether the key's `last_used_at` is due for an update (touch_last_used).
    """
    match = BEARER.fullmatch(authorization or "")
    if match is None:
        raise Unauthorized("Missing or invalid authorization header")
    token = match.group(1)
    if not KEY_FORMAT.fullmatch(token):
        raise Unauthorized("Invalid API key format")
    digest = hash_key(token)
    row = session.scalars(select(ApiKey).where(ApiKey.key_hash == digest)).first()
    if (
        row is None
        or not hmac.compare_digest(row.key_hash, digest)
        or not row.active
        or (row.expires_at is not None and row.expires_at <= now)
    ):
        raise Unauthorized("Invalid API key")
    due = row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION
    return TenantScope(tenant_id=row.tenant_id, api_key_id=row.id, role=row.role), due


def touch_last_used(session: Session, api_key_id: uuid.UUID, now: datetime) -> None:
    """Set `last_used_at`, unless another request did within the last minute (a conditional
    UPDATE, so concurrent requests don't queue behind each other for it)."""
    session.execute(
        update(ApiKey)
        .where(ApiKey.id == api_key_id)
        .where(
            (ApiKey.last_used_at.is_(None)) | (ApiKey.last_used_at <= now - LAST_USED_RESOLUTION)
        )
        .values(last_used_at=now)
    )
