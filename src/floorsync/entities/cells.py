"""Cells (work centres): `api-cells`. Live names are unique, so `cell_name` references work."""

from typing import Any

from sqlalchemy import func

from floorsync.db.repository import scoped
from floorsync.db.uow import Work
from floorsync.entities import fields as F
from floorsync.entities.fields import Kind
from floorsync.entities.spec import EntitySpec, ListOptions, UniqueRule
from floorsync.entities.work_refs import CELL_WORK
from floorsync.models.master import Cell


def _next_sequences(work: Work, values_list: list[dict[str, Any]]) -> None:
    """Omitted sequences: highest live value + 1, counting earlier records of the same batch."""
    if all(values.get("sequence") is not None for values in values_list):
        return
    stmt = scoped(Cell, work.scope, include_deleted=False).with_only_columns(
        func.max(Cell.sequence)
    )
    current = work.session.scalar(stmt)
    following = 0 if current is None else current + 1
    for values in values_list:
        if values.get("sequence") is None:
            # Past the column's maximum the last value repeats (ties sort by name).
            values["sequence"] = min(following, F.INT32_MAX)
        following = max(following, values["sequence"] + 1)


def _next_sequence(work: Work, values: dict[str, Any]) -> None:
    _next_sequences(work, [values])


CELLS: EntitySpec[Cell] = EntitySpec(
    name="cells",
    singular="cell",
    model=Cell,
    fields=(
        F.ident("name", 200, required=True),
        F.long_text("description"),
        F.short("color", 16, trim=True),
        F.integer("sequence", min_value=0, nullable=False),
        F.boolean("active", True),
        F.integer("wip_limit", min_value=0),
        F.integer("wip_warning_threshold", min_value=0),
        F.boolean("enforce_wip_limit", False),
        F.boolean("show_capacity_warning", True),
        F.Field(
            "capacity_hours_per_day", Kind.number, min_value=0, max_value=24, default=8, scale=2
        ),
        F.short("icon_name", 100),
        F.short("image_url", 2048),
        F.ident("external_id", 255, output=False),
        F.ident("external_source", 100, output=False),
        F.metadata_field(),
    ),
    unique=(UniqueRule(("name",)),),
    natural_key="name",
    listing=ListOptions(
        exact={
            "active": Kind.boolean,
            "external_source": Kind.string,
            "external_id": Kind.string,
        },
        fuzzy=("name",),
        search=("name", "description", "external_id"),
        sortable=("name", "sequence", "created_at", "updated_at"),
        default_sort=("sequence", "asc"),
        secondary_sort="name",
    ),
    fill_defaults=_next_sequence,
    fill_defaults_many=_next_sequences,
    hard_delete_blockers=CELL_WORK,
)
