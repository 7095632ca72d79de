"""The CRUD routes of an entity: `/api-<name>` with `?id=` for one record."""

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request

from floorsync.entities import examples, service
from floorsync.entities.example_values import ENTITY_EXAMPLES, record_example
from floorsync.entities.fields import NO_DEFAULT
from floorsync.entities.listing import list_rows, parse_bool
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
from floorsync.entities.spec import EntitySpec, get_spec
from floorsync.http.context import ApiCtx, BodyDep, optional_id, required_id
from floorsync.http.retry import retrying

_PAGINATION = PAGINATION
_ID_PARAM = [
    {**query(("id", {"type": "string", "format": "uuid"}, "the record's id"))[0], "required": True}
]


_UPDATE_DOC = (
    "Merges the fields present into the record `?id=`: a field sent as `null` is cleared (422 for a required one), "
    "read-only fields and embedded objects are ignored, unknown fields are 422 `UNKNOWN_FIELD`. Validated like a create. "
    "A request that changes nothing writes nothing and emits no event; a change clears `sync_hash`."
)


def _list_doc(spec: EntitySpec) -> str:
    opts = spec.listing
    parts = [
        f"Without `?id=`: a page of the tenant's {spec.name} (`limit` 1–1000, default 100; `offset`), "
        f"sorted by `{opts.default_sort[0]}` {opts.default_sort[1]} unless `sort`/`order` say otherwise; "
        f"`search` matches {', '.join(f'`{c}`' for c in opts.search)} (case-insensitive substring, at most 200 characters)."
    ]
    if opts.exact:
        parts.append(f"Exact filters: {', '.join(f'`{n}`' for n in opts.exact)}.")
    if opts.fuzzy:
        parts.append(f"Substring filters: {', '.join(f'`{n}`' for n in opts.fuzzy)}.")
    if opts.date_ranges:
        parts.append(f"Inclusive date range: {', '.join(f'`{n}`' for n in opts.date_ranges)}.")
    parts.append(
        f"With `?id=`: that one {spec.singular} (list parameters are ignored); 404 when it is missing, deleted or another tenant's."
    )
    if spec.soft_delete:
        parts.append(
            "`include_deleted=true` also returns soft-deleted records, in lists and by id."
        )
    return " ".join(parts)


def _create_doc(spec: EntitySpec) -> str:
    doc = f"Validates the {spec.singular}, resolves its references inside the tenant and writes it with its event in one transaction."
    for child in spec.children:
        doc += f" Nested `{child.key}[]` are created in the same transaction (all or nothing); errors name paths such as `{child.key}[0].…`."
    return doc


def _delete_doc(spec: EntitySpec) -> str:
    if not spec.soft_delete:
        return f"Deletes the {spec.singular} permanently."
    doc = f"Soft-deletes the {spec.singular} (`deleted_at`, `deleted_by`)"
    if spec.children:
        below = [get_spec(c.entity) for c in spec.children]
        below += [get_spec(g.entity) for b in below for g in b.children]
        doc += (
            " and, with the same stamp, its live "
            + ", ".join(b.name for b in below)
            + ", each with its own event"
        )
    return (
        doc
        + ". `hard=true` deletes permanently (also a soft-deleted record); refused with 409 `REFERENCES_EXIST` while recorded work references it."
    )


# Captured from a real run (entities/examples.py): a nested job create and its answer.
_CREATE_EXAMPLES: dict[str, Any] = {"jobs": examples.JOB_CREATE_REQUEST}
_CREATED_EXAMPLES: dict[str, Any] = {"jobs": examples.JOB_CREATE_REPLY}


def _defaults(spec: EntitySpec) -> dict[str, Any]:
    """The fields' constant defaults as the wire shows them (numbers as numbers)."""
    out: dict[str, Any] = {}
    for f in spec.fields:
        value = f.default
        if value is NO_DEFAULT or callable(value):
            continue
        out[f.name] = int(value) if isinstance(value, Decimal) and value == int(value) else value
        if isinstance(out[f.name], Decimal):
            out[f.name] = float(out[f.name])
    return out


def example_record(spec: EntitySpec) -> dict[str, Any]:
    """An example record of `spec` for the docs (checked against its schema by the tests)."""
    return record_example(
        record_schema(spec),
        _defaults(spec),
        {"due_date": "2026-12-31T00:00:00.000Z", **ENTITY_EXAMPLES.get(spec.name, {})},
    )


def crud_router(
    spec: EntitySpec, *, extra_list_params: list[dict[str, Any]] | None = None
) -> APIRouter:
    router = APIRouter(tags=[spec.name])
    path = f"/api-{spec.name.replace('_', '-')}"
    one = {
        "type": "object",
        "properties": {spec.singular: record_schema(spec)},
        "required": [spec.singular],
    }
    many = {
        "type": "object",
        "required": [spec.name, "pagination"],
        "properties": {
            spec.name: {"type": "array", "items": record_schema(spec)},
            "pagination": _PAGINATION,
        },
    }
    record = example_record(spec)
    one_example = _CREATED_EXAMPLES.get(spec.name) or {spec.singular: record}
    list_example = {spec.name: [record], "pagination": {"total": 1, "offset": 0, "limit": 100}}
    deleted_example = {
        "message": "Deleted successfully",
        "id": record["id"],
        "mode": "soft" if spec.soft_delete else "hard",
    }
    deleted = {
        "type": "object",
        "required": ["message", "id", "mode"],
        "properties": {
            "message": {"type": "string", "const": "Deleted successfully"},
            "id": {"type": "string", "format": "uuid"},
            "mode": {"type": "string", "enum": ["soft", "hard"]},
            **(
                {
                    "cascaded": {
                        "type": "object",
                        "additionalProperties": {"type": "integer"},
                        "description": "records deleted with it, by kind",
                    }
                }
                if spec.children
                else {}
            ),
        },
    }

    @router.get(
        path,
        summary=f"List {spec.name}, or get one with ?id=",
        description=_list_doc(spec),
        responses=responses(200, {"oneOf": [many, one]}, 404, example=list_example),
        openapi_extra={"parameters": list_parameters(spec) + (extra_list_params or [])},
    )
    def list_or_get(request: Request, ctx: ApiCtx) -> Any:
        params = request.query_params
        id_ = optional_id(params)
        with ctx.read() as session:
            if id_ is not None:
                include_deleted = spec.soft_delete and parse_bool(params, "include_deleted")
                row = service.get_row(
                    session, ctx.scope, spec, id_, include_deleted=include_deleted
                )
                return ctx.respond(
                    {spec.singular: render_one(session, ctx.scope, spec, row, "single")}
                )
            rows, total, page = list_rows(session, ctx.scope, spec, params)
            return ctx.respond(
                {
                    spec.name: render_rows(session, ctx.scope, spec, rows, "list"),
                    "pagination": page.as_wire(total),
                }
            )

    @router.post(
        path,
        status_code=201,
        summary=f"Create a {spec.singular}",
        description=_create_doc(spec),
        responses=responses(201, one, 409, 413, 422, example=one_example),
        openapi_extra=json_body(input_schema(spec), example=_CREATE_EXAMPLES.get(spec.name)),
    )
    @retrying
    def create(ctx: ApiCtx, body: BodyDep) -> Any:
        data = body.json_object()
        with ctx.work() as work:
            row = service.create(work, spec, data)
            return ctx.respond(
                {spec.singular: render_one(work.session, ctx.scope, spec, row, spec.created_mode)},
                201,
                work,
            )

    @retrying
    def update(request: Request, ctx: ApiCtx, body: BodyDep) -> Any:
        id_ = required_id(request.query_params)
        data = body.json_object()
        with ctx.work() as work:
            row = service.update_record(work, spec, id_, data)
            return ctx.respond(
                {spec.singular: render_one(work.session, ctx.scope, spec, row, "single")}, 200, work
            )

    patch_doc = {
        "parameters": _ID_PARAM,
        **json_body({**input_schema(spec, mode="patch"), "required": []}),
    }
    router.patch(
        path,
        summary=f"Update a {spec.singular} (merge)",
        description=_UPDATE_DOC,
        responses=responses(200, one, 404, 409, 413, 422, example={spec.singular: record}),
        openapi_extra=patch_doc,
    )(update)
    router.put(
        path,
        summary=f"Update a {spec.singular} (same as PATCH)",
        description=_UPDATE_DOC,
        responses=responses(200, one, 404, 409, 413, 422, example={spec.singular: record}),
        openapi_extra=patch_doc,
    )(update)

    delete_doc = {
        "parameters": _ID_PARAM
        + (query(("hard", {"type": "boolean"}, "delete permanently")) if spec.soft_delete else [])
    }

    @router.delete(
        path,
        summary=f"Delete a {spec.singular}",
        description=_delete_doc(spec),
        responses=responses(200, deleted, 404, 409, example=deleted_example),
        openapi_extra=delete_doc,
    )
    @retrying
    def remove(request: Request, ctx: ApiCtx) -> Any:
        params = request.query_params
        id_ = required_id(params)
        hard = not spec.soft_delete or parse_bool(params, "hard")
        with ctx.work() as work:
            row = service.get_row(
                work.session, ctx.scope, spec, id_, include_deleted=hard, for_update=True
            )
            cascaded = (
                service.hard_delete(work, spec, row)
                if hard
                else service.soft_delete(work, spec, row)
            )
            data: dict[str, Any] = {
                "message": "Deleted successfully",
                "id": str(id_),
                "mode": "hard" if hard else "soft",
            }
            if spec.children:
                data["cascaded"] = cascaded
            return ctx.respond(data, 200, work)

    return router
