"""Writing the export: one read-only snapshot, every section paged by (created_at, id), each
record one line, and a completeness marker at the end (JSON: `_metadata` closes the object, so a
cut-off stream is invalid JSON; NDJSON: the footer line)."""

import logging
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import and_, or_
from sqlalchemy.orm import Session, sessionmaker

from floorsync.db.engine import read_sessions
from floorsync.db.repository import TenantScope, scoped
from floorsync.export.sections import Section
from floorsync.kit.clock import Clock
from floorsync.kit.timefmt import format_ts
from floorsync.models.catalogue import StoredFile
from floorsync.models.enums import FileState
from floorsync.models.tenancy import Tenant

log = logging.getLogger("floorsync.export")
PAGE = 500


@dataclass
class ExportRequest:
    scope: TenantScope
    sections: Sequence[Section]
    merged: list[str]
    format: str  # "json" | "ndjson"
    include_deleted: bool
    request_id: str
    api_key_id: uuid.UUID | None
    counts: dict[str, int] = field(default_factory=dict)


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value)


def open_snapshot(sessions: sessionmaker[Session]) -> Session:
    """A read session whose every query sees the same instant: REPEATABLE READ on PostgreSQL;
    on SQLite one read transaction (its snapshot is held until the transaction ends)."""
    session = read_sessions(sessions)()
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    return session


def tenant_info(session: Session, scope: TenantScope) -> dict[str, Any]:
    tenant = session.get(Tenant, scope.tenant_id)
    assert tenant is not None
    return {
        "id": str(tenant.id),
        "name": tenant.name,
        "slug": tenant.slug,
        "created_at": format_ts(tenant.created_at),
    }


def _pages(session: Session, req: ExportRequest, section: Section) -> Iterator[list[Any]]:
    model = section.model
    stmt = scoped(model, req.scope, include_deleted=req.include_deleted and section.soft_deletable)
    if model is StoredFile:
        stmt = stmt.where(StoredFile.state == FileState.stored)
    last: tuple[Any, Any] | None = None
    while True:
        page_stmt = stmt
        if last is not None:
            page_stmt = page_stmt.where(
                or_(
                    model.created_at > last[0],
                    and_(model.created_at == last[0], model.id > last[1]),
                )
            )
        rows = list(session.scalars(page_stmt.order_by(model.created_at, model.id).limit(PAGE)))
        if not rows:
            return
        yield rows
        last = (rows[-1].created_at, rows[-1].id)
        if len(rows) < PAGE:
            return


def _records(session: Session, req: ExportRequest, section: Section) -> Iterator[dict[str, Any]]:
    for rows in _pages(session, req, section):
        records = section.render(session, req.scope, rows)
        req.counts[section.name] = req.counts.get(section.name, 0) + len(records)
        yield from records


def stream(
    sessions: sessionmaker[Session], clock: Clock, req: ExportRequest, on_done: Any
) -> Iterator[bytes]:
    """The file's bytes. A failure after the first byte cannot change the status: JSON stops
    without `_metadata`; NDJSON writes an error line and no footer."""
    session = open_snapshot(sessions)
    exported_at = str(format_ts(clock.now()))
    try:
        info = tenant_info(session, req.scope)
        names = [s.name for s in req.sections]
        if req.format == "ndjson":
            yield from _ndjson(session, req, info, names, exported_at)
        else:
            yield from _json(session, req, info, exported_at)
        log.info("export key=%s sections=%s counts=%s", req.api_key_id, ",".join(names), req.counts)
    except Exception:
        log.exception("export failed key=%s request=%s", req.api_key_id, req.request_id)
        if req.format == "ndjson":
            yield (
                _dumps({"type": "error", "message": "Export failed", "request_id": req.request_id})
                + b"\n"
            )
    finally:
        session.rollback()
        session.close()
        on_done()


def _json(
    session: Session, req: ExportRequest, info: dict[str, Any], exported_at: str
) -> Iterator[bytes]:
    yield b'{"_tenant_info":' + _dumps(info)
    for section in req.sections:
        yield b",\n" + _dumps(section.name) + b":["
        first = True
        for record in _records(session, req, section):
            yield (b"\n" if first else b",\n") + _dumps(record)
            first = False
        req.counts.setdefault(section.name, 0)
        yield b"]"
    metadata = {
        "format": "json",
        "version": 1,
        "exported_at": exported_at,
        "tenant_id": str(req.scope.tenant_id),
        "include_deleted": req.include_deleted,
        "tables": [{"name": s.name, "count": req.counts[s.name]} for s in req.sections],
        "merged": req.merged,
        "complete": True,
        "request_id": req.request_id,
    }
    yield b',\n"_metadata":' + _dumps(metadata) + b"}\n"


def _ndjson(
    session: Session,
    req: ExportRequest,
    info: dict[str, Any],
    names: list[str],
    exported_at: str,
) -> Iterator[bytes]:
    header = {
        "type": "header",
        "format": "floorsync-export",
        "version": 1,
        "exported_at": exported_at,
        "tenant": {k: info[k] for k in ("id", "name", "slug")},
        "entities": names,
        "include_deleted": req.include_deleted,
    }
    yield _dumps(header) + b"\n"
    for section in req.sections:
        for record in _records(session, req, section):
            yield _dumps({"type": "record", "entity": section.name, "data": record}) + b"\n"
        req.counts.setdefault(section.name, 0)
    yield _dumps({"type": "footer", "counts": req.counts, "complete": True}) + b"\n"
