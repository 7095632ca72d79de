"""Webhook endpoint management: create, update, delete, enable, replay, recover, rotate-secret.

Services never commit; the caller's unit of work does. Endpoint bookkeeping emits no events
(only floorsync disabling an endpoint itself does, in the worker).
"""

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from floorsync.db.repository import TenantRepository, TenantScope, scoped, tenant_filter
from floorsync.db.uow import Work
from floorsync.errors import BadRequest, Detail, NotFound, ValidationFailed
from floorsync.events.feed import type_filter
from floorsync.events.registry import parse_event_id
from floorsync.kit.ids import new_id
from floorsync.kit.timefmt import parse_ts
from floorsync.models.enums import DeliveryStatus, WebhookDisabledReason
from floorsync.models.events import Event
from floorsync.models.tenancy import ApiKey
from floorsync.models.webhooks import Webhook, WebhookDelivery
from floorsync.webhooks.config import WebhookKit, secret_context
from floorsync.webhooks.schemas import WebhookInput
from floorsync.webhooks.signing import SecretFormatError, check_client_secret, generate_secret

RECOVER_LIMIT = 10_000
# Requests in flight per endpoint unless it says otherwise: enough that a receiver 50 ms away
# gets well over 200 events/s (16 / 0.05 s = 320/s before the claim and record round trips).
DEFAULT_MAX_IN_FLIGHT = 16
MAX_OVERLAP_HOURS = 168


def get_webhook(
    session: Session, scope: TenantScope, id_: uuid.UUID, *, for_update: bool = False
) -> Webhook:
    row = TenantRepository(session, scope, Webhook).get(id_, for_update=for_update)
    if row is None:
        raise NotFound(f"webhooks with ID {id_} not found")
    return row


def create_webhook(work: Work, kit: WebhookKit, data: WebhookInput) -> tuple[Webhook, str]:
    """Insert an endpoint; returns it with its plaintext secret (shown once)."""
    now = work.clock.now()
    secret = data.values.get("secret_key") or generate_secret()
    hook_id = new_id()
    active = data.values.get("active", True)
    hook = Webhook(
        id=hook_id,
        tenant_id=work.scope.tenant_id,
        url=data.values["url"],
        description=data.values.get("description"),
        events=data.values["events"],
        active=active,
        disabled_reason=None if active else WebhookDisabledReason.manual,
        disabled_at=None if active else now,
        secret_ciphertext=kit.secretbox.seal(secret.encode("utf-8"), secret_context(hook_id)),
        secret_prefix=secret[:12],
        consecutive_failures=0,
        created_by=work.scope.api_key_id,
        created_at=now,
        updated_at=now,
        max_in_flight=data.values.get("max_in_flight", DEFAULT_MAX_IN_FLIGHT),
        exclude_own_changes=False,
        exclude_sources=None,
        api_key_id=None,
        breaker_trips=0,
    )
    _apply_echo_fields(work, hook, data)
    work.session.add(hook)
    work.session.flush()
    return hook, secret


def _apply_echo_fields(work: Work, hook: Webhook, data: WebhookInput) -> bool:
    """Echo suppression: `exclude_sources`, `exclude_own_changes` and the bound `api_key_id`.
    Turning `exclude_own_changes` on without naming a key binds the key making the request.
    Returns whether anything changed."""
    before = (hook.exclude_own_changes, hook.exclude_sources, hook.api_key_id)
    if "exclude_sources" in data.values:
        hook.exclude_sources = data.values["exclude_sources"]
    if "api_key_id" in data.values:
        key_id = data.values["api_key_id"]
        if (
            key_id is not None
            and TenantRepository(work.session, work.scope, ApiKey).get(key_id) is None
        ):
            raise ValidationFailed(
                "webhook",
                [
                    Detail(
                        "api_key_id",
                        "api_key_id is not an API key of this tenant",
                        "REFERENCE_NOT_FOUND",
                        str(key_id),
                    )
                ],
            )
        hook.api_key_id = key_id
    if "exclude_own_changes" in data.values:
        hook.exclude_own_changes = data.values["exclude_own_changes"]
        if hook.exclude_own_changes and hook.api_key_id is None:
            hook.api_key_id = work.scope.api_key_id
    if hook.exclude_own_changes and hook.api_key_id is None:
        raise ValidationFailed(
            "webhook",
            [
                Detail(
                    "api_key_id",
                    "exclude_own_changes needs the endpoint bound to an API key (api_key_id)",
                    "NOT_NULL",
                )
            ],
        )
    return before != (hook.exclude_own_changes, hook.exclude_sources, hook.api_key_id)


def update_webhook(work: Work, kit: WebhookKit, hook: Webhook, data: WebhookInput) -> None:
    """PATCH: url, events, description, active (false → manual disable; true → enable)."""
    now = work.clock.now()
    changed = False
    for key in ("url", "events", "description", "max_in_flight"):
        if key in data.values and getattr(hook, key) != data.values[key]:
            setattr(hook, key, data.values[key])
            changed = True
    changed = _apply_echo_fields(work, hook, data) or changed
    if "active" in data.values and data.values["active"] != hook.active:
        if data.values["active"]:
            enable_webhook(work, kit, hook)
        else:
            hook.active, hook.disabled_reason, hook.disabled_at = (
                False,
                WebhookDisabledReason.manual,
                now,
            )
        changed = True
    if changed:
        hook.updated_at = now
        work.session.flush()


def enable_webhook(work: Work, kit: WebhookKit, hook: Webhook) -> None:
    """Re-enable: clear the reason, counters and pause; expire waiting deliveries past max age."""
    now = work.clock.now()
    hook.active, hook.disabled_reason, hook.disabled_at = True, None, None
    hook.consecutive_failures, hook.failing_since, hook.paused_until = 0, None, None
    hook.breaker_opened_at, hook.breaker_trips = None, 0
    hook.updated_at = now
    work.session.execute(
        update(WebhookDelivery)
        .where(
            tenant_filter(WebhookDelivery, work.scope),
            WebhookDelivery.webhook_id == hook.id,
            WebhookDelivery.status == DeliveryStatus.pending,
            WebhookDelivery.first_attempt_due_at < now - kit.config.schedule.max_age,
        )
        .values(status=DeliveryStatus.failed, failure_reason="expired", completed_at=now)
    )
    work.session.flush()


def delete_webhook(work: Work, hook: Webhook) -> None:
    """Hard delete; deliveries go with it (FK cascade), attempt logs stay with webhook_id NULL."""
    work.session.execute(
        delete(WebhookDelivery).where(
            tenant_filter(WebhookDelivery, work.scope), WebhookDelivery.webhook_id == hook.id
        )
    )
    work.session.delete(hook)
    work.session.flush()


def _require_active(hook: Webhook) -> None:
    if not hook.active:
        raise BadRequest("The webhook is disabled: enable the webhook first")


def _rearm(work: Work, hook: Webhook, event_ids: list[tuple[uuid.UUID, int, str]]) -> int:
    """Start a new round for these events' deliveries to this endpoint (creating missing rows)."""
    if not event_ids:
        return 0
    now = work.clock.now()
    ids = [e[0] for e in event_ids]
    existing = {
        row.event_id: row
        for row in work.session.scalars(
            scoped(WebhookDelivery, work.scope).where(
                WebhookDelivery.webhook_id == hook.id, WebhookDelivery.event_id.in_(ids)
            )
        )
    }
    new_rows: list[dict[str, Any]] = []
    for event_id, seq, type_ in event_ids:
        row = existing.get(event_id)
        if row is None:
            new_rows.append(
                {
                    "id": new_id(),
                    "tenant_id": work.scope.tenant_id,
                    "event_id": event_id,
                    "webhook_id": hook.id,
                    "replay_round": 1,
                    "seq": seq,
                    "event_type": type_,
                    "status": DeliveryStatus.pending,
                    "attempts": 0,
                    "first_attempt_due_at": now,
                    "next_attempt_at": now,
                    "created_at": now,
                }
            )
        else:
            row.replay_round += 1
            row.status, row.failure_reason, row.attempts = DeliveryStatus.pending, None, 0
            row.first_attempt_due_at = row.next_attempt_at = now
            row.completed_at = None
    if new_rows:
        work.session.execute(insert(WebhookDelivery), new_rows)
    work.session.flush()
    return len(event_ids)


def replay_event(work: Work, hook: Webhook, body: dict[str, Any]) -> dict[str, Any]:
    raw = body.get("event_id")
    event_id = parse_event_id(raw) if isinstance(raw, str) else None
    if event_id is None:
        raise ValidationFailed(
            "replay",
            [Detail("event_id", "event_id must be an event id (evt_…)", "INVALID_VALUE", raw)],
        )
    _require_active(hook)
    event = work.session.scalars(scoped(Event, work.scope).where(Event.id == event_id)).first()
    if event is None:
        raise NotFound(f"event {raw} not found (it may be older than the retention window)")
    _rearm(work, hook, [(event.id, event.seq, event.type)])
    return {"webhook_id": str(hook.id), "event_id": raw, "queued": 1}


def _parse_time(body: dict[str, Any], name: str, required: bool) -> datetime | None:
    value = body.get(name)
    if value is None:
        if required:
            raise ValidationFailed(
                "recover", [Detail(name, f"Missing required field: {name}", "NOT_NULL")]
            )
        return None
    try:
        return parse_ts(value)
    except (ValueError, OverflowError):
        raise ValidationFailed(
            "recover", [Detail(name, f"{name} must be a timestamp", "DATE_FORMAT", value)]
        ) from None


def recover(work: Work, hook: Webhook, body: dict[str, Any]) -> dict[str, Any]:
    """Re-queue failed deliveries for events in [since, until); with include_missing, also the
    subscribed events of the window that never had a delivery for this endpoint."""
    since = _parse_time(body, "since", True)
    until = _parse_time(body, "until", False)
    include_missing = body.get("include_missing", False)
    if not isinstance(include_missing, bool):
        raise ValidationFailed(
            "recover",
            [
                Detail(
                    "include_missing",
                    "include_missing must be a boolean",
                    "TYPE_MISMATCH",
                    include_missing,
                )
            ],
        )
    _require_active(hook)
    window = [Event.occurred_at >= since]
    if until is not None:
        window.append(Event.occurred_at < until)
    failed = work.session.execute(
        scoped(Event, work.scope)
        .with_only_columns(Event.id, Event.seq, Event.type)
        .join(WebhookDelivery, WebhookDelivery.event_id == Event.id)
        .where(
            *window,
            WebhookDelivery.webhook_id == hook.id,
            WebhookDelivery.status == DeliveryStatus.failed,
        )
        .order_by(Event.seq)
        .limit(RECOVER_LIMIT + 1)
    ).all()
    picked: list[tuple[uuid.UUID, int, str]] = [(r[0], r[1], r[2]) for r in failed]
    if include_missing and hook.events and len(picked) <= RECOVER_LIMIT:
        has_delivery = (
            select(WebhookDelivery.id)
            .where(WebhookDelivery.event_id == Event.id, WebhookDelivery.webhook_id == hook.id)
            .exists()
        )
        stmt = (
            scoped(Event, work.scope)
            .with_only_columns(Event.id, Event.seq, Event.type)
            .where(*window, ~has_delivery)
        )
        subscribed = type_filter(hook.events)  # the subscription as SQL (None: `*`)
        if subscribed is not None:
            stmt = stmt.where(subscribed)
        rows = work.session.execute(stmt.order_by(Event.seq).limit(RECOVER_LIMIT + 1 - len(picked)))
        picked.extend((r[0], r[1], r[2]) for r in rows)
    more = len(picked) > RECOVER_LIMIT
    picked.sort(key=lambda e: e[1])
    queued = _rearm(work, hook, picked[:RECOVER_LIMIT])
    return {"webhook_id": str(hook.id), "queued": queued, "more": more}


def rotate_secret(
    work: Work, kit: WebhookKit, hook: Webhook, body: dict[str, Any]
) -> tuple[str, datetime | None]:
    """New secret becomes current; the old one keeps signing (Standard Webhooks header only)
    until the overlap ends. Returns the new plaintext secret and the previous one's expiry."""
    errors: list[Detail] = []
    secret = body.get("secret_key")
    if secret is not None:
        try:
            check_client_secret(secret)
        except SecretFormatError as exc:
            errors.append(Detail("secret_key", str(exc), "INVALID_VALUE"))
    overlap = body.get("overlap_hours", kit.config.secret_overlap_hours)
    if (
        isinstance(overlap, bool)
        or not isinstance(overlap, int | float)
        or not 0 <= overlap <= MAX_OVERLAP_HOURS
    ):
        errors.append(
            Detail(
                "overlap_hours",
                f"overlap_hours must be a number from 0 to {MAX_OVERLAP_HOURS}",
                "INVALID_VALUE",
                overlap,
            )
        )
    for key in body:
        if key not in ("secret_key", "overlap_hours"):
            errors.append(Detail(key, f"Unknown field: {key}", "UNKNOWN_FIELD", body[key]))
    if errors:
        raise ValidationFailed("webhook", errors)
    now = work.clock.now()
    new_secret = secret or generate_secret()
    old_plain = kit.secretbox.open(hook.secret_ciphertext, secret_context(hook.id))
    if overlap > 0:
        hook.previous_secret_ciphertext = kit.secretbox.seal(
            old_plain, secret_context(hook.id, previous=True)
        )
        hook.previous_secret_expires_at = now + timedelta(hours=float(overlap))
    else:
        hook.previous_secret_ciphertext, hook.previous_secret_expires_at = None, None
    hook.secret_ciphertext = kit.secretbox.seal(new_secret.encode("utf-8"), secret_context(hook.id))
    hook.secret_prefix = new_secret[:12]
    hook.updated_at = now
    work.session.flush()
    return new_secret, hook.previous_secret_expires_at


def count_webhooks(session: Session, scope: TenantScope) -> int:
    return int(session.scalar(scoped(Webhook, scope).with_only_columns(func.count())) or 0)
