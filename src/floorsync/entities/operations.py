"""Operations (routing steps): `api-operations`, with their `resources` list."""

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, insert, or_
from sqlalchemy.orm import Session

from floorsync.db.repository import TenantScope, scoped, tenant_filter
from floorsync.db.uow import Work
from floorsync.entities import fields as F
from floorsync.entities.checklists.from_templates import (
    OPERATION_INPUTS,
    SUBSTEP_TEMPLATE_SCHEMA,
    SUBSTEPS_SCHEMA,
    create_substeps,
    substep_template_input,
    substeps_input,
)
from floorsync.entities.embeds import cell_brief, job_brief, load_by_id, resource_list
from floorsync.entities.fields import Field, FieldError, Kind, decimal_to_json
from floorsync.entities.openapi import obj
from floorsync.entities.operators import changed_operator_uses, use_operators
from floorsync.entities.spec import EntitySpec, ListOptions, RefSpec
from floorsync.entities.validation import ExtraErrors, Record, join
from floorsync.entities.work_refs import OPERATION_WORK, drop_operation_links
from floorsync.errors import Detail
from floorsync.kit.ids import new_id
from floorsync.models.enums import WorkStatus
from floorsync.models.master import Cell, Job, Operation, OperationResource, Part, Resource

_QTY = Field(
    "quantity",
    Kind.number,
    min_value=0,
    exclusive_min=True,
    max_value=Decimal(10) ** 7,
    exclusive_max=True,
    scale=3,
)
_RES_NOTES = F.long_text("notes")
_RES_KEYS = {
    "resource_id",
    "resource_external_id",
    "resource_external_source",
    "resource_name",
    "quantity",
    "notes",
    "name",
    "type",
}


def _validate_resources(value: Any, where: str) -> list[dict[str, Any]]:
    """`resources` input: [{resource_id | resource_external_id | resource_name, quantity, notes}]."""
    errors: list[Detail] = []
    if not isinstance(value, list):
        raise ExtraErrors([Detail(where, "resources must be an array", "TYPE_MISMATCH")])
    if len(value) > 1000:
        raise ExtraErrors([Detail(where, "resources must have at most 1000 items", "MAX_LENGTH")])
    items: list[dict[str, Any]] = []
    for i, raw in enumerate(value):
        path = f"{where}[{i}]"
        if not isinstance(raw, dict):
            errors.append(Detail(path, "each resource must be an object", "TYPE_MISMATCH"))
            continue
        item: dict[str, Any] = {"path": path, "quantity": Decimal(1), "notes": None}
        for key, v in raw.items():
            if key not in _RES_KEYS:
                errors.append(Detail(f"{path}.{key}", f"Unknown field: {key}", "UNKNOWN_FIELD", v))
            elif key in ("name", "type"):
                continue  # read-only echo of the output shape
            elif v is None:
                continue
            elif key == "resource_id":
                try:
                    item[key] = uuid.UUID(v) if isinstance(v, str) else _raise_uuid()
                except (ValueError, AttributeError):
                    errors.append(
                        Detail(f"{path}.{key}", "resource_id must be a UUID", "UUID_FORMAT", v)
                    )
            elif key == "quantity" or key == "notes":
                try:
                    item[key] = (_QTY if key == "quantity" else _RES_NOTES).coerce(v)
                except FieldError as err:
                    errors.append(err.detail(f"{path}.{key}", v))
            elif not isinstance(v, str) or not v.strip() or len(v) > 255 or "\x00" in v:
                errors.append(
                    Detail(
                        f"{path}.{key}",
                        f"{key} must be a non-empty string of at most 255 characters",
                        "TYPE_MISMATCH",
                        v,
                    )
                )
            else:
                item[key] = v.strip()
        if not any(k in item for k in ("resource_id", "resource_external_id", "resource_name")):
            errors.append(
                Detail(f"{path}.resource_id", "Missing required field: resource_id", "NOT_NULL")
            )
        items.append(item)
    if errors:
        raise ExtraErrors(errors)
    return items


def _raise_uuid() -> uuid.UUID:
    raise ValueError("not a string")


class _ResourceIndex:
    """Live resources of the tenant named by a batch of `resources` inputs."""

    def __init__(self, found: Sequence[Any] = ()) -> None:
        self.by_id: dict[uuid.UUID, Any] = {r.id: r for r in found}
        self.by_ext: dict[str, list[Any]] = {}
        self.by_name: dict[str, Any] = {r.name: r for r in found}
        for r in found:
            if r.external_id is not None:
                self.by_ext.setdefault(r.external_id, []).append(r)


def _load_resources(work: Work, recs: Sequence[Record]) -> _ResourceIndex:
    """One query for every resource named by the `resources` lists of a batch of records."""
    items = [i for rec in recs for i in rec.extras.get("resources") or ()]
    ids = {i["resource_id"] for i in items if "resource_id" in i}
    exts = {i["resource_external_id"] for i in items if "resource_external_id" in i}
    names = {i["resource_name"] for i in items if "resource_name" in i}
    if not (ids or exts or names):
        return _ResourceIndex()
    stmt = (
        scoped(Resource, work.scope, include_deleted=False)
        .with_only_columns(
            Resource.id, Resource.external_id, Resource.external_source, Resource.name
        )
        .where(or_(Resource.id.in_(ids), Resource.external_id.in_(exts), Resource.name.in_(names)))
    )
    return _ResourceIndex(list(work.session.execute(stmt)))


def _match_resources(rec: Record, index: _ResourceIndex) -> None:
    items = rec.extras.get("resources")
    if not items:
        return
    seen: dict[uuid.UUID, int] = {}
    own_source = rec.values.get("external_source")
    for n, item in enumerate(items):
        matches: set[uuid.UUID] = set()
        path = item["path"]
        if "resource_id" in item:
            if item["resource_id"] not in index.by_id:
                rec.errors.append(
                    Detail(
                        f"{path}.resource_id",
                        f'Resource with id "{item["resource_id"]}" not found',
                        "REFERENCE_NOT_FOUND",
                        str(item["resource_id"]),
                    )
                )
                continue
            matches.add(item["resource_id"])
        if "resource_external_id" in item:
            source = item.get("resource_external_source") or own_source
            hit = [
                r.id
                for r in index.by_ext.get(item["resource_external_id"], [])
                if source is None or r.external_source == source
            ]
            if not hit:
                rec.errors.append(
                    Detail(
                        f"{path}.resource_external_id",
                        f'Resource with external_id "{item["resource_external_id"]}" not found',
                        "REFERENCE_NOT_FOUND",
                        item["resource_external_id"],
                    )
                )
                continue
            if len(hit) > 1:
                rec.errors.append(
                    Detail(
                        f"{path}.resource_external_id",
                        "resource_external_id matches several sources; give resource_external_source",
                        "AMBIGUOUS_REFERENCE",
                        item["resource_external_id"],
                    )
                )
                continue
            matches.update(hit)
        if "resource_name" in item:
            named = index.by_name.get(item["resource_name"])
            if named is None:
                rec.errors.append(
                    Detail(
                        f"{path}.resource_name",
                        f'Resource with name "{item["resource_name"]}" not found',
                        "REFERENCE_NOT_FOUND",
                        item["resource_name"],
                    )
                )
                continue
            matches.add(named.id)
        if len(matches) > 1:
            rec.errors.append(
                Detail(
                    path,
                    "the references of this resource name different resources",
                    "REFERENCE_MISMATCH",
                )
            )
            continue
        rid = matches.pop()
        if rid in seen:
            rec.errors.append(
                Detail(
                    f"{path}.resource_id",
                    f"resource listed twice (also at index {seen[rid]})",
                    "UNIQUE_CONSTRAINT",
                    str(rid),
                )
            )
            continue
        seen[rid] = n
        item["resolved"] = rid


def resolved_resources(rec: Record) -> list[dict[str, Any]] | None:
    """The resolved resource list as hashed and compared: [{resource_id, quantity, notes}]."""
    items = rec.extras.get("resources")
    if items is None:
        return None
    return [
        {"resource_id": str(i["resolved"]), "quantity": str(i["quantity"]), "notes": i["notes"]}
        for i in items
    ]


def _prepare_many(
    work: Work, _spec: EntitySpec, recs: Sequence[Record], rows: Sequence[Operation | None]
) -> None:
    """Resources, the planned range and assigned operators for a batch (one query each)."""
    index = _load_resources(work, recs)
    owners: list[tuple[Record, Any]] = []
    for rec, row in zip(recs, rows, strict=True):
        _match_resources(rec, index)
        start = rec.values.get("planned_start", row.planned_start if row is not None else None)
        end = rec.values.get("planned_end", row.planned_end if row is not None else None)
        if start is not None and end is not None and end < start:
            rec.errors.append(
                Detail(
                    join(rec.path, "planned_end"),
                    "planned_end must not be before planned_start",
                    "INVALID_VALUE",
                    F.to_wire(Kind.timestamp, end),
                )
            )
        owners.extend(
            (rec, use) for use in changed_operator_uses(rec, row, ("assigned_operator_id",))
        )
    # A new assigned operator registers itself in the directory; an inactive one is refused.
    # use_operators reports the inactive uses in order: hand each detail back to its record.
    pending = use_operators(work, [use for _rec, use in owners])
    position = 0
    for rec, use in owners:
        if (
            position < len(pending)
            and pending[position].field == use.field
            and pending[position].value == use.identifier
        ):
            rec.errors.append(pending[position])
            position += 1


def _prepare(work: Work, spec: EntitySpec, rec: Record, row: Operation | None) -> None:
    _prepare_many(work, spec, [rec], [row])


def _next_sequences(work: Work, values_list: list[dict[str, Any]]) -> None:
    """Omitted sequences: the part's highest live sequence + 1, counting the earlier records of
    the same batch (one query for all parts)."""
    parts = {values["part_id"] for values in values_list if values.get("sequence") is None}
    if not parts:
        return
    # Lock the parts (in id order, so two writers can't deadlock) until commit: a concurrent
    # create in the same part waits here and then sees this one's operations (PostgreSQL; SQLite
    # writers are serialised by BEGIN IMMEDIATE already).
    work.session.execute(
        scoped(Part, work.scope)
        .with_only_columns(Part.id)
        .where(Part.id.in_(parts))
        .order_by(Part.id)
        .with_for_update(key_share=True)
    ).all()
    stmt = (
        scoped(Operation, work.scope, include_deleted=False)
        .with_only_columns(Operation.part_id, func.max(Operation.sequence))
        .where(Operation.part_id.in_(parts))
        .group_by(Operation.part_id)
    )
    highest: dict[Any, int] = {part_id: top or 0 for part_id, top in work.session.execute(stmt)}
    for values in values_list:
        part_id = values["part_id"]
        if values.get("sequence") is None:
            # Past the column's maximum the last value repeats (ties sort by creation).
            values["sequence"] = min(highest.get(part_id, 0) + 1, F.INT32_MAX)
        highest[part_id] = max(highest.get(part_id, 0), values["sequence"])


def _next_sequence(work: Work, values: dict[str, Any]) -> None:
    _next_sequences(work, [values])


def _current_resources(
    session: Session, scope: TenantScope, operation_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    stmt = (
        scoped(OperationResource, scope)
        .where(OperationResource.operation_id.in_(operation_ids))
        .order_by(OperationResource.operation_id, OperationResource.position)
    )
    out: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for r in session.scalars(stmt):
        out.setdefault(r.operation_id, []).append(
            {"resource_id": str(r.resource_id), "quantity": str(r.quantity), "notes": r.notes}
        )
    return out


def _extra_changes_many(
    session: Session, scope: TenantScope, pairs: Sequence[tuple[Record, Operation]]
) -> list[dict[str, tuple[Any, Any]]]:
    out: list[dict[str, tuple[Any, Any]]] = [{} for _ in pairs]
    wanted = [(i, resolved_resources(rec), row) for i, (rec, row) in enumerate(pairs)]
    wanted = [w for w in wanted if w[1] is not None]
    if not wanted:
        return out
    current = _current_resources(session, scope, [row.id for _i, _new, row in wanted])
    for i, new, row in wanted:
        old = current.get(row.id, [])
        if old != new:
            out[i] = {"resources": (_wire_res(old), _wire_res(new or []))}
    return out


def _extra_changes(session: Session, rec: Record, row: Operation) -> dict[str, tuple[Any, Any]]:
    return _extra_changes_many(session, TenantScope(row.tenant_id), [(rec, row)])[0]


def _wire_res(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**i, "quantity": decimal_to_json(Decimal(i["quantity"]))} for i in items]


def _after_write_many(work: Work, pairs: Sequence[tuple[Record, Operation]]) -> None:
    """Replace the resource lists of the operations whose input carried one (two statements)."""
    pairs = [(rec, row) for rec, row in pairs if rec.extras.get("resources") is not None]
    if not pairs:
        return
    work.session.execute(
        delete(OperationResource).where(
            tenant_filter(OperationResource, work.scope),
            OperationResource.operation_id.in_([row.id for _rec, row in pairs]),
        )
    )
    now = work.clock.now()
    rows = [
        {
            "id": new_id(),
            "tenant_id": work.scope.tenant_id,
            "operation_id": row.id,
            "resource_id": item["resolved"],
            "position": position,
            "quantity": item["quantity"],
            "notes": item["notes"],
            "created_at": now,
            "updated_at": now,
        }
        for rec, row in pairs
        for position, item in enumerate(rec.extras["resources"])
    ]
    if rows:
        work.session.execute(insert(OperationResource), rows)


def _after_write(work: Work, rec: Record, row: Operation) -> None:
    _after_write_many(work, [(rec, row)])


def _extras(
    session: Session, scope: TenantScope, rows: Sequence[Operation], mode: str
) -> dict[Any, dict[str, Any]]:
    resources = resource_list(session, scope, (r.id for r in rows))
    if mode == "nested":
        return {r.id: {"resources": resources.get(r.id, [])} for r in rows}
    cells = load_by_id(session, scope, Cell, (r.cell_id for r in rows))
    parts = load_by_id(session, scope, Part, (r.part_id for r in rows))
    jobs = load_by_id(session, scope, Job, (p.job_id for p in parts.values()))
    out = {}
    for r in rows:
        part = parts.get(r.part_id)
        out[r.id] = {
            "cell": cell_brief(cells.get(r.cell_id)) if r.cell_id else None,
            "part": None
            if part is None
            else {
                "id": str(part.id),
                "part_number": part.part_number,
                "material": part.material,
                "job": job_brief(jobs.get(part.job_id)),
            },
            "resources": resources.get(r.id, []),
        }
    return out


def _parts_of_job(job_id: uuid.UUID) -> Any:
    from sqlalchemy import select

    return select(Part.id).where(Part.job_id == job_id)


OPERATIONS: EntitySpec[Operation] = EntitySpec(
    name="operations",
    singular="operation",
    model=Operation,
    fields=(
        F.ref_id("part_id", required=True),
        F.ref_id("cell_id"),
        F.ident("operation_name", 255, required=True),
        F.integer("sequence", min_value=1, nullable=False),
        F.enum("status", WorkStatus, default="not_started"),
        F.integer("estimated_time", min_value=0, default=0),
        F.number("setup_time", 10, 2, default=Decimal(0)),
        F.number("run_time_per_unit", 10, 2, default=Decimal(0)),
        F.number("wait_time", 10, 2, default=Decimal(0)),
        F.number("changeover_time", 10, 2, default=Decimal(0)),
        F.read_only("actual_time", Kind.integer),
        F.integer("completion_percentage", min_value=0, max_value=100, default=0),
        F.ident("assigned_operator_id", 64),
        F.timestamp("planned_start"),
        F.timestamp("planned_end"),
        F.short("icon_name", 100),
        F.long_text("notes"),
        *(
            F.read_only(n, Kind.timestamp)
            for n in ("started_at", "paused_at", "resumed_at", "completed_at")
        ),
        F.ident("external_id", 255, output=False),
        F.ident("external_source", 100, output=False),
        F.metadata_field(),
    ),
    aliases={
        "estimated_time_minutes": "estimated_time",
        "setup_time_minutes": "setup_time",
        "instructions": "notes",
        "description": "notes",
    },
    refs=(
        RefSpec(
            "parts",
            "part_id",
            "Part",
            "part_external_id",
            "part_external_source",
            required=True,
        ),
        RefSpec(
            "cells", "cell_id", "Cell", "cell_external_id", "cell_external_source", "cell_name"
        ),
    ),
    natural_key="operation_name",
    listing=ListOptions(
        exact={
            "part_id": Kind.uuid,
            "job_id": Kind.uuid,
            "cell_id": Kind.uuid,
            "status": Kind.enum,
            "assigned_operator_id": Kind.string,
            "external_source": Kind.string,
            "external_id": Kind.string,
        },
        fuzzy=("operation_name",),
        search=("operation_name", "notes", "external_id"),
        sortable=(
            "sequence",
            "operation_name",
            "status",
            "estimated_time",
            "actual_time",
            "planned_start",
            "created_at",
            "updated_at",
        ),
        default_sort=("sequence", "asc"),
        secondary_sort="created_at",
    ),
    render_extras=_extras,
    embeds={
        "cell": obj("id", "name", "color", nullable=True),
        "part": obj("id", "part_number", "material", job=obj("id", "job_number", "customer")),
        "resources": {
            "type": "array",
            "readOnly": True,
            "items": obj("resource_id", "name", "type", "notes", quantity={"type": "number"}),
        },
    },
    extra_inputs={
        "resources": _validate_resources,
        "substeps": substeps_input,
        "substep_template_id": substep_template_input,
    },
    extra_input_schemas={
        "substeps": SUBSTEPS_SCHEMA,
        "substep_template_id": SUBSTEP_TEMPLATE_SCHEMA,
    },
    create_only=OPERATION_INPUTS,
    after_create=create_substeps,
    prepare=_prepare,
    fill_defaults=_next_sequence,
    after_write=_after_write,
    extra_changes=_extra_changes,
    prepare_many=_prepare_many,
    fill_defaults_many=_next_sequences,
    after_write_many=_after_write_many,
    extra_changes_many=_extra_changes_many,
    hashed_extras={"resources": resolved_resources},
    row_columns=("planned_start", "planned_end", "assigned_operator_id"),
    hard_delete_blockers=OPERATION_WORK,
    before_hard_delete=drop_operation_links,
    custom_filters={
        "job_id": lambda stmt, value: stmt.where(Operation.part_id.in_(_parts_of_job(value)))
    },
)
