"""Delivery: claim an endpoint (short transaction), send its due deliveries in sequence order with
no transaction open, record the attempts and release (another short transaction).

At-least-once: a delivery leaves `pending` only through a committed record. A worker that dies
after sending and before recording leaves its lease to expire; the next worker sends again with
the same `webhook-id`. The endpoint is claimed with the lease helper (db/leases.py:
`FOR NO KEY UPDATE … SKIP LOCKED` on PostgreSQL, the write lock on SQLite).

Successful attempts of one claimed batch are recorded together when the batch ends (a failure
ends it at once): one transaction per batch instead of one per attempt. A crash in between only
re-sends what was already sent, which the contract allows.

A delivery whose event can't be rendered (its stored data can't be parsed or written as JSON)
fails on its own: nothing is sent, the attempt is recorded with outcome `render_error` and
retried per schedule, the endpoint's health is untouched (it isn't the receiver's fault) and the
batch goes on. Rendering happens per delivery after the claim's query, so such an event can
never fail the claim's transaction and pin the endpoint (and with it every other tenant's
deliveries) at the head of the queue.
"""

import logging
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from floorsync.db import leases
from floorsync.db.repository import TenantScope
from floorsync.db.uow import unit_of_work
from floorsync.events.outbox import Origin, Outbox
from floorsync.events.registry import event_id_text, webhook_disabled_payload
from floorsync.events.stored import STORED_EVENT_COLUMNS, UnrenderableEvent, render_stored
from floorsync.kit.clock import Clock
from floorsync.kit.ids import new_id
from floorsync.kit.secretbox import SecretBoxError
from floorsync.models.enums import (
    AttemptOutcome,
    DeliveryFailure,
    DeliveryStatus,
    WebhookDisabledReason,
)
from floorsync.models.events import Event
from floorsync.models.webhooks import Webhook, WebhookDelivery, WebhookLog
from floorsync.webhooks import delivery as delivery_mod
from floorsync.webhooks.config import WebhookKit, secret_context
from floorsync.webhooks.delivery import AttemptResult
from floorsync.webhooks.schedule import (
    FAILURE_PAUSE,
    RETRY_AFTER_PAUSE_CAP,
    after_failure,
    parse_retry_after,
)
from floorsync.webhooks.signing import signature_headers

log = logging.getLogger("floorsync.webhooks.worker")
LEASE_MARGIN = timedelta(seconds=5)  # a request must be able to finish well inside the lease


@dataclass
class DeliveryDeps:
    sessions: sessionmaker[Session]
    outbox: Outbox
    clock: Clock
    kit: WebhookKit
    http: httpx.Client
    worker_id: str
    rng: random.Random = field(default_factory=random.Random)


@dataclass(frozen=True)
class ClaimedDelivery:
    id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    seq: int
    attempts: int
    replay_round: int
    round_started: datetime
    body: bytes | None  # None: the event could not be rendered (`render_error` says why)
    render_error: str | None = None


@dataclass
class Claim:
    webhook_id: uuid.UUID
    tenant_id: uuid.UUID
    url: str
    secrets: list[str]
    lease_until: datetime
    deliveries: list[ClaimedDelivery]


def open_secrets(kit: WebhookKit, hook: Webhook, now: datetime) -> list[str]:
    """The signing secrets of an attempt: current first, then the previous one during its overlap."""
    out = [kit.secretbox.open(hook.secret_ciphertext, secret_context(hook.id)).decode("utf-8")]
    if (
        hook.previous_secret_ciphertext is not None
        and hook.previous_secret_expires_at is not None
        and hook.previous_secret_expires_at > now
    ):
        out.append(
            kit.secretbox.open(
                hook.previous_secret_ciphertext, secret_context(hook.id, previous=True)
            ).decode("utf-8")
        )
    return out


def claim_endpoint(deps: DeliveryDeps) -> Claim | None:
    """Lease the least recently served endpoint with due deliveries; load up to a batch of them.

    An endpoint whose secret doesn't open (FLOORSYNC_SECRET_KEY changed or lost) can't sign
    anything: it is paused for an hour without being leased, with an error in the log, and the
    claim moves on to the next due endpoint."""
    cfg = deps.kit.config
    with deps.sessions() as session, session.begin():
        now = deps.clock.now()
        due = exists().where(
            WebhookDelivery.webhook_id == Webhook.id,
            WebhookDelivery.status == DeliveryStatus.pending,
            WebhookDelivery.next_attempt_at <= now,
        )
        unopenable: list[uuid.UUID] = []
        while True:
            query = select(Webhook).where(
                Webhook.active.is_(True),
                leases.is_free(Webhook, now),
                or_(Webhook.paused_until.is_(None), Webhook.paused_until <= now),
                due,
            )
            if unopenable:
                query = query.where(Webhook.id.not_in(unopenable))
            hook = session.scalars(
                leases.locked_for_claim(
                    query.order_by(Webhook.lease_until.asc().nulls_first()).limit(1), Webhook
                )
            ).first()
            if hook is None:
                return None
            try:
                secrets = open_secrets(deps.kit, hook, now)
            except SecretBoxError:
                hook.paused_until = now + RETRY_AFTER_PAUSE_CAP
                unopenable.append(hook.id)
                log.error(
                    "webhook %s (tenant %s): its secret does not open with this FLOORSYNC_SECRET_KEY; "
                    "paused until %s, claiming another endpoint",
                    hook.id,
                    hook.tenant_id,
                    hook.paused_until.isoformat(),
                )
                continue
            break
        lease_until = leases.take(hook, deps.worker_id, now + cfg.lease)
        rows = session.execute(
            select(WebhookDelivery, *STORED_EVENT_COLUMNS)
            .join(Event, Event.id == WebhookDelivery.event_id)
            .where(
                WebhookDelivery.webhook_id == hook.id,
                WebhookDelivery.status == DeliveryStatus.pending,
                WebhookDelivery.next_attempt_at <= now,
            )
            .order_by(WebhookDelivery.seq)
            .limit(cfg.batch_size)
        ).all()
        deliveries = [_claimed(hook, row) for row in rows]
        return Claim(hook.id, hook.tenant_id, hook.url, secrets, lease_until, deliveries)


def _claimed(hook: Webhook, row: Any) -> ClaimedDelivery:
    """A claimed delivery with its body, or with the reason its event can't be rendered."""
    d: WebhookDelivery = row[0]
    try:
        body, error = render_stored(row), None
    except UnrenderableEvent as exc:
        body, error = None, str(exc)
        log.error(
            "webhook %s (tenant %s): delivery %s: %s; recorded as a failed attempt, retried "
            "per schedule",
            hook.id,
            hook.tenant_id,
            d.id,
            exc,
        )
    return ClaimedDelivery(
        d.id,
        d.event_id,
        d.event_type,
        d.seq,
        d.attempts,
        d.replay_round,
        d.first_attempt_due_at,
        body,
        error,
    )


def send_batch(deps: DeliveryDeps, claim: Claim) -> list[tuple[ClaimedDelivery, AttemptResult]]:
    """Send the claimed deliveries in order, one at a time, with no transaction open; stop at
    the first failure of the receiver or when the lease could run out during the next request.
    A delivery without a body (its event can't be rendered) is a failed attempt of its own and
    the batch goes on."""
    cfg = deps.kit.config
    results: list[tuple[ClaimedDelivery, AttemptResult]] = []
    for item in claim.deliveries:
        now = deps.clock.now()
        if claim.lease_until - now < timedelta(seconds=cfg.timeout_seconds) + min(
            LEASE_MARGIN, cfg.lease / 4
        ):
            break
        if item.body is None:
            results.append((item, AttemptResult(now, "render_error", error=item.render_error)))
            continue
        headers = signature_headers(
            claim.secrets,
            event_id_text(item.event_id),
            item.event_type,
            int(now.timestamp()),
            item.body,
        )
        result = delivery_mod.send(
            deps.http,
            claim.url,
            item.body,
            headers,
            deps.kit.resolver,
            allow_private=cfg.allow_private,
            timeout_seconds=cfg.timeout_seconds,
            at=now,
        )
        results.append((item, result))
        if not result.delivered:
            break
    return results


def record_batch(
    deps: DeliveryDeps, claim: Claim, results: list[tuple[ClaimedDelivery, AttemptResult]]
) -> bool:
    """Log every attempt, update the deliveries and the endpoint's health, release the lease.
    Returns False when the lease had been lost to another worker (the attempts are still
    recorded, because they happened)."""
    scope = TenantScope(claim.tenant_id)
    with unit_of_work(deps.sessions, deps.outbox, scope, origin=Origin(channel="system")) as work:
        session, now = work.session, deps.clock.now()
        hook = session.get(Webhook, claim.webhook_id, with_for_update={"key_share": True})
        still_mine = leases.holds(hook, deps.worker_id)
        rows = {
            d.id: d
            for d in session.scalars(
                select(WebhookDelivery).where(WebhookDelivery.id.in_([i.id for i, _ in results]))
            )
        }
        for item, result in results:
            _record_one(deps, session, claim, hook, rows.get(item.id), item, result)
        if hook is not None:
            last = results[-1][1] if results else None
            if last is not None and last.endpoint_failed and hook.active:
                _after_endpoint_failure(deps, work, hook, last)
            if still_mine:
                leases.let_go(hook, now)
    return still_mine


def _record_one(
    deps: DeliveryDeps,
    session: Session,
    claim: Claim,
    hook: Webhook | None,
    row: WebhookDelivery | None,
    item: ClaimedDelivery,
    result: AttemptResult,
) -> None:
    cfg = deps.kit.config
    current = (
        row is not None
        and row.replay_round == item.replay_round
        and row.status == DeliveryStatus.pending
    )
    attempt = (row.attempts if current and row is not None else item.attempts) + 1
    next_at: datetime | None = None
    if row is not None and current:
        row.attempts, row.last_attempt_at = attempt, result.at
        row.last_status_code, row.last_error = result.status_code, result.error
        if result.delivered:
            row.status, row.completed_at = DeliveryStatus.succeeded, result.at
        elif result.status_code == 410:
            row.status, row.failure_reason, row.completed_at = (
                DeliveryStatus.failed,
                DeliveryFailure.gone,
                result.at,
            )
        else:
            retry_after = (
                parse_retry_after(result.retry_after, result.at)
                if result.status_code in (429, 503)
                else None
            )
            step = after_failure(
                cfg.schedule, attempt, result.at, row.first_attempt_due_at, deps.rng, retry_after
            )
            if step.at is None:
                row.status, row.completed_at = DeliveryStatus.failed, result.at
                row.failure_reason = DeliveryFailure(step.failure or "exhausted")
            else:
                row.next_attempt_at = next_at = step.at
    if hook is not None and result.delivered:
        hook.consecutive_failures, hook.failing_since = 0, None
        hook.last_success_at, hook.last_status_code = result.at, result.status_code
    session.add(
        WebhookLog(
            id=new_id(),
            tenant_id=claim.tenant_id,
            webhook_id=hook.id if hook is not None else None,
            delivery_id=item.id,
            event_id=item.event_id,
            event_type=item.event_type,
            url=claim.url,
            attempt=attempt,
            replay_round=item.replay_round,
            outcome=AttemptOutcome(result.outcome),
            success=result.delivered,
            status_code=result.status_code,
            error_message=result.error,
            response_excerpt=result.excerpt,
            duration_ms=result.duration_ms,
            next_attempt_at=next_at,
            worker_id=deps.worker_id,
            created_at=result.at,
        )
    )


def _after_endpoint_failure(
    deps: DeliveryDeps, work: Any, hook: Webhook, result: AttemptResult
) -> None:
    cfg = deps.kit.config
    now = result.at
    hook.consecutive_failures += 1
    hook.failing_since = hook.failing_since or now
    hook.last_failure_at, hook.last_status_code = now, result.status_code
    pause = FAILURE_PAUSE
    if result.status_code in (429, 503):
        retry_after = parse_retry_after(result.retry_after, now)
        if retry_after is not None:
            pause = max(pause, min(retry_after, RETRY_AFTER_PAUSE_CAP))
    hook.paused_until = now + pause
    if result.status_code == 410:
        disable_endpoint(work, hook, WebhookDisabledReason.gone, now)
    elif (
        now - hook.failing_since >= cfg.disable_after
        and hook.consecutive_failures >= cfg.disable_min_failures
    ):
        disable_endpoint(work, hook, WebhookDisabledReason.failing, now)


def disable_endpoint(
    work: Any, hook: Webhook, reason: WebhookDisabledReason, now: datetime
) -> None:
    """floorsync disables an endpoint itself: record it and emit `webhook_endpoint.disabled`
    (the endpoint is inactive before the outbox fans out, so it doesn't get its own event)."""
    hook.active, hook.disabled_reason, hook.disabled_at, hook.updated_at = False, reason, now, now
    work.session.flush()
    work.record(
        "webhook_endpoint.disabled",
        "webhook_endpoint",
        hook.id,
        webhook_disabled_payload(
            hook.id, hook.url, reason.value, now, hook.consecutive_failures, hook.last_status_code
        ),
    )


def release(deps: DeliveryDeps, claim: Claim) -> None:
    with deps.sessions() as session, session.begin():
        leases.release(
            session,
            Webhook,
            Webhook.id == claim.webhook_id,
            owner=deps.worker_id,
            now=deps.clock.now(),
        )


def release_after_error(deps: DeliveryDeps, claim: Claim) -> None:
    """Give up a claim whose round failed unexpectedly: release the lease at once (instead of
    holding it until it expires) and pause the endpoint briefly, so a persistent fault is
    retried like a failed attempt rather than in a tight loop. Nothing was recorded, so its
    deliveries are still pending and are sent again (at-least-once)."""
    now = deps.clock.now()
    with deps.sessions() as session, session.begin():
        leases.release(
            session,
            Webhook,
            Webhook.id == claim.webhook_id,
            owner=deps.worker_id,
            now=now,
            paused_until=now + FAILURE_PAUSE,
        )


def run_once(deps: DeliveryDeps) -> bool:
    """Deliver one claimed batch for one endpoint. Returns False when nothing was due (a round
    that failed unexpectedly still counts as work done, so the caller goes on to other
    endpoints)."""
    claim = claim_endpoint(deps)
    if claim is None:
        return False
    deliver(deps, claim)
    return True


def deliver(deps: DeliveryDeps, claim: Claim) -> None:
    """Send a claimed endpoint's batch, record it and release the endpoint.

    An unexpected error is logged with the endpoint's id and the claim is released (the
    endpoint paused for FAILURE_PAUSE)."""
    try:
        results = send_batch(deps, claim) if claim.deliveries else []
        if results:
            record_batch(deps, claim, results)
        else:
            release(deps, claim)
    except Exception:
        log.exception(
            "webhook %s: delivery round failed; releasing its lease, retrying in %ss",
            claim.webhook_id,
            int(FAILURE_PAUSE.total_seconds()),
        )
        try:
            release_after_error(deps, claim)
        except Exception:
            log.exception(
                "webhook %s: could not release its lease; it expires at %s",
                claim.webhook_id,
                claim.lease_until,
            )


def drain(deps: DeliveryDeps, max_rounds: int = 10_000) -> int:
    """run_once until nothing is due (tests and `floorsync worker --once`); returns the rounds."""
    rounds = 0
    while rounds < max_rounds and run_once(deps):
        rounds += 1
    return rounds


# ---------------------------------------------------------------- periodic upkeep


def expire_deliveries(
    sessions: sessionmaker[Session],
    clock: Clock,
    kit: WebhookKit,
    webhook_id: uuid.UUID | None = None,
) -> int:
    """`webhooks.expire`: pending deliveries past their round's max age become failed (expired),
    including those waiting for a disabled endpoint."""
    now = clock.now()
    cutoff = now - kit.config.schedule.max_age
    stmt = update(WebhookDelivery).where(
        WebhookDelivery.status == DeliveryStatus.pending,
        WebhookDelivery.first_attempt_due_at < cutoff,
    )
    if webhook_id is not None:
        stmt = stmt.where(WebhookDelivery.webhook_id == webhook_id)
    with sessions() as session, session.begin():
        result = session.execute(
            stmt.values(
                status=DeliveryStatus.failed,
                failure_reason=DeliveryFailure.expired,
                completed_at=now,
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)


def drop_expired_previous_secrets(sessions: sessionmaker[Session], clock: Clock) -> None:
    now = clock.now()
    with sessions() as session, session.begin():
        session.execute(
            update(Webhook)
            .where(
                Webhook.previous_secret_expires_at.is_not(None),
                Webhook.previous_secret_expires_at <= now,
            )
            .values(previous_secret_ciphertext=None, previous_secret_expires_at=None)
        )


def purge_logs(sessions: sessionmaker[Session], clock: Clock, kit: WebhookKit) -> None:
    cutoff = clock.now() - kit.config.log_retention
    with sessions() as session, session.begin():
        session.execute(delete(WebhookLog).where(WebhookLog.created_at < cutoff))
