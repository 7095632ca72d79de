"""`/api-webhooks` (endpoint CRUD and its sub-routes) and `/api-webhook-logs` (read-only)."""

from typing import Any

import orjson
from fastapi import APIRouter, Request
from sqlalchemy import func

from floorsync.db.repository import TenantRepository, scoped
from floorsync.entities.fields import Kind
from floorsync.entities.listing import coerce_filter, contains, parse_page
from floorsync.entities.openapi import query, responses
from floorsync.errors import BadRequest, Detail, NotFound
from floorsync.events.registry import check_pattern, matches
from floorsync.events.stored import STORED_EVENT_COLUMNS, UnrenderableEvent, render_stored
from floorsync.http.context import ApiCtx, BodyDep, Ctx, optional_id, required_id
from floorsync.http.retry import retrying
from floorsync.kit.timefmt import format_ts
from floorsync.models.events import Event
from floorsync.models.webhooks import Webhook, WebhookLog
from floorsync.webhooks import docs, queries, service
from floorsync.webhooks.config import WebhookKit
from floorsync.webhooks.schemas import parse_webhook_body, render_log, render_webhook

router = APIRouter(tags=["webhooks"])
logs_router = APIRouter(tags=["webhook-logs"])
PATH = "/api-webhooks"
# `?id=` of the endpoint a write acts on (declared, so unknown parameters are refused: API §1.1)
_BY_ID = {
    "parameters": [
        {
            "name": "id",
            "in": "query",
            "required": True,
            "schema": {"type": "string", "format": "uuid"},
            "description": "the webhook endpoint's id",
        }
    ]
}
LOGS = "/api-webhook-logs"
SECRET_WARNING = "Store the secret now. It will not be shown again."


def kit_of(ctx: Ctx) -> WebhookKit:
    return ctx.services.webhooks


def _bad(param: str, message: str, value: Any) -> BadRequest:
    return BadRequest(message, [Detail(param, message, "INVALID_VALUE", value)])


def _sort(params: Any, allowed: tuple[str, ...], default: str = "created_at") -> tuple[str, bool]:
    sort = params.get("sort", default).strip()
    if sort not in allowed:
        msg = f"Invalid sort field '{sort}'. Allowed: {', '.join(allowed)}"
        raise BadRequest(msg, [Detail("sort", msg, "ENUM_CONSTRAINT", sort)])
    order = params.get("order", params.get("direction", "desc")).strip().lower()
    if order not in ("asc", "desc"):
        raise BadRequest(
            "order must be asc or desc",
            [Detail("order", "order must be asc or desc", "ENUM_CONSTRAINT", order)],
        )
    return sort, order == "desc"


_PAGE = query(
    ("id", {"type": "string", "format": "uuid"}, "return this one instead of a list"),
    ("limit", {"type": "integer", "default": 100, "minimum": 1, "maximum": 1000}, "page size"),
    ("offset", {"type": "integer", "default": 0, "minimum": 0}, "records to skip"),
    ("order", {"type": "string", "enum": ["asc", "desc"]}, "default desc"),
    ("direction", {"type": "string", "enum": ["asc", "desc"]}, "synonym of `order`"),
)


@router.get(
    PATH,
    summary="List webhook endpoints, or get one with ?id=",
    responses=responses(200, docs.LIST_OR_ONE, 404, example=docs.LIST_EXAMPLE),
    openapi_extra={
        "parameters": _PAGE
        + query(
            ("sort", {"type": "string"}, "default created_at"),
            ("active", {"type": "boolean"}, "exact filter"),
            ("events", {"type": "string"}, "endpoints whose subscription covers this event type"),
            ("event_type", {"type": "string"}, "alias of `events`"),
            ("url", {"type": "string"}, "substring of the url"),
            ("search", {"type": "string", "maxLength": 200}, "substring of url or description"),
        )
    },
)
def list_or_get(request: Request, ctx: ApiCtx) -> Any:
    """Endpoints with their health. Filters: `active`, `events` (alias `event_type`: endpoints
    whose subscription covers that type), `url` (fuzzy), `search` (url, description). The secret is
    never shown here, only its `secret_prefix`."""
    params = request.query_params
    id_ = optional_id(params)
    now = ctx.services.clock.now()
    with ctx.read() as session:
        if id_ is not None:
            return ctx.respond(
                {"webhook": render_webhook(service.get_webhook(session, ctx.scope, id_), now=now)}
            )
        page = parse_page(params)
        stmt = scoped(Webhook, ctx.scope)
        if "active" in params:
            stmt = stmt.where(
                Webhook.active.is_(coerce_filter("active", Kind.boolean, params["active"]))
            )
        if params.get("url"):
            stmt = stmt.where(
                contains(Webhook.url, coerce_filter("url", Kind.string, params["url"]))
            )
        if params.get("search"):
            term = coerce_filter("search", Kind.string, params["search"][:200])
            stmt = stmt.where(
                contains(Webhook.url, term) | contains(func.coalesce(Webhook.description, ""), term)
            )
        sort, desc = _sort(params, ("created_at", "updated_at", "url"))
        column = getattr(Webhook, sort)
        rows = list(
            session.scalars(stmt.order_by(column.desc() if desc else column.asc(), Webhook.id))
        )
        type_filter = params.get("events", params.get("event_type"))
        if type_filter:
            if check_pattern(type_filter) is not None or type_filter.endswith("*"):
                raise _bad("events", f"Unknown event type '{type_filter}'", type_filter)
            rows = [r for r in rows if matches(r.events or [], type_filter)]
        total = len(rows)
        shown = rows[page.offset : page.offset + page.limit]
        return ctx.respond(
            {
                "webhooks": [render_webhook(r, now=now) for r in shown],
                "pagination": {"total": total, "offset": page.offset, "limit": page.limit},
            }
        )


@router.post(
    PATH,
    status_code=201,
    summary="Create a webhook endpoint; the secret is shown only in this response",
    responses=responses(201, docs.CREATED, 413, 422, example=docs.CREATED_EXAMPLE),
    openapi_extra=docs.CREATE_BODY,
)
@retrying
def create(ctx: ApiCtx, body: BodyDep) -> Any:
    """`url` (https; plain http only to a private target while private targets are allowed),
    `events` (catalogue names, `prefix.*` or `*`), optional `active`, `description`, `secret_key`
    (generated as `whsec_…` when absent)."""
    kit = kit_of(ctx)
    data = parse_webhook_body(
        body.json_object(), kit.resolver, allow_private=kit.config.allow_private, creating=True
    )
    with ctx.work() as work:
        hook, secret = service.create_webhook(work, kit, data)
        return ctx.respond(
            {
                "webhook": render_webhook(hook, secret=secret, now=ctx.services.clock.now()),
                "warnings": [SECRET_WARNING, *data.warnings],
            },
            201,
            work,
        )


@retrying
def update(request: Request, ctx: ApiCtx, body: BodyDep) -> Any:
    id_ = required_id(request.query_params)
    kit = kit_of(ctx)
    data = parse_webhook_body(
        body.json_object(), kit.resolver, allow_private=kit.config.allow_private, creating=False
    )
    with ctx.work() as work:
        hook = service.get_webhook(work.session, ctx.scope, id_, for_update=True)
        service.update_webhook(work, kit, hook, data)
        out: dict[str, Any] = {"webhook": render_webhook(hook, now=ctx.services.clock.now())}
        if data.warnings:
            out["warnings"] = data.warnings
        return ctx.respond(out, 200, work)


_UPDATE_DOC: dict[str, Any] = {
    "responses": responses(200, docs.UPDATED, 404, 413, 422, example=docs.ONE_EXAMPLE),
    "openapi_extra": {**_BY_ID, **docs.PATCH_BODY},
}
router.patch(
    PATH, summary="Update a webhook endpoint (url, events, active, description)", **_UPDATE_DOC
)(update)
router.put(PATH, summary="Update a webhook endpoint (same as PATCH)", **_UPDATE_DOC)(update)


@router.delete(
    PATH,
    summary="Delete a webhook endpoint (hard); its pending deliveries are dropped, its logs stay",
    responses=responses(200, docs.DELETED, 404, example=docs.DELETED_EXAMPLE),
    openapi_extra=_BY_ID,
)
@retrying
def remove(request: Request, ctx: ApiCtx) -> Any:
    id_ = required_id(request.query_params)
    with ctx.work() as work:
        hook = service.get_webhook(work.session, ctx.scope, id_, for_update=True)
        service.delete_webhook(work, hook)
        return ctx.respond({"message": "Deleted successfully", "id": str(id_)}, 200, work)


@router.post(
    f"{PATH}/enable",
    summary="Re-enable a disabled webhook endpoint",
    responses=responses(200, docs.ONE, 404, example=docs.ONE_EXAMPLE),
    openapi_extra={**_BY_ID, **docs.ENABLE_BODY},
)
@retrying
def enable(request: Request, ctx: ApiCtx) -> Any:
    id_ = required_id(request.query_params)
    with ctx.work() as work:
        hook = service.get_webhook(work.session, ctx.scope, id_, for_update=True)
        service.enable_webhook(work, kit_of(ctx), hook)
        return ctx.respond(
            {"webhook": render_webhook(hook, now=ctx.services.clock.now())}, 200, work
        )


@router.post(
    f"{PATH}/replay",
    status_code=202,
    summary="Queue one event for this endpoint again",
    responses=responses(202, docs.REPLAYED, 404, 413, 422, example=docs.REPLAYED_EXAMPLE),
    openapi_extra={**_BY_ID, **docs.REPLAY_BODY},
)
@retrying
def replay(request: Request, ctx: ApiCtx, body: BodyDep) -> Any:
    """Body `{"event_id": "evt_…"}`. Queued even if the endpoint is not subscribed to the type,
    with the same `webhook-id`; 404 when the event is past retention."""
    id_ = required_id(request.query_params)
    data = body.json_object()
    with ctx.work() as work:
        hook = service.get_webhook(work.session, ctx.scope, id_, for_update=True)
        return ctx.respond(service.replay_event(work, hook, data), 202, work)


@router.post(
    f"{PATH}/recover",
    status_code=202,
    summary="Re-queue failed (and, optionally, missed) events of a time window",
    responses=responses(202, docs.RECOVERED, 404, 413, 422, example=docs.RECOVERED_EXAMPLE),
    openapi_extra={**_BY_ID, **docs.RECOVER_BODY},
)
@retrying
def recover(request: Request, ctx: ApiCtx, body: BodyDep) -> Any:
    """Body `{"since": ts, "until"?: ts, "include_missing"?: bool}`; at most 10,000 per call
    (`more: true` when the window was cut short)."""
    id_ = required_id(request.query_params)
    data = body.json_object()
    with ctx.work() as work:
        hook = service.get_webhook(work.session, ctx.scope, id_, for_update=True)
        return ctx.respond(service.recover(work, hook, data), 202, work)


@router.post(
    f"{PATH}/rotate-secret",
    summary="Rotate the signing secret; the new secret is shown only in this response",
    responses=responses(200, docs.ROTATED, 404, 413, 422, example=docs.ROTATED_EXAMPLE),
    openapi_extra={**_BY_ID, **docs.ROTATE_BODY},
)
@retrying
def rotate(request: Request, ctx: ApiCtx, body: BodyDep) -> Any:
    """Optional body `{"secret_key": "…", "overlap_hours": 24}`. Until the overlap ends,
    `webhook-signature` carries entries for both secrets (new first); `X-Eryxon-Signature` uses
    the new secret only."""
    id_ = required_id(request.query_params)
    data = body.json_object(optional=True)
    kit = kit_of(ctx)
    with ctx.work() as work:
        hook = service.get_webhook(work.session, ctx.scope, id_, for_update=True)
        secret, expires = service.rotate_secret(work, kit, hook, data)
        return ctx.respond(
            {
                "webhook": render_webhook(hook, secret=secret, now=ctx.services.clock.now()),
                "previous_secret_expires_at": format_ts(expires),
            },
            200,
            work,
        )


# ---------------------------------------------------------------- attempt logs


def _payload(event: Any) -> Any:
    """The body as sent, spliced in byte for byte; null once the event is past retention, or
    when its stored data can't be rendered (such an attempt sent nothing)."""
    if event is None:
        return None
    try:
        return orjson.Fragment(render_stored(event))
    except UnrenderableEvent:
        return None


_LOG_SORTS = ("created_at", "status_code", "duration_ms")


@logs_router.get(
    LOGS,
    summary="Webhook attempt logs (one row per attempt), or one with ?id=",
    responses=responses(200, docs.LOGS, 404, example=docs.LOGS_EXAMPLE),
    openapi_extra={
        "parameters": _PAGE
        + query(
            ("sort", {"type": "string", "enum": list(_LOG_SORTS)}, "default created_at"),
            ("webhook_id", {"type": "string", "format": "uuid"}, "exact filter"),
            ("delivery_id", {"type": "string", "format": "uuid"}, "exact filter"),
            ("event_id", {"type": "string"}, "an event id (evt_…)"),
            ("event_type", {"type": "string"}, "exact filter"),
            ("status_code", {"type": "integer"}, "the receiver's HTTP status"),
            (
                "outcome",
                {"type": "string"},
                "succeeded, http_error, timeout, connection_error, refused, render_error",
            ),
            ("success", {"type": "boolean"}, "exact filter"),
            (
                "from_date",
                {"type": "string", "format": "date-time"},
                "created_at at or after (RFC 3339; UTC unless an offset is given)",
            ),
            (
                "to_date",
                {"type": "string", "format": "date-time"},
                "created_at at or before (RFC 3339; UTC unless an offset is given)",
            ),
        )
    },
)
def list_logs(request: Request, ctx: ApiCtx) -> Any:
    """Filters: `webhook_id`, `delivery_id`, `event_id`, `event_type`, `status_code`, `outcome`,
    `success`, `from_date`/`to_date` on `created_at`. The single GET adds `payload`, the body as
    sent (while the event is retained)."""
    params = request.query_params
    id_ = optional_id(params)
    with ctx.read() as session:
        if id_ is not None:
            row = TenantRepository(session, ctx.scope, WebhookLog).get(id_)
            if row is None:
                raise NotFound(f"webhook_logs with ID {id_} not found")
            event = session.execute(
                scoped(Event, ctx.scope)
                .with_only_columns(*STORED_EVENT_COLUMNS)
                .where(Event.id == row.event_id)
            ).first()
            return ctx.respond(
                {"webhook_log": render_log(row, payload=_payload(event), with_payload=True)}
            )
        page = parse_page(params)
        stmt = queries.logs_statement(ctx.scope, params)
        total = queries.count(session, stmt)
        sort, desc = _sort(params, _LOG_SORTS)
        column = getattr(WebhookLog, sort)
        rows = session.scalars(
            stmt.order_by(
                column.desc() if desc else column.asc(),
                WebhookLog.id.desc() if desc else WebhookLog.id.asc(),
            )
            .limit(page.limit)
            .offset(page.offset)
        )
        return ctx.respond(
            {
                "webhook_logs": [render_log(r) for r in rows],
                "pagination": {"total": total, "offset": page.offset, "limit": page.limit},
            }
        )
