"""The export's sections in file order (§10.3) and how each record is written.

Records are API representations, never table rows: master data in its single-GET form without
embeds, webhooks and API keys in their list forms (`secret_prefix` and `key_prefix` only), logs
without payloads, stored files as metadata (never bytes). Never exported: key plaintexts and
hashes, webhook secrets, sessions, idempotency records, the event log."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from floorsync.auth.keys import key_item
from floorsync.db.repository import TenantScope, scoped
from floorsync.entities.fields import Kind, to_wire
from floorsync.entities.render import base_record, render_rows
from floorsync.entities.spec import EntitySpec, get_spec
from floorsync.models.catalogue import BatchException, StoredFile
from floorsync.models.shopfloor import BatchOperation
from floorsync.models.tenancy import ApiKey
from floorsync.models.webhooks import Webhook, WebhookLog
from floorsync.webhooks.schemas import render_log, render_webhook

Render = Callable[[Session, TenantScope, Sequence[Any]], list[dict[str, Any]]]


@dataclass(frozen=True)
class Section:
    name: str
    model: Any
    render: Render
    soft_deletable: bool = False


def _plain(spec_name: str) -> Render:
    """The single form without embeds or child summaries: the base record, then metadata."""

    def render(_session: Session, _scope: TenantScope, rows: Sequence[Any]) -> list[dict[str, Any]]:
        spec: EntitySpec = get_spec(spec_name)
        out = []
        for row in rows:
            record = base_record(spec, row)
            if spec.has_metadata:
                record["metadata"] = row.metadata_
            out.append(record)
        return out

    return render


def _templates(session: Session, scope: TenantScope, rows: Sequence[Any]) -> list[dict[str, Any]]:
    return render_rows(session, scope, get_spec("templates"), rows, "single")


def _batches(session: Session, scope: TenantScope, rows: Sequence[Any]) -> list[dict[str, Any]]:
    members: dict[Any, list[dict[str, Any]]] = {r.id: [] for r in rows}
    if rows:
        for m in session.scalars(
            scoped(BatchOperation, scope)
            .where(BatchOperation.batch_id.in_(list(members)))
            .order_by(BatchOperation.sequence_in_batch)
        ):
            members[m.batch_id].append(
                {
                    "operation_id": str(m.operation_id),
                    "sequence_in_batch": m.sequence_in_batch,
                    "released_at": to_wire(Kind.timestamp, m.released_at),
                }
            )
    out = _plain("batches")(session, scope, rows)
    for record, row in zip(out, rows, strict=True):
        record["operations"] = members[row.id]
    return out


def exception_record(row: BatchException) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "batch_id": str(row.batch_id),
        "operation_id": str(row.operation_id),
        "exception_type": _v(row.exception_type),
        "status": _v(row.status),
        "expected_at": to_wire(Kind.timestamp, row.expected_at),
        "detected_at": to_wire(Kind.timestamp, row.detected_at),
        "overdue_minutes": row.overdue_minutes,
        "resolved_at": to_wire(Kind.timestamp, row.resolved_at),
        "resolution": row.resolution,
        "created_at": to_wire(Kind.timestamp, row.created_at),
        "updated_at": to_wire(Kind.timestamp, row.updated_at),
    }


def _v(x: Any) -> Any:
    return x.value if hasattr(x, "value") else x


def _exceptions(_s: Session, _sc: TenantScope, rows: Sequence[Any]) -> list[dict[str, Any]]:
    return [exception_record(r) for r in rows]


def _files(_s: Session, _sc: TenantScope, rows: Sequence[Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": str(r.id),
            "file_path": r.path,
            "purpose": _v(r.purpose),
            "filename": r.filename,
            "content_type": r.content_type,
            "size": r.size_bytes,
            "sha256": r.sha256,
            "part_id": str(r.part_id) if r.part_id else None,
            "job_id": str(r.job_id) if r.job_id else None,
            "created_at": to_wire(Kind.timestamp, r.created_at),
        }
        for r in rows
    ]


def _webhooks(_s: Session, _sc: TenantScope, rows: Sequence[Any]) -> list[dict[str, Any]]:
    return [render_webhook(r) for r in rows]  # secret_prefix only, never the secret


def _logs(_s: Session, _sc: TenantScope, rows: Sequence[Any]) -> list[dict[str, Any]]:
    return [render_log(r) for r in rows]  # without payload


def _keys(_s: Session, _sc: TenantScope, rows: Sequence[Any]) -> list[dict[str, Any]]:
    return [key_item(r) for r in rows]  # key_prefix only, never the key or its hash


def _entity(name: str, *, soft: bool = False, section: str | None = None) -> Section:
    return Section(section or name, get_spec(name).model, _plain(name), soft)


def sections() -> list[Section]:
    """Every section, in file order."""
    return [
        _entity("cells", soft=True),
        _entity("resources", soft=True),
        _entity("materials", soft=True),
        _entity("operators"),
        _entity("scrap_reasons"),
        Section("substep_templates", get_spec("templates").model, _templates),
        _entity("jobs", soft=True),
        _entity("parts", soft=True),
        _entity("operations", soft=True),
        _entity("substeps"),
        _entity("issues"),
        _entity("time_entries"),
        _entity("assignments"),
        _entity("operation_quantities"),
        Section("batches", get_spec("batches").model, _batches),
        Section("batch_exceptions", BatchException, _exceptions),
        Section("files", StoredFile, _files),
        Section("webhooks", Webhook, _webhooks),
        Section("webhook_logs", WebhookLog, _logs),
        Section("api_keys", ApiKey, _keys),
    ]


# Eryxon's names for sections (§10.1) and the tables whose data is inside other sections.
ALIASES = {
    "profiles": "operators",
    "operation_batches": "batches",
    "templates": "substep_templates",
}
MERGED = {"operation_resources", "time_entry_pauses"}
