"""The sync application service: a bulk or multi-entity sync as one whole unit of work —
request limits, dry run, atomic roll-back, history — with no transport in it.

Every door calls `run_sync`: the HTTP sync endpoints, `api-erp-sync`, the CSV importer and
planning pulls. They differ only in how a unit of work is opened (its tenant scope and origin:
`ctx.work(channel)` in a request, `db.uow.unit_of_work(...)` elsewhere) and in what they do with
the `SyncOutcome`. `before_commit` runs inside the unit that commits, so a caller can store
something with the run's effects (the HTTP layer stores its idempotent reply there).

It does not retry: a deadlock, serialization failure or lock timeout reaches the caller, which
runs the whole call again (`db.transient.retry_lock_conflicts`; HTTP endpoints are
`@http.retry.retrying`). A record's own failure never raises: it is in its report.
"""

import gc
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

from floorsync.db.uow import Work
from floorsync.entities.spec import EntitySpec, get_spec
from floorsync.errors import BadRequest, Conflict, FloorsyncError, ValidationFailed
from floorsync.models.enums import SyncTrigger
from floorsync.sync.engine import sync_sections
from floorsync.sync.options import SyncOptions
from floorsync.sync.results import RecordError, SyncReport
from floorsync.sync.runs import record_runs
from floorsync.sync.statistics_hook import note_after_commit

MAX_ITEMS = 1000
MAX_RECORDS = 10_000

Sections = Sequence[tuple[EntitySpec, Sequence[Any]]]
# Opens the unit of work the run writes in (scope and origin included); called once, or twice for
# an atomic run that failed (its history is then written in a fresh unit).
OpenWork = Callable[[], AbstractContextManager[Work]]


def count_records(spec: EntitySpec, items: Sequence[Any], *, limit: int = MAX_RECORDS) -> int:
    """Records in the input, nested children included (stops counting past `limit`)."""
    total = 0
    stack: list[tuple[EntitySpec, Sequence[Any]]] = [(spec, items)]
    while stack and total <= limit:
        current, batch = stack.pop()
        for item in batch:
            total += 1
            if isinstance(item, dict):
                for child in current.children:
                    kids = item.get(child.key)
                    if isinstance(kids, list):
                        stack.append((get_spec(child.entity), kids))
    return total


def check_limits(
    sections: Sections, *, per_section_message: str = "Maximum {limit} items per bulk-sync request"
) -> None:
    """At most 1000 top-level items per array and 10,000 records in all (400 above)."""
    total = 0
    for spec, items in sections:
        if len(items) > MAX_ITEMS:
            raise BadRequest(per_section_message.format(limit=MAX_ITEMS, section=spec.name))
        total += count_records(spec, items)
        if total > MAX_RECORDS:
            raise BadRequest(f"Maximum {MAX_RECORDS} records (including nested) per sync request")


def record_failure(spec: EntitySpec, error: RecordError) -> FloorsyncError:
    """The error a failed single-record sync raises: 422 for `VALIDATION_ERROR` and
    `REFERENCE_NOT_FOUND`, 409 for `CONFLICT` and `DUPLICATE_IN_REQUEST`, else 500."""
    if error.code in ("VALIDATION_ERROR", "REFERENCE_NOT_FOUND"):
        return ValidationFailed(spec.singular, error.details)
    if error.code in ("CONFLICT", "DUPLICATE_IN_REQUEST"):
        return Conflict(error.message, error.details or None)
    return FloorsyncError(error.message)


_gc_lock = threading.Lock()
_gc_depth = 0
_gc_resume = False


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a bulk run is in progress.

    A 1000-record batch keeps thousands of objects alive until it ends; they survive the young
    generations, and the full collections they trigger walk the whole heap several times per
    request (about a fifth of its CPU). Reference counting still frees everything as usual;
    cycles are collected once the last concurrent run ends. Re-entrant across threads.
    """
    global _gc_depth, _gc_resume
    with _gc_lock:
        if _gc_depth == 0:
            _gc_resume = gc.isenabled()
            gc.disable()
        _gc_depth += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_depth -= 1
            if _gc_depth == 0 and _gc_resume:
                gc.enable()


@dataclass
class SyncOutcome:
    """What a run did. `committed`: its record writes were committed (false for a dry run and
    for an atomic run that failed, whose successes are then reported `rolled_back`)."""

    reports: list[SyncReport]
    group_id: uuid.UUID | None
    committed: bool
    dry_run: bool
    rolled_back: bool
    duration_ms: int


def run_sync(
    open_work: OpenWork,
    sections: Sections,
    options: SyncOptions,
    *,
    trigger: SyncTrigger,
    source_label: str | None = None,
    before_commit: Callable[[Work, SyncOutcome], None] | None = None,
) -> SyncOutcome:
    """Sync `sections` (entity, items) in dependency order in one unit of work.

    A dry run is discarded and never recorded. An atomic run with a failure is discarded and
    then recorded as `failed` in a fresh unit. `before_commit(work, outcome)` runs in the unit
    that ends the run (for a dry run, the discarded one), after the history is written.
    """
    check_limits(sections)
    with cyclic_gc_paused():
        return _run(open_work, sections, options, trigger, source_label, before_commit)


def _run(
    open_work: OpenWork,
    sections: Sections,
    options: SyncOptions,
    trigger: SyncTrigger,
    source_label: str | None,
    before_commit: Callable[[Work, SyncOutcome], None] | None,
) -> SyncOutcome:
    clock_start = time.perf_counter()
    with open_work() as work:
        started_at = work.clock.now()
        reports = sync_sections(work, sections, options, labelled=trigger is SyncTrigger.erp_sync)
        rolled_back = options.atomic and any(r.failed for r in reports)
        outcome = SyncOutcome(reports, None, False, options.dry_run, rolled_back, 0)
        if options.dry_run or rolled_back:
            work.discard()
        elif options.record_history:
            outcome.group_id = record_runs(
                work,
                reports,
                trigger=trigger,
                options=options,
                started_at=started_at,
                source_label=source_label,
            )
        if options.dry_run or not rolled_back:
            outcome.committed = not options.dry_run
            _finish(work, outcome, clock_start, before_commit)
            return outcome
    with open_work() as work:
        if options.record_history:
            outcome.group_id = record_runs(
                work,
                reports,
                trigger=trigger,
                options=options,
                started_at=started_at,
                source_label=source_label,
                rolled_back=True,
            )
        _finish(work, outcome, clock_start, before_commit)
        return outcome


def _finish(
    work: Work,
    outcome: SyncOutcome,
    clock_start: float,
    before_commit: Callable[[Work, SyncOutcome], None] | None,
) -> None:
    outcome.duration_ms = int((time.perf_counter() - clock_start) * 1000)
    if outcome.committed:  # planner statistics for tables it grew (db/statistics.py)
        note_after_commit(work, outcome.reports)
    if before_commit is not None:
        before_commit(work, outcome)
