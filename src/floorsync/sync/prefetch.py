"""Reading the stored rows a sync batch meets, in as little as the decision needs.

Classifying a record needs only its row's id, key, `sync_hash` and `deleted_at` (plus the
columns the entity's rules read: `EntitySpec.row_columns`): one narrow query by key for the
batch (`prefetch`). Only the records that will be updated need their whole row (the proposed
row of the upsert keeps the columns the record does not give; the event shows the row as
written): one query by id for those (`load_full_rows`). An unchanged re-sync therefore never
reads or converts the other columns.
"""

from collections.abc import Sequence
from functools import cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy.orm import Session

from floorsync.db.repository import TenantScope, scoped
from floorsync.db.upsert import member_of
from floorsync.entities.new_rows import column_attrs
from floorsync.entities.spec import EntitySpec

Key = tuple[str, str]  # (external_source, external_id)


class RowView(SimpleNamespace):
    """A row read or returned by a Core statement, with the model's attribute names
    (`metadata_`), so renderers and entity hooks treat it like an ORM object."""


class NarrowRow(RowView):
    """A row from `prefetch`: only the columns classification needs."""


@cache
def whole_row(model: Any) -> tuple[tuple[Any, ...], tuple[str, ...]]:
    """Every mapped column of the model's table, and the attribute name of each, in one
    order: a whole row is selected with the columns and zipped with the names (no per-row
    mapping lookups or mapper inspection)."""
    pairs = column_attrs(model)
    table = model.__table__
    return tuple(table.c[col] for col, _attr in pairs), tuple(attr for _col, attr in pairs)


def classify_columns(spec: EntitySpec) -> tuple[str, ...] | None:
    """The attributes `prefetch` reads, or None for the whole row (an entity whose rules read
    the row but do not say which columns)."""
    hooks = spec.prepare is not None or spec.prepare_many is not None
    if hooks and spec.row_columns is None:
        return None
    wanted = ["id", "external_source", "external_id", "sync_hash"]
    if spec.soft_delete:
        wanted.append("deleted_at")
    wanted.extend(c for c in spec.row_columns or () if c not in wanted)
    return tuple(wanted)


def prefetch(
    session: Session, scope: TenantScope, spec: EntitySpec, keys: Sequence[Key]
) -> dict[Key, RowView]:
    """The rows with these keys, live or soft-deleted, in one query: the classification
    columns only (classify_columns)."""
    if not keys:
        return {}
    model = spec.model
    wanted = set(keys)
    narrow = classify_columns(spec)
    columns = (
        [getattr(model, attr) for attr in narrow] if narrow is not None else whole_row(model)[0]
    )
    stmt = (
        scoped(model, scope)
        .with_only_columns(*columns)
        .where(
            member_of(session, model.external_id, {k[1] for k in wanted}),
            member_of(session, model.external_source, {k[0] for k in wanted}),
        )
    )
    names = narrow if narrow is not None else whole_row(model)[1]
    kind = NarrowRow if narrow is not None else RowView
    out: dict[Key, RowView] = {}
    for row in session.execute(stmt):
        view = kind(**dict(zip(names, row, strict=True)))
        key = (view.external_source, view.external_id)
        if key in wanted:
            out[key] = view
    return out


def load_full_rows(
    session: Session, scope: TenantScope, spec: EntitySpec, rows: Sequence[RowView]
) -> dict[Any, RowView]:
    """Whole rows (every column) for these prefetched rows, by id, in one query; rows that are
    whole already are returned as they are."""
    if classify_columns(spec) is None:
        return {row.id: row for row in rows}
    ids = {row.id for row in rows}
    if not ids:
        return {}
    model = spec.model
    columns, names = whole_row(model)
    stmt = scoped(model, scope).with_only_columns(*columns).where(member_of(session, model.id, ids))
    out = {}
    for row in session.execute(stmt):
        view = RowView(**dict(zip(names, row, strict=True)))
        out[view.id] = view
    return out
