"""HTTP routes of the shop-floor entities: the generic CRUD routes of each spec, with the
handlers replaced where the entity has its own rules (batch create and status changes, time
entry pause/close, hard deletes with their checks, `search` over operator names)."""

import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute

from floorsync.entities import examples, service
from floorsync.entities.endpoints import crud_router, example_record
from floorsync.entities.openapi import input_schema, json_body, query, record_schema, responses
from floorsync.entities.operators import OPERATORS, delete_operator
from floorsync.entities.render import render_one, render_rows
from floorsync.entities.shopfloor.assignments import ASSIGNMENTS
from floorsync.entities.shopfloor.batches import (
    BATCHES,
    create_batch,
    delete_batch,
    insert_after,
    update_batch,
)
from floorsync.entities.shopfloor.common import list_rows_searching_names
from floorsync.entities.shopfloor.quantities import QUANTITIES, delete_quantity
from floorsync.entities.shopfloor.time_entries import (
    TIME_ENTRIES,
    delete_time_entry,
    update_time_entry,
)
from floorsync.entities.spec import EntitySpec
from floorsync.http.context import ApiCtx, BodyDep, optional_id, required_id
from floorsync.http.retry import retrying

_ID = query(("id", {"type": "string", "format": "uuid"}, "the record's id"))
_DELETED = {
    "type": "object",
    "required": ["message", "id", "mode"],
    "properties": {
        "message": {"type": "string", "const": "Deleted successfully"},
        "id": {"type": "string", "format": "uuid"},
        "mode": {"type": "string", "const": "hard"},
    },
}


def one_schema(spec: EntitySpec, **extra: Any) -> dict[str, Any]:
    """`data` of a single-record answer: `{<singular>: record}` (plus `extra` properties)."""
    record = record_schema(spec)
    if extra:
        record = {**record, "properties": {**record["properties"], **extra}}
    return {"type": "object", "required": [spec.singular], "properties": {spec.singular: record}}


Handler = Callable[..., Any]


def path_of(spec: EntitySpec) -> str:
    return f"/api-{spec.name.replace('_', '-')}"


def with_overrides(
    spec: EntitySpec, overrides: dict[str, tuple[Handler, dict[str, Any]]]
) -> APIRouter:
    """The spec's CRUD router with the handlers of some methods replaced."""
    path = path_of(spec)
    router = APIRouter(tags=[spec.name])
    for method, (handler, options) in overrides.items():
        router.add_api_route(path, handler, methods=[method], **options)
    for route in crud_router(spec).routes:
        if (
            isinstance(route, APIRoute)
            and route.path == path
            and (route.methods or set()) & set(overrides)
        ):
            continue
        router.routes.append(route)
    return router


def _deleted(id_: uuid.UUID) -> dict[str, Any]:
    return {"message": "Deleted successfully", "id": str(id_), "mode": "hard"}


def deleting(spec: EntitySpec, remove: Callable[..., None]) -> tuple[Handler, dict[str, Any]]:
    @retrying
    def handler(request: Request, ctx: ApiCtx) -> Any:
        id_ = required_id(request.query_params)
        with ctx.work() as work:
            remove(work, id_)
            return ctx.respond(_deleted(id_), 200, work)

    return handler, {
        "summary": f"Delete a {spec.singular} (hard)",
        "responses": responses(
            200,
            _DELETED,
            404,
            409,
            example={
                "message": "Deleted successfully",
                "id": example_record(spec)["id"],
                "mode": "hard",
            },
        ),
        "openapi_extra": {"parameters": _ID},
    }


def updating(spec: EntitySpec, update: Callable[..., Any]) -> tuple[Handler, dict[str, Any]]:
    @retrying
    def handler(request: Request, ctx: ApiCtx, body: BodyDep) -> Any:
        id_ = required_id(request.query_params)
        data = body.json_object()
        with ctx.work() as work:
            row = update(work, id_, data)
            return ctx.respond(
                {spec.singular: render_one(work.session, ctx.scope, spec, row, "single")}, 200, work
            )

    return handler, {
        "summary": f"Update a {spec.singular} (merge)",
        "responses": responses(
            200,
            one_schema(spec),
            400,
            404,
            409,
            413,
            422,
            example={spec.singular: example_record(spec)},
        ),
        "openapi_extra": {"parameters": _ID, **json_body({**input_schema(spec), "required": []})},
    }


def listing_names(
    spec: EntitySpec, text_columns: tuple[str, ...]
) -> tuple[Handler, dict[str, Any]]:
    """GET whose `search` also matches the operator's name from the directory."""
    generic = next(
        r
        for r in crud_router(spec).routes
        if isinstance(r, APIRoute) and "GET" in (r.methods or set())
    )

    def handler(request: Request, ctx: ApiCtx) -> Any:
        params = request.query_params
        id_ = optional_id(params)
        with ctx.read() as session:
            if id_ is not None:
                row = service.get_row(session, ctx.scope, spec, id_)
                return ctx.respond(
                    {spec.singular: render_one(session, ctx.scope, spec, row, "single")}
                )
            rows, total, page = list_rows_searching_names(
                session, ctx.scope, spec, params, text_columns
            )
            return ctx.respond(
                {
                    spec.name: render_rows(session, ctx.scope, spec, rows, "list"),
                    "pagination": page.as_wire(total),
                }
            )

    return handler, {
        "summary": generic.summary,
        "responses": generic.responses,
        "openapi_extra": generic.openapi_extra,
    }


def batches_router() -> APIRouter:
    @retrying
    def create(ctx: ApiCtx, body: BodyDep) -> Any:
        """Create a batch; `operation_ids` become its members in array order, atomically."""
        data = body.json_object()
        with ctx.work() as work:
            row, assigned = create_batch(work, data)
            record = render_one(work.session, ctx.scope, BATCHES, row, "single")
            return ctx.respond(
                {
                    "batch": insert_after(
                        record, "operations_count", "operations_assigned", assigned
                    )
                },
                201,
                work,
            )

    return with_overrides(
        BATCHES,
        {
            "POST": (
                create,
                {
                    "status_code": 201,
                    "summary": "Create a batch (with operation_ids)",
                    "responses": responses(
                        201,
                        one_schema(
                            BATCHES,
                            operations_assigned={
                                "type": "integer",
                                "description": "operations that became members",
                            },
                        ),
                        409,
                        413,
                        422,
                        example=examples.BATCH_CREATE_REPLY,
                    ),
                    "openapi_extra": json_body(input_schema(BATCHES)),
                },
            ),
            "PATCH": updating(BATCHES, update_batch),
            "PUT": updating(BATCHES, update_batch),
            "DELETE": deleting(BATCHES, delete_batch),
        },
    )


def shopfloor_routers() -> list[APIRouter]:
    return [
        batches_router(),
        with_overrides(
            TIME_ENTRIES,
            {
                "GET": listing_names(TIME_ENTRIES, ("notes",)),
                "PATCH": updating(TIME_ENTRIES, update_time_entry),
                "PUT": updating(TIME_ENTRIES, update_time_entry),
                "DELETE": deleting(TIME_ENTRIES, delete_time_entry),
            },
        ),
        with_overrides(ASSIGNMENTS, {"GET": listing_names(ASSIGNMENTS, ("notes",))}),
        with_overrides(QUANTITIES, {"DELETE": deleting(QUANTITIES, delete_quantity)}),
        with_overrides(OPERATORS, {"DELETE": deleting(OPERATORS, delete_operator)}),
    ]
