"""HTTP routes of checklists: `api-substeps` (generic CRUD with the completion rules of §7)
and `api-templates` (§9)."""

from typing import Any

from fastapi import APIRouter, Request

from floorsync.entities.checklists.substeps import SUBSTEPS, delete_substep, update_substep
from floorsync.entities.checklists.templates import (
    TEMPLATES,
    apply_template,
    create_template,
    delete_template,
    update_template,
)
from floorsync.entities.endpoints import example_record
from floorsync.entities.listing import list_rows
from floorsync.entities.openapi import (
    PAGINATION,
    input_schema,
    json_body,
    list_parameters,
    query,
    record_schema,
    responses,
)
from floorsync.entities.render import render_one, render_rows
from floorsync.entities.service import get_row
from floorsync.entities.shopfloor.endpoints import deleting, updating, with_overrides
from floorsync.http.context import ApiCtx, BodyDep, optional_id, required_id
from floorsync.http.retry import retrying


def checklist_routers() -> list[APIRouter]:
    return [
        with_overrides(
            SUBSTEPS,
            {
                "PATCH": updating(SUBSTEPS, update_substep),
                "PUT": updating(SUBSTEPS, update_substep),
                "DELETE": deleting(SUBSTEPS, delete_substep),
            },
        ),
        templates_router(),
    ]


# ---------------------------------------------------------------- api-templates

_KEY, _KEYS = "substep_template", "substep_templates"  # Eryxon's keys, for every kind
_DELETED: dict[str, Any] = {
    "type": "object",
    "required": ["message", "id", "mode"],
    "properties": {
        "message": {"type": "string", "const": "Deleted successfully"},
        "id": {"type": "string", "format": "uuid"},
        "mode": {"type": "string", "const": "hard"},
    },
}
_APPLIED: dict[str, Any] = {
    "type": "object",
    "required": ["substeps", "template_id", "operation_id"],
    "properties": {
        "substeps": {"type": "array", "items": record_schema(SUBSTEPS)},
        "template_id": {"type": "string", "format": "uuid"},
        "operation_id": {"type": "string", "format": "uuid"},
    },
}
_ID = [
    {
        **query(("id", {"type": "string", "format": "uuid"}, "the template's id"))[0],
        "required": True,
    }
]


def templates_router() -> APIRouter:
    """`/api-templates`: the generic CRUD behaviour of TEMPLATES under Eryxon's keys, and
    `POST /apply?id=`."""
    spec = TEMPLATES
    router = APIRouter(tags=["templates"])
    path = "/api-templates"
    one = {"type": "object", "properties": {_KEY: record_schema(spec)}, "required": [_KEY]}
    record = {
        **example_record(spec),
        "is_global": False,
        "body": None,
        "items": [
            {
                "id": "01a24ec9-4512-7e08-8f6b-3d1c2a9e7b55",
                "name": "Check the first piece against the drawing",
                "notes": "Measure the hole pattern",
                "icon_name": None,
                "sequence": 1,
            }
        ],
    }
    one_example = {_KEY: record}
    many = {
        "type": "object",
        "required": [_KEYS, "pagination"],
        "properties": {
            _KEYS: {"type": "array", "items": record_schema(spec)},
            "pagination": PAGINATION,
        },
    }

    @router.get(
        path,
        summary="List templates, or get one with ?id=",
        description="Every kind (substeps, part, job) under the keys `substep_templates` / "
        "`substep_template`, with `body` and `items`. Exact filters: `kind`, "
        "`operation_type`, `is_global` (`true` matches nothing). Search: `name`, `description`.",
        responses=responses(
            200,
            {"oneOf": [many, one]},
            404,
            example={_KEYS: [record], "pagination": {"total": 1, "offset": 0, "limit": 100}},
        ),
        openapi_extra={"parameters": list_parameters(spec)},
    )
    def list_or_get(request: Request, ctx: ApiCtx) -> Any:
        params = request.query_params
        id_ = optional_id(params)
        with ctx.read() as session:
            if id_ is not None:
                row = get_row(session, ctx.scope, spec, id_)
                return ctx.respond({_KEY: render_one(session, ctx.scope, spec, row, "single")})
            rows, total, page = list_rows(session, ctx.scope, spec, params)
            return ctx.respond(
                {
                    _KEYS: render_rows(session, ctx.scope, spec, rows, "list"),
                    "pagination": {"total": total, "offset": page.offset, "limit": page.limit},
                }
            )

    @router.post(
        path,
        status_code=201,
        summary="Create a template",
        description="`kind` substeps (default; `items`), part or job (`body`: a create body "
        "of that kind, validated now, references resolved when used).",
        responses=responses(201, one, 409, 413, 422, example=one_example),
        openapi_extra=json_body(input_schema(spec)),
    )
    @retrying
    def create(ctx: ApiCtx, body: BodyDep) -> Any:
        data = body.json_object()
        with ctx.work() as work:
            row = create_template(work, data)
            return ctx.respond(
                {_KEY: render_one(work.session, ctx.scope, spec, row, "single")}, 201, work
            )

    @retrying
    def update(request: Request, ctx: ApiCtx, body: BodyDep) -> Any:
        id_ = required_id(request.query_params)
        data = body.json_object()
        with ctx.work() as work:
            row = update_template(work, id_, data)
            return ctx.respond(
                {_KEY: render_one(work.session, ctx.scope, spec, row, "single")}, 200, work
            )

    update_doc = {
        "parameters": _ID,
        **json_body({**input_schema(spec, mode="patch"), "required": []}),
    }
    for method in ("PATCH", "PUT"):
        router.add_api_route(
            path,
            update,
            methods=[method],
            summary="Update a template (merge; `items` replaces the list)",
            responses=responses(200, one, 404, 409, 413, 422, example=one_example),
            openapi_extra=update_doc,
        )

    @router.delete(
        path,
        summary="Delete a template (hard; records made from it keep their data)",
        responses=responses(
            200,
            _DELETED,
            404,
            example={"message": "Deleted successfully", "id": record["id"], "mode": "hard"},
        ),
        openapi_extra={"parameters": _ID},
    )
    @retrying
    def remove(request: Request, ctx: ApiCtx) -> Any:
        id_ = required_id(request.query_params)
        with ctx.work() as work:
            delete_template(work, id_)
            return ctx.respond(
                {"message": "Deleted successfully", "id": str(id_), "mode": "hard"}, 200, work
            )

    @router.post(
        path + "/apply",
        status_code=201,
        summary="Append a substeps template's items to an operation",
        responses=responses(
            201,
            _APPLIED,
            400,
            404,
            413,
            422,
            example={
                "substeps": [
                    {
                        **example_record(SUBSTEPS),
                        "id": "01a24ec9-4620-7c11-9a3e-5b7d2f8c1e90",
                        "completed": False,
                        "notes": "Measure the hole pattern",
                        "sequence": 3,
                    }
                ],
                "template_id": record["id"],
                "operation_id": example_record(SUBSTEPS)["operation_id"],
            },
        ),
        openapi_extra={
            "parameters": _ID,
            **json_body(
                {
                    "type": "object",
                    "required": ["operation_id"],
                    "properties": {"operation_id": {"type": "string", "format": "uuid"}},
                }
            ),
        },
    )
    @retrying
    def apply(request: Request, ctx: ApiCtx, body: BodyDep) -> Any:
        id_ = required_id(request.query_params)
        data = body.json_object()
        with ctx.work() as work:
            created, operation_id = apply_template(work, id_, data)
            return ctx.respond(
                {
                    "substeps": render_rows(work.session, ctx.scope, SUBSTEPS, created, "single"),
                    "template_id": str(id_),
                    "operation_id": str(operation_id),
                },
                201,
                work,
            )

    return router
