"""Parts (work-order lines): `api-parts`. Part numbers are unique within their job."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from floorsync.db.repository import TenantScope, scoped
from floorsync.db.uow import Work
from floorsync.entities import fields as F
from floorsync.entities.checklists.from_templates import (
    TEMPLATE_INPUT_SCHEMAS,
    TEMPLATE_INPUTS,
    expand_part,
)
from floorsync.entities.embeds import job_brief, load_by_id, load_children
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
from floorsync.entities.validation import Record, join
from floorsync.entities.work_refs import drop_assignments
from floorsync.errors import Detail
from floorsync.models.enums import WorkStatus
from floorsync.models.master import Job, Material, Operation, Part


def _extras(
    session: Session, scope: TenantScope, rows: Sequence[Part], mode: str
) -> dict[Any, dict[str, Any]]:
    if mode == "nested":
        ops = load_children(
            session,
            scope,
            Operation,
            "part_id",
            (r.id for r in rows),
            (Operation.sequence, Operation.created_at, Operation.id),
        )
        op_spec = get_spec("operations")
        return {
            r.id: {"operations": render_rows(session, scope, op_spec, ops.get(r.id, []), "nested")}
            for r in rows
        }
    jobs = load_by_id(session, scope, Job, (r.job_id for r in rows))
    out: dict[Any, dict[str, Any]] = {r.id: {"job": job_brief(jobs.get(r.job_id))} for r in rows}
    if mode == "single":
        ops = load_children(
            session,
            scope,
            Operation,
            "part_id",
            (r.id for r in rows),
            (Operation.sequence, Operation.created_at, Operation.id),
        )
        for r in rows:
            out[r.id]["operations"] = [
                {
                    "id": str(o.id),
                    "operation_name": o.operation_name,
                    "sequence": o.sequence,
                    "status": o.status.value if hasattr(o.status, "value") else o.status,
                    "cell_id": str(o.cell_id) if o.cell_id else None,
                }
                for o in ops.get(r.id, [])
            ]
    return out


def _prepare_many(
    work: Work, _spec: EntitySpec, recs: Sequence[Record], rows: Sequence[Part | None]
) -> None:
    """Fill `material` from the referenced material; keep parent parts in the same job and out
    of cycles; refuse a move that leaves parent or child parts behind. Set-based: one query
    for the materials, one for the moved parts' children, one per level of the parent chains."""
    pairs = list(zip(recs, rows, strict=True))
    wanted = {
        rec.values["material_id"]
        for rec, row in pairs
        if row is None
        and "material" not in rec.values
        and rec.values.get("material_id") is not None
    }
    materials: dict[uuid.UUID, Any] = {}
    if wanted:
        stmt = (
            scoped(Material, work.scope)
            .with_only_columns(Material.id, Material.code, Material.name)
            .where(Material.id.in_(wanted))
        )
        materials = {m.id: m for m in work.session.execute(stmt)}
    moved = {row.id for rec, row in pairs if row is not None and _moves(rec, row)}
    with_children: set[uuid.UUID] = set()
    if moved:
        parents = (
            scoped(Part, work.scope, include_deleted=False)
            .with_only_columns(Part.parent_part_id)
            .where(Part.parent_part_id.in_(moved))
        )
        with_children = {pid for pid in work.session.scalars(parents.distinct()) if pid is not None}
    tree = _part_tree(
        work,
        {
            rec.values["parent_part_id"]
            for rec, _row in pairs
            if rec.values.get("parent_part_id") is not None
        },
    )
    for rec, row in pairs:
        material = (
            materials.get(rec.values.get("material_id"))  # type: ignore[arg-type]
            if row is None and "material" not in rec.values
            else None
        )
        if material is not None:
            rec.values["material"] = material.code or material.name
        if row is not None and _moves(rec, row):
            _check_move(rec, row, has_children=row.id in with_children)
        _check_parent(rec, row, tree)


def _prepare(work: Work, spec: EntitySpec, rec: Record, row: Part | None) -> None:
    _prepare_many(work, spec, [rec], [row])


def _moves(rec: Record, row: Any) -> bool:
    return bool(rec.values.get("job_id", row.job_id) != row.job_id)


def _check_parent(
    rec: Record, row: Any | None, tree: dict[uuid.UUID, tuple[uuid.UUID, uuid.UUID | None]]
) -> None:
    parent_id = rec.values.get("parent_part_id")
    if parent_id is None:
        return
    job_id = rec.values.get("job_id", row.job_id if row is not None else None)
    if row is not None and parent_id == row.id:
        rec.errors.append(
            Detail(
                join(rec.path, "parent_part_id"),
                "a part cannot be its own parent",
                "INVALID_VALUE",
                str(parent_id),
            )
        )
        return
    parents = _ancestors(tree, parent_id)
    if job_id is not None and parents and parents[0][1] != job_id:
        rec.errors.append(
            Detail(
                join(rec.path, "parent_part_id"),
                "parent_part_id must be a part of the same job",
                "REFERENCE_MISMATCH",
                str(parent_id),
            )
        )
    elif row is not None and any(pid == row.id for pid, _ in parents):
        rec.errors.append(
            Detail(
                join(rec.path, "parent_part_id"),
                "parent_part_id would create a cycle",
                "INVALID_VALUE",
                str(parent_id),
            )
        )


def _check_move(rec: Record, row: Any, *, has_children: bool) -> None:
    """A part moving to another job must not leave a parent or children behind in the old one."""
    where = join(rec.path, "job_id")
    if "parent_part_id" not in rec.values and row.parent_part_id is not None:
        rec.errors.append(
            Detail(
                where,
                "the part's parent_part_id is in its current job; send parent_part_id (or null) with the move",
                "REFERENCE_MISMATCH",
                str(rec.values["job_id"]),
            )
        )
    if has_children:
        rec.errors.append(
            Detail(
                where,
                "the part has child parts in its current job; move or detach them first",
                "REFERENCE_MISMATCH",
                str(rec.values["job_id"]),
            )
        )


def _part_tree(
    work: Work, start: set[uuid.UUID]
) -> dict[uuid.UUID, tuple[uuid.UUID, uuid.UUID | None]]:
    """(job_id, parent_part_id) of the given live parts and of their live ancestors, loaded
    level by level for the whole batch."""
    tree: dict[uuid.UUID, tuple[uuid.UUID, uuid.UUID | None]] = {}
    wanted = set(start)
    while wanted:
        stmt = (
            scoped(Part, work.scope, include_deleted=False)
            .with_only_columns(Part.id, Part.job_id, Part.parent_part_id)
            .where(Part.id.in_(wanted))
        )
        found = list(work.session.execute(stmt))
        tree.update((r.id, (r.job_id, r.parent_part_id)) for r in found)
        wanted = {r.parent_part_id for r in found if r.parent_part_id is not None} - tree.keys()
    return tree


def _ancestors(
    tree: dict[uuid.UUID, tuple[uuid.UUID, uuid.UUID | None]], part_id: uuid.UUID
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(id, job_id) of the part and its ancestors, nearest first (stops at a cycle in bad data)."""
    out: list[tuple[uuid.UUID, uuid.UUID]] = []
    seen: set[uuid.UUID] = set()
    current: uuid.UUID | None = part_id
    while current is not None and current in tree and current not in seen:
        seen.add(current)
        job_id, parent = tree[current]
        out.append((current, job_id))
        current = parent
    return out


PARTS: EntitySpec[Part] = EntitySpec(
    name="parts",
    singular="part",
    model=Part,
    fields=(
        F.ref_id("job_id", required=True),
        F.ident("part_number", 255, required=True),
        F.short("material", 255),
        F.ref_id("material_id"),
        F.integer("quantity", min_value=1, default=1),
        F.enum("status", WorkStatus, default="not_started"),
        F.ref_id("parent_part_id"),
        F.ref_id("current_cell_id"),
        F.short("drawing_no", 100, trim=True),
        F.short("cnc_program_name", 255),
        F.boolean("is_bullet_card", False),
        F.Field("file_paths", Kind.string_list, max_len=100, item_max_len=1024, default=list),
        F.read_only("image_paths", Kind.string_list),
        F.short("material_lot", 100),
        F.short("material_supplier", 100),
        F.short("material_cert_number", 100),
        F.number("weight_kg", 12, 3),
        F.number("length_mm", 12, 2),
        F.number("width_mm", 12, 2),
        F.number("height_mm", 12, 2),
        F.long_text("notes"),
        F.read_only("started_at", Kind.timestamp),
        F.read_only("completed_at", Kind.timestamp),
        F.read_only("template_id", Kind.uuid),
        F.ident("external_id", 255, output=False),
        F.ident("external_source", 100, output=False),
        F.metadata_field(),
    ),
    refs=(
        RefSpec("jobs", "job_id", "Job", "job_external_id", "job_external_source", required=True),
        RefSpec(
            "materials",
            "material_id",
            "Material",
            "material_external_id",
            "material_external_source",
        ),
        RefSpec("parts", "parent_part_id", "Part"),
        RefSpec("cells", "current_cell_id", "Cell"),
    ),
    children=(ChildSpec("operations", "operations", "part_id", sibling_unique=("sequence",)),),
    unique=(UniqueRule(("job_id", "part_number")),),
    natural_key="part_number",
    listing=ListOptions(
        exact={
            "job_id": Kind.uuid,
            "status": Kind.enum,
            "material_id": Kind.uuid,
            "parent_part_id": Kind.uuid,
            "external_source": Kind.string,
            "external_id": Kind.string,
        },
        fuzzy=("part_number", "material", "drawing_no"),
        search=("part_number", "material", "drawing_no", "external_id"),
        sortable=("part_number", "material", "quantity", "status", "created_at", "updated_at"),
        default_sort=("created_at", "desc"),
    ),
    render_extras=_extras,
    create_only=TEMPLATE_INPUTS,
    expand_create=expand_part,
    extra_input_schemas=TEMPLATE_INPUT_SCHEMAS,
    embeds={
        "job": obj("id", "job_number", "customer"),
        "operations": {
            "type": "array",
            "readOnly": True,
            "items": obj("id", "operation_name", "status", "cell_id", sequence={"type": "integer"}),
            "description": "single GET (summaries) and POST (full operations) only: the live operations by sequence",
        },
    },
    prepare=_prepare,
    prepare_many=_prepare_many,
    tombstone_refs=("job_id",),
    row_columns=("job_id", "parent_part_id"),
    before_hard_delete=drop_assignments("part_id"),
)
