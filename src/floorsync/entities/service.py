"""Create, update and delete for every entity, one transaction each, events included.

Services never commit: the caller's unit of work does. Unique rules are checked by query first
(a precise 409) and backed by the database's unique indexes (mapped in db/integrity.py).
"""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from floorsync.db.locking import in_lock_order
from floorsync.db.repository import TenantRepository, TenantScope, scoped, tenant_filter
from floorsync.db.uow import Work
from floorsync.entities.fields import Kind, to_wire
from floorsync.entities.new_rows import attr_to_column, column_attrs, new_row_values
from floorsync.entities.references import resolve_references
from floorsync.entities.render import render_one, wire_field
from floorsync.entities.spec import EntitySpec, get_spec
from floorsync.entities.unique import Candidate
from floorsync.entities.unique import unique_conflicts as check_unique
from floorsync.entities.validation import Record, validate_record
from floorsync.errors import Conflict, Detail, NotFound, ValidationFailed
from floorsync.kit.ids import new_id


def not_found(spec: EntitySpec, id_: uuid.UUID) -> NotFound:
    return NotFound(f"{spec.table} with ID {id_} not found")


def get_row(
    session: Session,
    scope: TenantScope,
    spec: EntitySpec,
    id_: uuid.UUID,
    *,
    include_deleted: bool = False,
    for_update: bool = False,
) -> Any:
    row = TenantRepository(session, scope, spec.model).get(
        id_, include_deleted=include_deleted, for_update=for_update
    )
    if row is None:
        raise not_found(spec, id_)
    return row


# ---------------------------------------------------------------- validation + references


def resolve_tree(
    work: Work,
    spec: EntitySpec,
    records: Sequence[Record],
    rows: Sequence[Any | None] | None = None,
) -> None:
    """Resolve references and run the entity's prepare hook for records and their children."""
    live = [r for r in records if not r.errors]
    resolve_references(work.session, work.scope, spec, live)
    for i, rec in enumerate(records):
        if spec.prepare and not rec.errors:
            spec.prepare(work, spec, rec, rows[i] if rows else None)
    for child in spec.children:
        kids = [k for rec in records for k in rec.children.get(child.key, [])]
        if kids:
            resolve_tree(work, get_spec(child.entity), kids)


def unique_conflicts(
    session: Session, scope: TenantScope, spec: EntitySpec, values: dict[str, Any], row: Any | None
) -> list[Detail]:
    """Unique rules, and the external key, broken by another record (409 details): the
    set-based check of entities/unique.py with a list of one."""
    lost = check_unique(
        session, scope, spec, [Candidate(values, row, row.id if row is not None else None)]
    )
    out = list(lost.values())
    if spec.synced and values.get("external_id") is not None:
        out.extend(_external_key_taken(session, scope, spec, values, row))
    return out


def _external_key_taken(
    session: Session, scope: TenantScope, spec: EntitySpec, values: dict[str, Any], row: Any | None
) -> list[Detail]:
    model = spec.model
    stmt = (
        scoped(model, scope)
        .with_only_columns(model.id)
        .where(
            model.external_source
            == values.get("external_source", getattr(row, "external_source", None)),
            model.external_id == values["external_id"],
        )
    )
    if row is not None:
        stmt = stmt.where(model.id != row.id)
    if session.scalar(stmt.limit(1)) is None:
        return []
    return [
        Detail(
            "external_id",
            f"external key {values.get('external_source')}/{values['external_id']} is already used by another {spec.singular}",
            "UNIQUE_CONSTRAINT",
            values["external_id"],
        )
    ]


def raise_if_invalid(spec: EntitySpec, records: Sequence[Record]) -> None:
    errors = [d for r in records for d in r.all_errors()]
    if errors:
        raise ValidationFailed(spec.singular, errors)


# ---------------------------------------------------------------- create


def create(work: Work, spec: EntitySpec, body: Any) -> Any:
    """Validate and insert one record with its nested children (all or nothing). A body that
    names templates is merged with them first (`expand_create`); what the tree's records make
    after it is inserted (`after_create`: substeps) follows, events included."""
    stamp = None
    if spec.expand_create is not None:
        body, stamp = spec.expand_create(work, body)
    rec = validate_record(spec, body, "create")
    raise_if_invalid(spec, [rec])
    if stamp is not None:
        stamp(rec)
    plan_ids(spec, rec)
    resolve_tree(work, spec, [rec])
    raise_if_invalid(spec, [rec])
    row = insert_tree(work, spec, rec)
    _after_create(work, spec, rec)
    return row


def _after_create(work: Work, spec: EntitySpec, rec: Record) -> None:
    if spec.after_create is not None:
        spec.after_create(work, rec)
    for child in spec.children:
        child_spec = get_spec(child.entity)
        for kid in rec.children.get(child.key, []):
            _after_create(work, child_spec, kid)


def plan_ids(spec: EntitySpec, rec: Record) -> None:
    """Choose the ids of a record tree up front and give each nested child its parent's id, so
    that the entity rules see the whole tree (a nested part's parent_part_id must be in the
    job being created)."""
    rec.new_id = rec.new_id or new_id()
    for child in spec.children:
        for kid in rec.children.get(child.key, []):
            kid.values[child.parent_ref] = rec.new_id
            plan_ids(get_spec(child.entity), kid)


def insert_tree(
    work: Work,
    spec: EntitySpec,
    rec: Record,
    *,
    parent: tuple[str, uuid.UUID] | None = None,
    synced: bool = False,
) -> Any:
    if parent is not None:
        rec.values[parent[0]] = parent[1]
    conflicts = unique_conflicts(work.session, work.scope, spec, rec.values, None)
    if conflicts:
        raise Conflict(_conflict_message(conflicts), [d.prefixed(rec.path) for d in conflicts])
    if spec.fill_defaults:
        spec.fill_defaults(work, rec.values)
    row = new_row(work, spec, rec.values, synced=synced, id_=rec.new_id)
    if spec.after_write:
        spec.after_write(work, rec, row)
    record_event(work, spec, row, "created")
    for child in spec.children:
        child_spec = get_spec(child.entity)
        for kid in rec.children.get(child.key, []):
            insert_tree(work, child_spec, kid, parent=(child.parent_ref, row.id), synced=synced)
    return row


def _conflict_message(conflicts: list[Detail]) -> str:
    return conflicts[0].message


def new_row(
    work: Work,
    spec: EntitySpec,
    values: dict[str, Any],
    *,
    synced: bool = False,
    id_: uuid.UUID | None = None,
) -> Any:
    """Insert one row: the writable fields the record gives, defaults for the rest
    (entities/new_rows.py, the rule the sync engine's batches follow too)."""
    now = work.clock.now()
    a2c = attr_to_column(spec.model)
    # A read-only field in `values` was set by the entity's prepare hook (an issue's generated
    # ncr_number), never by the client's input.
    given = {a2c[f.attr]: values[f.name] for f in spec.fields if f.name in values}
    for key in ("external_id", "external_source"):
        if key in values and key in a2c:
            given[key] = values[key]
    fixed: dict[str, Any] = {
        "id": id_ or new_id(),
        "tenant_id": work.scope.tenant_id,
        "created_at": now,
        "updated_at": now,
    }
    if synced:
        fixed["synced_at"] = now
    full = new_row_values(spec, given, fixed)
    # A column without a value is left out rather than set to None: for a JSON column None would
    # be stored as JSON `null`, not SQL NULL (a substeps template's `body` must be SQL NULL).
    row = spec.model(
        **{attr: full[col] for col, attr in column_attrs(spec.model) if full[col] is not None}
    )
    work.session.add(row)
    work.session.flush()
    return row


# ---------------------------------------------------------------- update


def update_record(work: Work, spec: EntitySpec, id_: uuid.UUID, body: Any) -> Any:
    """PATCH/PUT ?id=: merge the present fields; a no-op writes nothing and emits nothing."""
    rec = validate_record(spec, body, "patch")
    raise_if_invalid(spec, [rec])
    row = get_row(work.session, work.scope, spec, id_, for_update=True)
    resolve_tree(work, spec, [rec], [row])
    raise_if_invalid(spec, [rec])
    apply_changes(work, spec, row, rec)
    return row


def diff_values(spec: EntitySpec, row: Any, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    changes: dict[str, tuple[Any, Any]] = {}
    for name, new in values.items():
        f = spec.by_name.get(name)
        attr = f.attr if f else name
        old = getattr(row, attr)
        if hasattr(old, "value"):
            old = old.value
        if old != new:
            changes[name] = (old, new)
    return changes


def apply_changes(
    work: Work, spec: EntitySpec, row: Any, rec: Record, *, synced: bool = False, event: bool = True
) -> dict[str, tuple[Any, Any]]:
    changes = diff_values(spec, row, rec.values)
    if spec.extra_changes:
        changes.update(spec.extra_changes(work.session, rec, row))
    if not changes:
        return changes
    conflicts = unique_conflicts(
        work.session,
        work.scope,
        spec,
        {
            k: v
            for k, v in rec.values.items()
            if k in changes or k in ("external_source", "external_id")
        },
        row,
    )
    if conflicts:
        raise Conflict(_conflict_message(conflicts), conflicts)
    for name, (_old, new) in changes.items():
        f = spec.by_name.get(name)
        if f is None and not hasattr(row, name):
            continue
        if f is None or not f.read_only or name in rec.values:
            setattr(row, f.attr if f else name, new)
    row.updated_at = work.clock.now()
    if spec.synced and not synced:
        row.sync_hash = None
    work.session.flush()
    if spec.after_write:
        spec.after_write(work, rec, row)
    if event:
        record_event(work, spec, row, "updated", changes=changes)
    return changes


# ---------------------------------------------------------------- events


def record_event(
    work: Work,
    spec: EntitySpec,
    row: Any,
    verb: str,
    *,
    changes: dict[str, tuple[Any, Any]] | None = None,
    revived: bool = False,
    rendered: dict[str, Any] | None = None,
) -> None:
    """Buffer `<entity>.<verb>`; `rendered` is the row's event representation when the caller
    has already rendered a batch of rows (render_rows(..., "event")), else it is rendered here."""
    record = (
        rendered
        if rendered is not None
        else render_one(work.session, work.scope, spec, row, "event")
    )
    data: dict[str, Any] = {spec.singular: record}
    if changes is not None:
        data["changed_fields"] = list(changes)
        data["previous"] = {k: wire_field(spec, k, old) for k, (old, _new) in changes.items()}
    if revived:
        data["revived"] = True
    verb_type = spec.created_verb if verb == "created" else verb
    work.record(
        f"{spec.singular}.{verb_type}",
        spec.singular,
        row.id,
        data,
        external_source=getattr(row, "external_source", None),
    )


def tombstone(
    spec: EntitySpec, row: Any, deleted_at: Any, deleted_by: uuid.UUID | None
) -> dict[str, Any]:
    out: dict[str, Any] = {"id": str(row.id)}
    if spec.synced:
        out["external_source"] = row.external_source
        out["external_id"] = row.external_id
    out[spec.natural_key] = getattr(row, spec.natural_key)
    for ref in spec.tombstone_refs:
        out[ref] = str(getattr(row, ref))
    for key in spec.tombstone_extra:
        value = getattr(row, key)
        out[key] = str(value) if isinstance(value, uuid.UUID) else value
    out["deleted_at"] = to_wire(Kind.timestamp, deleted_at)
    out["deleted_by"] = str(deleted_by) if deleted_by else None
    return out


def record_delete(
    work: Work, spec: EntitySpec, row: Any, *, hard: bool, caused_by: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Buffer `<entity>.deleted`; returns the `caused_by` object for cascaded deletes."""
    deleted_at = getattr(row, "deleted_at", None) if not hard else None
    data: dict[str, Any] = {
        spec.singular: tombstone(spec, row, deleted_at or work.clock.now(), work.origin.api_key_id),
        "hard": hard,
    }
    if caused_by is not None:
        data["caused_by"] = caused_by
    ev = work.record(
        f"{spec.singular}.deleted",
        spec.singular,
        row.id,
        data,
        external_source=getattr(row, "external_source", None),
    )
    return {"type": ev.type, "entity_id": str(row.id)}


# ---------------------------------------------------------------- delete


IN_CHUNK = 5000  # ids per IN list (bind-parameter limits: 32766 on SQLite, 65535 on PostgreSQL)


def _chunks(ids: Sequence[uuid.UUID]) -> list[Sequence[uuid.UUID]]:
    return [ids[i : i + IN_CHUNK] for i in range(0, len(ids), IN_CHUNK)]


def soft_delete(
    work: Work,
    spec: EntitySpec,
    row: Any,
    *,
    caused_by: dict[str, Any] | None = None,
    now: Any = None,
) -> dict[str, int]:
    """Soft-delete one row with its live descendants (DELETE endpoint); see soft_delete_many."""
    return soft_delete_many(work, spec, [row], caused_by=caused_by, now=now)


def soft_delete_many(
    work: Work,
    spec: EntitySpec,
    rows: Sequence[Any],
    *,
    caused_by: dict[str, Any] | None = None,
    now: Any = None,
) -> dict[str, int]:
    """Soft-delete live rows of one entity and, for jobs and parts, their live descendants, set
    based: one UPDATE per entity level and one SELECT per child entity level (per IN_CHUNK ids),
    whatever the number of rows. Every row gets the same `deleted_at` and `deleted_by`. The
    SELECTs lock the children in the canonical order (db.locking); `rows` must come locked
    (the DELETE endpoint and the prunes read them so), so two cascades over the same rows, or a
    cascade and a sync, queue instead of deadlocking.

    Events are buffered depth first, as deleting the rows one by one would: each row's
    `<entity>.deleted`, then its children's (each followed by its own children's), children in
    (created_at, id) order. A cascaded event's `caused_by` is `caused_by` if given, else the event
    of the row in `rows` it descends from. Returns the cascaded counts ({"parts": n, ...})."""
    rows = list({row.id: row for row in rows}.values())
    if not rows:
        return {}
    now = now or work.clock.now()
    actor = work.origin.api_key_id
    counts: dict[str, int] = {}
    kids_of: dict[uuid.UUID, list[tuple[EntitySpec, Any]]] = {}
    level: list[tuple[EntitySpec, list[Any]]] = [(spec, rows)]
    while level:
        below: list[tuple[EntitySpec, list[Any]]] = []
        for level_spec, level_rows in level:
            _stamp_deleted(work, level_spec, level_rows, now, actor)
            for child in level_spec.children:
                child_spec = get_spec(child.entity)
                model = child_spec.model
                kids: list[Any] = []
                for ids in _chunks([r.id for r in level_rows]):
                    kids.extend(
                        work.session.scalars(
                            in_lock_order(
                                work.session,
                                scoped(model, work.scope, include_deleted=False).where(
                                    getattr(model, child.parent_ref).in_(ids)
                                ),
                                model,
                            )
                        )
                    )
                kids.sort(key=lambda kid: (kid.created_at, kid.id))  # the order of the events
                counts[child.key] = counts.get(child.key, 0) + len(kids)
                for kid in kids:
                    kids_of.setdefault(getattr(kid, child.parent_ref), []).append((child_spec, kid))
                if kids:
                    below.append((child_spec, kids))
        level = below

    def emit(row_spec: EntitySpec, row: Any, cause: dict[str, Any] | None) -> None:
        event = record_delete(work, row_spec, row, hard=False, caused_by=cause)
        for kid_spec, kid in kids_of.get(row.id, ()):
            emit(kid_spec, kid, cause or event)

    for row in rows:
        emit(spec, row, caused_by)
    return counts


def _stamp_deleted(
    work: Work, spec: EntitySpec, rows: Sequence[Any], now: Any, actor: uuid.UUID | None
) -> None:
    """One UPDATE (per IN_CHUNK rows) of deleted_at, deleted_by and updated_at. The session's
    copies are updated in place ("evaluate") and registered with the transaction, so a rolled
    back savepoint expires them as it would flushed changes; no per-row flush follows."""
    model = spec.model
    for ids in _chunks([r.id for r in rows]):
        work.session.execute(
            update(model)
            .where(tenant_filter(model, work.scope), model.id.in_(ids))
            .values(deleted_at=now, deleted_by=actor, updated_at=now)
            .execution_options(synchronize_session="evaluate")
        )
    for (
        row
    ) in rows:  # rows whose columns were expired (so not evaluated) must not lazy-load one by one
        for attr, value in (("deleted_at", now), ("deleted_by", actor), ("updated_at", now)):
            set_committed_value(row, attr, value)


def descendant_levels(
    session: Session, scope: TenantScope, spec: EntitySpec, row: Any
) -> list[tuple[EntitySpec, str, list[Any]]]:
    """All rows (live or soft-deleted) below a job or part, level by level:
    [(parts spec, "parts", [...]), (operations spec, "operations", [...])]."""
    out: list[tuple[EntitySpec, str, list[Any]]] = []
    frontier: list[tuple[EntitySpec, list[uuid.UUID]]] = [(spec, [row.id])]
    while frontier:
        parent_spec, parent_ids = frontier.pop()
        for child in parent_spec.children:
            child_spec = get_spec(child.entity)
            kids = list(
                session.scalars(
                    scoped(child_spec.model, scope).where(
                        getattr(child_spec.model, child.parent_ref).in_(parent_ids)
                    )
                )
            )
            out.append((child_spec, child.key, kids))
            if kids:
                frontier.append((child_spec, [k.id for k in kids]))
    return out


def descendants(
    session: Session, scope: TenantScope, spec: EntitySpec, row: Any
) -> dict[str, list[Any]]:
    """All rows (live or soft-deleted) below a job or part: {"parts": [...], "operations": [...]}."""
    out: dict[str, list[Any]] = {}
    for _spec, key, kids in descendant_levels(session, scope, spec, row):
        out.setdefault(key, []).extend(kids)
    return out


def hard_delete(work: Work, spec: EntitySpec, row: Any) -> dict[str, int]:
    """Remove a row for good with its descendants (a job's parts and operations) and what the
    entities say goes with them (assignments, batch memberships: `before_hard_delete`), with an
    event for each removed record. Refused (409) while recorded work references any of them
    (`hard_delete_blockers`)."""
    session, scope = work.session, work.scope
    below = descendant_levels(session, scope, spec, row) if spec.children else []
    removed = [(spec, [row.id])] + [(s, [k.id for k in kids]) for s, _key, kids in below]
    blocking = [
        Detail(
            name,
            f"{count} {name} reference this {spec.singular} or the records it would remove",
            "REFERENCES_EXIST",
            count,
        )
        for level_spec, ids in removed
        if ids and level_spec.hard_delete_blockers is not None
        for name, count in level_spec.hard_delete_blockers(session, scope, ids)
        if count
    ]
    if blocking:
        raise Conflict(f"Cannot delete {spec.singular}: recorded work references it", blocking)
    cause = record_delete(work, spec, row, hard=True)
    for kid_spec, _key, kids in below:
        for kid in kids:
            record_delete(work, kid_spec, kid, hard=True, caused_by=cause)
    for level_spec, ids in reversed(removed):  # the deepest first
        if ids and level_spec.before_hard_delete is not None:
            level_spec.before_hard_delete(work, ids, cause)
    for kid_spec, _key, kids in reversed(below):
        if kids:
            m = kid_spec.model
            ids = [k.id for k in kids]
            session.execute(delete(m).where(tenant_filter(m, scope), m.id.in_(ids)))
    session.delete(row)
    session.flush()
    counts: dict[str, int] = {}
    for _spec, key, kids in below:
        counts[key] = counts.get(key, 0) + len(kids)
    return counts
