"""Operation quantities: `api-operation-quantities` (API §3.10). Good, scrap and rework counts
reported for an operation; `quantity_produced` is always their sum (a supplied value must
agree) and the sum is at least 1. Creating one emits `operation_quantity.recorded`.
`scrap_reason_id` (or `scrap_reason_code`) names a scrap reason of the tenant, active when
newly set; the read-only `scrap_reason` embed follows `operation`."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from floorsync.db.repository import TenantScope
from floorsync.db.uow import Work
from floorsync.entities import fields as F
from floorsync.entities.fields import Kind
from floorsync.entities.operators import changed_operator_uses, use_operators
from floorsync.entities.quality.scrap_reasons import (
    reference_scrap_reason,
    scrap_reason_code_input,
    scrap_reason_embeds,
)
from floorsync.entities.service import get_row
from floorsync.entities.shopfloor.common import (
    delete_shop_record,
    operation_embeds,
    operations_of_job,
    operations_of_part,
)
from floorsync.entities.spec import EntitySpec, ListOptions, RefSpec
from floorsync.entities.validation import Record, join
from floorsync.errors import Detail
from floorsync.models.shopfloor import OperationQuantity

COUNTS = ("quantity_good", "quantity_scrap", "quantity_rework")


def _prepare(work: Work, _spec: EntitySpec, rec: Record, row: OperationQuantity | None) -> None:
    v = rec.values
    for name in COUNTS:
        if name in v and v[name] is None:
            v[name] = 0
    total = sum(v.get(n, getattr(row, n) if row is not None else 0) for n in COUNTS)
    given = v.get("quantity_produced")
    if given is not None and given != total:
        rec.errors.append(
            Detail(
                join(rec.path, "quantity_produced"),
                f"quantity_produced must equal quantity_good + quantity_scrap + quantity_rework ({total})",
                "INVALID_VALUE",
                given,
            )
        )
    elif total > F.INT32_MAX:
        rec.errors.append(
            Detail(
                join(rec.path, "quantity_produced"),
                f"quantity_good + quantity_scrap + quantity_rework must be at most {F.INT32_MAX}",
                "MAX_VALUE",
                total,
            )
        )
    elif total < 1:
        rec.errors.append(
            Detail(
                join(rec.path, "quantity_produced"),
                "quantity_good + quantity_scrap + quantity_rework must be at least 1",
                "INVALID_VALUE",
                total,
            )
        )
    v["quantity_produced"] = total
    if row is None and v.get("recorded_at") is None:
        v["recorded_at"] = work.clock.now()
    elif row is not None and "recorded_at" in v and v["recorded_at"] is None:
        rec.errors.append(
            Detail(join(rec.path, "recorded_at"), "recorded_at cannot be null", "NOT_NULL")
        )
    rec.errors.extend(use_operators(work, changed_operator_uses(rec, row, ("recorded_by",))))
    reference_scrap_reason(work, rec, row)


def delete_quantity(work: Work, id_: uuid.UUID) -> None:
    row = get_row(work.session, work.scope, QUANTITIES, id_, for_update=True)
    delete_shop_record(work, QUANTITIES, row, "operation_id")


def _extras(
    session: Session, scope: TenantScope, rows: Sequence[OperationQuantity], mode: str
) -> dict[Any, dict[str, Any]]:
    if mode == "nested":
        return {}
    ops = operation_embeds(session, scope, (r.operation_id for r in rows))
    reasons = scrap_reason_embeds(session, scope, [r.scrap_reason_id for r in rows])
    return {
        r.id: {
            "operation": ops.get(r.operation_id),
            "scrap_reason": reasons.get(r.scrap_reason_id) if r.scrap_reason_id else None,
        }
        for r in rows
    }


QUANTITIES: EntitySpec[OperationQuantity] = EntitySpec(
    name="operation_quantities",
    singular="operation_quantity",
    model=OperationQuantity,
    created_verb="recorded",
    fields=(
        F.ref_id("operation_id", required=True),
        F.integer("quantity_good", min_value=0, default=0),
        F.integer("quantity_scrap", min_value=0, default=0),
        F.integer("quantity_rework", min_value=0, default=0),
        # Computed (good + scrap + rework); accepted on input only to be checked against the sum.
        F.integer("quantity_produced"),
        F.ref_id("scrap_reason_id"),
        F.short("material_lot", 255, trim=True),
        F.long_text("notes"),
        F.ident("recorded_by", 64),
        F.timestamp("recorded_at"),
    ),
    synced=False,
    soft_delete=False,
    refs=(RefSpec("operations", "operation_id", "Operation", required=True),),
    natural_key="operation_id",
    listing=ListOptions(
        exact={
            "operation_id": Kind.uuid,
            "part_id": Kind.uuid,
            "job_id": Kind.uuid,
            "material_lot": Kind.string,
            "scrap_reason_id": Kind.uuid,
            "recorded_by": Kind.string,
            "has_scrap": Kind.boolean,
            "has_rework": Kind.boolean,
        },
        search=("material_lot", "notes"),
        sortable=(
            "recorded_at",
            "quantity_good",
            "quantity_scrap",
            "quantity_rework",
            "quantity_produced",
            "created_at",
        ),
        default_sort=("recorded_at", "desc"),
        date_ranges={"from_date": ("recorded_at", ">="), "to_date": ("recorded_at", "<=")},
    ),
    render_extras=_extras,
    # `scrap_reason_code` references a scrap reason by code (API §4.3)
    extra_inputs={"scrap_reason_code": scrap_reason_code_input},
    extra_input_schemas={
        "scrap_reason_code": {
            "type": "string",
            "description": "reference to a scrap reason by code (alternative to scrap_reason_id)",
        }
    },
    prepare=_prepare,
    custom_filters={
        "part_id": lambda stmt, value: stmt.where(
            OperationQuantity.operation_id.in_(operations_of_part(value))
        ),
        "job_id": lambda stmt, value: stmt.where(
            OperationQuantity.operation_id.in_(operations_of_job(value))
        ),
        "has_scrap": lambda stmt, value: stmt.where(
            OperationQuantity.quantity_scrap > 0 if value else OperationQuantity.quantity_scrap == 0
        ),
        "has_rework": lambda stmt, value: stmt.where(
            OperationQuantity.quantity_rework > 0
            if value
            else OperationQuantity.quantity_rework == 0
        ),
    },
)
