"""HTTP routes of the quality records: `api-scrap-reasons` (the generic CRUD routes with the
list default and the guarded delete of §8) and `api-issues`."""

import uuid
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute

from floorsync.entities import service
from floorsync.entities.endpoints import crud_router
from floorsync.entities.listing import list_rows
from floorsync.entities.openapi import query, responses
from floorsync.entities.quality import issues, scrap_reasons
from floorsync.entities.quality.issues import ISSUES, create_issue, delete_issue, update_issue
from floorsync.entities.quality.scrap_reasons import SCRAP_REASONS, delete_scrap_reason
from floorsync.entities.render import render_one, render_rows
from floorsync.entities.shopfloor.endpoints import deleting, updating, with_overrides
from floorsync.entities.spec import EntitySpec
from floorsync.http.context import ApiCtx, BodyDep, optional_id, required_id
from floorsync.http.retry import retrying
from floorsync.lifecycle.rollup import roll_up_started

_ID = [
    {**query(("id", {"type": "string", "format": "uuid"}, "the record's id"))[0], "required": True}
]
_DELETED = {
    "type": "object",
    "required": ["message", "id", "mode"],
    "properties": {
        "message": {"type": "string", "const": "Scrap reason deleted successfully"},
        "id": {"type": "string", "format": "uuid"},
        "mode": {"type": "string", "const": "hard"},
    },
}


def _generic(router: APIRouter, method: str) -> APIRoute:
    return next(
        r for r in router.routes if isinstance(r, APIRoute) and method in (r.methods or set())
    )


def listing(spec: EntitySpec, rewrite: Any) -> Any:
    """GET (list or ?id=) whose query parameters are first rewritten (defaults, aliases)."""

    def list_or_get(request: Request, ctx: ApiCtx) -> Any:
        params = request.query_params
        id_ = optional_id(params)
        with ctx.read() as session:
            if id_ is not None:
                row = service.get_row(session, ctx.scope, spec, id_)
                return ctx.respond(
                    {spec.singular: render_one(session, ctx.scope, spec, row, "single")}
                )
            rows, total, page = list_rows(session, ctx.scope, spec, rewrite(params))
            return ctx.respond(
                {
                    spec.name: render_rows(session, ctx.scope, spec, rows, "list"),
                    "pagination": {"total": total, "offset": page.offset, "limit": page.limit},
                }
            )

    return list_or_get


def scrap_reasons_router() -> APIRouter:
    spec = SCRAP_REASONS
    get_route = _generic(crud_router(spec), "GET")
    list_or_get = listing(spec, scrap_reasons.list_params)

    @retrying
    def remove(request: Request, ctx: ApiCtx) -> Any:
        id_: uuid.UUID = required_id(request.query_params)
        with ctx.work() as work:
            delete_scrap_reason(work, id_)
            return ctx.respond(
                {"message": "Scrap reason deleted successfully", "id": str(id_), "mode": "hard"},
                200,
                work,
            )

    list_doc = (
        (get_route.description or "")
        + " Lists show active reasons only unless `active` is given; `include_inactive=true` "
        "lists both. `GET ?id=` finds any reason."
    )
    return with_overrides(
        spec,
        {
            "GET": (
                list_or_get,
                {
                    "summary": get_route.summary,
                    "description": list_doc,
                    "responses": get_route.responses,
                    "openapi_extra": {
                        "parameters": (get_route.openapi_extra or {}).get("parameters", [])
                        + query(
                            (
                                "include_inactive",
                                {"type": "boolean"},
                                "list active and inactive reasons",
                            )
                        )
                    },
                },
            ),
            "DELETE": (
                remove,
                {
                    "summary": "Delete a scrap reason (hard; 409 while quantities reference it)",
                    "responses": responses(
                        200,
                        _DELETED,
                        404,
                        409,
                        example={
                            "message": "Scrap reason deleted successfully",
                            "id": "01a24ec9-44d1-7f3a-8c2b-6e9d0a1b2c3d",
                            "mode": "hard",
                        },
                    ),
                    "openapi_extra": {"parameters": _ID},
                },
            ),
        },
    )


def issues_router() -> APIRouter:
    spec = ISSUES
    generic = crud_router(spec)
    get_route, post_route = _generic(generic, "GET"), _generic(generic, "POST")

    @retrying
    def create(ctx: ApiCtx, body: BodyDep) -> Any:
        data = body.json_object()
        with ctx.work() as work:
            row = create_issue(work, data, roll_up=roll_up_started)
            return ctx.respond(
                {spec.singular: render_one(work.session, ctx.scope, spec, row, "single")},
                201,
                work,
            )

    return with_overrides(
        spec,
        {
            "GET": (
                listing(spec, issues.list_params),
                {
                    "summary": get_route.summary,
                    "description": (get_route.description or "")
                    + " `status` takes several values separated by commas, and Eryxon's "
                    "`open`, `in_progress`, `resolved`; `reported_by` is `reported_by_id`.",
                    "responses": get_route.responses,
                    "openapi_extra": get_route.openapi_extra,
                },
            ),
            "POST": (
                create,
                {
                    "status_code": 201,
                    "summary": post_route.summary,
                    "description": "Creates the issue; an NCR without `ncr_number` gets the "
                    "next `NCR-<yyyy>-<nnnn>`. A pending issue with `causes_standstill` parks "
                    "its operation (the Yellow Card).",
                    "responses": post_route.responses,
                    "openapi_extra": post_route.openapi_extra,
                },
            ),
            "PATCH": updating(spec, partial(update_issue, roll_up=roll_up_started)),
            "PUT": updating(spec, partial(update_issue, roll_up=roll_up_started)),
            "DELETE": deleting(spec, partial(delete_issue, roll_up=roll_up_started)),
        },
    )


def quality_routers() -> list[APIRouter]:
    return [scrap_reasons_router(), issues_router()]
