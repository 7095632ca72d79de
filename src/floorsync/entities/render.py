"""Rows → wire records: `id` first, fields in the order of the field tables, then embeds and
child arrays (from the entity's `render_extras`), then `metadata` last."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from operator import attrgetter
from typing import Any

from sqlalchemy.orm import Session

from floorsync.db.repository import TenantScope
from floorsync.entities.fields import Kind, to_wire
from floorsync.entities.spec import SYNC_BLOCK, EntitySpec, RenderMode

_SYNC_KINDS = {
    "external_id": Kind.string,
    "external_source": Kind.string,
    "synced_at": Kind.timestamp,
    "sync_hash": Kind.string,
    "created_at": Kind.timestamp,
    "updated_at": Kind.timestamp,
    "deleted_at": Kind.timestamp,
    "deleted_by": Kind.uuid,
}


# Kinds whose stored value is already the wire value (to_wire returns them as they are).
_AS_STORED = frozenset(
    {
        Kind.string,
        Kind.text,
        Kind.integer,
        Kind.boolean,
        Kind.object,
        Kind.string_list,
        Kind.country,
    }
)
_COLUMNS: dict[int, tuple[Any, tuple[tuple[str, str, Kind], ...]]] = {}


def _columns(spec: EntitySpec) -> tuple[tuple[str, str, Kind], ...]:
    """(wire name, attribute, kind) of the base record, computed once per spec."""
    hit = _COLUMNS.get(id(spec))
    if hit is not None and hit[0] is spec.fields:
        return hit[1]
    tail = (
        SYNC_BLOCK
        if spec.soft_delete
        else (
            ("external_id", "external_source", "synced_at", "sync_hash", "created_at", "updated_at")
            if spec.synced
            else ("created_at", "updated_at")
        )
    )
    columns = tuple((f.name, f.attr, f.kind) for f in spec.wire_fields()) + tuple(
        (n, n, _SYNC_KINDS[n]) for n in tail
    )
    _COLUMNS[id(spec)] = (spec.fields, columns)
    return columns


_PLANS: dict[int, tuple[Any, tuple[tuple[str, ...], Any, tuple[tuple[str, Kind], ...]]]] = {}


def _plan(spec: EntitySpec) -> tuple[tuple[str, ...], Any, tuple[tuple[str, Kind], ...]]:
    """(wire names, a getter of all their attributes at once, (wire name, kind) of the columns
    whose stored value must be converted), once per spec."""
    hit = _PLANS.get(id(spec))
    if hit is not None and hit[0] is spec.fields:
        return hit[1]
    columns = _columns(spec)
    names = tuple(name for name, _attr, _kind in columns)
    attrs = [attr for _name, attr, _kind in columns]
    getter = attrgetter(*attrs) if len(attrs) > 1 else (lambda row: (getattr(row, attrs[0]),))
    convert = tuple((name, kind) for name, _attr, kind in columns if kind not in _AS_STORED)
    plan = (names, getter, convert)
    _PLANS[id(spec)] = (spec.fields, plan)
    return plan


def base_record(
    spec: EntitySpec, row: Any, stamps: dict[datetime, Any] | None = None
) -> dict[str, Any]:
    """`stamps` memoises timestamp texts across the rows of one batch (they share `now`).

    Every column's stored value is read in one call and the record built from them in order;
    then only the columns whose wire form differs (timestamps, uuids, numbers) are converted
    in place (a dict keeps a key's position when its value is replaced)."""
    names, getter, convert = _plan(spec)
    out: dict[str, Any] = {"id": str(row.id)}
    out.update(zip(names, getter(row), strict=True))
    timestamp = Kind.timestamp
    for name, kind in convert:
        value = out[name]
        if value is None:
            continue
        if kind is timestamp and stamps is not None:
            text = stamps.get(value)
            if text is None:
                text = stamps[value] = to_wire(kind, value)
            out[name] = text
        else:
            out[name] = to_wire(kind, value)
    return out


def render_rows(
    session: Session,
    scope: TenantScope,
    spec: EntitySpec,
    rows: Sequence[Any],
    mode: RenderMode = "list",
) -> list[dict[str, Any]]:
    """Render rows; `mode` is list, single, event or nested (what the extras include)."""
    extras = spec.render_extras(session, scope, rows, mode) if spec.render_extras and rows else {}
    out = []
    stamps: dict[datetime, Any] = {}
    for row in rows:
        rec = base_record(spec, row, stamps)
        rec.update(extras.get(row.id, {}))
        if spec.has_metadata:
            rec["metadata"] = row.metadata_ if row.metadata_ is not None else {}
        out.append(rec)
    return out


def wire_field(spec: EntitySpec, name: str, value: Any) -> Any:
    """One stored value of a field (or of an input that is not a field) in wire form: the
    `previous` values of an event, the `changes` of a dry run, a conflict's value."""
    f = spec.by_name.get(name)
    if f is not None:
        return to_wire(f.kind, value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def render_one(
    session: Session, scope: TenantScope, spec: EntitySpec, row: Any, mode: RenderMode = "single"
) -> dict[str, Any]:
    return render_rows(session, scope, spec, [row], mode)[0]
