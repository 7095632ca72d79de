"""Managing a tenant's API keys, shared by `/api-key-generate` and the admin UI's API keys page:
validate a new key's fields, create it (the plaintext is returned once and never stored), list
and revoke. Services never commit; the caller's unit of work does.

Revoking a key also ends its admin UI sessions; a session is checked against its key on every
request anyway (data model §4.3), so a key that expires ends its sessions too.
"""

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from floorsync.auth.api_keys import issue_key
from floorsync.db.repository import TenantRepository, TenantScope, scoped, tenant_filter
from floorsync.db.uow import Work
from floorsync.entities.fields import Field, FieldError, Kind, to_wire
from floorsync.errors import Conflict, Detail, NotFound, ValidationFailed
from floorsync.models.enums import ApiKeyRole
from floorsync.models.tenancy import AdminSession, ApiKey

KEY_FIELDS = ("name", "role", "expires_at")
_NAME = Field("name", Kind.string, required=True, min_len=1, max_len=200, trim=True)
_EXPIRES = Field("expires_at", Kind.timestamp)


@dataclass(frozen=True)
class NewKey:
    """A validated request for a key; `expires_at` is checked against the clock on creation."""

    name: str
    role: ApiKeyRole
    expires_at: datetime | None = None
    expires_at_input: Any = None


def parse_new_key(data: Mapping[str, Any], *, reject_unknown: bool = True) -> NewKey:
    """Validate `name` (1-200 characters), `role` (`integration` by default or `admin`) and an
    optional `expires_at`; every problem is reported at once (422 naming the fields)."""
    errors: list[Detail] = []
    if reject_unknown:
        errors.extend(
            Detail(key, f"Unknown field: {key}", "UNKNOWN_FIELD", value)
            for key, value in data.items()
            if key not in KEY_FIELDS
        )
    name = ""
    try:
        if data.get("name") is None:
            raise FieldError("NOT_NULL", "Missing required string field: name")
        name = _NAME.coerce(data["name"])
    except FieldError as err:
        given = [data["name"]] if data.get("name") is not None else []
        errors.append(Detail("name", err.message, err.constraint, *given))
    role = data.get("role")
    if role is None:
        role = ApiKeyRole.integration.value
    if role not in ("admin", "integration"):
        errors.append(
            Detail(
                "role",
                "Invalid value for role. Must be one of: integration, admin",
                "ENUM_CONSTRAINT",
                role,
            )
        )
    expires_at = None
    if data.get("expires_at") is not None:
        try:
            expires_at = _EXPIRES.coerce(data["expires_at"])
        except FieldError as err:
            errors.append(err.detail("expires_at", data["expires_at"]))
    if errors:
        raise ValidationFailed("api_key", errors)
    return NewKey(name, ApiKeyRole(role), expires_at, data.get("expires_at"))


def create_key(work: Work, new: NewKey) -> tuple[ApiKey, str]:
    """Issue the key for the work's tenant, created by the work's key; returns the row and the
    plaintext (shown once). 422 when `expires_at` is not in the future."""
    now = work.clock.now()
    if new.expires_at is not None and new.expires_at <= now:
        raise ValidationFailed(
            "api_key",
            [
                Detail(
                    "expires_at",
                    "expires_at must be in the future",
                    "INVALID_VALUE",
                    new.expires_at_input,
                )
            ],
        )
    return issue_key(
        work.session,
        work.scope.tenant_id,
        name=new.name,
        role=new.role,
        now=now,
        created_by=work.scope.api_key_id,
        expires_at=new.expires_at,
    )


def revoke_key(work: Work, id_: uuid.UUID) -> ApiKey:
    """Deactivate one of the tenant's keys and end its admin sessions (idempotent: an inactive
    key is returned as it is). 404 for an unknown id or another tenant's key; 409 for the
    tenant's last active admin key, so a tenant is never left without one."""
    # Lock the active admin keys first, in id order: two admins revoking each other at once
    # are serialised, and the second sees the first's revocation (no tenant left without one).
    admins = list(
        work.session.scalars(
            scoped(ApiKey, work.scope)
            .with_only_columns(ApiKey.id)
            .where(ApiKey.active.is_(True), ApiKey.role == ApiKeyRole.admin)
            .order_by(ApiKey.id)
            .with_for_update()
        )
    )
    row = TenantRepository(work.session, work.scope, ApiKey).get(id_, for_update=True)
    if row is None:
        raise NotFound(f"api_keys with ID {id_} not found")
    if row.active:
        if row.role == ApiKeyRole.admin and not [a for a in admins if a != row.id]:
            raise Conflict("Cannot revoke the tenant's last active admin key")
        row.active = False
        row.revoked_at = work.clock.now()
        work.session.execute(
            delete(AdminSession).where(
                tenant_filter(AdminSession, work.scope), AdminSession.api_key_id == row.id
            )
        )
        work.session.flush()
    return row


def list_keys(session: Session, scope: TenantScope) -> list[ApiKey]:
    """Every key of the tenant: active ones first, newest first within each group."""
    return list(
        session.scalars(
            scoped(ApiKey, scope).order_by(
                ApiKey.active.desc(), ApiKey.created_at.desc(), ApiKey.id
            )
        )
    )


def key_labels(
    session: Session, scope: TenantScope, ids: Iterable[uuid.UUID | str | None]
) -> dict[str, str]:
    """`name (ery_live_abc…)` for each of these key ids of the tenant, keyed by the id as text
    (ids of other tenants or of no key are simply absent)."""
    wanted = set()
    for id_ in ids:
        if id_:
            try:
                wanted.add(id_ if isinstance(id_, uuid.UUID) else uuid.UUID(id_))
            except ValueError:
                continue
    if not wanted:
        return {}
    rows = session.execute(
        scoped(ApiKey, scope)
        .with_only_columns(ApiKey.id, ApiKey.name, ApiKey.key_prefix)
        .where(ApiKey.id.in_(wanted))
    )
    return {str(id_): f"{name} ({prefix}…)" for id_, name, prefix in rows}


def key_item(row: ApiKey) -> dict[str, Any]:
    """An API key as the API shows it (API §6.6: the prefix, never the key or its hash); also
    what api-export writes."""
    return {
        "id": str(row.id),
        "name": row.name,
        "key_prefix": row.key_prefix,
        "role": row.role.value,
        "active": row.active,
        "expires_at": to_wire(Kind.timestamp, row.expires_at),
        "last_used_at": to_wire(Kind.timestamp, row.last_used_at),
        "created_at": to_wire(Kind.timestamp, row.created_at),
        "created_by": str(row.created_by) if row.created_by else None,
        "revoked_at": to_wire(Kind.timestamp, row.revoked_at),
    }
