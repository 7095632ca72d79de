"""Batched upsert by external key: the only dialect-aware statement of the sync engine.

`INSERT … ON CONFLICT (tenant_id, external_source, external_id) WHERE external_id IS NOT NULL
DO UPDATE SET … WHERE <the stored hash differs, or the row is soft-deleted> RETURNING *`, on
PostgreSQL and SQLite alike. The conflict target names the partial unique index
`uq_<table>_external_key`, whose predicate `index_where` must repeat. The unique key is the
arbiter of concurrent syncs: a second writer of the same new key turns into an update (or into
nothing, when its hash is already stored) instead of a duplicate row or an error.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, Table, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def _insert(session: Session, table: Table) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no upsert for the {dialect} dialect")


def upsert_by_external_key(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    update_columns: Sequence[str],
    only_if_changed: bool,
) -> list[Row[Any]]:
    """Insert `rows` (every dict with the same keys) or, for keys that exist, update
    `update_columns` from the proposed row. With `only_if_changed`, an existing row is written
    only when its `sync_hash` differs from the proposed one or it is soft-deleted; rows left
    alone are not returned. Returns the written rows (all columns), in no particular order.

    Python-side `onupdate` values are not applied (`set_` bypasses them); the caller sets
    `updated_at` itself.
    """
    if not rows:
        return []
    stmt = _insert(session, table)
    excluded = stmt.excluded
    set_ = {name: excluded[name] for name in update_columns}
    where: ColumnElement[bool] | None = None
    if only_if_changed:
        changed: ColumnElement[bool] = table.c.sync_hash.is_distinct_from(excluded.sync_hash)
        if "deleted_at" in table.c:
            changed = or_(changed, table.c.deleted_at.is_not(None))
        where = changed
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.tenant_id, table.c.external_source, table.c.external_id],
        index_where=table.c.external_id.is_not(None),
        set_=set_,
        where=where,
    ).returning(*table.c)
    return list(session.execute(stmt, list(rows)))
