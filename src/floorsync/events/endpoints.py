"""`GET /api-events`: the change feed."""

from typing import Any

import orjson
from fastapi import APIRouter, Request

from floorsync.entities.listing import parse_page
from floorsync.entities.openapi import query
from floorsync.events.feed import MAX_LIMIT, parse_types, read_feed
from floorsync.http.context import ApiCtx

router = APIRouter(tags=["events"])


@router.get(
    "/api-events",
    summary="The change feed: the tenant's events in commit order, after a cursor",
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
