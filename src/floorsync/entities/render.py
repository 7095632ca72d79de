"""Rows → wire records: `id` first, fields in the order of the field tables, then embeds and
child arrays (from the entity's `render_extras`), then `metadata` last."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from floorsync.db.repository import TenantScope
from floorsync.entities.fields import Kind, to_wire
from floorsync.entities.spec import SYNC_BLOCK, EntitySpec

_SYNC_KINDS = {
    "external_id": Kind.string, "external_source": Kind.string, "synced_at": Kind.timestamp,
    "sync_hash": Kind.string, "created_at": Kind.timestamp, "updated_at": Kind.timestamp,
    "deleted_at": Kind.timestamp, "deleted_by": Kind.uuid,
}


def base_record(spec: EntitySpec, row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"id": str(row.id)}
    for f in spec.wire_fields():
        out[f.name] = to_wire(f.kind, getattr(row, f.attr))
    tail = SYNC_BLOCK if spec.soft_delete else (
        ("external_id", "external_source", "synced_at", "sync_hash", "created_at", "updated_at") if spec.synced
        else ("created_at", "updated_at")
    )
    for name in tail:
        out[name] = to_wire(_SYNC_KINDS[name], getattr(row, name))
    return out


def render_rows(
    session: Session, scope: TenantScope, spec: EntitySpec, rows: Sequence[Any], mode: str = "list"
) -> list[dict[str, Any]]:
    """Render rows; `mode` is list, single, event or nested (what the extras include)."""
    extras = spec.render_extras(session, scope, rows, mode) if spec.render_extras and rows else {}
    out = []
    for row in rows:
        rec = base_record(spec, row)
        rec.update(extras.get(row.id, {}))
        if spec.has_metadata:
            rec["metadata"] = row.metadata_ if row.metadata_ is not None else {}
        out.append(rec)
    return out


def render_one(session: Session, scope: TenantScope, spec: EntitySpec, row: Any, mode: str = "single") -> dict[str, Any]:
    return render_rows(session, scope, spec, [row], mode)[0]
