"""Field names per Odoo version (spec §9.5–§9.7). A profile lists every field the adapter reads on
each model, whether it is required, and which fields carry the planned and actual dates:

| purpose              | 16.0                                        | 17.0 / 18.0 / 19            |
|----------------------|---------------------------------------------|-----------------------------|
| planned start / end  | `date_planned_start`, `date_planned_finished` | `date_start`, `date_finished` |
| actual start / end   | `date_start`, `date_finished`               | merged into the planned pair |
| MO lot               | `lot_producing_id`                          | same; 19: not requested (`lot_producing_ids`) |
| work-order states    | pending, waiting, ready, progress, done, cancel | 19: blocked replaces pending/waiting |

`mrp.production.workcenter_id` is never requested (absent in 16, always false in 17/18) and
`mrp.workcenter` has no `resource_type` (§11, defects 23–24). After authentication the adapter
checks the profile against `fields_get`: a missing required field is a protocol error naming
model and field; a missing optional field is dropped from every request.
"""

from dataclasses import dataclass

PRODUCTION, WORKORDER, WORKCENTER = "mrp.production", "mrp.workorder", "mrp.workcenter"
MOVE, PRODUCT = "stock.move", "product.product"
MODELS = (PRODUCTION, WORKORDER, WORKCENTER, MOVE, PRODUCT)


@dataclass(frozen=True)
class Profile:
    version: int
    # model → {field: required}, in the order requested
    fields: dict[str, dict[str, bool]]
    planned_start: str
    planned_end: str
    actual_start: str | None
    actual_end: str | None

    @property
    def name(self) -> str:
        return str(self.version)

    def pull_fields(
        self, model: str, missing: frozenset[tuple[str, str]] = frozenset()
    ) -> list[str]:
        """The fields a pull requests on the model, without optional ones the server lacks."""
        return [f for f in self.fields[model] if (model, f) not in missing]


def _production(version: int) -> dict[str, bool]:
    dates = (
        {
            "date_planned_start": True,
            "date_planned_finished": False,
            "date_start": False,
            "date_finished": False,
        }
        if version == 16
        else {"date_start": True, "date_finished": False}
    )
    fields = {
        "name": True,
        "product_id": True,
        "product_qty": True,
        "product_uom_id": True,
        "qty_produced": True,
        **dates,
        "date_deadline": False,
        "priority": False,
        "origin": False,
        "state": True,
        "write_date": True,
    }
    if version < 19:
        fields["lot_producing_id"] = False
    return fields


def _workorder(version: int) -> dict[str, bool]:
    dates = (
        {
            "date_planned_start": False,
            "date_planned_finished": False,
            "date_start": False,
            "date_finished": False,
        }
        if version == 16
        else {"date_start": False, "date_finished": False}
    )
    return {
        "name": True,
        "production_id": True,
        "workcenter_id": True,
        **dates,
        "duration_expected": False,
        "qty_production": True,
        "qty_produced": False,
        "state": True,
        "write_date": True,
    }


WORKCENTER_FIELDS = {
    "name": True,
    "code": False,
    "active": True,
    "default_capacity": False,
    "time_efficiency": False,
    "write_date": True,
}
MOVE_FIELDS = {"raw_material_production_id": True, "product_id": True, "product_uom_qty": True}
PRODUCT_FIELDS = {"default_code": True, "name": True, "uom_id": True}
# Read by the pushes only; checked with the rest.
PUSH_PRODUCTION_FIELDS = {"qty_producing": True, "workorder_ids": True}


def _profile(version: int) -> Profile:
    old = version == 16
    return Profile(
        version=version,
        fields={
            PRODUCTION: _production(version),
            WORKORDER: _workorder(version),
            WORKCENTER: WORKCENTER_FIELDS,
            MOVE: MOVE_FIELDS,
            PRODUCT: PRODUCT_FIELDS,
        },
        planned_start="date_planned_start" if old else "date_start",
        planned_end="date_planned_finished" if old else "date_finished",
        actual_start="date_start" if old else None,
        actual_end="date_finished" if old else None,
    )


PROFILES = {v: _profile(v) for v in (16, 17, 18, 19)}


def profile_for(major: int) -> Profile:
    """The profile of a major version: 16, 17, 18; 19 and later share the 19 profile."""
    if major < 16:
        raise ValueError(f"Odoo {major} is not supported; 16 or later is required")
    return PROFILES[min(major, 19)]
