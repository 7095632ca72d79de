"""Odoo records ⇄ canonical dataclasses (spec §4.2, §9.3, §9.6–§9.7). Pure: no I/O.

Wire values: many2one fields are `[id, "display name"]` or `false`; empty text, dates and
datetimes are `false`; datetimes are naive UTC strings `YYYY-MM-DD HH:MM:SS`; selections are their
key; floats are JSON numbers, read through `Decimal(repr(value))` and rounded to 6 decimals.

* An `mrp.production` is a `WorkOrder` (external id = `str(id)`, number = `name`); its
  `mrp.workorder`s are its `JobOrder`s, numbered 10, 20, 30… in id order; its work centre is the
  first job order's. The product comes from `product.product` (`default_code`, else `name`; unit
  from `uom_id`), consumed materials from its raw-material `stock.move`s in id order.
* Dates follow the profile: in 16 the planned pair is `date_planned_start/finished` and
  `date_start/finished` are the actual ones; from 17 on one merged pair is the planned one and
  there are no separate actual dates.
* A `mrp.workcenter` is always a work-centre `Equipment`; archived ones have `active = false`.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from floorsync.planning.base import (
    Equipment,
    EquipmentRef,
    EquipmentRole,
    JobOrder,
    MaterialDefinition,
    PlanningProtocolError,
    PlanningSystem,
    WorkOrder,
)
from floorsync.planning.odoo.profiles import Profile
from floorsync.planning.statuses import odoo_production_status, odoo_workorder_status
from floorsync.planning.timezones import parse_utc_naive
from floorsync.planning.values import clean_str

SYSTEM = PlanningSystem.ODOO
Record = Mapping[str, Any]
SIX_PLACES = Decimal("0.000001")


def _bad(model: str, record: Record, field: str, problem: str) -> PlanningProtocolError:
    return PlanningProtocolError(SYSTEM, f"Odoo {model}({record.get('id')}): {field} {problem}")


def odoo_decimal(value: Any) -> Decimal | None:
    """An Odoo float (a JSON number) as a Decimal rounded to 6 places; None for false/null."""
    if value is None or value is False:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"not a number: {value!r}")
    return Decimal(repr(value)).quantize(SIX_PLACES, rounding=ROUND_HALF_UP)


def many2one(value: Any) -> tuple[int, str | None] | None:
    """`[id, "name"]` → (id, name); `false` → None."""
    if value is None or value is False:
        return None
    if isinstance(value, list | tuple) and value and isinstance(value[0], int):
        return value[0], clean_str(value[1]) if len(value) > 1 else None
    if isinstance(value, int) and not isinstance(value, bool):
        return value, None
    raise ValueError(f"not a many2one value: {value!r}")


def _number(model: str, record: Record, field: str, *, required: bool = False) -> Decimal | None:
    try:
        value = odoo_decimal(record.get(field))
    except ValueError:
        raise _bad(model, record, field, f"is not a number: {record.get(field)!r}") from None
    if value is None and required:
        raise _bad(model, record, field, "is missing")
    return value


def _when(model: str, record: Record, field: str | None) -> datetime | None:
    if field is None:
        return None
    try:
        return parse_utc_naive(record.get(field))
    except ValueError:
        raise _bad(model, record, field, f"is not a datetime: {record.get(field)!r}") from None


def _m2o(model: str, record: Record, field: str) -> tuple[int, str | None] | None:
    try:
        return many2one(record.get(field))
    except ValueError:
        raise _bad(model, record, field, f"is not a reference: {record.get(field)!r}") from None


def _id(model: str, record: Record) -> int:
    value = record.get("id")
    if not isinstance(value, int) or isinstance(value, bool):
        raise _bad(model, record, "id", "is missing")
    return value


def _name(model: str, record: Record) -> str:
    name = clean_str(record.get("name"))
    if name is None:
        raise _bad(model, record, "name", "is missing")
    return name


def material(
    product_id: int, product: Record | None, fallback_name: str | None
) -> MaterialDefinition:
    name = clean_str(product.get("name")) if product is not None else None
    name = name or fallback_name or str(product_id)
    code = (clean_str(product.get("default_code")) if product is not None else None) or name
    uom = many2one(product.get("uom_id")) if product is not None else None
    return MaterialDefinition(
        external_id=str(product_id), code=code, name=name, unit=uom[1] if uom else None
    )


def job_order(record: Record, sequence: int, profile: Profile) -> JobOrder:
    model = "mrp.workorder"
    production = _m2o(model, record, "production_id")
    if production is None:
        raise _bad(model, record, "production_id", "is missing")
    centre = _m2o(model, record, "workcenter_id")
    raw = clean_str(record.get("state")) or ""
    quantity = _number(model, record, "qty_production", required=True)
    assert quantity is not None
    return JobOrder(
        external_id=str(_id(model, record)),
        work_order_id=str(production[0]),
        sequence=sequence,
        name=_name(model, record),
        work_center=(
            EquipmentRef(str(centre[0]), centre[1] or str(centre[0]))
            if centre is not None
            else None
        ),
        quantity_planned=quantity,
        quantity_completed=_number(model, record, "qty_produced"),
        planned_start=_when(model, record, profile.planned_start),
        planned_end=_when(model, record, profile.planned_end),
        actual_start=_when(model, record, profile.actual_start),
        actual_end=_when(model, record, profile.actual_end),
        expected_minutes=_number(model, record, "duration_expected"),
        status=odoo_workorder_status(raw),
        upstream_status=raw,
        modified_at=_when(model, record, "write_date"),
    )


def work_order(
    record: Record,
    workorders: Sequence[Record],
    moves: Sequence[Record],
    products: Mapping[int, Record],
    profile: Profile,
) -> WorkOrder:
    """One `mrp.production` with its work orders and raw-material moves as a work order."""
    model = "mrp.production"
    product_ref = _m2o(model, record, "product_id")
    product = (
        material(product_ref[0], products.get(product_ref[0]), product_ref[1])
        if product_ref is not None
        else None
    )
    consumed: dict[int, MaterialDefinition] = {}
    for move in sorted(moves, key=lambda m: _id("stock.move", m)):
        ref = _m2o("stock.move", move, "product_id")
        if ref is not None and ref[0] not in consumed:
            consumed[ref[0]] = material(ref[0], products.get(ref[0]), ref[1])
    steps = tuple(
        job_order(wo, 10 * (i + 1), profile)
        for i, wo in enumerate(sorted(workorders, key=lambda w: _id("mrp.workorder", w)))
    )
    raw = clean_str(record.get("state")) or ""
    quantity = _number(model, record, "product_qty", required=True)
    assert quantity is not None
    uom = _m2o(model, record, "product_uom_id")
    lot = _m2o(model, record, "lot_producing_id")
    priority = clean_str(record.get("priority"))
    return WorkOrder(
        external_id=str(_id(model, record)),
        number=_name(model, record),
        product=product,
        consumed_materials=tuple(consumed.values()),
        operation_name=None,
        quantity_planned=quantity,
        quantity_completed=_number(model, record, "qty_produced"),
        unit=uom[1] if uom else None,
        planned_start=_when(model, record, profile.planned_start),
        planned_end=_when(model, record, profile.planned_end),
        actual_start=_when(model, record, profile.actual_start),
        actual_end=_when(model, record, profile.actual_end),
        due_at=_when(model, record, "date_deadline"),
        priority=int(priority) if priority is not None and priority.isdigit() else 0,
        lot=lot[1] if lot else None,
        origin=clean_str(record.get("origin")),
        work_center=steps[0].work_center if steps else None,
        status=odoo_production_status(raw),
        upstream_status=raw,
        job_orders=steps,
        modified_at=_when(model, record, "write_date"),
    )


def equipment(record: Record) -> Equipment:
    model = "mrp.workcenter"
    return Equipment(
        external_id=str(_id(model, record)),
        name=_name(model, record),
        description=None,
        code=clean_str(record.get("code")),
        role=EquipmentRole.WORK_CENTER,
        category=None,
        capacity=_number(model, record, "default_capacity"),
        efficiency_percent=_number(model, record, "time_efficiency"),
        location=None,
        parent_external_id=None,
        active=record.get("active") is not False,
        modified_at=_when(model, record, "write_date"),
    )
