"""Tenants: creation (with the event counter row) and lookup by slug, name or id."""

import re
import uuid
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from floorsync.kit.ids import new_id
from floorsync.models.events import EventSequence
from floorsync.models.tenancy import Tenant


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return (slug or "tenant")[:63]


def create_tenant(session: Session, name: str, now: datetime) -> Tenant:
    base = slugify(name)
    slug, n = base, 1
    while session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
        n += 1
        slug = f"{base[:58]}-{n}"
    tenant = Tenant(
        id=new_id(),
        name=name,
        slug=slug,
        rate_limit_window_seconds=60,
        created_at=now,
        updated_at=now,
    )
    session.add(tenant)
    session.flush()
    session.add(EventSequence(tenant_id=tenant.id, last_seq=0, purged_through_seq=0))
    session.flush()
    return tenant


def find_tenant(session: Session, name_or_id: str) -> Tenant | None:
    try:
        as_id: uuid.UUID | None = uuid.UUID(name_or_id)
    except ValueError:
        as_id = None
    clauses = [Tenant.slug == name_or_id, Tenant.name == name_or_id]
    if as_id is not None:
        clauses.append(Tenant.id == as_id)
    return session.scalars(select(Tenant).where(or_(*clauses)).order_by(Tenant.created_at)).first()


def set_rate_limit(
    session: Session, tenant: Tenant, requests: int | None, window_seconds: int, now: datetime
) -> None:
    """Limit the tenant to `requests` per window of `window_seconds` (None: unlimited)."""
    tenant.rate_limit_requests = requests
    tenant.rate_limit_window_seconds = window_seconds
    tenant.updated_at = now
    session.flush()
