"""One canonical order for the row locks of a transaction that writes several rows.

Two transactions that lock the same rows in opposite orders deadlock: each holds what the other
waits for. So every write that touches several rows of a table locks them in one order:

- rows with an external key by (external_source, external_id) in code-point order — the order
  upserts write them in (db.upsert) — then rows without one, by id;
- tables top-down: jobs, then parts, then operations (the sync engine writes level by level,
  the soft-delete cascade and the batch roll-up go the same way).

Transactions that overlap then queue behind each other instead of deadlocking. What can still
collide (one transaction upserts rows another is about to prune, say) is found by PostgreSQL's
deadlock detector, and the unit of work that lost is run again whole (db.transient).

PostgreSQL only: SQLite has one writer at a time (BEGIN IMMEDIATE), so nothing to order there.
"""

import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, collate
from sqlalchemy.orm import Session

from floorsync.db.repository import TenantScope, scoped
from floorsync.db.upsert import member_of


def lock_order(model: Any, dialect: str) -> list[Any]:
    """ORDER BY terms of the canonical lock order of `model`'s rows. SQLite's default (BINARY)
    collation already compares code points; PostgreSQL needs `COLLATE "C"` for it."""
    if not hasattr(model, "external_id"):
        return [model.id]
    if dialect != "postgresql":
        return [model.external_source, model.external_id, model.id]
    return [collate(model.external_source, "C"), collate(model.external_id, "C"), model.id]


def locked_in_order(
    session: Session, model: Any, scope: TenantScope, ids: Collection[uuid.UUID]
) -> ColumnElement[bool]:
    """`model.id IN (ids)`, which on PostgreSQL first locks those rows in the canonical order:
    `IN (SELECT id … ORDER BY <lock order> FOR NO KEY UPDATE)`, the lock an UPDATE of non-key
    columns takes. For an UPDATE that would otherwise lock its rows in whatever order its plan
    visits them, at no extra round trip."""
    dialect = session.get_bind().dialect.name
    if dialect != "postgresql":
        return model.id.in_(list(ids))  # type: ignore[no-any-return]
    return model.id.in_(  # type: ignore[no-any-return]
        scoped(model, scope)
        .with_only_columns(model.id)
        .where(member_of(session, model.id, ids))
        .order_by(*lock_order(model, dialect))
        .with_for_update(key_share=True)
    )


def in_lock_order(session: Session, stmt: Any, model: Any) -> Any:
    """A SELECT of `model` rows that locks them (`FOR NO KEY UPDATE`) in the canonical order
    (the rows come back in that order: sort them again if another order matters)."""
    dialect = session.get_bind().dialect.name
    return stmt.order_by(None).order_by(*lock_order(model, dialect)).with_for_update(key_share=True)


def lock_rows(session: Session, model: Any, scope: TenantScope, ids: Collection[uuid.UUID]) -> None:
    """Lock these rows in the canonical order, ahead of several statements that update them."""
    if ids and session.get_bind().dialect.name == "postgresql":
        session.execute(
            in_lock_order(
                session,
                scoped(model, scope).with_only_columns(model.id).where(model.id.in_(ids)),
                model,
            )
        ).all()
