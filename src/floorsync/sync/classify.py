"""Planning a sync batch before anything is written (API §4.2 steps 1–9).

Each top-level item becomes a tree of Nodes (a job, its parts, their operations). The planner
works level by level over the whole batch — all jobs, then all their parts, then all their
operations — with one query per referenced entity, one prefetch of the rows by key, and one
query per unique rule at each level; no query is made per record unless an entity only has a
per-record hook. A failure anywhere in a tree fails its top-level record with one error code.
"""

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from sqlalchemy.orm import Session

from floorsync.db.repository import TenantScope, scoped
from floorsync.db.uow import Work
from floorsync.db.upsert import member_of
from floorsync.entities.new_rows import column_attrs
from floorsync.entities.operations import resolved_resources
from floorsync.entities.references import resolve_references
from floorsync.entities.render import wire_field
from floorsync.entities.service import diff_values
from floorsync.entities.spec import EntitySpec, get_spec
from floorsync.entities.unique import Candidate, unique_conflicts
from floorsync.entities.validation import Record, join, validate_record
from floorsync.errors import Conflict, Detail, FloorsyncError, ValidationFailed
from floorsync.kit.ids import new_id
from floorsync.kit.timefmt import format_ts
from floorsync.sync.hashing import sync_hash
from floorsync.sync.options import SyncOptions
from floorsync.sync.results import RecordError

Key = tuple[str, str]  # (external_source, external_id)

# Inputs that are not columns but are part of the hash, as the engine hashes them.
HASHED_EXTRAS: dict[str, Callable[[Record], Any]] = {"resources": resolved_resources}


class RowView(SimpleNamespace):
    """A row read or returned by a Core statement, with the model's attribute names
    (`metadata_`), so renderers and entity hooks treat it like an ORM object."""


def row_view(model: Any, row: Any) -> RowView:
    mapping = row._mapping
    return RowView(**{attr: mapping[col] for col, attr in column_attrs(model)})


@dataclass(eq=False)
class Node:
    """One record of the batch (top-level or nested) and what the engine decided for it."""

    spec: EntitySpec
    index: int
    raw: Any
    rec: Record
    parent: "Node | None" = None
    parent_ref: str | None = None  # the child's column naming its parent ("job_id")
    children: dict[str, list["Node"]] = field(default_factory=dict)
    key: Key | None = None
    present: tuple[str, ...] = ()
    hash: str | None = None
    row: RowView | None = None  # the live or soft-deleted row with the key, before the write
    id: uuid.UUID | None = None
    action: str | None = None  # created, updated, skipped
    revived: bool = False
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    written: RowView | None = None
    error: RecordError | None = None  # top-level nodes only: the tree's failure
    pruned: dict[str, list[Any]] = field(default_factory=dict)  # replace_children results

    @property
    def root(self) -> "Node":
        node = self
        while node.parent is not None:
            node = node.parent
        return node

    @property
    def failed(self) -> bool:
        return self.root.error is not None

    def walk(self) -> Iterator["Node"]:
        yield self
        for kids in self.children.values():
            for kid in kids:
                yield from kid.walk()


class SeenKeys:
    """Keys met so far in one request, per entity, for DUPLICATE_IN_REQUEST (API §4.2 step 5).

    Shared by the sections of an erp-sync request, so a part nested in a job and the same
    part in the parts section are duplicates too. Also the key set a snapshot keeps.
    """

    def __init__(self) -> None:
        self.by_entity: dict[str, dict[Key, tuple[str, str]]] = {}

    def claim(self, entity: str, key: Key, section: str, where: str) -> tuple[str, str] | None:
        """Remember `key`; return (section, where) of its first occurrence if seen before."""
        seen = self.by_entity.setdefault(entity, {})
        if key in seen:
            return seen[key]
        seen[key] = (section, where)
        return None

    def keys(self, entity: str) -> set[Key]:
        return set(self.by_entity.get(entity, {}))


def build_tree(spec: EntitySpec, index: int, raw: Any) -> Node:
    """Validate one item (children included) and wrap it, and its children, in Nodes."""
    return _wrap(spec, index, raw, validate_record(spec, raw, "sync"), None, None)


def _wrap(
    spec: EntitySpec, index: int, raw: Any, rec: Record, parent: Node | None, parent_ref: str | None
) -> Node:
    node = Node(spec=spec, index=index, raw=raw, rec=rec, parent=parent, parent_ref=parent_ref)
    node.key = _key_of(rec, raw)
    for child in spec.children:
        kids = rec.children.get(child.key)
        if kids is None:
            continue
        child_spec = get_spec(child.entity)
        node.children[child.key] = [
            _wrap(child_spec, i, kid.raw, kid, node, child.parent_ref) for i, kid in enumerate(kids)
        ]
    return node


def _clean(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _key_of(rec: Record, raw: Any) -> Key | None:
    raw = raw if isinstance(raw, dict) else {}
    ext = rec.values.get("external_id") or _clean(raw.get("external_id"))
    src = rec.values.get("external_source") or _clean(raw.get("external_source"))
    if isinstance(ext, str) and isinstance(src, str):
        return (src, ext)
    return None


def fail(node: Node, code: str, message: str, details: Sequence[Detail]) -> None:
    root = node.root
    if root.error is None:
        root.error = RecordError(code, message, list(details))


def validation_message(root: Node, count: int) -> str:
    return f"✗ {count} validation error(s) in {root.spec.singular}"


def _fail_with_record_errors(nodes: Sequence[Node]) -> None:
    """Fail the trees whose records collected errors (validation, references, entity rules)."""
    for node in nodes:
        root = node.root
        if root.error is not None or not node.rec.errors:
            continue
        details = root.rec.all_errors()
        not_found = [d for d in details if d.constraint == "REFERENCE_NOT_FOUND"]
        if not_found and len(not_found) == len(details):
            fail(root, "REFERENCE_NOT_FOUND", not_found[0].message, details)
        else:
            fail(root, "VALIDATION_ERROR", validation_message(root, len(details)), details)


def error_from_exception(exc: FloorsyncError, path: str) -> RecordError:
    """A hook or database error → the per-record error (codes of API §4.6)."""
    details = [d.prefixed(path) for d in exc.details] if isinstance(exc.details, list) else []
    if isinstance(exc, ValidationFailed):
        not_found = [d for d in details if d.constraint == "REFERENCE_NOT_FOUND"]
        if not_found and len(not_found) == len(details):
            return RecordError("REFERENCE_NOT_FOUND", not_found[0].message, details)
        return RecordError("VALIDATION_ERROR", exc.message, details)
    if isinstance(exc, Conflict):
        return RecordError("CONFLICT", exc.message, details)
    if exc.status_code < 500:
        return RecordError("VALIDATION_ERROR", exc.message, details)
    return RecordError("INTERNAL_ERROR", exc.message, details)


# ---------------------------------------------------------------- the planner


def plan(
    work: Work, roots: Sequence[Node], options: SyncOptions, seen: SeenKeys, *, section: str = ""
) -> None:
    """Decide every record of the batch; failures land on the top-level nodes."""
    for root in roots:
        errors = root.rec.all_errors()
        if errors:
            fail(root, "VALIDATION_ERROR", validation_message(root, len(errors)), errors)
    _check_duplicates(roots, seen, section)
    level = [r for r in roots if r.error is None]
    while level:
        by_spec: dict[str, list[Node]] = {}
        for node in level:
            by_spec.setdefault(node.spec.name, []).append(node)
        for name, nodes in by_spec.items():
            _plan_level(work, get_spec(name), nodes, options)
        level = [
            kid
            for node in level
            if not node.failed
            for kids in node.children.values()
            for kid in kids
        ]


def _check_duplicates(roots: Sequence[Node], seen: SeenKeys, section: str) -> None:
    for root in roots:
        for node in root.walk():
            if node.key is None:
                continue
            where = f"item {root.index}" if node is root else f"item {root.index} ({node.rec.path})"
            first = seen.claim(node.spec.name, node.key, section, where)
            if first is None or root.error is not None:
                continue
            first_section, first_where = first
            label = first_where if first_section == section else f"{first_where} of {first_section}"
            source, ext = node.key
            fail(
                root,
                "DUPLICATE_IN_REQUEST",
                f"Duplicate key {source}/{ext}: it occurs earlier in this request ({label})",
                [
                    Detail(
                        join(node.rec.path, "external_id"),
                        f"duplicate of {label}",
                        "UNIQUE_CONSTRAINT",
                        ext,
                    )
                ],
            )


def _alive(nodes: Sequence[Node]) -> list[Node]:
    return [n for n in nodes if not n.failed]


def _plan_level(work: Work, spec: EntitySpec, nodes: list[Node], options: SyncOptions) -> None:
    session, scope = work.session, work.scope
    for node in nodes:
        if node.parent is not None and node.parent_ref is not None:
            node.rec.values[node.parent_ref] = node.parent.id
        node.key = (node.rec.values["external_source"], node.rec.values["external_id"])
    resolve_references(session, scope, spec, [n.rec for n in nodes])
    _fail_with_record_errors(nodes)
    nodes = _alive(nodes)
    for node in nodes:
        node.present = tuple(node.rec.values)
    rows = prefetch(session, scope, spec, [n.key for n in nodes if n.key is not None])
    for node in nodes:
        node.row = rows.get(node.key) if node.key is not None else None
    _run_prepare(work, spec, nodes)
    nodes = _alive(nodes)
    for node in nodes:
        fields = {k: node.rec.values[k] for k in node.present}
        for name, hashed in HASHED_EXTRAS.items():
            if name in node.rec.extras:
                fields[name] = hashed(node.rec)
        node.hash = sync_hash(fields)
        _classify(spec, node, options)
    _collect_changes(work, spec, [n for n in nodes if n.action == "updated"])
    check_unique(session, scope, spec, [n for n in nodes if n.action in ("created", "updated")])


def prefetch(
    session: Session, scope: TenantScope, spec: EntitySpec, keys: Sequence[Key]
) -> dict[Key, RowView]:
    """The rows with these keys, live or soft-deleted, in one query."""
    if not keys:
        return {}
    model = spec.model
    wanted = set(keys)
    stmt = (
        scoped(model, scope)
        .with_only_columns(*model.__table__.c)
        .where(
            member_of(session, model.external_id, {k[1] for k in wanted}),
            member_of(session, model.external_source, {k[0] for k in wanted}),
        )
    )
    out: dict[Key, RowView] = {}
    for row in session.execute(stmt):
        view = row_view(model, row)
        key = (view.external_source, view.external_id)
        if key in wanted:
            out[key] = view
    return out


def _run_prepare(work: Work, spec: EntitySpec, nodes: list[Node]) -> None:
    """The entity's rules (derived values, cross-field checks): set-based when it can."""
    if not nodes:
        return
    if spec.prepare_many is not None:
        try:
            spec.prepare_many(work, spec, [n.rec for n in nodes], [n.row for n in nodes])
        except FloorsyncError:
            pass  # attribute the failure record by record below
        else:
            _fail_with_record_errors(nodes)
            return
    hook = spec.prepare
    if hook is None:
        return
    for node in nodes:
        if node.failed:
            continue
        try:
            hook(work, spec, node.rec, node.row)
        except FloorsyncError as exc:
            err = error_from_exception(exc, node.rec.path)
            fail(node, err.code, err.message, err.details)
    _fail_with_record_errors(nodes)


def _classify(spec: EntitySpec, node: Node, options: SyncOptions) -> None:
    row = node.row
    if row is None:
        node.id, node.action = new_id(), "created"
        return
    node.id = row.id
    node.revived = spec.soft_delete and getattr(row, "deleted_at", None) is not None
    if not node.revived and options.skip_unchanged and row.sync_hash == node.hash:
        node.action = "skipped"
    else:
        node.action = "updated"


def _collect_changes(work: Work, spec: EntitySpec, nodes: list[Node]) -> None:
    """Field changes of the records to update ({field: (old, new)}), for events and dry runs."""
    if not nodes:
        return
    for node in nodes:
        values = {
            k: v
            for k, v in node.rec.values.items()
            if k in spec.by_name and k not in ("external_id", "external_source")
        }
        node.changes = diff_values(spec, node.row, values)
    pairs = [(n.rec, n.row) for n in nodes]
    if spec.extra_changes_many is not None:
        for node, extra in zip(
            nodes, spec.extra_changes_many(work.session, work.scope, pairs), strict=True
        ):
            node.changes.update(extra)
    elif spec.extra_changes is not None:
        for node in nodes:
            node.changes.update(spec.extra_changes(work.session, node.rec, node.row))


def wire_changes(spec: EntitySpec, node: Node) -> list[dict[str, Any]]:
    """`changes` of a dry run or diff: [{field, old, new}] in wire form (a revive adds deleted_at)."""
    out = []
    for name, (old, new) in node.changes.items():
        out.append(
            {"field": name, "old": wire_field(spec, name, old), "new": wire_field(spec, name, new)}
        )
    if node.revived and node.row is not None:
        out.append({"field": "deleted_at", "old": format_ts(node.row.deleted_at), "new": None})
    return out


# ---------------------------------------------------------------- unique rules


def check_unique(session: Session, scope: TenantScope, spec: EntitySpec, nodes: list[Node]) -> None:
    """Unique rules (job_number, part_number in its job, names, codes) against the stored rows
    and the earlier records of the batch (entities/unique.py): a breach fails the record's tree
    with CONFLICT."""
    alive = [n for n in nodes if not n.failed]
    candidates = [
        Candidate(
            n.rec.values,
            n.row,
            n.id,
            key=n.key,
            path=n.rec.path,
            revived=n.revived,
            group=n.root,
        )
        for n in alive
    ]
    for i, detail in unique_conflicts(session, scope, spec, candidates).items():
        fail(alive[i], "CONFLICT", detail.message, [detail])
