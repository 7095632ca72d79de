"""`api-key-generate`: admins issue, list and revoke the tenant's API keys.

Every route takes `AdminCtx`: an integration key is refused (403) before anything else is
looked at, an `Idempotency-Key` replay included, so a stored reply carrying a new key's
plaintext can't be fetched by a key that may not create one."""

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import func

from floorsync.auth import keys
from floorsync.auth.keys import key_item
from floorsync.db.repository import scoped
from floorsync.entities.fields import Kind, to_wire
from floorsync.entities.listing import coerce_filter, contains, parse_page, parse_sort, search_term
from floorsync.entities.openapi import PAGINATION, json_body, query, responses
from floorsync.errors import BadRequest
from floorsync.http.context import AdminCtx, BodyDep, required_id
from floorsync.http.retry import retrying
from floorsync.models.tenancy import ApiKey

router = APIRouter(tags=["api-keys"])
PATH = "/api-key-generate"
_SORTABLE = ("created_at", "name", "last_used_at")


_ITEM = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "name": {"type": "string"},
        "key_prefix": {"type": "string"},
        "role": {"type": "string", "enum": ["admin", "integration"]},
        "active": {"type": "boolean"},
        "expires_at": {
            "anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}],
            "description": "UTC, RFC 3339 (`…Z`)",
        },
        "last_used_at": {
            "anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}],
            "description": "UTC, RFC 3339 (`…Z`)",
        },
        "created_at": {
            "type": "string",
            "format": "date-time",
            "description": "UTC, RFC 3339 (`…Z`)",
        },
        "created_by": {"anyOf": [{"type": "string", "format": "uuid"}, {"type": "null"}]},
        "revoked_at": {
            "anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}],
            "description": "UTC, RFC 3339 (`…Z`)",
        },
    },
}
_LIST = {
    "type": "object",
    "properties": {"api_keys": {"type": "array", "items": _ITEM}, "pagination": PAGINATION},
}
_CREATED = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "name": {"type": "string"},
        "api_key": {"type": "string", "pattern": "^ery_live_[0-9a-f]{32}$"},
        "key_prefix": {"type": "string"},
        "role": {"type": "string", "enum": ["admin", "integration"]},
        "expires_at": {
            "anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}],
            "description": "UTC, RFC 3339 (`…Z`)",
        },
        "created_at": {
            "type": "string",
            "format": "date-time",
            "description": "UTC, RFC 3339 (`…Z`)",
        },
        "warning": {"type": "string"},
    },
}
_CREATE_BODY = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200, "examples": ["ERP connector"]},
        "role": {"type": "string", "enum": ["integration", "admin"], "default": "integration"},
        "expires_at": {
            "anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}],
            "description": "a future timestamp (RFC 3339; UTC unless an offset is given)",
        },
    },
}
_REVOKED = {
    "type": "object",
    "properties": {"message": {"type": "string"}, "id": {"type": "string", "format": "uuid"}},
}
# Example answers (a real key's shape; the key itself is a made-up one).
_KEY_ID = "01a24ec9-44a0-7b51-9c3e-2f6d1a8b7c40"
_EXAMPLE_KEY = {
    "id": _KEY_ID,
    "name": "ERP connector",
    "key_prefix": "ery_live_3f9",
    "role": "integration",
    "active": True,
    "expires_at": None,
    "last_used_at": "2026-12-07T04:12:09.412Z",
    "created_at": "2026-12-01T07:00:00.000Z",
    "created_by": "01a24ec8-6f67-7867-8ff2-660c99c75888",
    "revoked_at": None,
}
_LIST_EXAMPLE = {
    "api_keys": [_EXAMPLE_KEY],
    "pagination": {"total": 1, "offset": 0, "limit": 100},
}
_CREATED_EXAMPLE = {
    "id": _KEY_ID,
    "name": "ERP connector",
    "api_key": "ery_live_3f9a1c07d2e84b6f9a0c5d3e1b7f2a64",
    "key_prefix": "ery_live_3f9",
    "role": "integration",
    "expires_at": None,
    "created_at": "2026-12-01T07:00:00.000Z",
    "warning": "Store this API key securely. It will not be shown again.",
}
_REVOKED_EXAMPLE = {"message": "API key revoked successfully", "id": _KEY_ID}
_LIST_PARAMS = query(
    (
        "limit",
        {"type": "integer", "default": 100, "minimum": 1, "maximum": 1000},
        "page size (clamped to 1..1000)",
    ),
    ("offset", {"type": "integer", "default": 0, "minimum": 0}, "records to skip"),
    ("sort", {"type": "string", "enum": list(_SORTABLE)}, "default created_at"),
    ("order", {"type": "string", "enum": ["asc", "desc"]}, "default desc"),
    ("direction", {"type": "string", "enum": ["asc", "desc"]}, "synonym of `order`"),
    ("search", {"type": "string", "maxLength": 200}, "substring of the name"),
    ("active", {"type": "boolean"}, "exact filter"),
    ("role", {"type": "string", "enum": ["admin", "integration"]}, "exact filter"),
)
_ID_PARAM = [
    {**query(("id", {"type": "string", "format": "uuid"}, "the key's id"))[0], "required": True}
]


@router.get(
    PATH,
    summary="List the tenant's API keys (admin key required)",
    responses=responses(200, _LIST, 403, example=_LIST_EXAMPLE),
    openapi_extra={"parameters": _LIST_PARAMS},
)
def list_keys(request: Request, ctx: AdminCtx) -> Any:
    params = request.query_params
    if "id" in params:
        raise BadRequest("GET ?id= is not supported on api-key-generate; list and filter instead")
    page = parse_page(params)
    stmt = scoped(ApiKey, ctx.scope)
    if "active" in params:
        stmt = stmt.where(ApiKey.active == coerce_filter("active", Kind.boolean, params["active"]))
    if "role" in params:
        stmt = stmt.where(
            ApiKey.role
            == coerce_filter("role", Kind.enum, params["role"], ("admin", "integration"))
        )
    term = search_term(params)
    if term is not None:
        stmt = stmt.where(contains(ApiKey.name, term))
    sort, order = parse_sort(params, _SORTABLE, ("created_at", "desc"))
    column = getattr(ApiKey, sort)
    with ctx.read() as session:
        total = session.scalar(stmt.with_only_columns(func.count()).order_by(None)) or 0
        rows = session.scalars(
            stmt.order_by(column.asc() if order == "asc" else column.desc(), ApiKey.id)
            .limit(page.limit)
            .offset(page.offset)
        )
        return ctx.respond(
            {
                "api_keys": [key_item(r) for r in rows],
                "pagination": {"total": total, "offset": page.offset, "limit": page.limit},
            }
        )


@router.post(
    PATH,
    status_code=201,
    summary="Create an API key; the key is shown only in this response",
    responses=responses(201, _CREATED, 403, 413, 422, example=_CREATED_EXAMPLE),
    openapi_extra=json_body(_CREATE_BODY),
)
@retrying
def create_key(ctx: AdminCtx, body: BodyDep) -> Any:
    new = keys.parse_new_key(body.json_object())
    with ctx.work() as work:
        row, plaintext = keys.create_key(work, new)
        return ctx.respond(
            {
                "id": str(row.id),
                "name": row.name,
                "api_key": plaintext,
                "key_prefix": row.key_prefix,
                "role": row.role.value,
                "expires_at": to_wire(Kind.timestamp, row.expires_at),
                "created_at": to_wire(Kind.timestamp, row.created_at),
                "warning": "Store this API key securely. It will not be shown again.",
            },
            201,
            work,
        )


@router.delete(
    PATH,
    summary="Revoke an API key",
    responses=responses(200, _REVOKED, 403, 404, 409, example=_REVOKED_EXAMPLE),
    openapi_extra={"parameters": _ID_PARAM},
)
@retrying
def revoke_key(request: Request, ctx: AdminCtx) -> Any:
    id_ = required_id(request.query_params)
    with ctx.work() as work:
        row = keys.revoke_key(work, id_)
        return ctx.respond(
            {"message": "API key revoked successfully", "id": str(row.id)}, 200, work
        )
