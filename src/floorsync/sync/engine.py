"""The sync engine: upsert records by (external_source, external_id), skip unchanged ones and
report every bad record without blocking the good ones. The only write path for ERP data (API
§4): bulk and single sync, erp-sync, and later CSV import and planning pulls all call it.

It never commits; the caller's unit of work does (a dry run discards it). Per batch:

1. plan (sync.classify): validate, find duplicate keys, resolve references, prefetch the rows by
   key, run the entity rules, hash and classify, check unique rules — set-based, level by level;
2. write chunks of planned trees in one savepoint each, with one batched upsert per entity
   level (db.upsert; the unique key settles races), then the entity's after-write work and the
   records' events, rendered in one batch. Rows are written level by level (jobs, then parts,
   then operations) and by key within a level, the canonical lock order of db.locking, so
   overlapping syncs queue instead of deadlocking. A chunk that lost a race (a concurrent sync
   wrote one of its keys after the prefetch) is planned again and rewritten as a whole; a chunk
   that fails for another database error is redone one record per savepoint, so the error lands
   on the record that caused it. A transient database condition (a deadlock, a lock timeout, a
   lost connection) is never a record's error: it propagates, and the boundary runs the whole
   unit of work again or answers 503 (db.transient, http.retry);
3. prune (sync.prune): `replace_children` per record inside its unit, `snapshot` after all
   upserts.

One event per written record, none for skipped, failed or rolled-back ones, and none in a dry
run (its unit of work is discarded, so its events are not even rendered): a record's events
are buffered inside its savepoint and dropped with it when it fails (db.uow.Work.savepoint).
"""

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy.exc import IntegrityError

from floorsync.db import write_behind
from floorsync.db.engine import json_text
from floorsync.db.integrity import translate_integrity_error
from floorsync.db.locking import lock_rows
from floorsync.db.transient import is_transient
from floorsync.db.uow import Work
from floorsync.db.upsert import Written, stage_upsert
from floorsync.db.write_behind import InFlight
from floorsync.entities.embeds import known_rows
from floorsync.entities.new_rows import attr_to_column, column_attrs, new_row_values
from floorsync.entities.render import render_rows
from floorsync.entities.service import record_event
from floorsync.entities.spec import EntitySpec, get_spec
from floorsync.errors import FloorsyncError
from floorsync.sync.classify import (
    Node,
    SeenKeys,
    build_tree,
    error_from_exception,
    fail,
    plan,
    wire_changes,
)
from floorsync.sync.options import SyncOptions
from floorsync.sync.prefetch import NarrowRow, RowView, load_full_rows
from floorsync.sync.prune import prune_children, prune_snapshot
from floorsync.sync.results import RecordError, RecordResult, SyncReport

log = logging.getLogger("floorsync.sync")

CHUNK = 1000  # top-level records per savepoint (a failing chunk is redone record by record)
RACE_RETRIES = 3


class RaceLost(Exception):
    """A concurrent writer took the key between our prefetch and our upsert: plan again."""


def sync_sections(
    work: Work,
    sections: Sequence[tuple[EntitySpec, Sequence[Any]]],
    options: SyncOptions,
    *,
    labelled: bool = False,
    whole_rows: bool = False,
) -> list[SyncReport]:
    """Sync several entities in the given (dependency) order in one unit of work: later
    sections see records written by earlier ones, keys are unique across the request, and
    `snapshot` prunes after all upserts. With `atomic`, one failure turns every success into
    `rolled_back`; the caller must then discard the unit of work. `whole_rows`: every
    top-level result carries its whole row (a single sync answers with the record, skipped
    ones too)."""
    seen = SeenKeys()
    reports = [
        sync_records(
            work,
            spec,
            items,
            options,
            seen=seen,
            section=spec.name if labelled else "",
            prune=False,
            whole_rows=whole_rows,
        )
        for spec, items in sections
    ]
    for (spec, _items), report in zip(sections, reports, strict=True):
        if options.prunes(spec.name):
            started = time.perf_counter()
            report.pruned = prune_snapshot(work, spec, seen.keys(spec.name))
            report.duration_ms += _ms_since(started)
    if options.atomic and any(r.failed for r in reports):
        for report in reports:
            report.mark_rolled_back()
    return reports


def sync_records(
    work: Work,
    spec: EntitySpec,
    items: Sequence[Any],
    options: SyncOptions,
    *,
    seen: SeenKeys | None = None,
    section: str = "",
    prune: bool = True,
    whole_rows: bool = False,
) -> SyncReport:
    """Upsert records by (external_source, external_id); skip unchanged ones.

    Returns one RecordResult per item, in input order. Never commits and never raises for a
    bad record; with `prune` and a snapshot option, prunes the entity after the upserts.
    """
    started = time.perf_counter()
    seen = SeenKeys() if seen is None else seen
    roots = [build_tree(spec, i, raw) for i, raw in enumerate(items)]
    plan(work, roots, options, seen, section=section)
    final = list(roots)
    ready = sorted(
        (i for i, root in enumerate(roots) if root.error is None), key=lambda i: _lock_key(roots[i])
    )
    for start in range(0, len(ready), CHUNK):
        positions = sorted(ready[start : start + CHUNK])  # input order within a chunk (events)
        done = _write_chunk(work, spec, [roots[i] for i in positions], options)
        for i, node in zip(positions, done, strict=True):
            final[i] = node
    if whole_rows:
        _complete_skipped(work, spec, final)
    report = SyncReport(
        entity=spec.name, singular=spec.singular, dry_run=options.dry_run, atomic=options.atomic
    )
    report.results = [result_of(node, options.dry_run) for node in final]
    report.nested = any(node.children for node in final)
    report.written_keys = [
        node.key[1]
        for node in final
        if node.error is None
        and node.key is not None
        and node.written is not None
        and node.action in ("created", "updated")
    ]
    if prune and options.prunes(spec.name):
        report.pruned = prune_snapshot(work, spec, seen.keys(spec.name))
    report.duration_ms = _ms_since(started)
    return report


def _complete_skipped(work: Work, spec: EntitySpec, roots: list[Node]) -> None:
    """Whole rows for the skipped top-level records (the prefetch read only a few columns)."""
    narrow = [n for n in roots if n.written is None and isinstance(n.row, NarrowRow)]
    full = load_full_rows(work.session, work.scope, spec, [n.row for n in narrow if n.row])
    for node in narrow:
        if node.row is not None:
            node.row = full.get(node.row.id, node.row)


def _ms_since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


# ---------------------------------------------------------------- chunks and the fallback


def _lock_key(node: Node) -> tuple[str, str]:
    """Where a record's row comes in the canonical lock order (db.locking)."""
    return node.key or ("", "")


def _write_chunk(
    work: Work, spec: EntitySpec, roots: list[Node], options: SyncOptions
) -> list[Node]:
    """Write planned trees in one savepoint; returns the trees as finally planned, in order.

    A lost race (RaceLost, or a unique index that answered before the key did) plans the
    chunk again and rewrites it; any other database error, or races lost every time, redo it
    one record per savepoint. Transient errors propagate (module docstring).
    """
    nodes = roots
    for _attempt in range(RACE_RETRIES):
        try:
            with work.savepoint():
                _write_trees(work, [n for n in nodes if n.error is None], options)
            return nodes
        except (RaceLost, IntegrityError):
            nodes = _plan_again(work, spec, nodes, options)
        except Exception as exc:
            if is_transient(exc):
                raise
            log.info(
                "sync chunk of %d %s failed (%s); retrying record by record",
                len(nodes),
                spec.name,
                type(exc).__name__,
            )
            break
    ordered = sorted((n for n in nodes if n.error is None), key=_lock_key)
    done = {id(n): _write_alone(work, spec, n, options) for n in ordered}
    return [done.get(id(n), n) for n in nodes]


def _plan_again(
    work: Work, spec: EntitySpec, nodes: list[Node], options: SyncOptions
) -> list[Node]:
    """The records that were ready planned afresh, as a batch, against the rows as they are now."""
    fresh = [n if n.error is not None else build_tree(spec, n.index, n.raw) for n in nodes]
    plan(
        work,
        [new for new, old in zip(fresh, nodes, strict=True) if new is not old],
        options,
        SeenKeys(),
    )
    return fresh


def _write_alone(work: Work, spec: EntitySpec, first: Node, options: SyncOptions) -> Node:
    """Plan and write one top-level record in its own savepoint; errors stay on the record."""
    node = first
    for attempt in range(RACE_RETRIES):
        node = _plan_again(work, spec, [first], options)[0]
        if node.error is not None:
            return node
        error: RecordError
        try:
            with work.savepoint():
                _write_trees(work, [node], options)
            return node
        except RaceLost:
            continue
        except IntegrityError as exc:
            # Usually a concurrent writer of the same record that committed after our
            # prefetch (its other unique indexes can answer before the key does): plan again;
            # a real conflict is then found by the planner or fails again here.
            if attempt < RACE_RETRIES - 1:
                continue
            error = error_from_exception(translate_integrity_error(exc), "")
        except FloorsyncError as exc:
            error = error_from_exception(exc, "")
        except Exception as exc:
            if is_transient(exc):
                raise
            log.exception(
                "sync of %s item %d failed (request id %s)",
                spec.name,
                first.index,
                work.origin.request_id,
            )
            error = RecordError("INTERNAL_ERROR", internal_message(work))
        fail(node, error.code, error.message, error.details)
        return node
    fail(node, "CONFLICT", "The record was changed concurrently; retry the request", [])
    return node


def internal_message(work: Work) -> str:
    return f"An unexpected error occurred. Quote request id {work.origin.request_id} when reporting it."


# ---------------------------------------------------------------- writing


def _write_trees(work: Work, roots: Sequence[Node], options: SyncOptions) -> None:
    level: list[Node] = list(roots)
    pending: _Pending | None = None
    while level:
        by_spec: dict[str, list[Node]] = {}
        for node in level:
            by_spec.setdefault(node.spec.name, []).append(node)
        kids = [kid for node in level for kids in node.children.values() for kid in kids]
        for i, (name, nodes) in enumerate(by_spec.items()):
            # The last statements of the request may run while its events are rendered (a dry
            # run renders none, so it has nothing to overlap).
            last = not kids and i == len(by_spec) - 1 and not options.dry_run
            pending = _write_level(
                work,
                get_spec(name),
                [n for n in nodes if n.action in ("created", "updated")],
                options,
                defer=last,
            )
        level = kids
    if options.dry_run:  # a dry run's unit of work is discarded, events and all
        assert pending is None  # nothing is deferred in a dry run (above)
    elif pending is None:
        _emit_events(work, roots)
    else:
        _emit_events_overlapped(work, roots, pending)
    if options.replace_children:
        prune_children(work, roots)


@cache
def _field_columns(spec_name: str) -> dict[str, str]:
    """Field name → column key (`metadata` → `metadata`, via the `metadata_` attribute)."""
    spec = get_spec(spec_name)
    a2c = attr_to_column(spec.model)
    return {f.name: a2c[f.attr] for f in spec.fields if f.attr in a2c}


Member = tuple[Node, dict[str, Any]]  # a record and the full row proposed for it


# Writes deferred to a helper thread (db/write_behind.py) from this many rows on: below it the
# thread costs more than the overlap gives (a single sync writes its row inline).
DEFER_MIN_ROWS = 64


def _write_level(
    work: Work, spec: EntitySpec, nodes: list[Node], options: SyncOptions, *, defer: bool = False
) -> "_Pending | None":
    """The records of one entity level: one batched upsert for the new ones, and one per
    record shape (the set of columns given) for the existing ones, all in key order; then the
    entity's after-write work. With `defer` (the request's last level), a large enough level
    without after-write work is written on a helper thread: the caller renders the events
    meanwhile and then finishes it (`_Pending.finish`)."""
    if not nodes:
        return None
    _fill_create_defaults(work, spec, [n for n in nodes if n.action == "created"])
    new_rows, updates = _proposed_rows(work, spec, nodes)
    if len(updates) > 1:
        # Each shape's statement locks its own rows: take all the locks in key order first.
        existing = [node.id for members in updates.values() for node, _full in members]
        lock_rows(work.session, spec.model, work.scope, [i for i in existing if i is not None])
    # A new record whose key exists meanwhile is a lost race, planned again whatever this
    # statement updates: the new records of every shape share one statement.
    statements: list[tuple[frozenset[str], list[Member]]] = []
    if new_rows:
        statements.append((frozenset(), new_rows))
    statements.extend(updates.items())
    hooks = spec.after_write is not None or spec.after_write_many is not None
    if defer and not hooks and len(nodes) >= DEFER_MIN_ROWS:
        *first, (shape, members) = statements
        for earlier, earlier_members in first:
            _upsert(work, spec, earlier, earlier_members, options)
        write = _stage_upsert(work, spec, shape, members, options)
        for node, full in members:
            node.written = _row_view(spec, full)  # as it will be once the write succeeds
        # Started last: from here on the caller joins it, whatever happens.
        return _Pending(spec, members, write_behind.start(work.session, write))
    for shape, members in statements:
        _upsert(work, spec, shape, members, options)
    _after_write(work, spec, [n for n in nodes if n.written is not None])
    return None


def _fill_create_defaults(work: Work, spec: EntitySpec, creates: list[Node]) -> None:
    """Values computed at insert time (auto sequences), set-based where the entity can."""
    if not creates:
        return
    if spec.fill_defaults_many is not None:
        spec.fill_defaults_many(work, [n.rec.values for n in creates])
    elif spec.fill_defaults is not None:
        for node in creates:
            spec.fill_defaults(work, node.rec.values)


def _proposed_rows(
    work: Work, spec: EntitySpec, nodes: list[Node]
) -> tuple[list[Member], dict[frozenset[str], list[Member]]]:
    """The full row each record proposes, in key order: new rows (defaults for what they do
    not give, entities/new_rows.py) and existing rows by shape (the stored row with the given
    columns replaced)."""
    now = work.clock.now()
    field_cols = _field_columns(spec.name)
    attrs = column_attrs(spec.model)
    bookkeeping: dict[str, Any] = {"updated_at": now, "synced_at": now}
    if spec.soft_delete:
        bookkeeping.update(deleted_at=None, deleted_by=None)
    new_rows: list[Member] = []
    updates: dict[frozenset[str], list[Member]] = {}
    for node in sorted(nodes, key=_lock_key):  # defaults were filled in input order
        given = {field_cols[k]: v for k, v in node.rec.values.items() if k in field_cols}
        if node.action == "created":
            fixed = {
                "id": node.id,
                "tenant_id": work.scope.tenant_id,
                "created_at": now,
                **bookkeeping,
                "sync_hash": node.hash,
            }
            new_rows.append((node, new_row_values(spec, given, fixed)))
        else:
            if isinstance(node.row, NarrowRow):
                raise RaceLost  # deleted for good after the prefetch: plan again
            full = {col: getattr(node.row, attr) for col, attr in attrs}
            full.update(given)
            full.update(bookkeeping)
            full["sync_hash"] = node.hash
            updates.setdefault(frozenset(given), []).append((node, full))
    return new_rows, updates


_KEY_COLUMNS = frozenset({"id", "tenant_id", "external_id", "external_source"})


def _stage_upsert(
    work: Work, spec: EntitySpec, shape: frozenset[str], members: list[Member], options: SyncOptions
) -> Callable[[], list[Written]]:
    fixed = [
        "updated_at",
        "synced_at",
        "sync_hash",
        *(("deleted_at", "deleted_by") if spec.soft_delete else ()),
    ]
    update_columns = [c for c in sorted(shape) if c not in _KEY_COLUMNS] + fixed
    return stage_upsert(
        work.session,
        spec.model.__table__,
        [full for _node, full in members],
        update_columns=update_columns,
        only_if_changed=options.skip_unchanged,
    )


def _upsert(
    work: Work, spec: EntitySpec, shape: frozenset[str], members: list[Member], options: SyncOptions
) -> None:
    """One statement for records of one shape; each record learns the row it wrote."""
    returned = _stage_upsert(work, spec, shape, members, options)()
    _take_written(spec, members, returned)


def _take_written(spec: EntitySpec, members: list[Member], returned: list[Written]) -> list[Node]:
    """Each record learns the row it wrote: the proposed values (the update kept the columns it
    did not set, and those came from the prefetched row). A new record whose key another
    writer took, or a row that is not the planned one, is a lost race (RaceLost). Returns the
    records that turned out to have nothing to write (a concurrent sync stored their hash)."""
    ids = {(source, ext): row_id for row_id, source, ext in returned}
    unwritten = []
    for node, full in members:
        row_id = ids.get(node.key) if node.key is not None else None
        if row_id is None:
            if node.action == "created":
                raise RaceLost
            # A concurrent sync stored the same hash meanwhile: nothing left to write.
            node.action, node.revived, node.changes = "skipped", False, {}
            node.written = None
            unwritten.append(node)
            continue
        if row_id != node.id:
            raise RaceLost
        if node.written is None:
            node.written = _row_view(spec, full)
    return unwritten


def _row_view(spec: EntitySpec, full: dict[str, Any]) -> RowView:
    """The proposed row as the model's attributes (`metadata_`): its namespace filled in one
    update, three times faster than `RowView(**kwargs)` for 31 columns."""
    view = RowView.__new__(RowView)
    attrs = view.__dict__
    attrs.update(full)
    for col, attr in _renamed_columns(spec.model):
        attrs[attr] = attrs.pop(col)
    return view


@dataclass
class _Pending:
    """The last statement of the last level, in flight on a helper thread
    (db/write_behind.py)."""

    spec: EntitySpec
    members: list[Member]
    flight: InFlight[list[Written]]

    def finish(self) -> list[Node]:
        """Wait for the write, check what it wrote (RaceLost as inline); returns the records
        that had nothing to write after all."""
        return _take_written(self.spec, self.members, self.flight.result())


@cache
def _renamed_columns(model: Any) -> tuple[tuple[str, str], ...]:
    """(column key, attribute) where they differ: `metadata` → `metadata_`."""
    return tuple((col, attr) for col, attr in column_attrs(model) if col != attr)


def _after_write(work: Work, spec: EntitySpec, written: list[Node]) -> None:
    """Writes that depend on the row ids (an operation's resources), set-based where it can."""
    pairs = [(n.rec, n.written) for n in written]
    if spec.after_write_many is not None:
        spec.after_write_many(work, pairs)
    elif spec.after_write is not None:
        for rec, row in pairs:
            spec.after_write(work, rec, row)


def _emit_events(work: Work, roots: Sequence[Node]) -> None:
    """`<entity>.created` / `.updated` for every written record, parents before children,
    rendered in one batch per entity."""
    for node, rendered in _render_events(work, roots):
        _record(work, node, rendered)


def _emit_events_overlapped(work: Work, roots: Sequence[Node], pending: _Pending) -> None:
    """`_emit_events` while the last level's write is in flight: the events are rendered,
    buffered and serialised from the rows as proposed, then the write is finished; a record that turned out
    to have nothing to write loses its event, and a lost race drops them all (with the
    savepoint). The write is always joined before this returns or raises."""
    mark = len(work.events)
    try:
        order = []
        for node, rendered in _render_events(work, roots):
            order.append(node)
            _record(work, node, rendered)
        for event in work.events[mark:]:  # what the outbox would serialise at the commit
            event.data_json = json_text(event.data)
    finally:
        pending.flight.wait()
    unwritten = {id(n) for n in pending.finish()}
    if unwritten:
        kept = [
            ev
            for node, ev in zip(order, work.events[mark:], strict=True)
            if id(node) not in unwritten
        ]
        del work.events[mark:]
        work.events.extend(kept)


def _render_events(work: Work, roots: Sequence[Node]) -> list[tuple[Node, dict[str, Any]]]:
    order = [
        n
        for root in roots
        for n in root.walk()
        if n.written is not None and n.action in ("created", "updated")
    ]
    if not order:
        return []
    by_spec: dict[str, list[Node]] = {}
    for node in order:
        by_spec.setdefault(node.spec.name, []).append(node)
    rendered: dict[int, dict[str, Any]] = {}
    # The rows just written stand in for the parents the renderers would read back.
    written = {
        get_spec(name).model: {n.written.id: n.written for n in nodes if n.written is not None}
        for name, nodes in by_spec.items()
    }
    with known_rows(work.session, written):
        for name, nodes in by_spec.items():
            records = render_rows(
                work.session, work.scope, get_spec(name), [n.written for n in nodes], "event"
            )
            for node, record in zip(nodes, records, strict=True):
                rendered[id(node)] = record
    return [(node, rendered[id(node)]) for node in order]


def _record(work: Work, node: Node, rendered: dict[str, Any]) -> None:
    record_event(
        work,
        node.spec,
        node.written,
        node.action or "updated",
        changes=node.changes if node.action == "updated" else None,
        revived=node.revived,
        rendered=rendered,
    )


# ---------------------------------------------------------------- results


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def result_of(node: Node, dry_run: bool) -> RecordResult:
    raw = node.raw if isinstance(node.raw, dict) else {}
    ext = node.key[1] if node.key is not None else _text(raw.get("external_id"))
    source = node.key[0] if node.key is not None else _text(raw.get("external_source"))
    if node.error is not None:
        return RecordResult(node.index, ext, source, None, "error", error=node.error, item=node.raw)
    action = node.action or "skipped"
    result = RecordResult(
        node.index,
        ext,
        source,
        None if dry_run and action == "created" else node.id,
        action,
        skipped_reason="unchanged" if action == "skipped" else None,
        revived=node.revived,
        changes=wire_changes(node.spec, node) if dry_run and action == "updated" else None,
        item=node.raw,
        row=node.written if node.written is not None else node.row,
    )
    if node.children:
        result.children = {
            key: [result_of(kid, dry_run) for kid in kids] + node.pruned.get(key, [])
            for key, kids in node.children.items()
        }
    return result
