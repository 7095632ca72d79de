"""The parent rows an operations batch's events embed, read narrowly and lent to the renderers.

An operation's event embeds its part (number, material), the part's job (number, customer) and
its cell (name, colour). Left to themselves, the renderers read those parents back as whole ORM
rows (`entities.embeds.load_by_id`) for every batch: for an operations file that is a thousand
35-column part rows per batch, the largest single cost of an operations import. The importer
knows the references of its batch before the engine runs, so it reads just the columns the
embeds show, in one query per parent kind, and lends them (`embeds.known_rows`) for the
engine call. A renderer that reads any other attribute of a lent row gets it from the whole
row, read then (`LentRow`), so a renderer that embeds more stays correct.

The part rows are read with the lock the engine's reference resolution takes anyway (FOR NO
KEY UPDATE in id order, entities/references.py): the same rows in the same order, a moment
earlier, so they stay as read until the batch commits and the lent values are the stored ones.
"""

import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.orm import Session

from floorsync.db.repository import TenantScope, scoped
from floorsync.db.upsert import member_of
from floorsync.entities.embeds import known_rows
from floorsync.models.master import Cell, Job, Part
from floorsync.sync.prefetch import RowView, whole_row

# What an operation's event shows of each parent (entities/operations.py `_extras`,
# entities/embeds.py `job_brief` / `cell_brief`), plus the key the batch refers to them by.
_PART = ("id", "job_id", "part_number", "material", "external_source", "external_id")
_JOB = ("id", "job_number", "customer")
_CELL = ("id", "name", "color", "external_source", "external_id")


class LentRow(RowView):
    """A narrow parent row; an attribute it was not read with comes from the whole row."""

    def __getattr__(self, name: str) -> Any:  # only for attributes not read
        if name.startswith("_"):
            raise AttributeError(name)
        session, scope, model = self.__dict__["_source"]
        columns, names = whole_row(model)
        found = session.execute(
            scoped(model, scope).with_only_columns(*columns).where(model.id == self.id)
        ).first()
        if found is None:
            raise AttributeError(name)
        self.__dict__.update(zip(names, found, strict=True))
        return self.__dict__[name]


def _uuid(value: Any) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _read(
    session: Session,
    scope: TenantScope,
    model: Any,
    names: tuple[str, ...],
    where: Sequence[Any],
    *,
    lock: bool = False,
) -> dict[uuid.UUID, LentRow]:
    if not where:
        return {}
    stmt = (
        scoped(model, scope, include_deleted=False)
        .with_only_columns(*(getattr(model, n) for n in names))
        .where(or_(*where))
    )
    if lock and session.get_bind().dialect.name == "postgresql":
        # (SQLite has no row locks, and an ORDER BY id there makes it walk the tenant's rows
        # in id order instead of looking the keys up in the key index.)
        stmt = stmt.order_by(model.id).with_for_update(key_share=True)
    source = (session, scope, model)
    out: dict[uuid.UUID, LentRow] = {}
    for row in session.execute(stmt):
        lent = LentRow(**dict(zip(names, row, strict=True)))
        lent.__dict__["_source"] = source
        out[lent.id] = lent
    return out


def _by_key(
    session: Session, model: Any, items: Sequence[Mapping[str, Any]], prefix: str
) -> list[Any]:
    """The condition for the rows the items name by external id. The reference's source is
    its `<prefix>_external_source`, else the item's own (entities/references.py): both in
    the condition, so the key index finds the rows; an item with neither matches any
    source."""
    exts: set[str] = set()
    sources: set[str] = set()
    any_source = False
    for item in items:
        ext = item.get(f"{prefix}_external_id")
        if not isinstance(ext, str):
            continue
        exts.add(ext)
        source = item.get(f"{prefix}_external_source") or item.get("external_source")
        if isinstance(source, str):
            sources.add(source)
        else:
            any_source = True
    if not exts:
        return []
    by_ext = member_of(session, model.external_id, exts)
    if any_source:
        return [by_ext]
    return [and_(member_of(session, model.external_source, sources), by_ext)]


def parts_by_key(
    session: Session, scope: TenantScope, by_source: Mapping[str, set[str]]
) -> dict[tuple[str, str], LentRow]:
    """The live parts with these keys ({source: external ids}), by key: one query through the
    key index, with the lock the engine's reference resolution takes."""
    where = [
        and_(Part.external_source == source, member_of(session, Part.external_id, exts))
        for source, exts in by_source.items()
        if exts
    ]
    rows = _read(session, scope, Part, _PART, where, lock=True)
    return {(r.external_source, r.external_id): r for r in rows.values()}


def operation_parents(
    session: Session,
    scope: TenantScope,
    items: Sequence[Mapping[str, Any]],
    known_parts: Mapping[uuid.UUID, LentRow] | None = None,
) -> dict[Any, dict[uuid.UUID, LentRow]]:
    """{model: {id: row}} for the parts (with their jobs) and cells these operation items
    refer to, by id, external id or (cells) name. `known_parts`: parts read already in this
    transaction (`parts_by_key`), not read again."""
    known = dict(known_parts or {})
    part_ids = {u for i in items if (u := _uuid(i.get("part_id"))) is not None} - known.keys()
    cell_ids = {u for i in items if (u := _uuid(i.get("cell_id"))) is not None}
    cell_names = {n for i in items if isinstance(n := i.get("cell_name"), str)}
    where: list[Any] = []
    if part_ids:
        where.append(member_of(session, Part.id, part_ids))
    where.extend(_by_key(session, Part, items, "part"))
    parts = {**known, **_read(session, scope, Part, _PART, where, lock=True)}
    job_ids = {p.job_id for p in parts.values() if p.job_id is not None}
    jobs = _read(
        session, scope, Job, _JOB, [member_of(session, Job.id, job_ids)] if job_ids else []
    )
    where = []
    if cell_ids:
        where.append(member_of(session, Cell.id, cell_ids))
    where.extend(_by_key(session, Cell, items, "cell"))
    if cell_names:
        where.append(member_of(session, Cell.name, cell_names))
    cells = _read(session, scope, Cell, _CELL, where)
    return {Part: parts, Job: jobs, Cell: cells}


@contextmanager
def lend_parents(
    session: Session,
    scope: TenantScope,
    entity: str,
    items: Sequence[Mapping[str, Any]],
    known_parts: Mapping[uuid.UUID, LentRow] | None = None,
) -> Iterator[None]:
    """While open, the renderers take the parents of this batch from the rows read here."""
    if entity != "operations" or not items:
        yield
        return
    with known_rows(session, operation_parents(session, scope, items, known_parts)):
        yield
