"""Resolve references (`job_id`, `job_external_id`, `cell_name`, …) inside the tenant, in
batches: one query per referenced entity for a whole list of records.

A reference that misses, points at a soft-deleted row or at another tenant's row is
REFERENCE_NOT_FOUND; two forms that disagree are REFERENCE_MISMATCH; an external id without a
source that matches several sources is AMBIGUOUS_REFERENCE. Never links across tenants.
"""

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import or_
from sqlalchemy.orm import Session

from floorsync.db.repository import TenantScope, scoped
from floorsync.entities.spec import EntitySpec, RefSpec, get_spec
from floorsync.entities.validation import Record, join
from floorsync.errors import Detail


class RefIndex:
    """Live rows of one target entity found for a batch, by id, external key and name."""

    def __init__(self) -> None:
        self.ids: set[uuid.UUID] = set()
        self.by_ext: dict[str, list[tuple[str, uuid.UUID]]] = defaultdict(list)
        self.by_name: dict[str, uuid.UUID] = {}

    def add(self, row_id: uuid.UUID, source: str | None, ext: str | None, name: str | None) -> None:
        self.ids.add(row_id)
        if ext is not None and source is not None:
            self.by_ext[ext].append((source, row_id))
        if name is not None:
            self.by_name[name] = row_id


def load_targets(
    session: Session, scope: TenantScope, ref: RefSpec, records: Sequence[Record]
) -> RefIndex:
    """One query for all forms of one reference across a batch of records."""
    target = get_spec(ref.target)
    model = target.model
    ids = {r.refs[ref.id_field] for r in records if r.refs.get(ref.id_field) is not None}
    exts = {
        r.refs[ref.ext_field]
        for r in records
        if ref.ext_field and r.refs.get(ref.ext_field) is not None
    }
    names = {
        r.refs[ref.name_field]
        for r in records
        if ref.name_field and r.refs.get(ref.name_field) is not None
    }
    index = RefIndex()
    if not (ids or exts or names):
        return index
    clauses = []
    if ids:
        clauses.append(model.id.in_(ids))
    if exts:
        clauses.append(model.external_id.in_(exts))
    if names:
        clauses.append(model.name.in_(names))
    cols = [
        model.id,
        model.external_source,
        model.external_id,
        *((model.name,) if ref.name_field else ()),
    ]
    stmt = scoped(model, scope, include_deleted=False).with_only_columns(*cols).where(or_(*clauses))
    if ref.required:
        # A parent (a part's job, an operation's part) stays live until this transaction ends:
        # its row is locked, so a concurrent delete waits and then cascades to the new child,
        # or, if the delete came first, the parent is not found. FOR NO KEY UPDATE, in id order,
        # also serialises the writers of one parent's children (the sequence of a new operation
        # locks the same row again), so no two of them deadlock on a lock upgrade. (PostgreSQL;
        # SQLite serialises writers anyway.)
        stmt = stmt.order_by(model.id).with_for_update(key_share=True)
    for row in session.execute(stmt):
        mapping = row._mapping
        index.add(
            mapping["id"],
            mapping["external_source"],
            mapping["external_id"],
            mapping.get("name") if ref.name_field else None,
        )
    return index


def resolve_ref(
    rec: Record, ref: RefSpec, index: RefIndex, own_source: str | None
) -> uuid.UUID | None:
    """Resolve one reference of one record against a loaded index; errors go onto the record.

    Returns the target id, or None when the reference was not given (or was cleared).
    """
    found: list[tuple[str, uuid.UUID]] = []
    target = ref.label
    id_value = rec.refs.get(ref.id_field)
    if id_value is not None:
        if id_value not in index.ids:
            rec.errors.append(
                Detail(
                    join(rec.path, ref.id_field),
                    f'{target} with id "{id_value}" not found',
                    "REFERENCE_NOT_FOUND",
                    str(id_value),
                )
            )
            return None
        found.append((ref.id_field, id_value))
    if ref.ext_field and rec.refs.get(ref.ext_field) is not None:
        ext = rec.refs[ref.ext_field]
        source = rec.refs.get(ref.ext_source_field) if ref.ext_source_field else None
        source = source or own_source
        candidates = [
            rid for src, rid in index.by_ext.get(ext, []) if source is None or src == source
        ]
        if not candidates:
            rec.errors.append(
                Detail(
                    join(rec.path, ref.ext_field),
                    f'{target} with external_id "{ext}" not found',
                    "REFERENCE_NOT_FOUND",
                    ext,
                )
            )
            return None
        if len(candidates) > 1:
            rec.errors.append(
                Detail(
                    join(rec.path, ref.ext_field),
                    f'{target} with external_id "{ext}" exists in several sources; give {ref.ext_source_field}',
                    "AMBIGUOUS_REFERENCE",
                    ext,
                )
            )
            return None
        found.append((ref.ext_field, candidates[0]))
    if ref.name_field and rec.refs.get(ref.name_field) is not None:
        name = rec.refs[ref.name_field]
        rid = index.by_name.get(name)
        if rid is None:
            rec.errors.append(
                Detail(
                    join(rec.path, ref.name_field),
                    f'{target} with name "{name}" not found',
                    "REFERENCE_NOT_FOUND",
                    name,
                )
            )
            return None
        found.append((ref.name_field, rid))
    if len({rid for _, rid in found}) > 1:
        fields = " and ".join(f for f, _ in found)
        rec.errors.append(
            Detail(
                join(rec.path, found[1][0]),
                f"{fields} name different {target.lower()}s",
                "REFERENCE_MISMATCH",
            )
        )
        return None
    return found[0][1] if found else None


def resolve_references(
    session: Session, scope: TenantScope, spec: EntitySpec, records: Sequence[Record]
) -> None:
    """Resolve every reference of every record; resolved ids land in `record.values`."""
    for ref in spec.refs:
        relevant = [
            r
            for r in records
            if any(k in r.refs for k in (ref.id_field, ref.ext_field, ref.name_field) if k)
        ]
        if not relevant:
            continue
        index = load_targets(session, scope, ref, relevant)
        for rec in relevant:
            before = len(rec.errors)
            resolved = resolve_ref(rec, ref, index, rec.values.get("external_source"))
            if len(rec.errors) == before and (
                resolved is not None or ref.id_field in rec.refs or _all_cleared(rec, ref)
            ):
                rec.values[ref.id_field] = resolved


def _all_cleared(rec: Record, ref: RefSpec) -> bool:
    keys = [k for k in (ref.id_field, ref.ext_field, ref.name_field) if k and k in rec.refs]
    return bool(keys) and all(rec.refs[k] is None for k in keys)
