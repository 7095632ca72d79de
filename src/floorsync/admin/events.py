"""The change feed's position (the latest sequence, the oldest event still retained, the cursor
an integrator starts from) and a window of recent events, read through `events.feed` exactly as
`GET /api-events` reads them (placeholders for events that can't be rendered included)."""

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from floorsync.admin.pages import AdminPage, NavItem
from floorsync.admin.web import AdminDep
from floorsync.errors import ValidationFailed
from floorsync.events.feed import (
    encode_cursor,
    feed_position,
    parse_types,
    read_feed,
    retained_events,
)

router = APIRouter()
PAGE = AdminPage(router, NavItem("Events", "/events", "events", order=30))
WINDOW = 50  # sequences per page


def _upto(raw: str | None, head: int) -> int:
    if raw is None or not raw.isdigit() or len(raw) > 18:
        return head
    return min(int(raw), head)


@router.get("/events", response_class=HTMLResponse)
def events_page(admin: AdminDep) -> HTMLResponse:
    params = admin.request.query_params
    raw_types = params.get("types", "").strip()
    error = None
    try:
        types = parse_types(raw_types)
    except ValidationFailed as exc:
        problems = exc.details if isinstance(exc.details, list) else []
        error = "; ".join(f"{d.value}: {d.message}" for d in problems) or exc.message
        types, raw_types = [], ""
    with admin.read() as session:
        position = feed_position(session, admin.scope)
        retained = retained_events(session, admin.scope)
        upto = _upto(params.get("upto"), position.head)
        start = max(upto - WINDOW, position.purged)
        page = read_feed(
            session, admin.scope, after=encode_cursor(start), types=types, limit=WINDOW
        )
    shown = [e for e in page.events if e["sequence"] <= upto]
    shown.reverse()  # newest first
    return admin.render(
        "events.html",
        position=position,
        retained=retained,
        now_cursor=encode_cursor(position.head),
        retention_days=admin.services.settings.event_retention_days,
        events=shown,
        window_first=start + 1,
        window_last=upto,
        earlier=start if start > position.purged else None,
        later=min(upto + WINDOW, position.head) if upto < position.head else None,
        types=raw_types,
        error=error,
    )
