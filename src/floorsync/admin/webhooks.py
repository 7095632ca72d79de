"""Webhook endpoints with their health and delivery state (the circuit breaker or a receiver's
Retry-After, until when, and the backlog), each endpoint's delivery log (`webhook_logs`, one row
per attempt) and the operator's two repairs: replay an event to the endpoint, and re-enable an
endpoint floorsync (or someone) disabled. Both go through `webhooks.service`, exactly as
`POST /api-webhooks/replay` and `/enable` do."""

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from floorsync.admin.listing import Pager, filters_from
from floorsync.admin.pages import AdminPage, NavItem
from floorsync.admin.web import AdminDep, AdminRequest, FormDep, form_text, parse_id
from floorsync.errors import BadRequest, FloorsyncError
from floorsync.models.enums import AttemptOutcome
from floorsync.models.webhooks import Webhook, WebhookLog
from floorsync.webhooks import queries, service
from floorsync.webhooks.config import WebhookKit
from floorsync.webhooks.schemas import backoff_until, webhook_state

router = APIRouter()
PAGE = AdminPage(router, NavItem("Webhooks", "/webhooks", "webhooks", order=20))
LOG_PAGE_SIZE = 50
LOG_FILTERS = ("outcome", "success", "event_type", "event_id")
NOTICES = {
    "replayed": "Event {event} is queued for delivery to this endpoint again.",
    "enabled": "The endpoint is enabled again; its waiting deliveries will be sent.",
}


@dataclass(frozen=True)
class Flow:
    """What `GET /api-webhooks` says of an endpoint's delivery (issue 11): `healthy`,
    `backing_off` (the receiver asked, Retry-After) or `open` (the circuit breaker), and until
    when the whole endpoint waits."""

    state: str
    until: datetime | None

    @property
    def label(self) -> str:
        return self.state.replace("_", " ")

    @property
    def kind(self) -> str:
        return {"healthy": "ok", "backing_off": "warn", "open": "bad"}.get(self.state, "neutral")


def flow_of(hook: Webhook, now: datetime) -> Flow:
    return Flow(webhook_state(hook, now), backoff_until(hook, now))


@router.get("/webhooks", response_class=HTMLResponse)
def endpoints_page(admin: AdminDep) -> HTMLResponse:
    now = admin.services.clock.now()
    with admin.read() as session:
        hooks = queries.list_endpoints(session, admin.scope)
        pending = queries.pending_deliveries(session, admin.scope)
    flows = {hook.id: flow_of(hook, now) for hook in hooks}
    return admin.render("webhooks.html", hooks=hooks, pending=pending, flows=flows)


def _detail(
    admin: AdminRequest,
    webhook_id: str,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    params = admin.request.query_params
    chosen = filters_from(params, LOG_FILTERS)
    pager = Pager.from_params(params, LOG_PAGE_SIZE)
    filter_error = None
    with admin.read() as session:
        hook = service.get_webhook(session, admin.scope, parse_id(webhook_id))
        try:
            stmt = queries.logs_statement(admin.scope, {**chosen, "webhook_id": str(hook.id)})
        except BadRequest as exc:
            filter_error, chosen = exc.message, {}
            stmt = queries.logs_statement(admin.scope, {"webhook_id": str(hook.id)})
        pager.total = queries.count(session, stmt)
        logs = list(
            session.scalars(
                stmt.order_by(WebhookLog.created_at.desc(), WebhookLog.id.desc())
                .limit(pager.limit)
                .offset(pager.offset)
            )
        )
        pending = queries.pending_deliveries(session, admin.scope).get(hook.id, 0)
    return admin.render(
        "webhook.html",
        status_code=status_code,
        hook=hook,
        flow=flow_of(hook, admin.services.clock.now()),
        pending=pending,
        logs=logs,
        pager=pager,
        chosen=chosen,
        outcomes=[o.value for o in AttemptOutcome],
        notice=notice,
        error=error or filter_error,
    )


@router.get("/webhooks/{webhook_id}", response_class=HTMLResponse)
def endpoint_page(webhook_id: str, admin: AdminDep) -> HTMLResponse:
    done = admin.request.query_params.get("done", "")
    notice = None
    if done in NOTICES:
        notice = NOTICES[done].format(event=admin.request.query_params.get("event", "")[:40])
    return _detail(admin, webhook_id, notice=notice)


def _kit(admin: AdminRequest) -> WebhookKit:
    return admin.services.webhooks


@router.post("/webhooks/{webhook_id}/replay", response_model=None)
def replay(webhook_id: str, admin: AdminDep, form: FormDep) -> Response:
    """Queue one event for this endpoint again (same `webhook-id`), like `POST
    /api-webhooks/replay`; a refusal (endpoint disabled, event past retention, malformed id)
    is shown on the endpoint's page."""
    id_ = parse_id(webhook_id)
    refused: FloorsyncError | None = None
    with admin.work() as work:
        hook = service.get_webhook(work.session, admin.scope, id_, for_update=True)
        try:
            result = service.replay_event(work, hook, {"event_id": form_text(form, "event_id")})
        except FloorsyncError as exc:
            work.discard()
            refused = exc
    if refused is not None:
        return _detail(admin, webhook_id, error=_explain(refused), status_code=refused.status_code)
    return admin.redirect(f"/webhooks/{id_}", done="replayed", event=result["event_id"])


@router.post("/webhooks/{webhook_id}/enable", response_model=None)
def enable(webhook_id: str, admin: AdminDep, _form: FormDep) -> Response:
    id_ = parse_id(webhook_id)
    with admin.work() as work:
        hook: Webhook = service.get_webhook(work.session, admin.scope, id_, for_update=True)
        service.enable_webhook(work, _kit(admin), hook)
    return admin.redirect(f"/webhooks/{id_}", done="enabled")


def _explain(exc: FloorsyncError) -> str:
    details = exc.details_json()
    if isinstance(details, list) and details:
        return "; ".join(str(d.get("message")) for d in details)
    return exc.message
