"""What the sync HTTP entrypoints (per-entity sync and api-erp-sync) share: request limits,
dry runs, atomic roll-back and history around one unit of work, and the mapping of a single
record's failure to an API error."""

import gc
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from fastapi.responses import Response

from floorsync.entities.spec import EntitySpec, get_spec
from floorsync.errors import BadRequest, Conflict, FloorsyncError, ValidationFailed
from floorsync.http.context import Ctx
from floorsync.models.enums import SyncTrigger
from floorsync.sync.engine import sync_sections
from floorsync.sync.options import SyncOptions
from floorsync.sync.results import RecordError, SyncReport
from floorsync.sync.runs import record_runs

MAX_ITEMS = 1000
MAX_RECORDS = 10_000

Sections = Sequence[tuple[EntitySpec, Sequence[Any]]]
Render = Callable[[list[SyncReport], Any, bool, int], dict[str, Any]]


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
    """A failed single sync answers with the status of its per-record code (API §4.6)."""
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


def run_sync(
    ctx: Ctx,
    sections: Sections,
    options: SyncOptions,
    *,
    trigger: SyncTrigger,
    channel: str,
    render: Render,
    source_label: str | None = None,
) -> Response:
    """Run a bulk or erp-sync request in one unit of work and answer 200 with `render(...)`.

    A dry run is discarded and never recorded. An atomic run with a failure is discarded and
    then recorded as `failed` in a fresh transaction (which also stores the idempotent reply).
    """
    with cyclic_gc_paused():
        return _run_sync(
            ctx,
            sections,
            options,
            trigger=trigger,
            channel=channel,
            render=render,
            source_label=source_label,
        )


def _run_sync(
    ctx: Ctx,
    sections: Sections,
    options: SyncOptions,
    *,
    trigger: SyncTrigger,
    channel: str,
    render: Render,
    source_label: str | None,
) -> Response:
    started_at = ctx.services.clock.now()
    clock_start = _now_ms()
    with ctx.work(channel) as work:
        reports = sync_sections(work, sections, options, labelled=trigger is SyncTrigger.erp_sync)
        rolled_back = options.atomic and any(r.failed for r in reports)
        group_id = None
        if options.dry_run or rolled_back:
            work.discard()
        elif options.record_history:
            group_id = record_runs(
                work,
                reports,
                trigger=trigger,
                options=options,
                started_at=started_at,
                source_label=source_label,
            )
        if options.dry_run or not rolled_back:
            return ctx.respond(
                render(reports, group_id, not options.dry_run, _now_ms() - clock_start), 200, work
            )
    with ctx.work(channel) as work:
        if options.record_history:
            group_id = record_runs(
                work,
                reports,
                trigger=trigger,
                options=options,
                started_at=started_at,
                source_label=source_label,
                rolled_back=True,
            )
        return ctx.respond(render(reports, group_id, False, _now_ms() - clock_start), 200, work)


def _now_ms() -> int:
    return int(time.perf_counter() * 1000)
