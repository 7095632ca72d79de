"""Jobs (sales / production orders): `api-jobs`."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from floorsync.db.repository import TenantScope
from floorsync.entities import fields as F
from floorsync.entities.checklists.from_templates import (
    TEMPLATE_INPUT_SCHEMAS,
    TEMPLATE_INPUTS,
    expand_job,
)
from floorsync.entities.embeds import load_children
from floorsync.entities.fields import Kind
from floorsync.entities.openapi import obj
from floorsync.entities.render import render_rows
from floorsync.entities.spec import (
    ChildSpec,
    EntitySpec,
    ListOptions,
    RefSpec,
    UniqueRule,
    get_spec,
)
from floorsync.entities.work_refs import drop_assignments
from floorsync.models.enums import WorkStatus
from floorsync.models.master import Job, Part

LIFECYCLE_TS = ("started_at", "paused_at", "resumed_at", "completed_at")


def _extras(
    session: Session, scope: TenantScope, rows: Sequence[Job], mode: str
) -> dict[Any, dict[str, Any]]:
    if mode == "event":
        return {}
    parts = load_children(
        session, scope, Part, "job_id", (r.id for r in rows), (Part.created_at, Part.id)
    )
    if mode == "nested":
        part_spec = get_spec("parts")
        return {
            r.id: {"parts": render_rows(session, scope, part_spec, parts.get(r.id, []), "nested")}
            for r in rows
        }
    return {
        r.id: {
            "parts": [
                {
                    "id": str(p.id),
                    "part_number": p.part_number,
                    "material": p.material,
                    "quantity": p.quantity,
                    "status": p.status.value if hasattr(p.status, "value") else p.status,
                    "external_id": p.external_id,
                }
                for p in parts.get(r.id, [])
            ]
        }
        for r in rows
    }


JOBS: EntitySpec[Job] = EntitySpec(
    name="jobs",
    singular="job",
    model=Job,
    created_mode="nested",  # a created job is answered with its parts and their operations
    fields=(
        F.ident("job_number", 255, required=True),
        F.short("customer", 255, trim=True),
        F.timestamp("due_date"),
        F.timestamp("due_date_override"),
        F.enum("status", WorkStatus, default="not_started"),
        F.integer("priority", min_value=0, max_value=F.INT32_MAX, default=0),
        F.long_text("notes"),
        F.ref_id("current_cell_id"),
        F.long_text("delivery_address"),
        F.short("delivery_city", 100),
        F.short("delivery_postal_code", 20),
        F.Field("delivery_country", Kind.country),
        F.number("total_weight_kg", 12, 2),
        F.number("total_volume_m3", 12, 3),
        F.integer("package_count", min_value=0),
        *(F.read_only(n, Kind.timestamp) for n in LIFECYCLE_TS),
        F.read_only("actual_duration", Kind.integer),
        F.read_only("template_id", Kind.uuid),
        F.ident("external_id", 255, output=False),
        F.ident("external_source", 100, output=False),
        F.metadata_field(),
    ),
    aliases={"customer_name": "customer", "description": "notes"},
    refs=(RefSpec("cells", "current_cell_id", "Cell"),),
    children=(ChildSpec("parts", "parts", "job_id", sibling_unique=("part_number",)),),
    unique=(UniqueRule(("job_number",)),),
    natural_key="job_number",
    listing=ListOptions(
        exact={
            "status": Kind.enum,
            "priority": Kind.integer,
            "current_cell_id": Kind.uuid,
            "external_source": Kind.string,
            "external_id": Kind.string,
        },
        fuzzy=("job_number", "customer"),
        search=("job_number", "customer", "external_id"),
        sortable=(
            "job_number",
            "customer",
            "due_date",
            "priority",
            "status",
            "created_at",
            "updated_at",
        ),
        default_sort=("created_at", "desc"),
        date_ranges={"due_date_from": ("due_date", ">="), "due_date_to": ("due_date", "<=")},
    ),
    render_extras=_extras,
    before_hard_delete=drop_assignments("job_id"),
    create_only=TEMPLATE_INPUTS,
    expand_create=expand_job,
    extra_input_schemas=TEMPLATE_INPUT_SCHEMAS,
    embeds={
        "parts": {
            "type": "array",
            "readOnly": True,
            "items": obj(
                "id",
                "part_number",
                "material",
                "status",
                "external_id",
                quantity={"type": "integer"},
            ),
            "description": "live parts, oldest first: these summaries on GET; full parts with their operations in the POST response",
        }
    },
)
