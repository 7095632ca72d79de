"""`GET /api-events`: the change feed."""

from typing import Any

import orjson
from fastapi import APIRouter, Request

from floorsync.entities import examples
from floorsync.entities.listing import parse_page
from floorsync.entities.openapi import query, responses
from floorsync.events.feed import MAX_LIMIT, parse_types, read_feed
from floorsync.http.context import ApiCtx

router = APIRouter(tags=["events"])

_EVENT = {
    "type": "object",
    "required": ["id", "type", "event", "timestamp", "tenant_id", "sequence", "cursor", "data"],
    "properties": {
        "id": {"type": "string", "description": "`evt_` + 32 hex digits; the webhook-id too"},
        "type": {"type": "string", "description": "an event type (see Event types)"},
        "event": {"type": "string", "description": "the same as `type` (Eryxon's name)"},
        "timestamp": {
            "type": "string",
            "format": "date-time",
            "description": "when the change committed: UTC, RFC 3339 (`…Z`)",
        },
        "tenant_id": {"type": "string", "format": "uuid"},
        "sequence": {"type": "integer", "description": "the tenant's commit order, gap-free"},
        "cursor": {"type": "string", "description": "resume after this event"},
        "data": {"type": "object", "description": "the record as it is after the change"},
    },
}
_PAGE = {
    "type": "object",
    "required": ["events", "next_cursor", "has_more"],
    "properties": {
        "events": {"type": "array", "items": _EVENT},
        "next_cursor": {"type": "string", "description": "send back as `after`"},
        "has_more": {"type": "boolean", "description": "true: poll again at once"},
    },
}
_PAGE_EXAMPLE = examples.CHANGE_FEED_REPLY  # captured from a real run


@router.get(
    "/api-events",
    summary="The change feed: the tenant's events in commit order, after a cursor",
    responses=responses(200, _PAGE, 410, example=_PAGE_EXAMPLE),
    openapi_extra={
        "parameters": query(
            (
                "after",
                {"type": "string"},
                "a `next_cursor` from an earlier page, or `now`; omitted: from the oldest retained event",
            ),
            ("types", {"type": "string"}, "comma-separated event types, `job.*` prefixes allowed"),
            (
                "limit",
                {"type": "integer", "default": 100, "minimum": 1, "maximum": 1000},
                "page size",
            ),
        )
    },
)
def list_events(request: Request, ctx: ApiCtx) -> Any:
    """Events after `after` (a cursor from an earlier response, or `now`; omitted: the oldest
    retained event), in ascending `sequence`, optionally filtered by `types` (comma-separated,
    `job.*` prefixes allowed), at most `limit` (1-1000, default 100).

    Store `next_cursor` after processing the page and send it back as `after`. `has_more: true`
    means poll again at once; an empty page means nothing new has committed yet. A cursor older
    than the retained history gives 410 `CURSOR_EXPIRED`: resynchronise from `after=now`.
    """
    params = request.query_params
    page = parse_page({k: v for k, v in params.items() if k == "limit"}, max_limit=MAX_LIMIT)
    types = parse_types(params.get("types"))
    with ctx.read() as session:
        feed = read_feed(
            session, ctx.scope, after=params.get("after"), types=types, limit=page.limit
        )
    # Each entry was rendered on its own (an unrenderable one as a placeholder): splice them in.
    entries = [orjson.Fragment(body) for body in feed.rendered]
    return ctx.respond(
        {"events": entries, "next_cursor": feed.next_cursor, "has_more": feed.has_more}
    )
