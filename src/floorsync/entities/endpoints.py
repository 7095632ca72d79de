"""The CRUD routes of an entity: `/api-<name>` with `?id=` for one record."""

from typing import Any

from fastapi import APIRouter, Request

from floorsync.entities import service
from floorsync.entities.listing import list_rows, parse_bool
from floorsync.entities.openapi import (
    input_schema,
    json_body,
    list_parameters,
    query,
    record_schema,
    responses,
)
from floorsync.entities.render import render_one, render_rows
from floorsync.entities.spec import EntitySpec
from floorsync.http.context import ApiCtx, BodyDep, optional_id, required_id

_PAGINATION = {"type": "object", "required": ["total", "offset", "limit"], "properties": {
    "total": {"type": "integer", "description": "exact count matching the filters"}, "offset": {"type": "integer"},
    "limit": {"type": "integer", "description": "the effective limit"}}}
_ID_PARAM = [{**query(("id", {"type": "string", "format": "uuid"}, "the record's id"))[0], "required": True}]


def crud_router(spec: EntitySpec, *, extra_list_params: list[dict[str, Any]] | None = None) -> APIRouter:
    router = APIRouter(tags=[spec.name])
    path = f"/api-{spec.name.replace('_', '-')}"
    one = {"type": "object", "properties": {spec.singular: record_schema(spec)}, "required": [spec.singular]}
    many = {"type": "object", "required": [spec.name, "pagination"], "properties": {
        spec.name: {"type": "array", "items": record_schema(spec)}, "pagination": _PAGINATION}}
    deleted = {"type": "object", "required": ["message", "id", "mode"], "properties": {
        "message": {"type": "string", "const": "Deleted successfully"}, "id": {"type": "string", "format": "uuid"},
        "mode": {"type": "string", "enum": ["soft", "hard"]},
        **({"cascaded": {"type": "object", "additionalProperties": {"type": "integer"},
                         "description": "records deleted with it, by kind"}} if spec.children else {})}}

    @router.get(path, summary=f"List {spec.name}, or get one with ?id=", responses=responses(200, {"oneOf": [many, one]}, 404),
                openapi_extra={"parameters": list_parameters(spec) + (extra_list_params or [])})
    def list_or_get(request: Request, ctx: ApiCtx) -> Any:
        params = request.query_params
        id_ = optional_id(params)
        with ctx.read() as session:
            if id_ is not None:
                include_deleted = spec.soft_delete and parse_bool(params, "include_deleted")
                row = service.get_row(session, ctx.scope, spec, id_, include_deleted=include_deleted)
                return ctx.respond({spec.singular: render_one(session, ctx.scope, spec, row, "single")})
            rows, total, page = list_rows(session, ctx.scope, spec, params)
            return ctx.respond({
                spec.name: render_rows(session, ctx.scope, spec, rows, "list"),
                "pagination": {"total": total, "offset": page.offset, "limit": page.limit},
            })

    @router.post(path, status_code=201, summary=f"Create a {spec.singular}", responses=responses(201, one, 409, 413, 422),
                 openapi_extra=json_body(input_schema(spec)))
    def create(ctx: ApiCtx, body: BodyDep) -> Any:
        data = body.json_object()
        with ctx.work() as work:
            row = service.create(work, spec, data)
            mode = "nested" if spec.name == "jobs" else "single"
            return ctx.respond({spec.singular: render_one(work.session, ctx.scope, spec, row, mode)}, 201, work)

    def update(request: Request, ctx: ApiCtx, body: BodyDep) -> Any:
        id_ = required_id(request.query_params)
        data = body.json_object()
        with ctx.work() as work:
            row = service.update_record(work, spec, id_, data)
            return ctx.respond({spec.singular: render_one(work.session, ctx.scope, spec, row, "single")}, 200, work)

    patch_doc = {"parameters": _ID_PARAM, **json_body({**input_schema(spec), "required": []})}
    router.patch(path, summary=f"Update a {spec.singular} (merge)", responses=responses(200, one, 404, 409, 413, 422), openapi_extra=patch_doc)(update)
    router.put(path, summary=f"Update a {spec.singular} (same as PATCH)", responses=responses(200, one, 404, 409, 413, 422), openapi_extra=patch_doc)(update)

    delete_doc = {"parameters": _ID_PARAM + (query(("hard", {"type": "boolean"}, "delete permanently")) if spec.soft_delete else [])}

    @router.delete(path, summary=f"Delete a {spec.singular}", responses=responses(200, deleted, 404, 409), openapi_extra=delete_doc)
    def remove(request: Request, ctx: ApiCtx) -> Any:
        params = request.query_params
        id_ = required_id(params)
        hard = not spec.soft_delete or parse_bool(params, "hard")
        with ctx.work() as work:
            row = service.get_row(work.session, ctx.scope, spec, id_, include_deleted=hard, for_update=True)
            cascaded = service.hard_delete(work, spec, row) if hard else service.soft_delete(work, spec, row)
            data: dict[str, Any] = {"message": "Deleted successfully", "id": str(id_), "mode": "hard" if hard else "soft"}
            if spec.children:
                data["cascaded"] = cascaded
            return ctx.respond(data, 200, work)

    return router
