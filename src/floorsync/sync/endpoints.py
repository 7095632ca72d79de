"""`PUT /api-<entity>/sync` and `POST /api-<entity>/bulk-sync` for every ERP-synced entity,
and the unified `api-erp-sync` (API §4)."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from floorsync.entities import examples
from floorsync.entities import registry as entity_registry
from floorsync.entities.endpoints import example_record
from floorsync.entities.example_values import example_for
from floorsync.entities.openapi import (
    DETAIL,
    input_schema,
    json_body,
    query,
    record_schema,
    responses,
)
from floorsync.entities.render import render_one
from floorsync.entities.spec import EntitySpec
from floorsync.errors import BadRequest, Detail
from floorsync.http.context import ApiCtx, BodyDep
from floorsync.http.retry import retrying
from floorsync.models.enums import SyncTrigger
from floorsync.sync import erp_endpoints
from floorsync.sync.docs import CHANGE, CHILD_COUNTS, CHILD_ENTRIES, body_options
from floorsync.sync.engine import sync_sections
from floorsync.sync.options import parse_options
from floorsync.sync.replies import respond_with_sync
from floorsync.sync.results import ACTIONS, bulk_payload
from floorsync.sync.service import check_limits, record_failure

_RECORD_ENTRY = {
    "type": "object",
    "properties": {
        "index": {"type": ["integer", "null"]},
        "external_id": {"type": ["string", "null"]},
        "external_source": {"type": ["string", "null"]},
        "id": {"type": ["string", "null"], "format": "uuid"},
        "action": {
            "type": "string",
            "enum": list(ACTIONS),
        },
        "skipped_reason": {"type": "string"},
        "revived": {"type": "boolean"},
        "changes": {"type": "array", "items": CHANGE},
        "children": CHILD_ENTRIES,
        "error": {"type": "string"},
        "code": {"type": "string"},
        "details": {"type": "array", "items": DETAIL},
    },
}
_RESULT_ERROR = {
    "type": "object",
    "description": "a record that failed, in Eryxon's form",
    "properties": {
        "index": {"type": ["integer", "null"], "description": "its position in `items`"},
        "external_id": {"type": ["string", "null"]},
        "item": {"type": ["object", "null"], "description": "the item as sent"},
        "error": {"type": "string", "description": "the error message"},
    },
}
_OPTION_PARAMS = query(
    ("dry_run", {"type": "boolean"}, "run everything, then roll back; report what would happen"),
    (
        "skip_unchanged",
        {"type": "boolean", "default": True},
        "false rewrites records whose hash is unchanged",
    ),
    (
        "replace_children",
        {"type": "boolean"},
        "soft-delete nested children missing from each parent's array",
    ),
)
_BULK_PARAMS = _OPTION_PARAMS + query(
    ("atomic", {"type": "boolean"}, "all or none: if any record fails, nothing is committed"),
    (
        "snapshot",
        {"type": "boolean"},
        "soft-delete live records of the request's sources missing from it",
    ),
    ("record_history", {"type": "boolean", "default": True}, "write the run to the sync history"),
)


def sync_routers() -> list[APIRouter]:
    """One router per synced entity (entities/registry.py), then api-erp-sync."""
    return [entity_sync_router(spec) for spec in entity_registry.SYNCED] + [erp_endpoints.router()]


def entity_sync_router(spec: EntitySpec) -> APIRouter:
    router = APIRouter(tags=[spec.name])
    path = f"/api-{spec.name.replace('_', '-')}"
    one = {
        "type": "object",
        "properties": {
            spec.singular: record_schema(spec),
            "action": {"type": "string"},
            "id": {"type": "string"},
            "external_id": {"type": "string"},
            "external_source": {"type": "string"},
        },
    }
    bulk = {
        "type": "object",
        "properties": {
            "total": {"type": "integer"},
            "created": {"type": "integer"},
            "updated": {"type": "integer"},
            "skipped": {"type": "integer"},
            "failed": {"type": "integer"},
            "deleted": {"type": "integer"},
            "records": {"type": "array", "items": _RECORD_ENTRY},
            "results": {
                "type": "object",
                "description": "Eryxon's form of the counts, with `errors[]` (index, "
                "external_id, item, error)",
                "properties": {
                    "created": {"type": "integer"},
                    "updated": {"type": "integer"},
                    "skipped": {"type": "integer"},
                    "failed": {"type": "integer"},
                    "deleted": {"type": "integer"},
                    "errors": {"type": "array", "items": _RESULT_ERROR},
                },
            },
            "children": CHILD_COUNTS,
            "group_id": {"type": ["string", "null"]},
            "dry_run": {"type": "boolean"},
            "committed": {"type": "boolean"},
        },
    }
    item_schema = input_schema(spec, mode="sync")
    jobs = spec.name == "jobs"
    record = example_record(spec)
    single_answers = responses(
        200,
        one,
        409,
        413,
        422,
        example=examples.JOB_SYNC_REPLY
        if jobs
        else {
            spec.singular: record,
            "action": "updated",
            "id": record["id"],
            "external_id": record.get("external_id"),
            "external_source": record.get("external_source"),
        },
    )
    single_answers[201] = {**single_answers[200], "description": "Created"}

    @router.put(
        f"{path}/sync",
        summary=f"Upsert one {spec.singular} by external key",
        responses=single_answers,
        status_code=200,
        openapi_extra={
            "parameters": _OPTION_PARAMS,
            **json_body(item_schema, example=examples.JOB_SYNC_REQUEST if jobs else None),
        },
    )
    @retrying
    def single_sync(request: Request, ctx: ApiCtx, body: BodyDep) -> Response:
        """Create or update one record keyed by `(external_source, external_id)`.

        201 when created, 200 when updated or skipped (`skipped_reason: "unchanged"` when the
        sync hash equals the stored one: nothing is written). Nested children are accepted
        where the entity has them (jobs: `parts[].operations[]`, parts: `operations[]`).
        A failing record answers 422 (validation, references) or 409 (conflicts).
        """
        options = parse_options(request.query_params, None, "single")
        item = body.json_object()
        check_limits([(spec, [item])])
        with ctx.work("sync") as work:
            result = sync_sections(work, [(spec, [item])], options, whole_rows=True)[0].results[0]
            if result.error is not None:
                raise record_failure(spec, result.error)
            record = render_one(work.session, ctx.scope, spec, result.row, "single")
            data: dict[str, Any] = {
                spec.singular: record,
                "action": result.action,
                "id": str(result.id) if result.id is not None else None,
                "external_id": result.external_id,
                "external_source": result.external_source,
            }
            if result.skipped_reason is not None:
                data["skipped_reason"] = result.skipped_reason
            if result.revived:
                data["revived"] = True
            if result.children is not None:
                data["children"] = {
                    k: [c.entry(source=False) for c in v] for k, v in result.children.items()
                }
            if options.dry_run:
                if result.action == "created":
                    record["id"] = None
                data["dry_run"] = True
                data["changes"] = result.changes or []
                work.discard()
            status = 201 if result.action == "created" and not options.dry_run else 200
            return ctx.respond(data, status, work)

    @router.post(
        f"{path}/bulk-sync",
        summary=f"Upsert up to 1000 {spec.name} by external key",
        responses=responses(
            200,
            bulk,
            413,
            example=examples.JOB_BULK_SYNC_REPLY if jobs else bulk_example(spec, record),
        ),
        openapi_extra={
            "parameters": _BULK_PARAMS,
            **json_body(
                {
                    "type": "object",
                    "properties": {
                        "items": {
                            "type": "array",
                            "items": {
                                "anyOf": [
                                    item_schema,
                                    {
                                        "type": "object",
                                        "description": "an item that fails validation is "
                                        "reported in records[] with its error, not refused",
                                    },
                                ]
                            },
                        },
                        spec.name: {
                            "type": "array",
                            "items": item_schema,
                            "description": "alias of items",
                        },
                        "options": body_options(erp=False),
                    },
                },
                example=examples.JOB_BULK_SYNC_REQUEST
                if jobs
                else {"items": [example_for(item_schema)]},
            ),
        },
    )
    @retrying
    def bulk_sync(request: Request, ctx: ApiCtx, body: BodyDep) -> Response:
        """Upsert up to 1000 records (10,000 counting nested children) in one request.

        Always 200 when the request is well-formed: read the counts. `records[]` has one entry
        per item in input order; bad records are reported with a stable `code` while the good
        ones are written (unless `atomic`). Body: `{"items":[…]}` or `{"<plural>":[…]}`, plus
        an optional `options` object (which wins over the query string).
        """
        data = body.json_object()
        items = bulk_items(data, spec.name)
        options = parse_options(request.query_params, data.get("options"), "bulk")
        if options.snapshot and not spec.soft_delete:
            raise BadRequest(
                f"snapshot does not apply to {spec.name}: they have no soft delete",
                [Detail("snapshot", "not available for this entity", "INVALID_VALUE", True)],
            )
        check_limits([(spec, items)])

        return respond_with_sync(
            ctx,
            [(spec, items)],
            options,
            trigger=SyncTrigger.bulk_sync,
            channel="sync",
            render=lambda outcome: bulk_payload(
                outcome.reports[0], group_id=outcome.group_id, committed=outcome.committed
            ),
        )

    return router


def bulk_example(spec: EntitySpec, record: dict[str, Any]) -> dict[str, Any]:
    """A bulk-sync answer of a flat entity: one record created, one refused (a required field
    missing; reported, the other written)."""
    external_id = record.get("external_id") or f"{spec.singular.upper()}-1"
    source = record.get("external_source") or "SAP"
    missing = next(
        (
            f.name
            for f in spec.fields
            if f.required and not f.read_only and f.name not in spec.refs_by_id_field
        ),
        None,
    )
    failed_id = f"{external_id}-X"
    bad_item = {"external_id": failed_id, "external_source": source}
    error = f"✗ 1 validation error(s) in {spec.singular}"
    counts = {"created": 1, "updated": 0, "skipped": 0, "failed": 1, "deleted": 0}
    return {
        "total": 2,
        **counts,
        "records": [
            {
                "index": 0,
                "external_id": external_id,
                "external_source": source,
                "id": record["id"],
                "action": "created",
            },
            {
                "index": 1,
                "external_id": failed_id,
                "external_source": source,
                "id": None,
                "action": "error",
                "error": error,
                "code": "VALIDATION_ERROR",
                "details": [
                    {
                        "field": missing,
                        "message": f"Missing required string field: {missing}",
                        "constraint": "NOT_NULL",
                    }
                ]
                if missing
                else [],
            },
        ],
        "results": {
            **counts,
            "errors": [{"index": 1, "external_id": failed_id, "item": bad_item, "error": error}],
        },
        "group_id": "01a24ec9-479b-7a71-825c-a00002c31684",
        "dry_run": False,
        "committed": True,
    }


def bulk_items(data: dict[str, Any], plural: str) -> list[Any]:
    """`items` (preferred) or `<plural>`; any other top-level key besides `options` is 400."""
    for key in data:
        if key not in ("items", plural, "options"):
            raise BadRequest(
                f"Unknown top-level key: {key}",
                [Detail(key, f"Unknown top-level key: {key}", "UNKNOWN_FIELD")],
            )
    for key in ("items", plural):
        value = data.get(key)
        if isinstance(value, list):
            return value
    raise BadRequest(f'Request body must contain either "items" array or "{plural}" array')
