"""The push queue (spec §7.3–§7.5): claim one connection's due push rows under a lease, execute
them through the adapter outside any transaction, record each outcome in a short transaction.

* **Claim** (one short transaction): the connection of the oldest due pending push whose lease
  is free and whose connection is not blocked by an authentication failure (§5.4) is locked
  (`FOR NO KEY UPDATE SKIP LOCKED` on PostgreSQL; SQLite serialises writers), so one worker at
  a time claims for a connection. Its pending pushes are read in `seq` order; a push **waits
  while an earlier push for the same order is still pending** and not in this batch (so a
  completion is never sent before its start), pushes of other orders are not held up. Pushes
  older than the max age are failed `expired` here. The taken rows get `lease_owner` and
  `locked_until`.
* **Run**: each push through the adapter, in `seq` order; when one fails and stays pending, the
  later pushes of the same order in the batch are released untouched.
* **Outcome** (§7.4), recorded only while the lease is still this worker's:

  | Error                                             | Push                                  |
  |---------------------------------------------------|---------------------------------------|
  | none                                              | `succeeded` (`applied`/`already_applied` in the run's details) |
  | `PlanningUnavailable`                             | `attempts + 1`, next attempt on the webhook retry schedule or after `Retry-After` if later; `failed`/`expired` when the schedule or the max age is exhausted |
  | `PlanningAuthError`                               | stays pending, attempts unchanged; the connection is blocked; the batch stops |
  | `PlanningProtocolError`, `PlanningRejected`, `PlanningNotCompleted` | `failed`/`rejected` at once |
  | `PlanningOrderNotFound`                           | `failed`/`gone` at once               |

  Each executed push also writes one `planning_runs` row (`push_order_start` or
  `push_order_completion`, trigger `event`).
* A worker killed between the call and the record leaves the push pending under its lease; once
  the lease expires it is claimed and executed again, which is safe because every push sequence
  reads the upstream state first and answers `already_applied` (§7.5).
"""

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select, update

from floorsync.db.leases import locked_for_claim
from floorsync.db.repository import TenantScope, scoped
from floorsync.kit.timefmt import parse_ts
from floorsync.models.enums import (
    DeliveryFailure,
    DeliveryStatus,
    PlanningPushKind,
    PlanningRunKind,
    PlanningTrigger,
    RunStatus,
)
from floorsync.models.planning import PlanningConnection, PlanningPush
from floorsync.planning.base import (
    PlanningAdapter,
    PlanningAuthError,
    PlanningError,
    PlanningOrderNotFound,
    PlanningUnavailable,
    PushResult,
)
from floorsync.planning.config import PlanningConnectionConfig
from floorsync.planning.connections import block, config_of, find_connection
from floorsync.planning.runtime import (
    PlanningDeps,
    apply_failure,
    error_text,
    finish_run,
    load_config,
    redactor_for,
    start_run,
)
from floorsync.webhooks.schedule import Schedule, after_failure

BATCH = 50
RUN_KIND = {
    PlanningPushKind.order_start: PlanningRunKind.push_order_start,
    PlanningPushKind.order_completion: PlanningRunKind.push_order_completion,
}


@dataclass(frozen=True)
class DuePush:
    id: uuid.UUID
    kind: PlanningPushKind
    order: str
    payload: dict[str, Any]


@dataclass
class PushClaim:
    tenant_id: uuid.UUID
    connection_id: uuid.UUID
    config: PlanningConnectionConfig
    pushes: list[DuePush] = field(default_factory=list)


def _free(now: datetime) -> Any:
    return or_(PlanningPush.locked_until.is_(None), PlanningPush.locked_until < now)


def claim_pushes(
    deps: PlanningDeps,
    owner: str,
    lease: timedelta,
    schedule: Schedule,
    *,
    limit: int = BATCH,
    connection_id: uuid.UUID | None = None,
) -> PushClaim | None:
    now = deps.clock.now()
    with deps.sessions.begin() as session:
        candidate = (
            select(PlanningPush.connection_id)
            .join(PlanningConnection, PlanningConnection.id == PlanningPush.connection_id)
            .where(
                PlanningPush.status == DeliveryStatus.pending,
                PlanningPush.next_attempt_at <= now,
                _free(now),
                or_(
                    PlanningConnection.last_test_ok.is_(None),
                    PlanningConnection.last_test_ok.is_(True),
                ),
            )
            .order_by(PlanningPush.seq)
            .limit(1)
        )
        if connection_id is not None:
            candidate = candidate.where(PlanningPush.connection_id == connection_id)
        chosen = session.scalars(candidate).first()
        if chosen is None:
            return None
        row = session.scalars(
            locked_for_claim(
                select(PlanningConnection).where(PlanningConnection.id == chosen),
                PlanningConnection,
            )
        ).first()
        if row is None:
            return None  # another worker is claiming for this connection
        scope = TenantScope(row.tenant_id)
        config = config_of(row, deps.secretbox)
        pending = session.scalars(
            scoped(PlanningPush, scope)
            .where(
                PlanningPush.connection_id == row.id,
                PlanningPush.status == DeliveryStatus.pending,
            )
            .order_by(PlanningPush.seq)
        ).all()
        claim = PushClaim(row.tenant_id, row.id, config)
        held: set[str] = set()
        for push in pending:
            if push.order_external_id in held:
                continue
            if push.window_started_at + schedule.max_age < now:
                push.status, push.failure_reason = DeliveryStatus.failed, DeliveryFailure.expired
                push.completed_at = now
                continue
            due = push.next_attempt_at <= now
            free = push.locked_until is None or push.locked_until < now
            if not (due and free) or len(claim.pushes) >= limit:
                held.add(push.order_external_id)  # later pushes of this order wait for it
                continue
            push.lease_owner, push.locked_until = owner, now + lease
            claim.pushes.append(
                DuePush(push.id, push.kind, push.order_external_id, dict(push.payload))
            )
        return claim if claim.pushes else None


def execute(adapter: PlanningAdapter, push: DuePush) -> PushResult:
    payload = push.payload
    if push.kind is PlanningPushKind.order_start:
        started = parse_ts(payload["started_at"])
        return adapter.push_order_start(push.order, started)
    completed = payload.get("completed_at")
    return adapter.push_order_completion(
        push.order,
        Decimal(str(payload["quantity_good"])),
        Decimal(str(payload["quantity_scrap"])),
        completed_at=parse_ts(completed) if completed else None,
    )


def run_pushes(
    deps: PlanningDeps,
    claim: PushClaim,
    owner: str,
    schedule: Schedule,
    rng: random.Random,
    *,
    trigger: PlanningTrigger = PlanningTrigger.event,
) -> list[str]:
    """Execute a claim; returns each push's result (`applied`, `already_applied`, an error kind,
    or `held`)."""
    results: list[str] = []
    scope = TenantScope(claim.tenant_id)
    redact = redactor_for(claim.config)
    stalled: set[str] = set()
    remaining = list(claim.pushes)
    with deps.adapters(claim.config) as adapter:
        while remaining:
            push = remaining.pop(0)
            if push.order in stalled:
                _release(deps, scope, push.id, owner)
                results.append("held")
                continue
            try:
                result: PushResult | PlanningError = execute(adapter, push)
            except PlanningError as exc:
                result = exc
            done = _record(deps, scope, claim, push, result, owner, schedule, rng, redact, trigger)
            results.append(done)
            if isinstance(result, PlanningError) and done != "failed":
                stalled.add(push.order)
            if isinstance(result, PlanningAuthError):
                for rest in remaining:
                    _release(deps, scope, rest.id, owner)
                    results.append("held")
                break
    return results


def _release(deps: PlanningDeps, scope: TenantScope, push_id: uuid.UUID, owner: str) -> None:
    with deps.work(scope) as work:
        work.session.execute(
            update(PlanningPush)
            .where(PlanningPush.id == push_id, PlanningPush.lease_owner == owner)
            .values(lease_owner=None, locked_until=None)
        )


def _record(
    deps: PlanningDeps,
    scope: TenantScope,
    claim: PushClaim,
    push: DuePush,
    result: PushResult | PlanningError,
    owner: str,
    schedule: Schedule,
    rng: random.Random,
    redact: Any,
    trigger: PlanningTrigger,
) -> str:
    with deps.work(scope) as work:
        row = work.session.scalars(
            scoped(PlanningPush, scope).where(
                PlanningPush.id == push.id, PlanningPush.lease_owner == owner
            )
        ).first()
        if row is None:
            return "lease_lost"  # another worker took it over: write nothing
        now = work.clock.now()
        run = start_run(
            work,
            claim.connection_id,
            RUN_KIND[push.kind],
            trigger,
            details={"push_id": str(push.id), "order": push.order, "event_id": str(row.event_id)},
        )
        row.lease_owner, row.locked_until = None, None
        if isinstance(result, PushResult):
            row.attempts += 1
            row.status, row.completed_at, row.last_error = DeliveryStatus.succeeded, now, None
            finish_run(
                run,
                now,
                RunStatus.completed,
                details={
                    "outcome": result.outcome.value,
                    "upstream_status": result.upstream_status,
                },
            )
            return str(result.outcome.value)
        message = error_text(result, redact)
        row.last_error = f"{result.kind.value}: {message}"
        finish_run(run, now, RunStatus.failed, error=result, redact=redact)
        if isinstance(result, PlanningAuthError):
            block(
                find_connection(work.session, scope, str(claim.connection_id)), row.last_error, now
            )
            return "auth"
        row.attempts += 1
        if isinstance(result, PlanningUnavailable):
            retry_after = (
                timedelta(seconds=result.retry_after) if result.retry_after is not None else None
            )
            step = after_failure(
                schedule, row.attempts, now, row.window_started_at, rng, retry_after
            )
            if step.at is not None:
                row.next_attempt_at = step.at
                return "unavailable"
            row.status, row.failure_reason = DeliveryStatus.failed, DeliveryFailure.expired
        else:
            row.status = DeliveryStatus.failed
            row.failure_reason = (
                DeliveryFailure.gone
                if isinstance(result, PlanningOrderNotFound)
                else DeliveryFailure.rejected
            )
        row.completed_at = now
        return "failed"


def retry_failed(
    deps: PlanningDeps,
    scope: TenantScope,
    connection_id: uuid.UUID,
    *,
    push_id: uuid.UUID | None = None,
) -> int:
    """`floorsync planning pushes retry`: failed pushes back to pending with a fresh max-age
    window (one, or all failed ones of the connection)."""
    with deps.work(scope) as work:
        now = work.clock.now()
        stmt = scoped(PlanningPush, scope).where(
            PlanningPush.connection_id == connection_id,
            PlanningPush.status == DeliveryStatus.failed,
        )
        if push_id is not None:
            stmt = stmt.where(PlanningPush.id == push_id)
        rows = list(work.session.scalars(stmt))
        for row in rows:
            row.status, row.failure_reason = DeliveryStatus.pending, None
            row.attempts, row.window_started_at, row.next_attempt_at = 0, now, now
            row.completed_at, row.lease_owner, row.locked_until = None, None, None
        return len(rows)


def push_due(
    deps: PlanningDeps,
    owner: str,
    lease: timedelta,
    schedule: Schedule,
    rng: random.Random | None = None,
    *,
    connection_id: uuid.UUID | None = None,
) -> list[str]:
    """Claim and run until nothing is due (of one connection, or of all)."""
    rng = rng or random.Random()
    out: list[str] = []
    while True:
        claim = claim_pushes(deps, owner, lease, schedule, connection_id=connection_id)
        if claim is None:
            return out
        out.extend(run_pushes(deps, claim, owner, schedule, rng))


@dataclass
class DirectPush:
    """What `floorsync planning push` did: `outcome` (`applied` / `already_applied`) or the error
    kind and its redacted message, and the run record written."""

    kind: PlanningPushKind
    order: str
    outcome: str | None
    upstream_status: str | None
    error_class: str | None
    error: str | None
    run_id: uuid.UUID


def push_now(
    deps: PlanningDeps,
    scope: TenantScope,
    connection_id: uuid.UUID,
    kind: PlanningPushKind,
    order: str,
    payload: dict[str, Any],
) -> DirectPush:
    """A push sent now, directly through the adapter, outside the queue (spec §5.5: `floorsync
    planning push`): the adapter runs outside any transaction, then one `planning_runs` row
    (trigger `cli`) records the outcome; an authentication failure blocks the connection as in
    the queue. Works while pushes are switched off; nothing is added to `planning_pushes`."""
    row, config = load_config(deps, scope, connection_id)
    redact = redactor_for(config)
    push = DuePush(uuid.uuid4(), kind, order, payload)
    with deps.adapters(config) as adapter:
        try:
            result: PushResult | PlanningError = execute(adapter, push)
        except PlanningError as exc:
            result = exc
    with deps.work(scope) as work:
        now = work.clock.now()
        run = start_run(work, row.id, RUN_KIND[kind], PlanningTrigger.cli, details={"order": order})
        if isinstance(result, PushResult):
            finish_run(
                run,
                now,
                RunStatus.completed,
                details={
                    "outcome": result.outcome.value,
                    "upstream_status": result.upstream_status,
                },
            )
            return DirectPush(
                kind, order, result.outcome.value, result.upstream_status, None, None, run.id
            )
        finish_run(run, now, RunStatus.failed, error=result, redact=redact)
        apply_failure(find_connection(work.session, scope, str(row.id)), result, now, redact)
        return DirectPush(
            kind, order, None, None, result.kind.value, error_text(result, redact), run.id
        )
