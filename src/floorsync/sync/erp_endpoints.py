"""`api-erp-sync` (API §4.11): all six ERP entities in one request, in dependency order, through
the same engine; `/diff` is the same run as a dry run; `/status` reads the sync history."""

import dataclasses
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from floorsync.entities import examples
from floorsync.entities import registry as entity_registry
from floorsync.entities.openapi import input_schema, json_body, query, responses
from floorsync.entities.spec import EntitySpec, get_spec
from floorsync.errors import BadRequest, Detail
from floorsync.http.context import ApiCtx, BodyDep
from floorsync.http.retry import retrying
from floorsync.models.enums import SyncEntity, SyncTrigger
from floorsync.sync import docs
from floorsync.sync.options import SyncOptions, parse_options
from floorsync.sync.replies import respond_with_sync
from floorsync.sync.results import RecordResult, SyncReport
from floorsync.sync.runs import history
from floorsync.sync.service import SyncOutcome, check_limits

# Processing order: later sections may reference records of earlier ones.
SECTIONS: tuple[str, ...] = tuple(spec.name for spec in entity_registry.ERP_SYNC_ORDER)
DEFAULT_SOURCE = "erp_api"

_BODY = {
    "type": "object",
    "properties": {
        **{
            name: {"type": "array", "items": input_schema(get_spec(name), mode="sync")}
            for name in SECTIONS
        },
        "options": docs.body_options(erp=True),
        "source": {"type": "string"},
    },
}


def parse_body(data: dict[str, Any]) -> tuple[list[tuple[EntitySpec, list[Any]]], Any, str]:
    """The sections present (in processing order), the body options and the source label."""
    for key in data:
        if key not in SECTIONS and key not in ("options", "source"):
            raise BadRequest(
                f"Unknown top-level key: {key}",
                [Detail(key, f"Unknown top-level key: {key}", "UNKNOWN_FIELD")],
            )
    sections: list[tuple[EntitySpec, list[Any]]] = []
    for name in SECTIONS:
        if name not in data:
            continue
        value = data[name]
        if not isinstance(value, list):
            raise BadRequest(
                f"Section {name} must be an array",
                [Detail(name, f"{name} must be an array", "TYPE_MISMATCH")],
            )
        sections.append((get_spec(name), value))
    source = data.get("source", DEFAULT_SOURCE)
    if not isinstance(source, str) or not source.strip() or len(source) > 100:
        raise BadRequest(
            "source must be a non-empty string of at most 100 characters",
            [Detail("source", "source must be a string of 1–100 characters", "TYPE_MISMATCH")],
        )
    return sections, data.get("options"), source.strip()


def _section_counts(report: SyncReport) -> dict[str, int]:
    c = report.counts()
    return {
        "total": report.total,
        "created": c["created"],
        "updated": c["updated"],
        "skipped": c["skipped"],
        "deleted": c["deleted"],
        "errors": c["error"],
    }


def sync_payload(outcome: SyncOutcome) -> dict[str, Any]:
    reports, group_id, committed, elapsed_ms = (
        outcome.reports,
        outcome.group_id,
        outcome.committed,
        outcome.duration_ms,
    )
    entities: dict[str, Any] = {}
    totals = {"created": 0, "updated": 0, "skipped": 0, "deleted": 0, "errors": 0}
    for report in reports:
        counts = _section_counts(report)
        for k in totals:
            totals[k] += counts[k]
        entry: dict[str, Any] = dict(counts)
        if report.atomic:
            entry["rolled_back"] = report.counts()["rolled_back"]
        entry["results"] = [r.entry() for r in report.results] + [r.entry() for r in report.pruned]
        if report.nested:
            entry["children"] = report.child_counts()
        entry["duration_ms"] = report.duration_ms
        entities[report.entity] = entry
    summary = {
        "total_entities": len(reports),
        "total_records": sum(r.total for r in reports),
        **{f"total_{k}": v for k, v in totals.items()},
        "duration_ms": elapsed_ms,
    }
    return {
        "summary": summary,
        "entities": entities,
        "group_id": str(group_id) if group_id is not None else None,
        "dry_run": reports[0].dry_run if reports else not committed,
        "committed": committed,
    }


def _diff_counts(results: list[RecordResult]) -> dict[str, int]:
    actions = [r.action for r in results]
    return {
        "to_create": actions.count("created"),
        "to_update": actions.count("updated"),
        "unchanged": actions.count("skipped"),
        "to_delete": actions.count("deleted"),
        "errors": actions.count("error"),
    }


def diff_payload(reports: list[SyncReport]) -> dict[str, Any]:
    entities: dict[str, Any] = {}
    totals = {"to_create": 0, "to_update": 0, "unchanged": 0, "to_delete": 0, "errors": 0}
    for report in reports:
        counts = _diff_counts(report.results + report.pruned)
        for k in totals:
            totals[k] += counts[k]
        entities[report.entity] = {
            "entity_type": report.entity,
            "total": report.total,
            **counts,
            "records": [r.diff_entry() for r in report.results]
            + [r.diff_entry() for r in report.pruned],
        }
    summary = {
        "total_entities": len(reports),
        "total_records": sum(r.total for r in reports),
        "total_to_create": totals["to_create"],
        "total_to_update": totals["to_update"],
        "total_unchanged": totals["unchanged"],
        "total_to_delete": totals["to_delete"],
        "total_errors": totals["errors"],
    }
    return {"summary": summary, "entities": entities}


def _prepare(
    request: Request, body: BodyDep
) -> tuple[list[tuple[EntitySpec, list[Any]]], SyncOptions, str]:
    data = body.json_object()
    sections, body_options, source = parse_body(data)
    options = parse_options(request.query_params, body_options, "erp", entities=SECTIONS)
    check_limits(
        sections,
        per_section_message="Maximum {limit} records per section ({section}) per sync request",
    )
    return sections, options, source


# Options in the query string (a body `options` object wins); declared so that a misspelt one
# is refused (API §1.1, http/query_params.py).
_ERP_OPTION_PARAMS = query(
    ("dry_run", {"type": "boolean"}, "run everything, then roll back; report what would happen"),
    ("atomic", {"type": "boolean"}, "all or none across every section"),
    ("skip_unchanged", {"type": "boolean", "default": True}, "false rewrites unchanged records"),
    (
        "snapshot",
        {"type": "string"},
        "comma-separated entity names whose missing records are soft-deleted",
    ),
    (
        "replace_children",
        {"type": "boolean"},
        "soft-delete nested children missing from each parent's array",
    ),
    ("record_history", {"type": "boolean", "default": True}, "write the run to the sync history"),
    ("batch_size", {"type": "integer"}, "accepted for compatibility; records are chunked by 1000"),
    (
        "continue_on_error",
        {"type": "boolean"},
        "accepted for compatibility; a record's failure never stops the others unless atomic",
    ),
)


def router() -> APIRouter:
    r = APIRouter(tags=["api-erp-sync"])
    sections_doc = {
        "parameters": _ERP_OPTION_PARAMS,
        **json_body(_BODY, example=examples.ERP_SYNC_REQUEST),
    }

    @r.post(
        "/api-erp-sync/diff",
        summary="Preview a unified sync (dry run)",
        responses=responses(200, docs.ERP_DIFF, 413, example=examples.ERP_DIFF_REPLY),
        openapi_extra=sections_doc,
    )
    @retrying
    def diff(request: Request, ctx: ApiCtx, body: BodyDep) -> Response:
        """What `POST /api-erp-sync/sync` would do with this body, per record: `create`,
        `update` (with the changed fields), `unchanged`, `delete` (snapshot) or `error`.

        Runs the real sync in a transaction that is rolled back, so later sections see records
        of earlier sections of the same request. Nothing is written, emitted or recorded.
        """
        sections, options, _source = _prepare(request, body)
        options = dataclasses.replace(options, dry_run=True, atomic=False)

        return respond_with_sync(
            ctx,
            sections,
            options,
            trigger=SyncTrigger.erp_sync,
            channel="erp_sync",
            render=lambda outcome: diff_payload(outcome.reports),
        )

    @r.post(
        "/api-erp-sync/sync",
        summary="Unified sync of all ERP entities",
        responses=responses(200, docs.ERP_SYNC, 413, example=examples.ERP_SYNC_REPLY),
        openapi_extra=sections_doc,
    )
    @retrying
    def sync(request: Request, ctx: ApiCtx, body: BodyDep) -> Response:
        """Sync `cells`, `resources`, `materials`, `jobs`, `parts` and `operations` in one
        request, in that order, so later sections may reference records created by earlier
        ones. Each section is at most 1000 records, 10,000 in all counting nested children.
        `options` as for bulk sync; `snapshot` takes the entity names to prune. `source` is a
        label for the calling system, echoed in the `sync.*` events.
        """
        sections, options, source = _prepare(request, body)
        return respond_with_sync(
            ctx,
            sections,
            options,
            trigger=SyncTrigger.erp_sync,
            channel="erp_sync",
            render=sync_payload,
            source_label=source,
        )

    @r.get(
        "/api-erp-sync/status",
        summary="Sync history",
        responses=responses(200, docs.ERP_STATUS, example=examples.ERP_STATUS_REPLY),
        openapi_extra={
            "parameters": query(
                (
                    "entity_type",
                    {"type": "string", "enum": [e.value for e in SyncEntity]},
                    "filter by entity",
                ),
                ("source", {"type": "string"}, "filter by the records' external_source"),
                (
                    "trigger",
                    {"type": "string", "enum": [t.value for t in SyncTrigger]},
                    "filter by trigger",
                ),
                (
                    "status",
                    {"type": "string", "enum": ["running", "completed", "partial", "failed"]},
                    "filter by status",
                ),
                (
                    "csv_import_id",
                    {"type": "string", "format": "uuid"},
                    "the runs of one CSV import",
                ),
                ("limit", {"type": "integer", "default": 20, "maximum": 100}, "page size"),
                ("offset", {"type": "integer", "default": 0}, "rows to skip"),
            )
        },
    )
    def status(request: Request, ctx: ApiCtx) -> Response:
        """The tenant's sync runs, newest first, one row per entity of a run (rows of one run
        share `group_id`), with `stats` over all runs matching the filters."""
        with ctx.read() as session:
            return ctx.respond(history(session, ctx.scope, request.query_params))

    return r
