"""The pull cycle (spec §6.1): pull work centres and work orders from a connection's planning
system and write them through the sync service (`sync.service.run_sync`, the one write path,
with `external_source` = the connection's system and trigger `planning_pull`).

1. Decide the mode: **reconcile** (a full pull, with withdrawal detection) when there is no pull
   cursor, when asked (`--full`), or when the last full pull is older than
   `reconcile_interval_hours`; otherwise **incremental** from `pull_cursor − overlap_minutes`.
2. `pull_resources()` → cells, then resources, in one sync run; in reconcile mode the live
   cells of this source missing upstream are deactivated (never deleted).
3. `pull_work_orders(since)` → one nested job record per work order (`planning.records`), sent
   in chunks of at most 200 orders / 10,000 records, one unit of work each.
4. One closing unit of work: the withdrawn and missing jobs and the removed routing steps are
   soft-deleted through the engine's delete path, the sync history of the whole step is written
   with one `sync.<entity>.completed` per entity (not one per chunk), the run records finish and
   the cursor moves to the greatest modification time the server reported (§6.2).

An adapter failure in step 2 or 3 writes nothing of that step, leaves the cursor where it was
and records the run `failed` with its error class (§6.1); what it does to the connection is in
`runtime.apply_failure`. Record errors from the engine (a job-number clash) make the run
`partial`; the cursor still advances. Adapters run outside any transaction.
"""

import logging
import random
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, or_, select, update

from floorsync.db.leases import locked_for_claim
from floorsync.db.repository import TenantScope, scoped, tenant_filter
from floorsync.db.uow import Work
from floorsync.entities.spec import get_spec
from floorsync.kit.timefmt import format_ts
from floorsync.models.enums import PlanningRunKind, PlanningTrigger, RunStatus, SyncTrigger
from floorsync.models.master import Cell, Job, Operation, Part
from floorsync.models.planning import PlanningConnection, PlanningFingerprint, PlanningRun
from floorsync.planning.base import PlanningError, PlanningUnavailable
from floorsync.planning.config import PlanningConnectionConfig
from floorsync.planning.connections import config_of, find_connection
from floorsync.planning.records import (
    FloorJob,
    PullWarning,
    Record,
    chunk_jobs,
    cursor_after,
    plan_equipment,
    plan_jobs,
    split_unchanged,
    usable_cells,
)
from floorsync.planning.runtime import (
    PlanningDeps,
    apply_failure,
    finish_run,
    get_run,
    pull_backoff,
    redactor_for,
    start_run,
)
from floorsync.sync.options import SyncOptions
from floorsync.sync.prune import soft_delete_rows
from floorsync.sync.results import SyncReport
from floorsync.sync.runs import record_runs
from floorsync.sync.service import run_sync

CHANNEL = "planning_pull"
log = logging.getLogger("floorsync.planning")
IN_CHUNK = 500
# (stage, done, total): "resources", "work_orders" (received), "jobs" (chunks written), "done"
Progress = Callable[[str, int, int], None]


@dataclass
class PullOutcome:
    """What one pull did (the CLI prints it; the admin page shows the run records)."""

    connection: str
    mode: str  # "reconcile" or "incremental"
    status: RunStatus
    since: datetime | None = None
    cursor_before: datetime | None = None
    cursor_after: datetime | None = None
    received: int = 0
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: list[dict[str, str]] = field(default_factory=list)
    error_class: str | None = None
    error: str | None = None
    run_ids: list[str] = field(default_factory=list)
    seconds: float = 0.0
    dry_run: bool = False
    # A dry run's would-be actions: the first records that would not be skipped.
    changes: list[dict[str, Any]] = field(default_factory=list)


def _noop(_stage: str, _done: int, _total: int) -> None:
    return None


MAX_DRY_CHANGES = 200


@dataclass(frozen=True)
class _DryDeps(PlanningDeps):
    """A dry run's dependencies: every unit of work the pull opens is the one outer unit, which
    is discarded at the end, so later steps see what earlier steps would have written (jobs find
    the cells the same pull would create) and nothing — records, history, run records, events,
    cursor — is committed."""

    shared: Work | None = None

    def work(self, scope: TenantScope, channel: str = "system") -> Any:
        return nullcontext(self.shared)


def decide_mode(
    row: PlanningConnection, config: PlanningConnectionConfig, now: datetime, *, full: bool
) -> tuple[str, datetime | None]:
    """(mode, since) per §6.1 step 2."""
    hours = config.settings.reconcile_interval_hours
    stale = row.last_reconcile_at is None or (
        hours > 0 and row.last_reconcile_at <= now - timedelta(hours=hours)
    )
    if full or row.pull_cursor is None or (stale and hours > 0):
        return "reconcile", None
    return "incremental", row.pull_cursor - timedelta(minutes=config.settings.overlap_minutes)


def _open(deps: PlanningDeps, scope: TenantScope) -> Callable[[], Any]:
    return lambda: deps.work(scope, CHANNEL)


def _counts(report: SyncReport) -> dict[str, int]:
    c = report.counts()
    return {
        "created": c["created"],
        "updated": c["updated"],
        "skipped": c["skipped"],
        "deleted": c["deleted"],
        "failed": c["error"],
    }


def _live_cells(work: Work, source: str) -> list[Cell]:
    stmt = scoped(Cell, work.scope, include_deleted=False).where(Cell.external_source == source)
    return list(work.session.scalars(stmt))


def _chunks(values: Sequence[str], size: int = IN_CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def floor_jobs(work: Work, source: str, external_ids: Sequence[str] | None) -> dict[str, FloorJob]:
    """The live jobs of this source with their status, their operations' status and whether the
    job, its part and its operations are unedited since their last sync (`FloorJob.clean`): all
    of them (`external_ids` None, reconcile) or those among `external_ids`."""
    base = (
        scoped(Job, work.scope, include_deleted=False)
        .with_only_columns(Job.id, Job.external_id, Job.status, Job.sync_hash)
        .where(Job.external_source == source)
    )
    rows: list[Any] = []
    if external_ids is None:
        rows = list(work.session.execute(base))
    else:
        for chunk in _chunks(list(external_ids)):
            rows.extend(work.session.execute(base.where(Job.external_id.in_(chunk))))
    ops: dict[uuid.UUID, dict[str, str]] = {}
    dirty: set[uuid.UUID] = set()
    parts: dict[uuid.UUID, str | None] = {}
    ids = [r.id for r in rows]
    for start in range(0, len(ids), IN_CHUNK):
        chunk = ids[start : start + IN_CHUNK]
        part_stmt = (
            scoped(Part, work.scope, include_deleted=False)
            .with_only_columns(Part.job_id, Part.external_id, Part.sync_hash)
            .where(Part.job_id.in_(chunk), Part.external_source == source)
        )
        for job_id, part_id, part_hash in work.session.execute(part_stmt):
            parts[job_id] = part_id
            if part_hash is None:
                dirty.add(job_id)
        stmt = (
            scoped(Operation, work.scope, include_deleted=False)
            .with_only_columns(
                Part.job_id, Operation.external_id, Operation.status, Operation.sync_hash
            )
            .join(Part, Part.id == Operation.part_id)
            .where(
                Part.job_id.in_(chunk),
                Operation.external_source == source,
                Operation.external_id.is_not(None),
            )
        )
        for job_id, op_id, status, op_hash in work.session.execute(stmt):
            ops.setdefault(job_id, {})[str(op_id)] = str(status.value)
            if op_hash is None:
                dirty.add(job_id)
    return {
        r.external_id: FloorJob(
            r.external_id,
            str(r.status.value),
            ops.get(r.id, {}),
            clean=r.sync_hash is not None
            and r.id not in dirty
            and parts.get(r.id) == r.external_id,
        )
        for r in rows
        if r.external_id is not None
    }


def load_fingerprints(
    work: Work, connection_id: uuid.UUID, external_ids: Sequence[str] | None
) -> dict[str, str]:
    stmt = scoped(PlanningFingerprint, work.scope).with_only_columns(
        PlanningFingerprint.external_id, PlanningFingerprint.fingerprint
    )
    stmt = stmt.where(PlanningFingerprint.connection_id == connection_id)
    if external_ids is None:
        return dict(work.session.execute(stmt).all())
    out: dict[str, str] = {}
    for chunk in _chunks(list(external_ids)):
        rows = work.session.execute(stmt.where(PlanningFingerprint.external_id.in_(chunk)))
        out.update(dict(rows.all()))
    return out


def _tree_ok(result: Any) -> bool:
    if result.action in ("error", "rolled_back"):
        return False
    return all(_tree_ok(kid) for kids in (result.children or {}).values() for kid in kids)


def store_fingerprints(
    work: Work,
    connection_id: uuid.UUID,
    reports: Sequence[SyncReport],
    prints: Mapping[str, str],
    forget: Sequence[str],
) -> None:
    """Keep the digests of the records the engine took whole; drop those of failed records and
    of deleted jobs, so that they go to the engine again."""
    taken = {
        r.external_id: prints[r.external_id]
        for report in reports
        for r in report.results
        if r.external_id is not None and r.external_id in prints and _tree_ok(r)
    }
    stale = [*prints, *forget]
    for chunk in _chunks(stale):
        work.session.execute(
            delete(PlanningFingerprint).where(
                tenant_filter(PlanningFingerprint, work.scope),
                PlanningFingerprint.connection_id == connection_id,
                PlanningFingerprint.external_id.in_(chunk),
            )
        )
    rows = [
        {
            "tenant_id": work.scope.tenant_id,
            "connection_id": connection_id,
            "external_id": key,
            "fingerprint": digest,
        }
        for key, digest in taken.items()
    ]
    for start in range(0, len(rows), 1000):
        work.session.execute(insert(PlanningFingerprint), rows[start : start + 1000])


def _rows_by_key(work: Work, model: Any, source: str, keys: Sequence[str]) -> list[uuid.UUID]:
    out: list[uuid.UUID] = []
    for chunk in _chunks(list(keys)):
        stmt = (
            scoped(model, work.scope, include_deleted=False)
            .with_only_columns(model.id)
            .where(model.external_source == source, model.external_id.in_(chunk))
        )
        out.extend(work.session.scalars(stmt))
    return out


def _merge(reports: Sequence[SyncReport], entity: str, singular: str) -> SyncReport:
    merged = SyncReport(entity=entity, singular=singular)
    for report in reports:
        merged.results.extend(report.results)
        merged.pruned.extend(report.pruned)
        merged.written_keys.extend(report.written_keys)
        merged.duration_ms += report.duration_ms
        merged.nested = merged.nested or report.nested
    return merged


def _status(failed: int, total: int) -> RunStatus:
    if failed == 0:
        return RunStatus.completed
    return RunStatus.failed if failed >= total else RunStatus.partial


def _warnings(items: Iterable[PullWarning]) -> list[dict[str, str]]:
    return [{"code": w.code, "external_id": w.external_id, "message": w.message} for w in items]


def next_pull_time(row: PlanningConnection, now: datetime, rng: random.Random) -> datetime:
    """`now + interval ± 10 % jitter` (§6.1 step 6)."""
    interval = timedelta(minutes=row.pull_interval_minutes)
    return now + interval * rng.uniform(0.9, 1.1)


def pull(
    deps: PlanningDeps,
    scope: TenantScope,
    connection_id: uuid.UUID,
    *,
    trigger: PlanningTrigger,
    full: bool = False,
    progress: Progress = _noop,
    rng: random.Random | None = None,
    renew: Callable[[], object] = lambda: None,
    dry_run: bool = False,
    owner: str | None = None,
) -> PullOutcome:
    """One pull cycle of one connection (see the module docstring). `renew` keeps the caller's
    lease alive between chunks. An unexpected error (the database, a bug) is re-raised after
    the run records it left `running` are marked `failed`.

    `dry_run`: the whole cycle runs through the sync engine's dry run inside one unit of work
    that is rolled back — the adapter is called as usual, the counts and the would-be actions
    are reported, nothing is written (no records, sync history, run records, events, cursor).

    `owner`: the pull lease the caller holds; the runs a dead earlier pull of this connection
    left `running` are recovered first (`recover_stale_runs`)."""
    opened: list[uuid.UUID] = []
    if dry_run:
        with deps.work(scope, CHANNEL) as outer:
            outer.discard()
            dry = _DryDeps(
                deps.sessions, deps.outbox, deps.clock, deps.secretbox, deps.adapters, outer
            )
            return _pull(dry, scope, connection_id, trigger, full, progress, rng, _nothing, [])
    recover_stale_runs(deps, connection_id=connection_id, owner=owner)
    try:
        return _pull(deps, scope, connection_id, trigger, full, progress, rng, renew, opened)
    except Exception as exc:
        _abandon(deps, scope, opened, exc)
        raise


def _nothing() -> None:
    return None


def _abandon(
    deps: PlanningDeps, scope: TenantScope, run_ids: Sequence[uuid.UUID], exc: Exception
) -> None:
    try:
        with deps.work(scope) as work:
            for run_id in run_ids:
                run = get_run(work, run_id)
                if run.status is RunStatus.running:
                    run.status, run.finished_at = RunStatus.failed, work.clock.now()
                    run.error_message = f"internal error: {type(exc).__name__}"
    except Exception:  # the database may be what failed; the original error is what matters
        log.exception("could not mark the runs of a failed pull")


def _pull(
    deps: PlanningDeps,
    scope: TenantScope,
    connection_id: uuid.UUID,
    trigger: PlanningTrigger,
    full: bool,
    progress: Progress,
    rng: random.Random | None,
    renew: Callable[[], object],
    opened: list[uuid.UUID],
) -> PullOutcome:
    started = time.perf_counter()
    rng = rng or random.Random()
    clock = deps.clock
    dry = isinstance(deps, _DryDeps)
    with deps.work(scope) as work:
        row = find_connection(work.session, scope, str(connection_id))
        config = config_of(row, deps.secretbox)
        mode, since = decide_mode(row, config, clock.now(), full=full)
        cursor_before = row.pull_cursor
        source = row.system.value
        reconcile = mode == "reconcile"
        common: dict[str, Any] = {"mode": mode, "cursor_before": _ts(cursor_before)}
        if config.warnings:
            common["warnings_connection"] = list(config.warnings)
        res_run = start_run(
            work, row.id, PlanningRunKind.pull_resources, trigger, details=dict(common)
        )
        res_run_id = res_run.id
        opened.append(res_run_id)
    outcome = PullOutcome(
        connection=config.display_name,
        mode=mode,
        status=RunStatus.running,
        since=since,
        cursor_before=cursor_before,
        run_ids=[] if dry else [str(res_run_id)],
        dry_run=dry,
    )
    redact = redactor_for(config)
    with deps.adapters(config) as adapter:
        # ---------------------------------------------------------------- 1. work centres
        progress("resources", 0, 0)
        try:
            equipment = adapter.pull_resources()
        except PlanningError as exc:
            return _failed(deps, scope, connection_id, [res_run_id], exc, redact, outcome, rng)
        with deps.work(scope) as work:
            live = _live_cells(work, source)
        plan = plan_equipment(
            equipment,
            source=source,
            live_cells=[c.external_id for c in live if c.external_id],
            reconcile=reconcile,
        )
        by_key = {c.external_id: c for c in live}
        deactivate = [
            {
                "external_id": key,
                "external_source": source,
                "name": by_key[key].name,
                "description": by_key[key].description,
                "active": False,
                "metadata": dict(by_key[key].metadata_ or {}),
            }
            for key in plan.deactivate_cells
            if by_key[key].active
        ]
        eq = run_sync(
            _open(deps, scope),
            [
                (get_spec("cells"), [*plan.cells, *deactivate]),
                (get_spec("resources"), list(plan.resources)),
            ],
            SyncOptions(dry_run=dry),
            trigger=SyncTrigger.planning_pull,
            source_label=source,
        )
        if dry:
            _would(outcome, eq.reports)
        refused = {
            r.external_id
            for rep in eq.reports
            if rep.entity == "cells"
            for r in rep.results
            if r.action == "error"
        }
        active_cells = usable_cells(plan) - refused
        eq_counts = {rep.entity: _counts(rep) for rep in eq.reports}
        eq_counts.setdefault("resources", {})["ignored"] = plan.ignored
        eq_failed = sum(rep.failed for rep in eq.reports)
        eq_total = sum(rep.total for rep in eq.reports)
        with deps.work(scope) as work:
            finish_run(
                get_run(work, res_run_id),
                clock.now(),
                _status(eq_failed, eq_total) if eq_total else RunStatus.completed,
                counts=eq_counts,
                records_received=len(equipment),
                sync_group_id=eq.group_id,
                details={
                    "deactivated_cells": list(plan.deactivate_cells),
                },
            )
            wo_run = start_run(
                work,
                connection_id,
                PlanningRunKind.pull_work_orders,
                trigger,
                since=since,
                details=dict(common),
            )
            wo_run_id = wo_run.id
            opened.append(wo_run_id)
        if not dry:
            outcome.run_ids.append(str(wo_run_id))
        outcome.counts.update(eq_counts)
        progress("resources", len(equipment), len(equipment))
        renew()
        # ----------------------------------------------------------------- 2. work orders
        progress("work_orders", 0, 0)
        try:
            orders = adapter.pull_work_orders(since)
        except PlanningError as exc:
            return _failed(deps, scope, connection_id, [wo_run_id], exc, redact, outcome, rng)
    outcome.received = len(orders)
    progress("work_orders", len(orders), len(orders))
    wanted = None if reconcile else [o.external_id for o in orders]
    with deps.work(scope) as work:
        floor = floor_jobs(work, source, wanted)
        stored = load_fingerprints(work, connection_id, wanted)
    job_plan = plan_jobs(
        orders,
        source=source,
        floor=floor,
        job_number_prefix=config.settings.job_number_prefix,
        active_cells=active_cells,
        reconcile=reconcile,
    )
    split = split_unchanged(job_plan.jobs, floor, stored)
    reports = _write_jobs(deps, scope, split.send, progress, renew, dry)
    # ------------------------------------------------------------------ 3. close the step
    after = cursor_after(orders, current=cursor_before)
    with deps.work(scope) as work:
        jobs_report = _merge(reports, "jobs", "job")
        jobs_report.pruned.extend(
            soft_delete_rows(
                work, get_spec("jobs"), _rows_by_key(work, Job, source, job_plan.delete_jobs)
            )
        )
        op_deleted = soft_delete_rows(
            work,
            get_spec("operations"),
            _rows_by_key(work, Operation, source, job_plan.delete_operations),
        )
        if dry:
            _would(outcome, [jobs_report])
            outcome.changes.extend(
                {"entity": "operations", "external_id": r.external_id, "action": "deleted"}
                for r in op_deleted[: max(0, MAX_DRY_CHANGES - len(outcome.changes))]
            )
        group = None
        if (jobs_report.results or jobs_report.pruned) and not dry:
            group = record_runs(
                work,
                [jobs_report],
                trigger=SyncTrigger.planning_pull,
                options=SyncOptions(),
                started_at=clock.now(),
                source_label=source,
            )
        if not dry:
            store_fingerprints(work, connection_id, reports, split.prints, job_plan.delete_jobs)
        counts: dict[str, dict[str, int]] = {"jobs": _counts(jobs_report)}
        counts["jobs"]["deleted"] = len(jobs_report.pruned)
        counts.update(jobs_report.child_counts())
        ops = counts.setdefault("operations", {})
        ops["deleted"] = ops.get("deleted", 0) + len(op_deleted)
        # the orders skipped before the engine count as skipped, as the engine would count them
        for entity, n in (
            ("jobs", len(split.skipped)),
            ("parts", len(split.skipped)),
            ("operations", split.skipped_operations),
        ):
            bucket = counts.setdefault(entity, {})
            bucket["skipped"] = bucket.get("skipped", 0) + n
        status = (
            _status(jobs_report.failed, jobs_report.total)
            if jobs_report.total
            else (RunStatus.completed)
        )
        warnings = _warnings(job_plan.warnings)
        finish_run(
            get_run(work, wo_run_id),
            clock.now(),
            status,
            counts=counts,
            records_received=len(orders),
            sync_group_id=group,
            details={
                "cursor_after": _ts(after),
                "unchanged_before_engine": len(split.skipped),
                "warnings": warnings,
                "deleted_jobs": list(job_plan.delete_jobs)[:1000],
            },
        )
        row = find_connection(work.session, scope, str(connection_id))
        now = clock.now()
        row.pull_cursor = after
        row.last_pull_at = now
        row.last_pull_status = status
        if reconcile:
            row.last_reconcile_at = now
        row.consecutive_pull_failures = 0
        row.next_pull_at = next_pull_time(row, now, rng)
        row.updated_at = now
    outcome.status = status
    outcome.cursor_after = after
    outcome.counts.update(counts)
    outcome.warnings = warnings
    outcome.seconds = time.perf_counter() - started
    progress("done", 1, 1)
    return outcome


def _write_jobs(
    deps: PlanningDeps,
    scope: TenantScope,
    jobs: Sequence[Record],
    progress: Progress,
    renew: Callable[[], object],
    dry: bool = False,
) -> list[SyncReport]:
    """The nested job records in chunks, one unit of work each, with no history of their own
    (the closing unit writes the step's history once)."""
    chunks = chunk_jobs(jobs)
    reports: list[SyncReport] = []
    for index, chunk in enumerate(chunks):
        out = run_sync(
            _open(deps, scope),
            [(get_spec("jobs"), chunk)],
            SyncOptions(record_history=False, dry_run=dry),
            trigger=SyncTrigger.planning_pull,
            source_label=None,
        )
        reports.extend(out.reports)
        progress("jobs", index + 1, len(chunks))
        renew()
    return reports


def _would(outcome: PullOutcome, reports: Sequence[SyncReport]) -> None:
    """A dry run's would-be actions: records that would be created, updated, deleted or refused
    (the first `MAX_DRY_CHANGES`; the counts cover all of them)."""
    for report in reports:
        for result in [*report.results, *report.pruned]:
            if len(outcome.changes) >= MAX_DRY_CHANGES:
                return
            if result.action == "skipped":
                continue
            entry: dict[str, Any] = {
                "entity": report.entity,
                "external_id": result.external_id,
                "action": result.action,
            }
            if result.changes:
                entry["fields"] = sorted(str(c.get("field")) for c in result.changes)
            if result.error is not None:
                entry["error"] = f"{result.error.code}: {result.error.message}"
            outcome.changes.append(entry)


def _failed(
    deps: PlanningDeps,
    scope: TenantScope,
    connection_id: uuid.UUID,
    run_ids: Sequence[uuid.UUID],
    exc: PlanningError,
    redact: Any,
    outcome: PullOutcome,
    rng: random.Random,
) -> PullOutcome:
    """An adapter failure: nothing of the step is written, the cursor stays (§6.1)."""
    with deps.work(scope) as work:
        now = deps.clock.now()
        for run_id in run_ids:
            finish_run(get_run(work, run_id), now, RunStatus.failed, error=exc, redact=redact)
        row = find_connection(work.session, scope, str(connection_id))
        row.last_pull_at = now
        row.last_pull_status = RunStatus.failed
        row.consecutive_pull_failures += 1
        apply_failure(row, exc, now, redact)
        if isinstance(exc, PlanningUnavailable):
            row.next_pull_at = pull_backoff(row, exc, now)
        else:
            row.next_pull_at = next_pull_time(row, now, rng)
        outcome.status = RunStatus.failed
        outcome.error_class = exc.kind.value
        outcome.error = row.last_error
    return outcome


def _ts(value: datetime | None) -> str | None:
    return format_ts(value)


# ------------------------------------------------------------------------- the pull lease

INTERRUPTED = (
    "interrupted: the pull stopped without finishing (its process was killed or lost the "
    "database) and its pull lease expired; the connection's next pull redoes it"
)
PULL_KINDS = (PlanningRunKind.pull_resources, PlanningRunKind.pull_work_orders)


def recover_stale_runs(
    deps: PlanningDeps,
    *,
    connection_id: uuid.UUID | None = None,
    owner: str | None = None,
) -> int:
    """Mark `failed` (details `interrupted: true`) the pull runs a dead pull left `running`.

    A pull holds its connection's pull lease for as long as it runs — taken before its first run
    record, renewed after every chunk (the heartbeat), released after its last — so a `running`
    pull run of a connection whose lease has expired or is free, or is now held by `owner` (the
    caller, before it starts its own runs), belongs to a pull that died: SIGKILL, a lost host.
    The connection row is locked for the check, so a pull cannot take the lease and open a run
    in between. The pull itself is redone by the schedule: a dead pull never moved
    `next_pull_at`, and a connection with scheduled pulls whose next pull lies ahead (a killed
    CLI pull) is made due now. Runs on every pull (for its own connection) and as the periodic
    task `planning.recover_runs` (all tenants). Returns the number of runs recovered."""
    total = 0
    with deps.sessions.begin() as session:
        now = deps.clock.now()
        free = or_(
            PlanningConnection.pull_locked_until.is_(None),
            PlanningConnection.pull_locked_until < now,
        )
        if owner is not None:
            free = or_(free, PlanningConnection.pull_lease_owner == owner)
        stale = (
            select(PlanningRun.connection_id)
            .where(PlanningRun.status == RunStatus.running, PlanningRun.kind.in_(PULL_KINDS))
            .distinct()
        )
        if connection_id is not None:
            stale = stale.where(PlanningRun.connection_id == connection_id)
        ids = list(session.scalars(stale))
        if not ids:
            return 0
        rows = session.scalars(
            locked_for_claim(
                select(PlanningConnection).where(PlanningConnection.id.in_(ids), free),
                PlanningConnection,
            )
        ).all()
        for row in rows:
            runs = session.scalars(
                select(PlanningRun).where(
                    PlanningRun.connection_id == row.id,
                    PlanningRun.status == RunStatus.running,
                    PlanningRun.kind.in_(PULL_KINDS),
                )
            ).all()
            for run in runs:
                run.status, run.finished_at = RunStatus.failed, now
                run.error_message = INTERRUPTED
                run.details = {**(run.details or {}), "interrupted": True}
            row.last_pull_status = RunStatus.failed
            row.consecutive_pull_failures += 1
            row.last_error = INTERRUPTED
            if row.pull_enabled and row.next_pull_at is not None and row.next_pull_at > now:
                row.next_pull_at = now
            row.updated_at = now
            total += len(runs)
            log.warning(
                "planning connection %s: %d interrupted pull run(s) marked failed",
                row.id,
                len(runs),
            )
    return total


def take_pull_lease(
    deps: PlanningDeps, scope: TenantScope, connection_id: uuid.UUID, owner: str, lease: timedelta
) -> bool:
    """Hold the connection's pull lease (one pull per connection at a time, §6.1); False when
    another pull holds it."""
    with deps.work(scope) as work:
        now = work.clock.now()
        moved = work.session.execute(
            update(PlanningConnection)
            .where(
                PlanningConnection.id == connection_id,
                or_(
                    PlanningConnection.pull_locked_until.is_(None),
                    PlanningConnection.pull_locked_until < now,
                    PlanningConnection.pull_lease_owner == owner,
                ),
            )
            .values(pull_lease_owner=owner, pull_locked_until=now + lease)
        )
        return int(getattr(moved, "rowcount", 0) or 0) == 1


def release_pull_lease(
    deps: PlanningDeps, scope: TenantScope, connection_id: uuid.UUID, owner: str
) -> None:
    with deps.work(scope) as work:
        work.session.execute(
            update(PlanningConnection)
            .where(
                PlanningConnection.id == connection_id,
                PlanningConnection.pull_lease_owner == owner,
            )
            .values(pull_lease_owner=None, pull_locked_until=None)
        )


def claim_due_pull(
    deps: PlanningDeps, owner: str, lease: timedelta, *, connection_id: uuid.UUID | None = None
) -> tuple[uuid.UUID, uuid.UUID] | None:
    """The scheduler's claim (§6.1): a connection with `pull_enabled`, not blocked, whose
    `next_pull_at` has come and whose pull lease is free; returns (tenant id, connection id)."""
    with deps.sessions.begin() as session:
        now = deps.clock.now()
        row = session.scalars(
            locked_for_claim(
                select(PlanningConnection)
                .where(
                    PlanningConnection.pull_enabled.is_(True),
                    or_(
                        PlanningConnection.last_test_ok.is_(None),
                        PlanningConnection.last_test_ok.is_(True),
                    ),
                    or_(
                        PlanningConnection.next_pull_at.is_(None),
                        PlanningConnection.next_pull_at <= now,
                    ),
                    or_(
                        PlanningConnection.pull_locked_until.is_(None),
                        PlanningConnection.pull_locked_until < now,
                    ),
                )
                .where(
                    PlanningConnection.id == connection_id
                    if connection_id is not None
                    else PlanningConnection.id.is_not(None)
                )
                .order_by(PlanningConnection.next_pull_at)
                .limit(1),
                PlanningConnection,
            )
        ).first()
        if row is None:
            return None
        row.pull_lease_owner, row.pull_locked_until = owner, now + lease
        return row.tenant_id, row.id
