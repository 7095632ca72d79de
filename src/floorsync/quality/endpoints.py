"""HTTP routes of the quality records: `api-scrap-reasons` (the generic CRUD routes with the
list default and the guarded delete of §8) and `api-issues`."""

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute

from floorsync.entities import service
from floorsync.entities.endpoints import crud_router
from floorsync.entities.listing import list_rows
from floorsync.entities.openapi import query, responses
from floorsync.entities.render import render_one, render_rows
from floorsync.http.context import ApiCtx, optional_id, required_id
from floorsync.http.retry import retrying
from floorsync.quality.scrap_reasons import SCRAP_REASONS, delete_scrap_reason, list_params
from floorsync.shopfloor.endpoints import with_overrides

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


def scrap_reasons_router() -> APIRouter:
    spec = SCRAP_REASONS
    get_route = _generic(crud_router(spec), "GET")

    def list_or_get(request: Request, ctx: ApiCtx) -> Any:
        params = request.query_params
        id_ = optional_id(params)
        with ctx.read() as session:
            if id_ is not None:
                row = service.get_row(session, ctx.scope, spec, id_)
                return ctx.respond(
                    {spec.singular: render_one(session, ctx.scope, spec, row, "single")}
                )
            rows, total, page = list_rows(session, ctx.scope, spec, list_params(params))
            return ctx.respond(
                {
                    spec.name: render_rows(session, ctx.scope, spec, rows, "list"),
                    "pagination": {"total": total, "offset": page.offset, "limit": page.limit},
                }
            )

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
                    "responses": responses(200, _DELETED, 404, 409),
                    "openapi_extra": {"parameters": _ID},
                },
            ),
        },
    )


def quality_routers() -> list[APIRouter]:
    return [scrap_reasons_router()]
