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

from sqlalchemy import collate
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


def lock_rows(session: Session, model: Any, scope: TenantScope, ids: Collection[uuid.UUID]) -> None:
    """Lock these rows as an UPDATE of non-key columns would (`FOR NO KEY UPDATE`), in the
    canonical order, ahead of a statement that updates them in whatever order its plan visits
    them."""
    dialect = session.get_bind().dialect.name
    if not ids or dialect != "postgresql":
        return
    session.execute(
        scoped(model, scope)
        .with_only_columns(model.id)
        .where(member_of(session, model.id, ids))
        .order_by(*lock_order(model, dialect))
        .with_for_update(key_share=True)
    ).all()
