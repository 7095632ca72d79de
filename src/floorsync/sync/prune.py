"""Pruning (API §4.9, §4.10): soft-delete what a complete input no longer contains.

- `snapshot`: live records of each external_source that appears in the request whose key is
  not in the request (valid or not, top-level or nested), after all upserts.
- `replace_children`: for each parent that carries a child array, its live children of the
  parent's source that are not in the array, inside the parent's unit.

Deletes go through entities.service.soft_delete_many, once per entity (snapshot) or per
parent entity and level (replace_children), never per record: they cascade (job → parts →
operations) set-based, and each deleted row gets its `<entity>.deleted` event, in the order
deleting the records one by one would give. The rows to delete are locked as they are read,
in the canonical order of db.locking.
"""

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from floorsync.db.locking import in_lock_order
from floorsync.db.repository import scoped
from floorsync.db.uow import Work
from floorsync.entities.service import soft_delete_many
from floorsync.entities.spec import EntitySpec, get_spec
from floorsync.sync.results import RecordResult

Key = tuple[str, str]


def prune_snapshot(work: Work, spec: EntitySpec, keys: Iterable[Key]) -> list[RecordResult]:
    """Soft-delete the live rows of the sources in `keys` whose key is not among them."""
    if not spec.soft_delete:
        return []
    by_source: dict[str, set[str]] = {}
    for source, ext in keys:
        by_source.setdefault(source, set()).add(ext)
    if not by_source:
        return []  # an entity with no records in the request is never pruned
    model = spec.model
    stmt = (
        scoped(model, work.scope, include_deleted=False)
        .with_only_columns(model.id, model.external_source, model.external_id)
        .where(model.external_source.in_(by_source))
    )
    doomed = [
        r.id
        for r in work.session.execute(stmt)
        if r.external_id not in by_source[r.external_source]
    ]
    return soft_delete_rows(work, spec, doomed)


def soft_delete_rows(work: Work, spec: EntitySpec, ids: Sequence[uuid.UUID]) -> list[RecordResult]:
    if not ids:
        return []
    model = spec.model
    stmt = in_lock_order(
        work.session,
        scoped(model, work.scope, include_deleted=False).where(model.id.in_(ids)),
        model,
    ).execution_options(populate_existing=True)
    # already deleted rows (by the cascade of an earlier prune of this request) are skipped
    doomed = sorted(
        (row for row in work.session.scalars(stmt).all() if row.deleted_at is None),
        key=_event_order,
    )
    soft_delete_many(work, spec, doomed)
    return [
        RecordResult(None, row.external_id, row.external_source, row.id, "deleted")
        for row in doomed
    ]


def _event_order(row: Any) -> tuple[Any, ...]:
    """Deleted rows get their events in creation order."""
    return (row.created_at, row.external_id is None, row.external_id or "", row.id)


def prune_children(work: Work, roots: Sequence[Any]) -> None:
    """`replace_children`: per parent with a child array, delete its other live children of
    the parent's source (results land in the parent node's `pruned`)."""
    level = [r for r in roots if r.error is None]
    while level:
        groups: dict[tuple[str, str], list[Any]] = {}
        for node in level:
            if node.id is None or node.key is None:
                continue
            for key in node.children:
                groups.setdefault((node.spec.name, key), []).append(node)
        for (parent_entity, key), parents in groups.items():
            child = next(c for c in get_spec(parent_entity).children if c.key == key)
            child_spec = get_spec(child.entity)
            model = child_spec.model
            keep = {p.id: {kid.key for kid in p.children[key]} for p in parents}
            source_of = {p.id: p.key[0] for p in parents}
            by_parent = {p.id: p for p in parents}
            stmt = in_lock_order(
                work.session,
                scoped(model, work.scope, include_deleted=False).where(
                    getattr(model, child.parent_ref).in_(list(keep)),
                    model.external_source.in_(set(source_of.values())),
                ),
                model,
            ).execution_options(populate_existing=True)
            doomed: list[Any] = []
            for row in sorted(work.session.scalars(stmt).all(), key=_event_order):
                parent_id = getattr(row, child.parent_ref)
                if row.deleted_at is not None or row.external_source != source_of[parent_id]:
                    continue
                if (row.external_source, row.external_id) in keep[parent_id]:
                    continue
                doomed.append(row)
                by_parent[parent_id].pruned.setdefault(key, []).append(
                    RecordResult(None, row.external_id, row.external_source, row.id, "deleted")
                )
            soft_delete_many(work, child_spec, doomed)
        level = [kid for node in level for kids in node.children.values() for kid in kids]
