"""FrePPLe JSON ⇄ canonical dataclasses (spec §4.2, §6.3, §6.5, §8.5–§8.7). Pure: no I/O.

* A manufacturing order (MO) is a `WorkOrder`; its routing steps — work orders (WO, 9.13+) or, on
  older servers, MO records whose `owner` is set — are its `JobOrder`s, numbered 10, 20, 30… in
  order of (start, end, reference). An MO without steps is a single-step operation: it becomes
  one `JobOrder` of its own (external id = the MO's reference, name = its operation, work centre
  = its first resource), so every pulled FrePPLe order has at least one operation.
* The produced item is the positive `materials[]` entry, else the operation's `item`; consumed
  items are the negative entries, in list order. MOs have no `item`, `priority` or `resource`
  fields: priority is 0 and the work centre is the first `resources[]` entry.
* Expected minutes: operation type `fixed_time` → `duration`; `time_per` → `duration +
  duration_per × quantity`; otherwise (or operation unknown) end − start.
* A resource's role comes from its `category` and `subcategory`: a personnel word (checked first)
  makes it personnel, a tooling word tooling, anything else a work centre (case-insensitive
  substring match against the connection's word lists).
* Decimals arrive as strings (JSON numbers are accepted, parsed from their text), datetimes as
  naive server-local wall time converted to UTC (`planning.timezones`). A record that lacks a
  required field or carries an unreadable value is a `PlanningProtocolError`.
"""

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from floorsync.planning.base import (
    Equipment,
    EquipmentRef,
    EquipmentRole,
    JobOrder,
    MaterialDefinition,
    OrderStatus,
    PlanningProtocolError,
    PlanningSystem,
    WorkOrder,
)
from floorsync.planning.statuses import FREPPLE_NULL_STATUS, frepple_status
from floorsync.planning.timezones import format_local, parse_local
from floorsync.planning.values import clean_str, parse_decimal, plain_decimal

SYSTEM = PlanningSystem.FREPPLE
Record = Mapping[str, Any]
_DURATION = re.compile(
    r"^(?:(?P<days>-?\d+) )?(?P<h>\d+):(?P<m>\d\d):(?P<s>\d\d)(?:\.(?P<f>\d{1,6}))?$"
)


def _bad(record: Record, field: str, problem: str) -> PlanningProtocolError:
    key = record.get("reference") or record.get("name") or "?"
    return PlanningProtocolError(SYSTEM, f"FrePPLe record {key!s}: {field} {problem}")


def _text(record: Record, field: str, *, required: bool = False) -> str | None:
    value = record.get(field)
    if isinstance(value, Mapping):  # a nested object in some deployments: its name
        value = value.get("name")
    if value is not None and not isinstance(value, str | int | Decimal):
        raise _bad(record, field, f"is not text: {value!r}")
    text = clean_str(value)
    if required and text is None:
        raise _bad(record, field, "is missing")
    return text


def _decimal(record: Record, field: str, *, required: bool = False) -> Decimal | None:
    value = record.get(field)
    if value is None or value == "":
        if required:
            raise _bad(record, field, "is missing")
        return None
    try:
        return parse_decimal(value)
    except ValueError:
        raise _bad(record, field, f"is not a decimal: {value!r}") from None


def _when(record: Record, field: str, tz: ZoneInfo) -> datetime | None:
    try:
        return parse_local(record.get(field), tz)
    except ValueError:
        raise _bad(record, field, f"is not a datetime: {record.get(field)!r}") from None


def parse_duration(text: Any) -> timedelta | None:
    """Django's duration format `[D ]HH:MM:SS[.ffffff]`; None for null or unreadable text."""
    if not isinstance(text, str):
        return None
    return _duration(text)


@lru_cache(maxsize=4096)
def _duration(text: str) -> timedelta | None:
    match = _DURATION.match(text.strip())
    if match is None:
        return None
    fraction = (match["f"] or "").ljust(6, "0")
    return timedelta(
        days=int(match["days"] or 0),
        hours=int(match["h"]),
        minutes=int(match["m"]),
        seconds=int(match["s"]),
        microseconds=int(fraction or 0),
    )


def _minutes(span: timedelta) -> Decimal:
    micro = (span.days * 86_400 + span.seconds) * 1_000_000 + span.microseconds
    return Decimal(micro) / Decimal(60_000_000)


def expected_minutes(
    operation: Record | None,
    quantity: Decimal,
    start: datetime | None,
    end: datetime | None,
) -> Decimal | None:
    kind = operation.get("type") if operation is not None else None
    duration = parse_duration(operation.get("duration")) if operation is not None else None
    if kind == "fixed_time" and duration is not None:
        return _minutes(duration)
    if kind == "time_per" and operation is not None and duration is not None:
        per = parse_duration(operation.get("duration_per")) or timedelta()
        return _minutes(duration) + _minutes(per) * quantity
    if start is not None and end is not None and end >= start:
        return _minutes(end - start)
    return None


def _first_resource(record: Record) -> EquipmentRef | None:
    loads = record.get("resources")
    if not isinstance(loads, list):
        return None
    for load in loads:
        name = clean_str(load.get("resource")) if isinstance(load, Mapping) else None
        if isinstance(load, Mapping) and isinstance(load.get("resource"), Mapping):
            name = clean_str(load["resource"].get("name"))
        if name is not None:
            return EquipmentRef(external_id=name, name=name)
    return None


def _materials(record: Record) -> tuple[list[str], list[str]]:
    """(produced items, consumed items) in list order, without repeats."""
    produced: dict[str, None] = {}
    consumed: dict[str, None] = {}
    flows = record.get("materials")
    for flow in flows if isinstance(flows, list) else []:
        if not isinstance(flow, Mapping):
            continue
        item = flow.get("item")
        name = clean_str(item.get("name") if isinstance(item, Mapping) else item)
        quantity = _decimal(flow, "quantity")
        if name is None or quantity is None or quantity == 0:
            continue
        (produced if quantity > 0 else consumed)[name] = None
    return list(produced), list(consumed)


def _item(name: str) -> MaterialDefinition:
    return MaterialDefinition(external_id=name, code=name, name=name, unit=None)


def _status(record: Record, completed: Decimal | None) -> tuple[OrderStatus, str]:
    raw = _text(record, "status") or FREPPLE_NULL_STATUS
    return frepple_status(raw, completed), raw


def job_order(
    record: Record,
    work_order_id: str,
    sequence: int,
    operations: Mapping[str, Record],
    tz: ZoneInfo,
) -> JobOrder:
    reference = _text(record, "reference", required=True)
    assert reference is not None
    name = _text(record, "operation") or reference
    quantity = _decimal(record, "quantity", required=True)
    assert quantity is not None
    completed = _decimal(record, "quantity_completed")
    start, end = _when(record, "startdate", tz), _when(record, "enddate", tz)
    status, raw = _status(record, completed)
    return JobOrder(
        external_id=reference,
        work_order_id=work_order_id,
        sequence=sequence,
        name=name,
        work_center=_first_resource(record),
        quantity_planned=quantity,
        quantity_completed=completed,
        planned_start=start,
        planned_end=end,
        actual_start=None,
        actual_end=None,
        expected_minutes=expected_minutes(operations.get(name), quantity, start, end),
        status=status,
        upstream_status=raw,
        modified_at=_when(record, "lastmodified", tz),
    )


_LAST = datetime.max.replace(tzinfo=UTC)


def _routing_order(step: Record, tz: ZoneInfo) -> tuple[datetime, datetime, str]:
    """Routing steps run in order of (start, end, reference); steps without dates come last.
    (Their dates are parsed again when mapped, which costs little: `parse_local` is cached.)"""
    start, end = _when(step, "startdate", tz), _when(step, "enddate", tz)
    return (start or _LAST, end or _LAST, str(step.get("reference") or ""))


def work_order(
    record: Record,
    steps: Sequence[Record],
    operations: Mapping[str, Record],
    tz: ZoneInfo,
) -> WorkOrder:
    """One MO with its routing steps (WOs or owned MOs) as a canonical work order."""
    reference = _text(record, "reference", required=True)
    assert reference is not None
    quantity = _decimal(record, "quantity", required=True)
    assert quantity is not None
    completed = _decimal(record, "quantity_completed")
    operation = _text(record, "operation")
    produced, consumed = _materials(record)
    product = _item(produced[0]) if produced else None
    if product is None and operation is not None:
        item = (operations.get(operation) or {}).get("item")
        item_name = clean_str(item.get("name") if isinstance(item, Mapping) else item)
        product = _item(item_name) if item_name else None
    if steps:
        ordered = sorted(steps, key=lambda step: _routing_order(step, tz))
        jobs = tuple(
            job_order(step, reference, 10 * (i + 1), operations, tz)
            for i, step in enumerate(ordered)
        )
    else:
        jobs = (job_order(record, reference, 10, operations, tz),)
    status, raw = _status(record, completed)
    return WorkOrder(
        external_id=reference,
        number=reference,
        product=product,
        consumed_materials=tuple(_item(name) for name in consumed),
        operation_name=operation,
        quantity_planned=quantity,
        quantity_completed=completed,
        unit=None,
        planned_start=_when(record, "startdate", tz),
        planned_end=_when(record, "enddate", tz),
        actual_start=None,
        actual_end=None,
        due_at=None,
        priority=0,
        lot=_text(record, "batch"),
        origin=_text(record, "demand"),
        work_center=_first_resource(record),
        status=status,
        upstream_status=raw,
        job_orders=jobs,
        modified_at=_when(record, "lastmodified", tz),
    )


def role_of(
    record: Record, tooling_words: Sequence[str], personnel_words: Sequence[str]
) -> EquipmentRole:
    labels = " ".join((_text(record, f) or "").lower() for f in ("category", "subcategory"))
    if any(word and word in labels for word in personnel_words):
        return EquipmentRole.PERSONNEL
    if any(word and word in labels for word in tooling_words):
        return EquipmentRole.TOOLING
    return EquipmentRole.WORK_CENTER


def equipment(
    record: Record,
    tz: ZoneInfo,
    tooling_words: Sequence[str],
    personnel_words: Sequence[str],
) -> Equipment:
    name = _text(record, "name", required=True)
    assert name is not None
    return Equipment(
        external_id=name,
        name=name,
        description=_text(record, "description"),
        code=None,
        role=role_of(record, tooling_words, personnel_words),
        category=_text(record, "category"),
        capacity=_decimal(record, "maximum"),
        efficiency_percent=None,
        location=_text(record, "location"),
        parent_external_id=_text(record, "owner"),
        active=True,
        modified_at=_when(record, "lastmodified", tz),
    )


# ------------------------------------------------------------------------------ push bodies

DONE_STATUSES = frozenset({"completed", "closed"})


def start_body(current: Record, started_at: datetime, tz: ZoneInfo) -> dict[str, str] | None:
    """The PATCH that reports a start (§8.11), or None when the order is already started or
    further along: `confirmed` with the actual start and the end shifted by the planned duration
    (measured in real time, so a DST change inside it does not stretch it)."""
    status = _text(current, "status")
    if status in DONE_STATUSES:
        return None
    wall = format_local(started_at, tz)
    old_start, old_end = _when(current, "startdate", tz), _when(current, "enddate", tz)
    if status == "confirmed" and old_start is not None and format_local(old_start, tz) == wall:
        return None
    body = {"status": "confirmed", "startdate": wall}
    if old_start is not None and old_end is not None:
        body["enddate"] = format_local(started_at + (old_end - old_start), tz)
    return body


def completion_body(
    current: Record,
    good: Decimal,
    completion_status: str,
    completed_at: datetime | None,
    tz: ZoneInfo,
) -> dict[str, str] | None:
    """The PATCH that reports a completion (§8.11), or None when the order is already completed
    or closed. `quantity` becomes the good quantity (FrePPLe books it as produced stock); scrap
    and `quantity_completed` are not written. The end is written when given and not before the
    order's start."""
    if _text(current, "status") in DONE_STATUSES:
        return None
    body = {"status": completion_status, "quantity": plain_decimal(good)}
    if completed_at is not None:
        start = _when(current, "startdate", tz)
        wall = format_local(completed_at, tz)
        if start is None or wall >= format_local(start, tz):  # same fixed-width format
            body["enddate"] = wall
    return body
