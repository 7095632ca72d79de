"""What the pull service, the push queue and the CLI share: their dependencies, run records
(`planning_runs`, spec §6.7) and what an adapter failure does to the connection (§4.4, §5.4).

| Error kind    | Pull                                         | Connection                        |
|---------------|----------------------------------------------|-----------------------------------|
| `unavailable` | run failed; next pull after a back-off      | unchanged                         |
| `auth`        | run failed; scheduled pulls wait            | blocked: `last_test_ok = false`   |
| `protocol`    | run failed; next pull on schedule           | `last_error` set                  |

Every message that goes into a run record or a connection's `last_error` is redacted with the
connection's credential first (in every encoded form), on top of the adapters' own redaction.
"""

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from floorsync.db.repository import TenantScope, scoped
from floorsync.db.uow import Work, unit_of_work
from floorsync.events.outbox import Origin, Outbox
from floorsync.kit.clock import Clock
from floorsync.kit.ids import new_id
from floorsync.kit.secretbox import SecretBox
from floorsync.models.enums import (
    PlanningErrorClass,
    PlanningRunKind,
    PlanningTrigger,
    RunStatus,
)
from floorsync.models.planning import PlanningConnection, PlanningRun
from floorsync.planning.base import PlanningAdapter, PlanningError, PlanningUnavailable
from floorsync.planning.config import PlanningConnectionConfig
from floorsync.planning.connections import block, config_of, find_connection
from floorsync.planning.factory import create_planning_adapter
from floorsync.planning.http import Redactor

MAX_WARNINGS = 1000
MAX_ERROR_TEXT = 2000
AdapterFactory = Callable[[PlanningConnectionConfig], PlanningAdapter]


@dataclass(frozen=True)
class PlanningDeps:
    """What planning work needs from the composition root (bootstrap.Services)."""

    sessions: sessionmaker[Session]
    outbox: Outbox
    clock: Clock
    secretbox: SecretBox
    # Builds the adapter of a connection (tests may hand in one that shares an HTTP client).
    adapters: AdapterFactory = create_planning_adapter

    def work(self, scope: TenantScope, channel: str = "system") -> Any:
        """A unit of work of the tenant (its events carry `origin.channel`)."""
        return unit_of_work(self.sessions, self.outbox, scope, origin=Origin(channel=channel))


def scope_of(row: PlanningConnection) -> TenantScope:
    return TenantScope(tenant_id=row.tenant_id)


def redactor_for(config: PlanningConnectionConfig) -> Redactor:
    return Redactor([config.secret], username=config.username)


def error_text(exc: BaseException, redact: Redactor) -> str:
    text = str(exc)
    excerpt = getattr(exc, "excerpt", None)
    if excerpt:
        text = f"{text} — {excerpt}"
    return redact(text)[:MAX_ERROR_TEXT]


def error_class(exc: BaseException) -> PlanningErrorClass | None:
    if isinstance(exc, PlanningError):
        return PlanningErrorClass(exc.kind.value)
    return None


def load_config(
    deps: PlanningDeps, scope: TenantScope, connection_id: uuid.UUID
) -> tuple[PlanningConnection, PlanningConnectionConfig]:
    with deps.work(scope) as work:
        row = find_connection(work.session, scope, str(connection_id))
        config = config_of(row, deps.secretbox)
        work.session.expunge(row)
        return row, config


# ------------------------------------------------------------------------------ run records


def start_run(
    work: Work,
    connection_id: uuid.UUID,
    kind: PlanningRunKind,
    trigger: PlanningTrigger,
    *,
    since: datetime | None = None,
    details: Mapping[str, Any] | None = None,
) -> PlanningRun:
    run = PlanningRun(
        id=new_id(),
        tenant_id=work.scope.tenant_id,
        connection_id=connection_id,
        kind=kind,
        trigger=trigger,
        status=RunStatus.running,
        since=since,
        counts={},
        details=dict(details or {}),
        started_at=work.clock.now(),
    )
    work.session.add(run)
    work.session.flush()
    return run


def get_run(work: Work, run_id: uuid.UUID) -> PlanningRun:
    run: PlanningRun = work.session.scalars(
        scoped(PlanningRun, work.scope).where(PlanningRun.id == run_id)
    ).one()
    return run


def finish_run(
    run: PlanningRun,
    now: datetime,
    status: RunStatus,
    *,
    counts: Mapping[str, Any] | None = None,
    details: Mapping[str, Any] | None = None,
    records_received: int | None = None,
    error: BaseException | None = None,
    redact: Redactor | None = None,
    sync_group_id: uuid.UUID | None = None,
) -> None:
    run.status = status
    run.finished_at = now
    if counts is not None:
        run.counts = dict(counts)
    if details is not None:
        merged = dict(run.details or {})
        merged.update(details)
        if "warnings" in merged:
            merged["warnings"] = list(merged["warnings"])[:MAX_WARNINGS]
        run.details = merged
    if records_received is not None:
        run.records_received = records_received
    if sync_group_id is not None:
        run.sync_group_id = sync_group_id
    if error is not None:
        run.error_class = error_class(error)
        run.error_message = error_text(error, redact or Redactor([]))


# ------------------------------------------------------------------- failures → connection


def pull_backoff(row: PlanningConnection, exc: PlanningUnavailable, now: datetime) -> datetime:
    """§6.1: `now + max(retry_after, 1 min × 2^(failures − 1))`, capped at the interval."""
    failures = max(1, row.consecutive_pull_failures)
    wait: timedelta = timedelta(minutes=1) * int(2 ** min(failures - 1, 20))
    if exc.retry_after is not None:
        wait = max(wait, timedelta(seconds=exc.retry_after))
    cap = timedelta(minutes=row.pull_interval_minutes)
    return now + (wait if wait < cap else cap)


def apply_failure(
    row: PlanningConnection, exc: BaseException, now: datetime, redact: Redactor
) -> None:
    """What an adapter failure does to the connection (§4.4)."""
    message = error_text(exc, redact)
    kind = error_class(exc)
    if kind is PlanningErrorClass.auth:
        block(row, f"auth: {message}", now)
    elif kind is not None:
        row.last_error = f"{kind.value}: {message}"
        row.updated_at = now
