"""Batched loaders for embedded objects and child summaries (one query per relation).

A writer that holds rows it has just written (the sync engine's parents of nested records) can
lend them to the loaders for a while (`known_rows`), so that rendering the events of a job's
parts does not read back the job it wrote a moment ago.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

from floorsync.db.repository import TenantScope, scoped
from floorsync.db.upsert import member_of
from floorsync.entities.fields import decimal_to_json

_KNOWN = "floorsync.known_rows"


@contextmanager
def known_rows(session: Session, rows: Mapping[Any, Mapping[uuid.UUID, Any]]) -> Iterator[None]:
    """While open, `load_by_id` answers from these rows ({model: {id: row}}) first: rows the
    caller wrote in this transaction, exactly as they are stored."""
    lent: dict[Any, Mapping[uuid.UUID, Any]] = session.info.setdefault(_KNOWN, {})
    before = dict(lent)
    lent.update(rows)
    try:
        yield
    finally:
        lent.clear()
        lent.update(before)


def load_by_id(
    session: Session, scope: TenantScope, model: Any, ids: Iterable[uuid.UUID | None]
) -> dict[uuid.UUID, Any]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    out: dict[uuid.UUID, Any] = {}
    known = session.info.get(_KNOWN, {}).get(model)
    if known:
        for i in wanted:
            row = known.get(i)
            if row is not None:
                out[i] = row
        wanted -= out.keys()
        if not wanted:
            return out
    stmt = scoped(model, scope).where(member_of(session, model.id, wanted))
    out.update((r.id, r) for r in session.scalars(stmt))
    return out


def load_children(
    session: Session,
    scope: TenantScope,
    model: Any,
    column: str,
    parent_ids: Iterable[uuid.UUID],
    order: Iterable[Any],
) -> dict[uuid.UUID, list[Any]]:
    ids = set(parent_ids)
    out: dict[uuid.UUID, list[Any]] = defaultdict(list)
    if not ids:
        return out
    stmt = (
        scoped(model, scope, include_deleted=False)
        .where(getattr(model, column).in_(ids))
        .order_by(*order)
    )
    for row in session.scalars(stmt):
        out[getattr(row, column)].append(row)
    return out


def job_brief(job: Any, *, customer: bool = True) -> dict[str, Any] | None:
    if job is None:
        return None
    out = {"id": str(job.id), "job_number": job.job_number}
    if customer:
        out["customer"] = job.customer
    return out


def cell_brief(cell: Any) -> dict[str, Any] | None:
    if cell is None:
        return None
    return {"id": str(cell.id), "name": cell.name, "color": cell.color}


def resource_list(
    session: Session, scope: TenantScope, operation_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    from floorsync.models.master import OperationResource, Resource

    ids = set(operation_ids)
    out: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    if not ids:
        return out
    stmt = (
        scoped(OperationResource, scope)
        .where(member_of(session, OperationResource.operation_id, ids))
        .order_by(OperationResource.operation_id, OperationResource.position)
    )
    links = list(session.scalars(stmt))
    resources = load_by_id(session, scope, Resource, (link.resource_id for link in links))
    for link in links:
        res = resources.get(link.resource_id)
        out[link.operation_id].append(
            {
                "resource_id": str(link.resource_id),
                "name": res.name if res else None,
                "type": res.type if res else None,
                "quantity": decimal_to_json(link.quantity),
                "notes": link.notes,
            }
        )
    return out
