"""Upstream status values → `OrderStatus` (spec §4.3), for both systems. The raw value is always
kept in `upstream_status`; an unknown value maps to `released` and `is_known` lets the pull report
an `unknown_status` warning.

| OrderStatus | FrePPLe MO / WO                         | Odoo mrp.production | Odoo mrp.workorder               |
|-------------|-----------------------------------------|---------------------|----------------------------------|
| planned     | proposed, null                          | draft               | —                                |
| released    | approved, confirmed (nothing completed) | confirmed           | pending, waiting, blocked, ready |
| running     | approved / confirmed, completed > 0     | progress            | progress                         |
| completed   | completed                               | to_close            | done                             |
| closed      | closed                                  | done                | —                                |
| aborted     | —                                       | cancel              | cancel                           |

FrePPLe has no "in progress" status (`confirmed` only means frozen), so a confirmed or approved
order with a completed quantity counts as running.
"""

from decimal import Decimal

from floorsync.planning.base import OrderStatus, PlanningSystem

FREPPLE_NULL_STATUS = "null"  # the upstream_status of an order whose status is JSON null

_FREPPLE = {
    FREPPLE_NULL_STATUS: OrderStatus.PLANNED,
    "proposed": OrderStatus.PLANNED,
    "approved": OrderStatus.RELEASED,
    "confirmed": OrderStatus.RELEASED,
    "completed": OrderStatus.COMPLETED,
    "closed": OrderStatus.CLOSED,
}
ODOO_PRODUCTION = {
    "draft": OrderStatus.PLANNED,
    "confirmed": OrderStatus.RELEASED,
    "progress": OrderStatus.RUNNING,
    "to_close": OrderStatus.COMPLETED,
    "done": OrderStatus.CLOSED,
    "cancel": OrderStatus.ABORTED,
}
ODOO_WORKORDER = {
    "pending": OrderStatus.RELEASED,
    "waiting": OrderStatus.RELEASED,
    "blocked": OrderStatus.RELEASED,
    "ready": OrderStatus.RELEASED,
    "progress": OrderStatus.RUNNING,
    "done": OrderStatus.COMPLETED,
    "cancel": OrderStatus.ABORTED,
}


def frepple_status(raw: str, quantity_completed: Decimal | None) -> OrderStatus:
    status = _FREPPLE.get(raw, OrderStatus.RELEASED)
    if status is OrderStatus.RELEASED and quantity_completed is not None and quantity_completed > 0:
        return OrderStatus.RUNNING
    return status


def odoo_production_status(raw: str) -> OrderStatus:
    return ODOO_PRODUCTION.get(raw, OrderStatus.RELEASED)


def odoo_workorder_status(raw: str) -> OrderStatus:
    return ODOO_WORKORDER.get(raw, OrderStatus.RELEASED)


def is_known(system: PlanningSystem, raw: str, *, job_order: bool = False) -> bool:
    """Whether the raw status is one the mapping knows (else it was mapped to released)."""
    if system is PlanningSystem.FREPPLE:
        return raw in _FREPPLE
    return raw in (ODOO_WORKORDER if job_order else ODOO_PRODUCTION)
