"""Canonical planning data → the records floorsync's sync engine takes (spec §6.2–§6.6). Pure: the
pull service loads what it needs from the database, calls these functions and sends their output
to `sync.engine` (cells and resources, then nested jobs in chunks), so this module only decides.

* Work centres become **cells**, tooling becomes **resources** (`type: tooling`), personnel is
  not imported (counted). Only the fields a planning system owns are sent: a cell's colour,
  sequence and WIP limits, a resource's status stay as the plant set them.
* A work order becomes **one job with one part**, keyed by the work order's external id (job and
  part alike), and its job orders the part's **operations** (`jobs[].parts[].operations[]`,
  children inheriting `external_source`). `status` is never sent: execution status belongs to the
  floor; the upstream status is in `metadata.planning`, which holds no volatile value (no
  modification times), so an unchanged upstream order hashes the same on every pull and the
  engine skips it.
* An operation gets `cell_external_id` only when that cell is live and active after the
  equipment step; otherwise it goes without a cell and the run gets an `unknown_work_center`
  warning.
* Withdrawn, finished and missing orders (§6.6) are decided here as data (`JobPlan`): what to
  upsert, which not-started jobs and operations to soft-delete, and the warnings for the ones
  that started on the floor and are therefore kept.
"""

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from floorsync.kit.timefmt import format_ts
from floorsync.planning import statuses
from floorsync.planning.base import (
    Equipment,
    EquipmentRef,
    EquipmentRole,
    JobOrder,
    OrderStatus,
    PlanningSystem,
    WorkOrder,
)
from floorsync.planning.values import plain_decimal

NOT_STARTED = "not_started"  # floorsync's WorkStatus of a job nobody started yet
MAX_ORDERS_PER_CHUNK = 200
MAX_RECORDS_PER_CHUNK = 10_000
Record = dict[str, Any]


@dataclass(frozen=True, slots=True)
class PullWarning:
    """A run warning that is not a record error (§6.7)."""

    code: str  # withdrawn_upstream, missing_upstream, step_removed_upstream,
    #            unknown_work_center, unknown_status
    external_id: str
    message: str


@dataclass(frozen=True, slots=True)
class FloorJob:
    """What floorsync holds for a live job of the connection's source: its status and the
    status of each live operation of its part, by external id."""

    external_id: str
    status: str
    operations: Mapping[str, str] = field(default_factory=dict)
    # The job, its part (keyed like the job) and every live operation were last written by a
    # sync and not edited since (their `sync_hash` is set; an edit clears it).
    clean: bool = False

    @property
    def started(self) -> bool:
        return self.status != NOT_STARTED


@dataclass(frozen=True, slots=True)
class EquipmentPlan:
    cells: tuple[Record, ...]
    resources: tuple[Record, ...]
    deactivate_cells: tuple[str, ...]  # live cells of this source missing upstream (reconcile)
    ignored: int  # personnel, not imported


@dataclass(frozen=True, slots=True)
class JobPlan:
    jobs: tuple[Record, ...]  # nested job records to upsert
    delete_jobs: tuple[str, ...]  # not-started jobs to soft-delete (with parts and operations)
    delete_operations: tuple[str, ...]  # not-started operations removed from their routing
    warnings: tuple[PullWarning, ...]


# -------------------------------------------------------------------------------- equipment


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else plain_decimal(value)


def cell_record(equipment: Equipment, source: str) -> Record:
    return {
        "external_id": equipment.external_id,
        "external_source": source,
        "name": equipment.name,
        "description": equipment.description,
        "active": equipment.active,
        "metadata": {
            "planning": {
                "code": equipment.code,
                "category": equipment.category,
                "capacity": _decimal_text(equipment.capacity),
                "efficiency_percent": _decimal_text(equipment.efficiency_percent),
                "location": equipment.location,
                "parent": equipment.parent_external_id,
            }
        },
    }


def resource_record(equipment: Equipment, source: str) -> Record:
    return {
        "external_id": equipment.external_id,
        "external_source": source,
        "name": equipment.name,
        "type": "tooling",
        "description": equipment.description,
        "location": equipment.location,
        "active": equipment.active,
        "metadata": {
            "planning": {
                "category": equipment.category,
                "capacity": _decimal_text(equipment.capacity),
                "parent": equipment.parent_external_id,
            }
        },
    }


def plan_equipment(
    equipment: Iterable[Equipment],
    *,
    source: str,
    live_cells: Collection[str] = (),
    reconcile: bool = False,
) -> EquipmentPlan:
    """Cells and resources to sync; in reconcile mode, the live cells of this source that the
    planning system no longer has (they are deactivated, never deleted: operations point at
    them)."""
    cells: list[Record] = []
    resources: list[Record] = []
    ignored = 0
    for item in equipment:
        if item.role is EquipmentRole.WORK_CENTER:
            cells.append(cell_record(item, source))
        elif item.role is EquipmentRole.TOOLING:
            resources.append(resource_record(item, source))
        else:
            ignored += 1
    pulled = {c["external_id"] for c in cells}
    missing = sorted(set(live_cells) - pulled) if reconcile else []
    return EquipmentPlan(tuple(cells), tuple(resources), tuple(missing), ignored)


def usable_cells(plan: EquipmentPlan) -> frozenset[str]:
    """Cells an operation may point at, as far as the plan knows (the service removes those the
    engine refused, e.g. for a name clash)."""
    return frozenset(c["external_id"] for c in plan.cells if c["active"])


# ------------------------------------------------------------------------------------- jobs


def _minutes(value: Decimal | None) -> int:
    if value is None:
        return 0
    return max(0, int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP)))


@lru_cache(maxsize=65_536)
def _ts(value: datetime | None) -> str | None:
    """`format_ts`, memoized: routing steps share their boundaries (one step's end is often
    the next one's start) and a pull formats hundreds of thousands of them."""
    return format_ts(value)


def _ref(ref: EquipmentRef | None) -> dict[str, str] | None:
    return None if ref is None else {"external_id": ref.external_id, "name": ref.name}


def operation_record(
    job_order: JobOrder, active_cells: Collection[str], warnings: list[PullWarning]
) -> Record:
    record: Record = {
        "external_id": job_order.external_id,
        "operation_name": job_order.name,
        "sequence": job_order.sequence,
        "estimated_time": _minutes(job_order.expected_minutes),
        "planned_start": _ts(job_order.planned_start),
        "planned_end": _ts(job_order.planned_end),
        "metadata": {
            "planning": {
                "upstream_status": job_order.upstream_status,
                "quantity": plain_decimal(job_order.quantity_planned),
                "work_center": _ref(job_order.work_center),
            }
        },
    }
    centre = job_order.work_center
    if centre is not None and centre.external_id in active_cells:
        record["cell_external_id"] = centre.external_id
    elif centre is not None:
        warnings.append(
            PullWarning(
                "unknown_work_center",
                job_order.external_id,
                f"work centre {centre.external_id!r} is not an active cell; the operation has "
                "no cell",
            )
        )
    return record


def job_record(
    order: WorkOrder,
    *,
    source: str,
    job_number_prefix: str = "",
    active_cells: Collection[str] = (),
) -> tuple[Record, list[PullWarning]]:
    """The nested job record of one work order, and the warnings it raised."""
    warnings: list[PullWarning] = []
    system = PlanningSystem(source)
    if not statuses.is_known(system, order.upstream_status):
        warnings.append(
            PullWarning(
                "unknown_status", order.external_id, f"unknown status {order.upstream_status!r}"
            )
        )
    for step in order.job_orders:
        if not statuses.is_known(system, step.upstream_status, job_order=True):
            warnings.append(
                PullWarning(
                    "unknown_status", step.external_id, f"unknown status {step.upstream_status!r}"
                )
            )
    product = order.product
    part: Record = {
        "external_id": order.external_id,
        "part_number": (product.code if product else None) or order.operation_name or order.number,
        "quantity": max(1, int(order.quantity_planned.to_integral_value(rounding=ROUND_CEILING))),
        "metadata": {
            "planning": {
                "product": None
                if product is None
                else {"code": product.code, "name": product.name},
                "consumed": [m.code for m in order.consumed_materials],
            }
        },
        "operations": [operation_record(j, active_cells, warnings) for j in order.job_orders],
    }
    if order.consumed_materials:
        part["material"] = order.consumed_materials[0].code
    job: Record = {
        "external_id": order.external_id,
        "external_source": source,
        "job_number": job_number_prefix + order.number,
        "due_date": _ts(order.due_at or order.planned_end),
        "priority": order.priority,
        "metadata": {
            "planning": {
                "system": source,
                "status": order.status.value,
                "upstream_status": order.upstream_status,
                "number": order.number,
                "origin": order.origin,
                "lot": order.lot,
                "operation": order.operation_name,
                "unit": order.unit,
                "quantity": plain_decimal(order.quantity_planned),
            }
        },
        "parts": [part],
    }
    return job, warnings


WITHDRAWN = frozenset({OrderStatus.ABORTED, OrderStatus.PLANNED})
FINISHED = frozenset({OrderStatus.COMPLETED, OrderStatus.CLOSED})


def plan_jobs(
    orders: Iterable[WorkOrder],
    *,
    source: str,
    floor: Mapping[str, FloorJob],
    job_number_prefix: str = "",
    active_cells: Collection[str] = (),
    reconcile: bool = False,
) -> JobPlan:
    """What a pull does with its work orders (§6.4–§6.6). `floor` holds the live jobs of this
    source (all of them in reconcile mode; at least the pulled ones otherwise).

    | pulled order                 | job not started          | job started                        |
    |------------------------------|--------------------------|------------------------------------|
    | aborted (or back to planned) | soft-delete              | keep, update, `withdrawn_upstream` |
    | completed / closed           | update (never created)   | update                             |
    | released / running           | create or update         | create or update                   |
    | missing from a reconcile     | soft-delete              | keep, `missing_upstream`           |
    | an operation left the routing| soft-delete the operation if not started, else keep with `step_removed_upstream` |
    """
    jobs: list[Record] = []
    delete_jobs: list[str] = []
    delete_operations: list[str] = []
    warnings: list[PullWarning] = []
    seen: set[str] = set()
    for order in orders:
        seen.add(order.external_id)
        current = floor.get(order.external_id)
        if order.status in WITHDRAWN:
            if current is None:
                continue
            if not current.started:
                delete_jobs.append(order.external_id)
                continue
            warnings.append(
                PullWarning(
                    "withdrawn_upstream",
                    order.external_id,
                    f"the order is {order.upstream_status} upstream but its job has started; kept",
                )
            )
        elif order.status in FINISHED and current is None:
            continue
        record, raised = job_record(
            order, source=source, job_number_prefix=job_number_prefix, active_cells=active_cells
        )
        jobs.append(record)
        warnings.extend(raised)
        if current is not None and order.status not in WITHDRAWN:
            steps = {op["external_id"] for op in record["parts"][0]["operations"]}
            for op_id, op_status in current.operations.items():
                if op_id in steps:
                    continue
                if op_status == NOT_STARTED:
                    delete_operations.append(op_id)
                else:
                    warnings.append(
                        PullWarning(
                            "step_removed_upstream",
                            op_id,
                            "the routing step is gone upstream but has started on the floor; kept",
                        )
                    )
    if reconcile:
        for external_id, current in floor.items():
            if external_id in seen:
                continue
            if current.started:
                warnings.append(
                    PullWarning(
                        "missing_upstream",
                        external_id,
                        "the order is no longer among the released orders upstream but its job "
                        "has started; kept",
                    )
                )
            else:
                delete_jobs.append(external_id)
    return JobPlan(tuple(jobs), tuple(delete_jobs), tuple(delete_operations), tuple(warnings))


FINGERPRINT_VERSION = "1"


def fingerprint(record: Record) -> str:
    """The digest of a nested job record exactly as it would be sent to the sync engine."""
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((FINGERPRINT_VERSION + text).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Unchanged:
    """Job records split before the engine: `send` goes to the engine; `skipped` (external ids)
    would be skipped by it anyway — same record as last time, floor rows live and unedited;
    `prints` are the digests of the records sent, stored once the engine took them."""

    send: tuple[Record, ...]
    skipped: tuple[str, ...]
    skipped_operations: int
    prints: Mapping[str, str]


def split_unchanged(
    jobs: Sequence[Record], floor: Mapping[str, FloorJob], stored: Mapping[str, str]
) -> Unchanged:
    """Skip, before the engine, the records the last pull sent unchanged (issue 13, pull
    performance): the record's digest equals the stored one, and floorsync still holds the job,
    its part and every operation of the record live and unedited since that sync. Anything else
    (a new or changed order, a job edited or deleted on the floor, an operation deleted) goes to
    the engine, which decides as always."""
    send: list[Record] = []
    skipped: list[str] = []
    operations = 0
    prints: dict[str, str] = {}
    for record in jobs:
        key = record["external_id"]
        digest = fingerprint(record)
        current = floor.get(key)
        ops = record["parts"][0]["operations"]
        if (
            current is not None
            and current.clean
            and stored.get(key) == digest
            and all(op["external_id"] in current.operations for op in ops)
        ):
            skipped.append(key)
            operations += len(ops)
            continue
        send.append(record)
        prints[key] = digest
    return Unchanged(tuple(send), tuple(skipped), operations, prints)


def chunk_jobs(
    jobs: Sequence[Record],
    *,
    max_orders: int = MAX_ORDERS_PER_CHUNK,
    max_records: int = MAX_RECORDS_PER_CHUNK,
) -> list[list[Record]]:
    """Job records in chunks of at most `max_orders` work orders and `max_records` records
    counting nested parts and operations (the engine's request limits, §6.1 step 4)."""
    chunks: list[list[Record]] = []
    current: list[Record] = []
    size = 0
    for job in jobs:
        weight = 1 + sum(1 + len(part.get("operations", [])) for part in job.get("parts", []))
        if current and (len(current) >= max_orders or size + weight > max_records):
            chunks.append(current)
            current, size = [], 0
        current.append(job)
        size += weight
    if current:
        chunks.append(current)
    return chunks


def cursor_after(orders: Iterable[WorkOrder], current: datetime | None = None) -> datetime | None:
    """The pull cursor after a pull: the greatest server modification time among the work orders
    and their job orders, never earlier than the current cursor (§6.2: the cursor is built only
    from the planning server's clock)."""
    best = current
    for order in orders:
        for stamp in (order.modified_at, *(j.modified_at for j in order.job_orders)):
            if stamp is not None and (best is None or stamp > best):
                best = stamp
    return best
