"""Read-side queries over endpoints and their attempt log, shared by `/api-webhooks`,
`/api-webhook-logs` and the admin UI's webhook pages (one place for each filter's rules)."""

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, func
from sqlalchemy.orm import Session

from floorsync.db.repository import TenantScope, scoped
from floorsync.entities.fields import Kind
from floorsync.entities.listing import coerce_filter
from floorsync.errors import BadRequest, Detail
from floorsync.events.registry import parse_event_id
from floorsync.models.enums import AttemptOutcome, DeliveryStatus
from floorsync.models.webhooks import Webhook, WebhookDelivery, WebhookLog

LOG_FILTERS = (
    "webhook_id",
    "delivery_id",
    "event_id",
    "event_type",
    "status_code",
    "outcome",
    "success",
    "from_date",
    "to_date",
)


def _bad(param: str, message: str, value: Any) -> BadRequest:
    return BadRequest(message, [Detail(param, message, "INVALID_VALUE", value)])


def logs_statement(scope: TenantScope, params: Mapping[str, str]) -> Select[Any]:
    """The tenant's attempt logs matching the filters in `params` (see LOG_FILTERS); a
    malformed value is a 400 naming its parameter."""
    stmt = scoped(WebhookLog, scope)
    for name in ("webhook_id", "delivery_id"):
        if name in params:
            stmt = stmt.where(
                getattr(WebhookLog, name) == coerce_filter(name, Kind.uuid, params[name])
            )
    if "event_id" in params:
        event_id = parse_event_id(params["event_id"])
        if event_id is None:
            raise _bad("event_id", "event_id must be an event id (evt_…)", params["event_id"])
        stmt = stmt.where(WebhookLog.event_id == event_id)
    if "event_type" in params:
        stmt = stmt.where(
            WebhookLog.event_type == coerce_filter("event_type", Kind.string, params["event_type"])
        )
    if "status_code" in params:
        stmt = stmt.where(
            WebhookLog.status_code
            == coerce_filter("status_code", Kind.integer, params["status_code"])
        )
    if "outcome" in params:
        choices = tuple(o.value for o in AttemptOutcome)
        stmt = stmt.where(
            WebhookLog.outcome == coerce_filter("outcome", Kind.enum, params["outcome"], choices)
        )
    if "success" in params:
        stmt = stmt.where(
            WebhookLog.success.is_(coerce_filter("success", Kind.boolean, params["success"]))
        )
    if "from_date" in params:
        stmt = stmt.where(
            WebhookLog.created_at >= coerce_filter("from_date", Kind.timestamp, params["from_date"])
        )
    if "to_date" in params:
        stmt = stmt.where(
            WebhookLog.created_at <= coerce_filter("to_date", Kind.timestamp, params["to_date"])
        )
    return stmt


def count(session: Session, stmt: Select[Any]) -> int:
    return int(session.scalar(stmt.with_only_columns(func.count()).order_by(None)) or 0)


def list_endpoints(session: Session, scope: TenantScope) -> list[Webhook]:
    """Every endpoint of the tenant, oldest first."""
    return list(session.scalars(scoped(Webhook, scope).order_by(Webhook.created_at, Webhook.id)))


def pending_deliveries(session: Session, scope: TenantScope) -> dict[uuid.UUID, int]:
    """Deliveries still waiting to be sent (or retried), per endpoint id."""
    rows = session.execute(
        scoped(WebhookDelivery, scope)
        .with_only_columns(WebhookDelivery.webhook_id, func.count())
        .where(WebhookDelivery.status == DeliveryStatus.pending)
        .group_by(WebhookDelivery.webhook_id)
    )
    return {webhook_id: int(n) for webhook_id, n in rows}
