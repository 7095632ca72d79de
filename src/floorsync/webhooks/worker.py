"""Delivery: claim an endpoint (short transaction), send its due deliveries with no transaction
open, record the attempts and release (another short transaction).

At-least-once: a delivery leaves `pending` only through a committed record. A worker that dies
after sending and before recording leaves its lease to expire; the next worker sends again with
the same `webhook-id`. The endpoint is claimed with the lease helper (db/leases.py:
`FOR NO KEY UPDATE … SKIP LOCKED` on PostgreSQL, the write lock on SQLite), so one worker at a
time holds an endpoint, whatever its `max_in_flight`.

Failures step aside (Events and webhooks §9.3, issue 11): a failed delivery goes onto its own
retry schedule and the batch goes on with the next ones. The batch stops, and the endpoint as a
whole waits, only when the receiver asks (429/503 with `Retry-After`, capped), answers 410 (the
endpoint is disabled), or the circuit breaker (breaker.py) sees it down.

Concurrency: the claiming thread keeps up to the endpoint's `max_in_flight` requests in flight
on the worker process's sender threads (`DeliveryDeps.senders`, a sliding window, not rounds).
With 1 (or without sender threads) it sends one at a time in sequence order. Every attempt of a
batch is recorded together when the batch ends: one transaction per batch instead of one per
attempt. A crash in between only re-sends what was already sent, which the contract allows.

A delivery whose event can't be rendered (its stored data can't be parsed or written as JSON)
fails on its own: nothing is sent, the attempt is recorded with outcome `render_error` and
retried per schedule, the endpoint's health is untouched (it isn't the receiver's fault) and the
batch goes on. Rendering happens per delivery after the claim's query, so such an event can
never fail the claim's transaction and pin the endpoint (and with it every other tenant's
deliveries) at the head of the queue.

Logs stay quiet: one INFO line per batch (endpoint, sent, failed, ms), a WARNING per failed
attempt (status, delivery id) and per change of the circuit breaker; per-attempt detail is in
`webhook_logs`.
"""

import logging
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, or_, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from floorsync.db import leases
from floorsync.db.repository import TenantScope
from floorsync.db.uow import unit_of_work
from floorsync.db.upsert import insert_rows
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
from floorsync.ops.metrics import instruments
from floorsync.webhooks import delivery as delivery_mod
from floorsync.webhooks.breaker import open_time, should_open
from floorsync.webhooks.config import WebhookConfig, WebhookKit, secret_context
from floorsync.webhooks.delivery import AttemptResult
from floorsync.webhooks.http11 import WebhookHttp
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
    http: WebhookHttp
    worker_id: str
    rng: random.Random = field(default_factory=random.Random)
    # The worker process's sender threads (webhooks/tasks.py); None sends one at a time.
    senders: Executor | None = None
    # Set when the worker stops: no new request is started, those in flight are recorded.
    stopping: threading.Event | None = None
    # Claim endpoints resting after their batch too (LINGER): `drain` and `worker --once`
    # deliver everything due now.
    past_linger: bool = False


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
    max_in_flight: int = 1
    probe: bool = False  # the breaker is half-open: this batch is its one probe
    # The endpoint's run of failures when claimed (the breaker's view during the batch).
    consecutive_failures: int = 0
    failing_since: datetime | None = None
    claim_ms: float = 0.0  # how long the claim's transaction took, commit included
    # The last read of the endpoint's queue (the claim's, or a refill's) found less than a batch.
    drained: bool = True


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
    began = time.perf_counter()
    leased = _lease_and_load(deps)
    if leased is None:
        return None
    claim, rows = leased
    claim.claim_ms = (time.perf_counter() - began) * 1000
    # Rendered after the commit: the bodies are CPU work that needs no transaction open.
    claim.deliveries = [_claimed(claim, row) for row in rows]
    return claim


# The claim's reads are ordered walks of one endpoint's queue index that stop after a row or a
# batch: the plan for them whatever the data. PostgreSQL's planner, which can't see dead index
# entries and guesses how many deliveries are due from the whole table's statistics, sometimes
# chose otherwise, so the claim's transaction leaves it no other choice:
# - a bitmap scan of the endpoint's whole queue plus a sort visits the table page of every
#   entry, dead ones included, and never marks them dead in the index as an ordered walk does:
#   its cost grows with the deliveries made since the last vacuum (a soak's probe read 2,820
#   pages for 2 due rows, against 100–400 otherwise);
# - a sequential scan of the table, when the statistics said few deliveries were due.
ORDERED_QUEUE_WALK = "SET LOCAL enable_bitmapscan = off; SET LOCAL enable_seqscan = off"

# The lease's own transactions (claim, release) don't wait for their commit to reach the disk.
# If PostgreSQL crashed before it did, the lease would be lost with the connections of every
# worker holding one, and their batches' records would fail with them: the deliveries are sent
# again, as after any crash (at least once). Nothing else is written in those transactions but
# the pause of an endpoint whose secret doesn't open, which the next claim would write again; and
# each claim and release was a disk flush in the gap between an endpoint's batches.
LEASE_ONLY_COMMIT = "SET LOCAL synchronous_commit = off"

# What the claim's transaction sets first, in one round trip (each one is also a wait for the
# GIL in a busy worker).
CLAIM_SETTINGS = f"{ORDERED_QUEUE_WALK}; {LEASE_ONLY_COMMIT}"


def _on_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _lease_and_load(deps: DeliveryDeps) -> tuple[Claim, Sequence[Any]] | None:
    """The claim's transaction: lease an endpoint with due deliveries, read its batch's rows."""
    cfg = deps.kit.config
    with deps.sessions() as session, session.begin():
        if _on_postgresql(session):
            session.execute(text(CLAIM_SETTINGS))
        now = deps.clock.now()
        # Has the endpoint a due delivery? Asked of each candidate endpoint alone, as the first
        # due row of its own queue. As EXISTS, PostgreSQL sometimes planned it (after an
        # ANALYZE) as a scan of every due delivery, so the claim followed the backlog of a
        # receiver that can't keep up (soak: 380 → 1,775 buffers); a subquery with LIMIT 1 is
        # never turned into a join. Its ORDER BY seq is what the queue index (webhook_id, seq)
        # gives: without it, LIMIT 1 let the planner hope to find a row early in the due index
        # (next_attempt_at, dropped since by migration 0017) and walk every endpoint's due
        # deliveries for each endpoint.
        due = (
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.webhook_id == Webhook.id,
                WebhookDelivery.status == DeliveryStatus.pending,
                WebhookDelivery.next_attempt_at <= now,
            )
            .order_by(WebhookDelivery.seq)
            .limit(1)
            .correlate(Webhook)
            .scalar_subquery()
            .is_not(None)
        )
        free = leases.is_free(Webhook, now)
        if deps.past_linger:  # a resting endpoint has no lease owner, only a later expiry
            free = or_(free, Webhook.lease_owner.is_(None))
        unopenable: list[uuid.UUID] = []
        while True:
            query = select(Webhook).where(
                Webhook.active.is_(True),
                free,
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
        probe = hook.breaker_opened_at is not None  # half-open: its pause has passed
        limit = 1 if probe else batch_limit(cfg.batch_size, hook.max_in_flight)
        rows = _due_rows(session, hook.id, now, limit)
        claim = Claim(
            hook.id,
            hook.tenant_id,
            hook.url,
            secrets,
            lease_until,
            [],
            max_in_flight=1 if probe else max(1, hook.max_in_flight),
            probe=probe,
            consecutive_failures=hook.consecutive_failures,
            failing_since=hook.failing_since,
            drained=len(rows) < limit,
        )
    return claim, rows


def _due_rows(
    session: Session, webhook_id: uuid.UUID, now: datetime, limit: int, after_seq: int | None = None
) -> Sequence[Any]:
    """Up to `limit` of the endpoint's due deliveries in sequence order (after `after_seq`),
    with their events' stored columns."""
    # The batch is chosen first (its own queue, in sequence order) and then joined to its
    # events: as one join, SQLite's planner, with statistics of a large backlog, chose to
    # scan the whole events table and probe the deliveries of each event.
    due = [
        WebhookDelivery.webhook_id == webhook_id,
        WebhookDelivery.status == DeliveryStatus.pending,
        WebhookDelivery.next_attempt_at <= now,
    ]
    if after_seq is not None:
        due.append(WebhookDelivery.seq > after_seq)
    batch = (
        select(*_CLAIMED_COLUMNS, WebhookDelivery.event_id.label("delivery_event_id"))
        .where(*due)
        .order_by(WebhookDelivery.seq)
        .limit(limit)
        .subquery("batch")
    )
    return session.execute(
        select(*batch.c, *STORED_EVENT_COLUMNS)
        .join_from(batch, Event, Event.id == batch.c.delivery_event_id)
        .order_by(batch.c.delivery_seq)
    ).all()


# REFILL: a concurrent endpoint whose claim took a full batch has more due, most likely. When the
# batch's last deliveries are in flight, the thread holding its lease reads the next batch of its
# queue (after the last sequence number it has; one read, no lease written) and keeps the window
# full, up to REFILLS_PER_CLAIM times, and the record of them all is one transaction. Without it,
# each batch of a backlog ended with its window running dry (the last requests finishing one by
# one) and a gap of a record, a release and a new claim in which nothing was in flight: the soak's
# 50 ms receiver got 189–196 events/s without refills and 204–213 with them (README, "The soak at
# 500 events/s"). The lease check stops a refilled batch in time, as any other.
REFILLS_PER_CLAIM = 3


def _refill(deps: DeliveryDeps, claim: Claim) -> list[ClaimedDelivery]:
    """Read the claimed endpoint's next batch of due deliveries into the claim (REFILL), and
    whether that emptied its queue (`drained`, LINGER); returns the new deliveries."""
    limit = batch_limit(deps.kit.config.batch_size, claim.max_in_flight)
    with deps.sessions() as session, session.begin():
        if _on_postgresql(session):
            session.execute(text(ORDERED_QUEUE_WALK))
        rows = _due_rows(
            session, claim.webhook_id, deps.clock.now(), limit, claim.deliveries[-1].seq
        )
    claim.drained = len(rows) < limit
    more = [_claimed(claim, row) for row in rows]
    claim.deliveries.extend(more)
    return more


# Windows of `max_in_flight` requests per claim. Nothing is in flight for the endpoint between
# its batches (the record, release and next claim), so under load that gap costs a large share
# of a 50 ms receiver's rate with few windows per claim; with 8 (128 deliveries at 16) it is
# spread over twice as many requests as with 4. The lease check still stops a batch in time.
WINDOWS_PER_CLAIM = 8


# LINGER: an endpoint whose claim (or last refill) found fewer deliveries than a batch holds had
# emptied its queue; once recorded it rests for `FLOORSYNC_WEBHOOK_LINGER_MS` (200) before it can
# be claimed again (its lease is let go with that expiry). Under load such an endpoint was claimed
# again as soon as one event was due: in a soak the ERP endpoint, which gets only the shop floor's
# ~40 events a second, took half of all claims, about 5 deliveries each, and every claim and
# record is a transaction. Resting, the events of those milliseconds go out in one batch. An endpoint with a
# backlog (a full batch) doesn't rest. A first attempt waits at most the linger plus an idle
# thread's poll (FLOORSYNC_WORKER_POLL_SECONDS, 0.2 s): within Events and webhooks §5.4, "first
# attempts normally start within 2 s of commit".
def rest_after(cfg: WebhookConfig, claim: Claim) -> timedelta:
    """How long the endpoint rests once this claim's batch is recorded (LINGER)."""
    return cfg.linger if claim.drained and not claim.probe else timedelta(0)


def batch_limit(batch_size: int, max_in_flight: int) -> int:
    """Deliveries per claim: the batch size, or WINDOWS_PER_CLAIM windows' worth for a
    concurrent endpoint (so the window stays full for most of a batch, and claims stay a small
    share of the work)."""
    return batch_size if max_in_flight <= 1 else max(batch_size, WINDOWS_PER_CLAIM * max_in_flight)


# What a claim reads of each delivery: columns, not ORM objects (loading 128 entities per claim
# cost more than the query); the event's own columns come with STORED_EVENT_COLUMNS.
_CLAIMED_COLUMNS = (
    WebhookDelivery.id.label("delivery_id"),
    WebhookDelivery.event_type.label("delivery_event_type"),
    WebhookDelivery.seq.label("delivery_seq"),
    WebhookDelivery.attempts.label("delivery_attempts"),
    WebhookDelivery.replay_round.label("delivery_round"),
    WebhookDelivery.first_attempt_due_at.label("delivery_round_started"),
)


def _claimed(claim: Claim, row: Any) -> ClaimedDelivery:
    """A claimed delivery with its body, or with the reason its event can't be rendered."""
    try:
        body, error = render_stored(row), None
    except UnrenderableEvent as exc:
        body, error = None, str(exc)
        log.error(
            "webhook %s (tenant %s): delivery %s: %s; recorded as a failed attempt, retried "
            "per schedule",
            claim.webhook_id,
            claim.tenant_id,
            row.delivery_id,
            exc,
        )
    return ClaimedDelivery(
        row.delivery_id,
        row.event_id,
        row.delivery_event_type,
        row.delivery_seq,
        row.delivery_attempts,
        row.delivery_round,
        row.delivery_round_started,
        body,
        error,
    )


def send_batch(deps: DeliveryDeps, claim: Claim) -> list[tuple[ClaimedDelivery, AttemptResult]]:
    """Send the claimed deliveries in sequence order, up to `claim.max_in_flight` at a time,
    with no transaction open; returns the results in the order they completed.

    A failed attempt steps aside and the next delivery is sent. No new request starts once
    the batch must end (`ends_batch`: Retry-After, 410, the breaker), the lease could run out
    during it, or the worker is stopping; the requests already in flight are awaited. A
    delivery without a body (its event can't be rendered) is a failed attempt of its own."""
    cfg = deps.kit.config
    width = claim.max_in_flight if deps.senders is not None else 1
    tally = _Tally(claim.consecutive_failures, claim.failing_since)
    results: list[tuple[ClaimedDelivery, AttemptResult]] = []
    queue = iter(claim.deliveries)
    refills = REFILLS_PER_CLAIM if width > 1 else 0  # a probe's claim has max_in_flight 1
    in_flight: dict[Future[AttemptResult], ClaimedDelivery] = {}
    stop = False
    try:
        while True:
            while not stop and len(in_flight) < width:
                item = next(queue, None)
                if item is None and refills and not claim.drained:
                    refills -= 1
                    queue = iter(_refill(deps, claim))
                    item = next(queue, None)
                if item is None:
                    break
                now = deps.clock.now()
                if (deps.stopping is not None and deps.stopping.is_set()) or (
                    claim.lease_until - now
                    < timedelta(seconds=cfg.timeout_seconds) + min(LEASE_MARGIN, cfg.lease / 4)
                ):
                    stop = True
                    break
                if item.body is None:
                    results.append(
                        (item, AttemptResult(now, "render_error", error=item.render_error))
                    )
                    continue
                in_flight[_submit(deps, claim, item, now, inline=width == 1)] = item
            if not in_flight:
                break
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: in_flight[f].seq):
                item = in_flight.pop(future)
                result = future.result()
                results.append((item, result))
                stop = ends_batch(deps, claim, tally, result) or stop
    finally:
        if in_flight:  # an error: let the requests in flight finish before the lease goes
            wait(in_flight)
    return results


def _submit(
    deps: DeliveryDeps, claim: Claim, item: ClaimedDelivery, now: datetime, *, inline: bool
) -> "Future[AttemptResult]":
    if inline or deps.senders is None:
        future: Future[AttemptResult] = Future()
        future.set_result(_send_one(deps, claim, item, now))  # its errors propagate from here
        return future
    return deps.senders.submit(_send_one, deps, claim, item, now)


def _send_one(
    deps: DeliveryDeps, claim: Claim, item: ClaimedDelivery, now: datetime
) -> AttemptResult:
    assert item.body is not None
    cfg = deps.kit.config
    headers = signature_headers(
        claim.secrets,
        event_id_text(item.event_id),
        item.event_type,
        int(now.timestamp()),
        item.body,
    )
    return delivery_mod.send(
        deps.http,
        claim.url,
        item.body,
        headers,
        deps.kit.resolver,
        allow_private=cfg.allow_private,
        timeout_seconds=cfg.timeout_seconds,
        at=now,
    )


@dataclass
class _Tally:
    """The endpoint's run of failures as a batch sees it (the breaker's input)."""

    consecutive: int
    failing_since: datetime | None


def _asks_to_wait(result: AttemptResult) -> timedelta | None:
    """The receiver's Retry-After on a 429 or 503, if it gave a usable one."""
    if result.status_code not in (429, 503):
        return None
    return parse_retry_after(result.retry_after, result.at)


def ends_batch(deps: DeliveryDeps, claim: Claim, tally: _Tally, result: AttemptResult) -> bool:
    """Whether no further request of this batch may start after `result`: the receiver said
    410 or asked to wait (Retry-After), the breaker's probe failed, or a run of failures
    would open the breaker. Any other failure steps aside."""
    if result.delivered:
        tally.consecutive, tally.failing_since = 0, None
        return False
    if not result.endpoint_failed:
        return False
    tally.consecutive += 1
    tally.failing_since = tally.failing_since or result.at
    if result.status_code == 410 or claim.probe or _asks_to_wait(result) is not None:
        return True
    return should_open(deps.kit.config.breaker, tally.consecutive, tally.failing_since, result.at)


def record_batch(
    deps: DeliveryDeps, claim: Claim, results: list[tuple[ClaimedDelivery, AttemptResult]]
) -> bool:
    """Log every attempt, update the deliveries and the endpoint's health, release the lease.
    Returns False when the lease had been lost to another worker (the attempts are still
    recorded, because they happened).

    Set-based: one query reads the batch's deliveries (the few columns the schedule needs), one
    UPDATE per kind of outcome (succeeded, retried, failed) is executed for all its deliveries,
    and the attempt logs go in as one executemany INSERT; only the endpoint is an ORM object.
    Each UPDATE applies only while the delivery is still pending in the round that was sent,
    so a delivery re-armed (`/replay`, `/recover`) or expired meanwhile keeps its new state."""
    scope = TenantScope(claim.tenant_id)
    with unit_of_work(deps.sessions, deps.outbox, scope, origin=Origin(channel="system")) as work:
        session, now = work.session, deps.clock.now()
        hook = session.get(Webhook, claim.webhook_id, with_for_update={"key_share": True})
        still_mine = leases.holds(hook, deps.worker_id)
        pending = {
            row.id: row
            for row in session.execute(
                select(_D.id, _D.replay_round, _D.attempts, _D.first_attempt_due_at).where(
                    _D.id.in_([i.id for i, _ in results]), _D.status == DeliveryStatus.pending
                )
            )
        }
        plan = _Plan()
        for item, result in results:
            _plan_one(deps, claim, hook, pending.get(item.id), item, result, plan)
        plan.execute(session)
        if hook is not None:
            _update_health(deps, work, claim, hook, results)
            if still_mine:
                leases.let_go(hook, now + rest_after(deps.kit.config, claim))
    for outcome, n in Counter(r.outcome for _, r in results).items():
        instruments().delivery_attempts.labels(outcome).inc(n)
    return still_mine


_DELIVERIES = cast(Table, WebhookDelivery.__table__)
_LOGS = cast(Table, WebhookLog.__table__)
_D = _DELIVERIES.c
_STILL_SENT = (
    _D.id == bindparam("d_id"),
    _D.status == DeliveryStatus.pending,
    _D.replay_round == bindparam("d_round"),
)
_COMMON: dict[str, Any] = {
    "attempts": bindparam("d_attempts"),
    "last_attempt_at": bindparam("d_at"),
    "last_status_code": bindparam("d_code"),
    "last_error": bindparam("d_error"),
}
_SUCCEEDED = (
    update(_DELIVERIES)
    .where(*_STILL_SENT)
    .values(**_COMMON, status=DeliveryStatus.succeeded, completed_at=bindparam("d_at"))
)
_RETRIED = (
    update(_DELIVERIES).where(*_STILL_SENT).values(**_COMMON, next_attempt_at=bindparam("d_next"))
)
_FAILED = (
    update(_DELIVERIES)
    .where(*_STILL_SENT)
    .values(
        **_COMMON,
        status=DeliveryStatus.failed,
        failure_reason=bindparam("d_reason"),
        completed_at=bindparam("d_at"),
    )
)


@dataclass
class _Plan:
    """A batch's writes, gathered per statement."""

    succeeded: list[dict[str, Any]] = field(default_factory=list)
    retried: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    logs: list[dict[str, Any]] = field(default_factory=list)

    def execute(self, session: Session) -> None:
        conn = session.connection()
        for stmt, params in (
            (_SUCCEEDED, self.succeeded),
            (_RETRIED, self.retried),
            (_FAILED, self.failed),
        ):
            if params:
                conn.execute(stmt, params)
        # one multi-row INSERT (COPY on PostgreSQL from 64 rows on), as the outbox writes events
        insert_rows(session, _LOGS, self.logs)


def _plan_one(
    deps: DeliveryDeps,
    claim: Claim,
    hook: Webhook | None,
    row: Any,
    item: ClaimedDelivery,
    result: AttemptResult,
    plan: _Plan,
) -> None:
    """The writes for one attempt: its delivery's new state (when the delivery is still
    pending in the round that was sent, `row`) and its log row."""
    cfg = deps.kit.config
    current = row is not None and row.replay_round == item.replay_round
    attempt = (row.attempts if current else item.attempts) + 1
    next_at: datetime | None = None
    if current:
        params = {
            "d_id": item.id,
            "d_round": item.replay_round,
            "d_attempts": attempt,
            "d_at": result.at,
            "d_code": result.status_code,
            "d_error": result.error,
        }
        if result.delivered:
            plan.succeeded.append(params)
        elif result.status_code == 410:
            plan.failed.append({**params, "d_reason": DeliveryFailure.gone})
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
                reason = DeliveryFailure(step.failure or "exhausted")
                plan.failed.append({**params, "d_reason": reason})
            else:
                next_at = step.at
                plan.retried.append({**params, "d_next": next_at})
    if not result.delivered:
        log.warning(
            "webhook %s (tenant %s): delivery %s failed: %s (attempt %d); %s",
            claim.webhook_id,
            claim.tenant_id,
            item.id,
            result.error or result.outcome,
            attempt,
            f"next attempt at {next_at.isoformat()}" if next_at is not None else "no more attempts",
        )
    plan.logs.append(
        {
            "id": new_id(),
            "tenant_id": claim.tenant_id,
            "webhook_id": hook.id if hook is not None else None,
            "delivery_id": item.id,
            "event_id": item.event_id,
            "event_type": item.event_type,
            "url": claim.url,
            "attempt": attempt,
            "replay_round": item.replay_round,
            "outcome": AttemptOutcome(result.outcome),
            "success": result.delivered,
            "status_code": result.status_code,
            "error_message": result.error,
            "response_excerpt": result.excerpt,
            "duration_ms": result.duration_ms,
            "next_attempt_at": next_at,
            "worker_id": deps.worker_id,
            "created_at": result.at,
        }
    )


def _update_health(
    deps: DeliveryDeps,
    work: Any,
    claim: Claim,
    hook: Webhook,
    results: list[tuple[ClaimedDelivery, AttemptResult]],
) -> None:
    """The endpoint's failure counters, Retry-After pause, circuit breaker and auto-disable,
    from the batch's attempts in the order they completed (breaker.py draws the states)."""
    cfg = deps.kit.config
    breaker_moved = False  # the breaker changes state at most once per batch
    for item, result in results:
        if result.delivered:
            hook.consecutive_failures, hook.failing_since = 0, None
            hook.last_success_at, hook.last_status_code = result.at, result.status_code
            if hook.breaker_opened_at is not None and not breaker_moved:
                log.warning(
                    "webhook %s (tenant %s): circuit breaker closed: delivery %s succeeded "
                    "(open since %s)",
                    hook.id,
                    hook.tenant_id,
                    item.id,
                    hook.breaker_opened_at.isoformat(),
                )
                hook.breaker_opened_at, hook.breaker_trips = None, 0
                breaker_moved = True
            continue
        if not result.endpoint_failed or not hook.active:
            continue
        now = result.at
        hook.consecutive_failures += 1
        hook.failing_since = hook.failing_since or now
        hook.last_failure_at, hook.last_status_code = now, result.status_code
        if result.status_code == 410:
            disable_endpoint(work, hook, WebhookDisabledReason.gone, now)
            log.warning(
                "webhook %s (tenant %s): disabled: the receiver answered 410 Gone",
                hook.id,
                hook.tenant_id,
            )
            return
        retry_after = _asks_to_wait(result)
        if retry_after is not None:
            _pause(hook, now + min(retry_after, cfg.retry_after_cap))
            log.warning(
                "webhook %s (tenant %s): backing off until %s: the receiver answered %s with "
                "Retry-After %r",
                hook.id,
                hook.tenant_id,
                hook.paused_until.isoformat() if hook.paused_until else None,
                result.status_code,
                result.retry_after,
            )
        if not breaker_moved:
            if hook.breaker_opened_at is not None and claim.probe:
                hook.breaker_trips += 1
                _pause(hook, now + open_time(cfg.breaker, hook.breaker_trips))
                breaker_moved = True
                log.warning(
                    "webhook %s (tenant %s): circuit breaker open again until %s: probe "
                    "delivery %s failed (%s)",
                    hook.id,
                    hook.tenant_id,
                    hook.paused_until.isoformat() if hook.paused_until else None,
                    item.id,
                    result.error or result.outcome,
                )
            elif hook.breaker_opened_at is None and should_open(
                cfg.breaker, hook.consecutive_failures, hook.failing_since, now
            ):
                hook.breaker_opened_at, hook.breaker_trips = now, 0
                _pause(hook, now + open_time(cfg.breaker, 0))
                breaker_moved = True
                log.warning(
                    "webhook %s (tenant %s): circuit breaker opened until %s: %d consecutive "
                    "failures since %s",
                    hook.id,
                    hook.tenant_id,
                    hook.paused_until.isoformat() if hook.paused_until else None,
                    hook.consecutive_failures,
                    hook.failing_since.isoformat(),
                )
        if (
            now - hook.failing_since >= cfg.disable_after
            and hook.consecutive_failures >= cfg.disable_min_failures
        ):
            disable_endpoint(work, hook, WebhookDisabledReason.failing, now)
            log.warning(
                "webhook %s (tenant %s): disabled after failing since %s",
                hook.id,
                hook.tenant_id,
                hook.failing_since.isoformat(),
            )
            return


def _pause(hook: Webhook, until: datetime) -> None:
    """The endpoint sends nothing before `until` (a later pause already set stands)."""
    if hook.paused_until is None or hook.paused_until < until:
        hook.paused_until = until


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
        if _on_postgresql(session):
            session.execute(text(LEASE_ONLY_COMMIT))
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

    The batch's INFO line ends with how long its claim took (the claim's transaction: the
    endpoint with due work, its lease, its batch), so the claim's cost can be followed from the
    log over a long run (`bench/soak.py` reads it per minute).

    An unexpected error is logged with the endpoint's id and the claim is released (the
    endpoint paused for FAILURE_PAUSE)."""
    try:
        began = time.perf_counter()
        results = send_batch(deps, claim) if claim.deliveries else []
        if results:
            record_batch(deps, claim, results)
            sent = sum(1 for _, r in results if r.delivered)
            log.info(
                "webhook %s (tenant %s): sent %d, failed %d in %.0f ms; claim %.1f ms",
                claim.webhook_id,
                claim.tenant_id,
                sent,
                len(results) - sent,
                (time.perf_counter() - began) * 1000,
                claim.claim_ms,
            )
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
    """run_once until nothing is due, endpoints resting after their batch (LINGER) included
    (tests and programs that deliver what is due now); returns the rounds."""
    deps = replace(deps, past_linger=True)
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


PURGE_CHUNK = 10_000  # rows per delete statement: short transactions, whatever the backlog


def _purge_in_chunks(sessions: sessionmaker[Session], model: Any, *where: Any) -> int:
    """Delete the rows matching `where`, PURGE_CHUNK at a time, each chunk its own transaction
    (a long purge never holds locks or a snapshot for long); returns how many went."""
    total = 0
    while True:
        with sessions() as session, session.begin():
            ids = select(model.id).where(*where).limit(PURGE_CHUNK).scalar_subquery()
            result = session.execute(delete(model).where(model.id.in_(ids)))
            n = int(getattr(result, "rowcount", 0) or 0)
        total += n
        if n < PURGE_CHUNK:
            return total


def purge_logs(sessions: sessionmaker[Session], clock: Clock, kit: WebhookKit) -> int:
    """`webhooks.logs`: attempt logs older than FLOORSYNC_WEBHOOK_LOG_RETENTION go."""
    cutoff = clock.now() - kit.config.log_retention
    return _purge_in_chunks(sessions, WebhookLog, WebhookLog.created_at < cutoff)


def purge_succeeded_deliveries(
    sessions: sessionmaker[Session], clock: Clock, kit: WebhookKit
) -> int:
    """`webhooks.logs` (with the logs): succeeded deliveries completed longer ago than
    FLOORSYNC_WEBHOOK_DELIVERY_RETENTION go (their attempts stay in the log for its own
    retention). Pending and failed deliveries stay: they are the backlog and what `/recover`
    re-queues. The queue's indexes are partial (pending only), so the claim never reads this
    history; the purge keeps the table itself from growing without end."""
    cutoff = clock.now() - kit.config.delivery_retention
    return _purge_in_chunks(
        sessions,
        WebhookDelivery,
        WebhookDelivery.status == DeliveryStatus.succeeded,
        WebhookDelivery.completed_at < cutoff,
    )
