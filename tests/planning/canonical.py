"""Factories for canonical planning objects (for pure tests and, later, a FakePlanningAdapter):
every field has a plausible default, override what a test is about."""

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from floorsync.planning.base import (
    Equipment,
    EquipmentRef,
    EquipmentRole,
    JobOrder,
    MaterialDefinition,
    OrderStatus,
    WorkOrder,
)

T0 = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)


def material(code: str, **kw: Any) -> MaterialDefinition:
    return MaterialDefinition(
        **{"external_id": code, "code": code, "name": code, "unit": None, **kw}
    )


def job_order(external_id: str = "MO-1-10", **kw: Any) -> JobOrder:
    values: dict[str, Any] = {
        "external_id": external_id,
        "work_order_id": "MO-1",
        "sequence": 10,
        "name": "Cut",
        "work_center": EquipmentRef("Laser", "Laser"),
        "quantity_planned": Decimal(10),
        "quantity_completed": None,
        "planned_start": T0,
        "planned_end": datetime(2026, 6, 1, 7, 0, tzinfo=UTC),
        "actual_start": None,
        "actual_end": None,
        "expected_minutes": Decimal(60),
        "status": OrderStatus.RELEASED,
        "upstream_status": "approved",
        "modified_at": datetime(2026, 5, 28, 14, 0, tzinfo=UTC),
    }
    return JobOrder(**{**values, **kw})


def work_order(external_id: str = "MO-1", **kw: Any) -> WorkOrder:
    values: dict[str, Any] = {
        "external_id": external_id,
        "number": external_id,
        "product": material("FRAME"),
        "consumed_materials": (material("TUBE"), material("BOLT")),
        "operation_name": "Assemble",
        "quantity_planned": Decimal(10),
        "quantity_completed": None,
        "unit": None,
        "planned_start": T0,
        "planned_end": datetime(2026, 6, 1, 14, 0, tzinfo=UTC),
        "actual_start": None,
        "actual_end": None,
        "due_at": None,
        "priority": 0,
        "lot": None,
        "origin": "SO-1",
        "work_center": EquipmentRef("Laser", "Laser"),
        "status": OrderStatus.RELEASED,
        "upstream_status": "approved",
        "job_orders": (job_order(f"{external_id}-10", work_order_id=external_id),),
        "modified_at": datetime(2026, 5, 28, 14, 0, tzinfo=UTC),
    }
    return WorkOrder(**{**values, **kw})


def equipment(external_id: str = "Laser", **kw: Any) -> Equipment:
    values: dict[str, Any] = {
        "external_id": external_id,
        "name": external_id,
        "description": None,
        "code": None,
        "role": EquipmentRole.WORK_CENTER,
        "category": None,
        "capacity": Decimal(1),
        "efficiency_percent": None,
        "location": None,
        "parent_external_id": None,
        "active": True,
        "modified_at": None,
    }
    return Equipment(**{**values, **kw})


def replace(obj: Any, **kw: Any) -> Any:
    return dataclasses.replace(obj, **kw)
