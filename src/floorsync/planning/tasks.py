"""The planning feature's background work, declared for the worker (worker/registry.py lists
it). Four job kinds:

* `planning.pull` — scheduled pulls: a unit is one connection whose `next_pull_at` has come
  (`pull_enabled`, not blocked by an authentication failure), held by the connection's pull
  lease (`FLOORSYNC_PLANNING_PULL_LEASE_MINUTES`, renewed after every chunk). The pull sets the
  next `next_pull_at` (interval ± 10 %, or the back-off after a failure).
* `planning.pull_now` — a queued one-off pull (the admin page's "pull now"; payload
  `{tenant_id, connection_id, full}`), run even when scheduled pulls are off.
* `planning.dispatch` — turns committed `job.started` / `job.completed` events into push rows,
  one round per connection that is behind its tenant's log (`planning.dispatch`).
* `planning.push` — executes due push rows of one connection (`planning.pushes`), leased for
  `FLOORSYNC_PLANNING_PUSH_LEASE_SECONDS`.

And one periodic task, `planning.recover_runs`: pull runs left `running` by a pull that died
(its worker or CLI killed) are marked `failed` once the connection's pull lease has expired, and
the connection is due again (`service.recover_stale_runs`; every pull also does it for its own
connection before it starts).
"""

import random
import uuid
from dataclasses import dataclass
from datetime import timedelta

from floorsync.bootstrap import Services
from floorsync.db.repository import TenantScope
from floorsync.models.enums import PlanningTrigger
from floorsync.planning.dispatch import DispatchTarget, dispatch_round, targets
from floorsync.planning.pushes import PushClaim, claim_pushes, run_pushes
from floorsync.planning.runtime import PlanningDeps
from floorsync.planning.service import (
    claim_due_pull,
    pull,
    recover_stale_runs,
    release_pull_lease,
    take_pull_lease,
)
from floorsync.webhooks.schedule import Schedule
from floorsync.worker.kinds import JobKind, PeriodicTask, WorkerContext
from floorsync.worker.queue import JobRun, queued_kind

PULL_NOW = "planning.pull_now"


def planning_deps(services: Services) -> PlanningDeps:
    return PlanningDeps(services.sessions, services.outbox, services.clock, services.secretbox)


def pull_lease(services: Services) -> timedelta:
    return timedelta(minutes=services.settings.planning_pull_lease_minutes)


def push_lease(services: Services) -> timedelta:
    return timedelta(seconds=services.settings.planning_push_lease_seconds)


@dataclass(frozen=True)
class PlanningState:
    deps: PlanningDeps
    owner: str
    rng: random.Random
    schedule: Schedule
    pull_lease: timedelta
    push_lease: timedelta


def _setup(ctx: WorkerContext, _threads: int) -> PlanningState:
    services = ctx.services
    return PlanningState(
        planning_deps(services),
        ctx.worker_id,
        ctx.rng,
        services.webhooks.config.schedule,
        pull_lease(services),
        push_lease(services),
    )


Due = tuple[uuid.UUID, uuid.UUID]


def _claim_pull(state: PlanningState) -> Due | None:
    return claim_due_pull(state.deps, state.owner, state.pull_lease)


def _run_pull(state: PlanningState, due: Due) -> None:
    tenant_id, connection_id = due
    scope = TenantScope(tenant_id)

    def renew() -> None:
        take_pull_lease(state.deps, scope, connection_id, state.owner, state.pull_lease)

    try:
        pull(
            state.deps,
            scope,
            connection_id,
            trigger=PlanningTrigger.schedule,
            rng=state.rng,
            renew=renew,
            owner=state.owner,
        )
    finally:
        release_pull_lease(state.deps, scope, connection_id, state.owner)


PULL: JobKind[PlanningState, Due] = JobKind(
    name="planning.pull",
    setup=_setup,
    claim=_claim_pull,
    run=_run_pull,
    lease=pull_lease,
)


def _pull_now(run: JobRun) -> None:
    payload = run.job.payload
    services = run.services
    deps = planning_deps(services)
    scope = TenantScope(uuid.UUID(payload["tenant_id"]))
    connection_id = uuid.UUID(payload["connection_id"])
    owner = f"{run.worker_id}:now"
    if not take_pull_lease(deps, scope, connection_id, owner, pull_lease(services)):
        raise RuntimeError("another pull of this connection is running; retried later")
    try:
        pull(
            deps,
            scope,
            connection_id,
            trigger=PlanningTrigger.cli,
            full=bool(payload.get("full")),
            owner=owner,
        )
    finally:
        release_pull_lease(deps, scope, connection_id, owner)


PULL_NOW_KIND = queued_kind(PULL_NOW, _pull_now, lease=timedelta(minutes=30))


def _claim_dispatch(state: PlanningState) -> DispatchTarget | None:
    pending = targets(state.deps)
    return pending[0] if pending else None


def _run_dispatch(state: PlanningState, target: DispatchTarget) -> None:
    dispatch_round(state.deps, TenantScope(target.tenant_id), target.connection_id)


DISPATCH: JobKind[PlanningState, DispatchTarget] = JobKind(
    name="planning.dispatch",
    setup=_setup,
    claim=_claim_dispatch,
    run=_run_dispatch,
    lease=lambda _services: timedelta(seconds=30),
)


def _claim_push(state: PlanningState) -> PushClaim | None:
    return claim_pushes(state.deps, state.owner, state.push_lease, state.schedule)


def _run_push(state: PlanningState, claim: PushClaim) -> None:
    run_pushes(state.deps, claim, state.owner, state.schedule, state.rng)


PUSH: JobKind[PlanningState, PushClaim] = JobKind(
    name="planning.push",
    setup=_setup,
    claim=_claim_push,
    run=_run_push,
    lease=push_lease,
)


def _recover(services: Services) -> int:
    return recover_stale_runs(planning_deps(services))


RECOVER = PeriodicTask("planning.recover_runs", _recover)
