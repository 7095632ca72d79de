"""Sync history (API §4.13, data model §7.1) and the run summary events (Events §2.5).

One `sync_runs` row per entity of a committed run, written in the run's own transaction so it
commits with the records it counts; an atomic run that rolled back is recorded afterwards, in
a fresh transaction, as `failed`. `sync.<entity>.completed` fires for each entity the run wrote
to, `sync.batch.completed` when the run covered two or more entities and wrote something.
"""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, func
from sqlalchemy.orm import Session

from floorsync.db.repository import TenantRepository, TenantScope, scoped
from floorsync.db.uow import Work
from floorsync.entities.listing import parse_page
from floorsync.errors import BadRequest, Detail, NotFound
from floorsync.kit.ids import new_id
from floorsync.kit.timefmt import format_ts
from floorsync.models.bookkeeping import SyncRun
from floorsync.models.enums import RunStatus, SyncEntity, SyncTrigger
from floorsync.sync.options import SyncOptions
from floorsync.sync.results import RecordError, SyncReport

MAX_ERRORS = 100
MAX_ERROR_DETAILS = 20  # per record
MAX_EXTERNAL_IDS = 1000


def records_source(reports: Sequence[SyncReport]) -> str | None:
    """The records' external_source, `mixed` when several, None when no record had one."""
    sources = {
        r.external_source for rep in reports for r in rep.results if r.external_source is not None
    }
    if not sources:
        return None
    return sources.pop() if len(sources) == 1 else "mixed"


def run_status(report: SyncReport, *, rolled_back: bool) -> RunStatus:
    if rolled_back:
        return RunStatus.failed
    failed = report.failed
    if failed == 0:
        return RunStatus.completed
    return RunStatus.failed if failed == report.total else RunStatus.partial


def _counts(report: SyncReport) -> dict[str, int]:
    c = report.counts()
    return {
        "total": report.total,
        "created": c["created"],
        "updated": c["updated"],
        "skipped": c["skipped"],
        "deleted": c["deleted"],
        "errors": c["error"] + c["rolled_back"],
    }


def _error_entry(index: int | None, external_id: str | None, error: RecordError) -> dict[str, Any]:
    """One of a run's `errors`: the record and what was wrong with it; `details` names the
    fields (present when the error has field-level details, e.g. a validation error)."""
    entry: dict[str, Any] = {
        "index": index,
        "external_id": external_id,
        "code": error.code,
        "message": error.message,
    }
    if error.details:
        entry["details"] = error.details_json()[:MAX_ERROR_DETAILS]
    stored: dict[str, Any] = _storable(entry)
    return stored


def _storable(value: Any) -> Any:
    """`value` with every NUL character as U+FFFD: PostgreSQL's jsonb refuses `\\u0000`, and a
    refused record may carry one (its error quotes it)."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


def record_runs(
    work: Work,
    reports: Sequence[SyncReport],
    *,
    trigger: SyncTrigger,
    options: SyncOptions,
    started_at: datetime,
    source_label: str | None = None,
    rolled_back: bool = False,
    group_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Write the history rows of a run and buffer its summary events; returns the group id.

    `source_label` is the request's `source` (erp-sync); without one, events carry the
    records' source. Summary events are written only for a run that committed its records.
    """
    group_id = group_id or new_id()
    now = work.clock.now()
    label = source_label or records_source(reports) or "unknown"
    totals = {"total": 0, "created": 0, "updated": 0, "skipped": 0, "deleted": 0, "errors": 0}
    wrote_any = False
    for report in reports:
        counts = _counts(report)
        for k, v in counts.items():
            totals[k] += v
        run = SyncRun(
            id=new_id(),
            tenant_id=work.scope.tenant_id,
            group_id=group_id,
            entity_type=SyncEntity(report.entity),
            trigger=trigger,
            source=(records_source([report]) or label)[:100],
            status=run_status(report, rolled_back=rolled_back),
            options=options.as_dict(),
            total_records=counts["total"],
            created_count=counts["created"],
            updated_count=counts["updated"],
            skipped_count=counts["skipped"],
            deleted_count=counts["deleted"],
            error_count=counts["errors"],
            errors=[
                _error_entry(r.index, r.external_id, r.error)
                for r in report.results
                if r.error is not None
            ][:MAX_ERRORS],
            api_key_id=work.origin.api_key_id,
            request_id=work.origin.request_id,
            started_at=started_at,
            completed_at=now,
            duration_ms=report.duration_ms,
        )
        work.session.add(run)
        if rolled_back or not report.wrote:
            continue
        wrote_any = True
        written = report.written_keys + [
            r.external_id for r in report.pruned if r.external_id is not None
        ]
        work.record(
            f"sync.{report.entity}.completed",
            "sync",
            run.id,
            {
                "sync_run_id": str(run.id),
                "group_id": str(group_id),
                "entity_type": report.entity,
                "trigger": trigger.value,
                "source": label,
                **counts,
                "summary": dict(counts),
                "duration_ms": report.duration_ms,
                "external_ids": written[:MAX_EXTERNAL_IDS],
                "synced_at": format_ts(now),
            },
            external_source=records_source([report]),
        )
    if len(reports) >= 2 and wrote_any:
        summary = {f"total_{k}" if k != "total" else "total_records": v for k, v in totals.items()}
        work.record(
            "sync.batch.completed",
            "sync",
            group_id,
            {
                "group_id": str(group_id),
                "trigger": trigger.value,
                "entities": [r.entity for r in reports],
                **summary,
                "summary": dict(summary),
                "duration_ms": sum(r.duration_ms for r in reports),
                "source": label,
                "synced_at": format_ts(now),
            },
            external_source=records_source(reports),
        )
    work.session.flush()
    return group_id


# ---------------------------------------------------------------- GET /api-erp-sync/status

_FILTERS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "entity_type": ("entity_type", tuple(e.value for e in SyncEntity)),
    "trigger": ("trigger", tuple(t.value for t in SyncTrigger)),
    "status": ("status", tuple(s.value for s in RunStatus)),
    "source": ("source", None),
}


def history(session: Session, scope: TenantScope, params: Mapping[str, str]) -> dict[str, Any]:
    """`data` of GET /api-erp-sync/status: stats over the matching runs and a page, newest first."""
    stmt = scoped(SyncRun, scope)
    for param, (column, allowed) in _FILTERS.items():
        value = params.get(param)
        if value is None or value == "":
            continue
        if allowed is not None and value not in allowed:
            raise BadRequest(
                f"Invalid {param}: must be one of {', '.join(allowed)}",
                [
                    Detail(
                        param,
                        f"{param} must be one of: {', '.join(allowed)}",
                        "ENUM_CONSTRAINT",
                        value,
                    )
                ],
            )
        stmt = stmt.where(getattr(SyncRun, column) == value)
    import_id = params.get("csv_import_id")
    if import_id:  # the runs of one CSV import (its result page links here)
        try:
            stmt = stmt.where(SyncRun.csv_import_id == uuid.UUID(import_id))
        except ValueError:
            raise BadRequest(
                "Invalid csv_import_id: must be a UUID",
                [Detail("csv_import_id", "csv_import_id must be a UUID", "UUID_FORMAT", import_id)],
            ) from None
    page = parse_page(
        {k: v for k, v in params.items() if k in ("limit", "offset") and v != ""},
        default_limit=20,
        max_limit=100,
    )
    limit, offset = page.limit, page.offset
    filtered = stmt.subquery()
    stats_row = session.execute(
        func.count()
        .select()
        .select_from(filtered)
        .add_columns(
            *(
                func.coalesce(func.sum(case((filtered.c.status == status.value, 1), else_=0)), 0)
                for status in (RunStatus.completed, RunStatus.partial, RunStatus.failed)
            ),
            func.coalesce(func.sum(filtered.c.created_count), 0),
            func.coalesce(func.sum(filtered.c.updated_count), 0),
            func.coalesce(func.sum(filtered.c.skipped_count), 0),
            func.coalesce(func.sum(filtered.c.deleted_count), 0),
            func.coalesce(func.sum(filtered.c.error_count), 0),
        )
    ).one()
    total, ok, partial, failed, created, updated, skipped, deleted, errors = (
        int(v or 0) for v in stats_row
    )
    rows = session.scalars(
        stmt.order_by(SyncRun.started_at.desc(), SyncRun.id.desc()).limit(limit).offset(offset)
    ).all()
    return {
        "stats": {
            "total_syncs": total,
            "successful": ok,
            "partial": partial,
            "failed": failed,
            "total_created": created,
            "total_updated": updated,
            "total_skipped": skipped,
            "total_deleted": deleted,
            "total_errors": errors,
        },
        "history": [history_row(r) for r in rows],
        "pagination": {"total": total, "offset": offset, "limit": limit},
    }


def _enum_value(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


def get_run(session: Session, scope: TenantScope, id_: uuid.UUID) -> dict[str, Any]:
    """One history row of the tenant, as `history` renders it; 404 for another tenant's."""
    run = TenantRepository(session, scope, SyncRun).get(id_)
    if run is None:
        raise NotFound(f"sync_runs with ID {id_} not found")
    return history_row(run)


def history_row(run: SyncRun) -> dict[str, Any]:
    return {
        "id": str(run.id),
        "group_id": str(run.group_id),
        "entity_type": _enum_value(run.entity_type),
        "operation": "upsert",
        "trigger": _enum_value(run.trigger),
        "source": run.source,
        "status": _enum_value(run.status),
        "total_records": run.total_records,
        "created_count": run.created_count,
        "updated_count": run.updated_count,
        "skipped_count": run.skipped_count,
        "deleted_count": run.deleted_count,
        "error_count": run.error_count,
        "errors": run.errors,
        "options": run.options,
        "api_key_id": str(run.api_key_id) if run.api_key_id else None,
        "request_id": run.request_id,
        "csv_import_id": str(run.csv_import_id) if run.csv_import_id else None,
        "started_at": format_ts(run.started_at),
        "completed_at": format_ts(run.completed_at),
        "duration_ms": run.duration_ms,
    }
