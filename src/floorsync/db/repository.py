"""Tenant scoping in one place: every tenant query starts from `scoped()` or a TenantRepository.

A lint test fails on any tenant filter written outside this module.
"""

import uuid
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, Table, select
from sqlalchemy.orm import Session

M = TypeVar("M")


@dataclass(frozen=True)
class TenantScope:
    """Who is asking: the tenant every query is limited to, and the key that authenticated."""

    tenant_id: uuid.UUID
    api_key_id: uuid.UUID | None = None
    # An ApiKeyRole value (models/enums.py, a StrEnum, so comparisons with it hold); a plain
    # string here so that the database layer does not depend on the models above it.
    role: str = "integration"


def tenant_filter(model: Any, scope: TenantScope) -> ColumnElement[bool]:
    """The tenant predicate for a model or table (for UPDATE and DELETE statements)."""
    column = model.c.tenant_id if isinstance(model, Table) else model.tenant_id
    return column == scope.tenant_id  # type: ignore[no-any-return]


def scoped(model: Any, scope: TenantScope, *, include_deleted: bool = True) -> Select[Any]:
    """SELECT model rows of the scope's tenant; soft-deleted rows only when asked."""
    stmt = select(model).where(tenant_filter(model, scope))
    if not include_deleted and hasattr(model, "deleted_at"):
        stmt = stmt.where(model.deleted_at.is_(None))
    return stmt


class TenantRepository(Generic[M]):
    """All tenant reads start from base(); nothing else filters on tenant_id."""

    def __init__(self, session: Session, scope: TenantScope, model: type[M]) -> None:
        self.session, self.scope, self.model = session, scope, model

    def base(self, *, include_deleted: bool = False) -> Select[Any]:
        return scoped(self.model, self.scope, include_deleted=include_deleted)

    def get(
        self, id_: uuid.UUID, *, include_deleted: bool = False, for_update: bool = False
    ) -> M | None:
        stmt = self.base(include_deleted=include_deleted).where(self.model.id == id_)  # type: ignore[attr-defined]
        if for_update:
            stmt = stmt.with_for_update()
        return self.session.scalars(stmt).first()
