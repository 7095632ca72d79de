"""Templates: `api-templates` (api-catalogue-completion §9). Reusable content records are made
from: `substeps` templates hold checklist `items` (applied to an operation with `POST
/api-templates/apply?id=`); `part` and `job` templates hold a `body`, a `POST /api-parts` or
`POST /api-jobs` body checked on save as that create checks it, except that references are
checked for form only (they resolve when the template is used, so a template survives changes
to cells). Keys are Eryxon's: `substep_templates` / `substep_template` for every kind; events
are `template.*`. `is_global` is always false: there are no cross-tenant templates.
"""

import uuid
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import delete, func
from sqlalchemy.orm import Session

from floorsync.db.repository import TenantScope, scoped, tenant_filter
from floorsync.db.uow import Work
from floorsync.entities import fields as F
from floorsync.entities import service
from floorsync.entities.checklists.from_templates import step_input_schema
from floorsync.entities.embeds import load_children
from floorsync.entities.fields import FieldError, Kind
from floorsync.entities.spec import ALWAYS_READ_ONLY, EntitySpec, ListOptions, UniqueRule, get_spec
from floorsync.entities.validation import Record, join, validate_record
from floorsync.errors import Detail, ValidationFailed
from floorsync.kit.ids import new_id
from floorsync.models.catalogue import Substep, Template, TemplateItem
from floorsync.models.enums import TemplateKind
from floorsync.models.master import Operation

BODY_MAX_BYTES = 256 * 1024
ITEMS_MAX = 200
_FORBIDDEN_IN_BODY = ("template_id", "template_name", "external_id", "external_source")
_ITEM_FIELDS = (
    F.ident("name", 255, required=True),
    F.long_text("notes"),
    F.short("icon_name", 100),
    F.integer("sequence", min_value=1),
)


def _value(x: Any) -> Any:
    return x.value if hasattr(x, "value") else x


# ---------------------------------------------------------------- inputs


def _items_input(value: Any, _where: str) -> Any:
    return value  # checked in _prepare, where the template's kind is known


def _body_input(value: Any, _where: str) -> Any:
    return value


def _check_items(rec: Record, raw: Any) -> list[dict[str, Any]] | None:
    where = join(rec.path, "items")
    if not isinstance(raw, list):
        rec.errors.append(Detail(where, "items must be an array", "TYPE_MISMATCH"))
        return None
    if len(raw) > ITEMS_MAX:
        rec.errors.append(
            Detail(where, f"items must have at most {ITEMS_MAX} items", "MAX_LENGTH", len(raw))
        )
        return None
    out: list[dict[str, Any]] = []
    seen: set[int] = set()
    for i, item in enumerate(raw):
        at = f"{where}[{i}]"
        if not isinstance(item, dict):
            rec.errors.append(Detail(at, "each item must be an object", "TYPE_MISMATCH"))
            continue
        clean: dict[str, Any] = {}
        for key in item:
            if key not in {f.name for f in _ITEM_FIELDS} and key != "id":
                rec.errors.append(
                    Detail(f"{at}.{key}", f"Unknown field: {key}", "UNKNOWN_FIELD", item[key])
                )
        for f in _ITEM_FIELDS:
            value = item.get(f.name)
            if value is None:
                if f.required:
                    rec.errors.append(
                        Detail(f"{at}.{f.name}", f"Missing required field: {f.name}", "NOT_NULL")
                    )
                continue
            try:
                clean[f.name] = f.coerce(value)
            except FieldError as err:
                rec.errors.append(err.detail(f"{at}.{f.name}", value))
        sequence = clean.setdefault("sequence", i + 1)
        if sequence in seen:
            rec.errors.append(
                Detail(
                    f"{at}.sequence",
                    f"sequence {sequence} is used by another item",
                    "UNIQUE_CONSTRAINT",
                    sequence,
                )
            )
        seen.add(sequence)
        out.append(clean)
    return out


def _check_body(rec: Record, kind: str, raw: Any) -> None:
    """A job body is a POST /api-jobs body without job_number; a part body a POST /api-parts
    body without a job reference, part_number optional. References are checked for form only."""
    where = join(rec.path, "body")
    if not isinstance(raw, dict):
        rec.errors.append(Detail(where, "body must be an object", "TYPE_MISMATCH"))
        return
    if len(orjson.dumps(raw)) > BODY_MAX_BYTES:
        rec.errors.append(
            Detail(where, "body must be at most 256 KiB when serialised", "MAX_LENGTH")
        )
        return
    spec = get_spec("jobs" if kind == TemplateKind.job.value else "parts")
    for key in raw:
        read_only = key in ALWAYS_READ_ONLY or (key in spec.by_name and spec.by_name[key].read_only)
        if key in _FORBIDDEN_IN_BODY or read_only or (kind == "part" and key == "job_id"):
            rec.errors.append(
                Detail(
                    f"{where}.{key}",
                    f"{key} cannot be part of a template body",
                    "UNKNOWN_FIELD",
                    raw[key],
                )
            )
    checked = validate_record(spec, raw, "create", path=where)
    ignored = {f"{where}.job_number"} if kind == "job" else {f"{where}.part_number"}
    if kind == "part":
        ignored.add(f"{where}.job_id")
    rec.errors.extend(d for d in checked.all_errors() if d.field not in ignored)


def _prepare(_work: Work, _spec: EntitySpec, rec: Record, row: Template | None) -> None:
    v = rec.values
    kind = _value(row.kind) if row is not None else v.get("kind", TemplateKind.substeps.value)
    if row is not None and "kind" in v and v["kind"] != kind:
        rec.errors.append(
            Detail(join(rec.path, "kind"), "kind cannot be changed", "INVALID_VALUE", v["kind"])
        )
        return
    v["kind"] = kind
    if "items" in rec.extras:
        if kind != TemplateKind.substeps.value:
            rec.errors.append(
                Detail(
                    join(rec.path, "items"),
                    f"items belong to substeps templates, not to a {kind} template",
                    "INVALID_VALUE",
                )
            )
        else:
            rec.extras["items"] = _check_items(rec, rec.extras["items"])
    if kind == TemplateKind.substeps.value:
        if rec.extras.get("body") is not None:
            rec.errors.append(
                Detail(
                    join(rec.path, "body"),
                    "a substeps template has no body",
                    "INVALID_VALUE",
                )
            )
        return  # (no body value at all: SQL NULL, not a JSON null)
    if "body" in rec.extras:
        body = rec.extras["body"]
        if body is None:
            rec.errors.append(
                Detail(join(rec.path, "body"), f"a {kind} template needs a body", "NOT_NULL")
            )
            return
        _check_body(rec, kind, body)
        v["body"] = body
    elif row is None:
        rec.errors.append(
            Detail(join(rec.path, "body"), f"a {kind} template needs a body", "NOT_NULL")
        )


def _write_items(work: Work, rec: Record, row: Template) -> None:
    items = rec.extras.get("items")
    if items is None:
        return
    work.session.execute(
        delete(TemplateItem).where(
            tenant_filter(TemplateItem, work.scope), TemplateItem.template_id == row.id
        )
    )
    now = work.clock.now()
    for item in items:
        work.session.add(
            TemplateItem(
                id=new_id(),
                tenant_id=work.scope.tenant_id,
                template_id=row.id,
                sequence=item["sequence"],
                name=item["name"],
                notes=item.get("notes"),
                icon_name=item.get("icon_name"),
                created_at=now,
                updated_at=now,
            )
        )
    work.session.flush()


def _item_records(items: Sequence[TemplateItem]) -> list[dict[str, Any]]:
    return [
        {
            "id": str(i.id),
            "name": i.name,
            "notes": i.notes,
            "icon_name": i.icon_name,
            "sequence": i.sequence,
        }
        for i in sorted(items, key=lambda i: (i.sequence, i.id))
    ]


def _extra_changes(session: Session, rec: Record, row: Template) -> dict[str, Any]:
    items = rec.extras.get("items")
    if items is None:
        return {}
    current = session.scalars(
        scoped(TemplateItem, TenantScope(row.tenant_id)).where(TemplateItem.template_id == row.id)
    )
    old = [{k: v for k, v in d.items() if k != "id"} for d in _item_records(list(current))]
    new = [
        {
            "name": i["name"],
            "notes": i.get("notes"),
            "icon_name": i.get("icon_name"),
            "sequence": i["sequence"],
        }
        for i in sorted(items, key=lambda i: i["sequence"])
    ]
    return {} if old == new else {"items": (old, new)}


def _extras(
    session: Session, scope: TenantScope, rows: Sequence[Any], _mode: str
) -> dict[Any, dict[str, Any]]:
    items = load_children(
        session, scope, TemplateItem, "template_id", [r.id for r in rows], [TemplateItem.sequence]
    )
    return {r.id: {"body": r.body, "items": _item_records(items.get(r.id, []))} for r in rows}


# ---------------------------------------------------------------- writes


def create_template(work: Work, body: Any) -> Template:
    row: Template = service.create(work, TEMPLATES, body)
    if row.created_by is None and work.origin.api_key_id is not None:
        row.created_by = work.origin.api_key_id
        work.session.flush()
    return row


def update_template(work: Work, id_: uuid.UUID, body: Any) -> Template:
    row: Template = service.update_record(work, TEMPLATES, id_, body)
    return row


def delete_template(work: Work, id_: uuid.UUID) -> None:
    """Hard delete; records made from the template keep their data (template_id → null)."""
    row = service.get_row(work.session, work.scope, TEMPLATES, id_, for_update=True)
    service.record_delete(work, TEMPLATES, row, hard=True)
    work.session.delete(row)
    work.session.flush()


def apply_template(work: Work, id_: uuid.UUID, body: Any) -> tuple[list[Substep], uuid.UUID]:
    """Append a substeps template's items to an operation (§9.4): sequences continue after
    the operation's highest, one `substep.created` each, all in the caller's transaction."""
    template = service.get_row(work.session, work.scope, TEMPLATES, id_)
    errors: list[Detail] = []
    raw_op = body.get("operation_id") if isinstance(body, dict) else None
    operation_id: uuid.UUID | None = None
    try:
        operation_id = F.ref_id("operation_id").coerce(raw_op) if raw_op is not None else None
    except FieldError as err:
        errors.append(err.detail("operation_id", raw_op))
    if raw_op is None:
        errors.append(Detail("operation_id", "Missing required field: operation_id", "NOT_NULL"))
    items = list(
        work.session.scalars(
            scoped(TemplateItem, work.scope)
            .where(TemplateItem.template_id == template.id)
            .order_by(TemplateItem.sequence, TemplateItem.id)
        )
    )
    if _value(template.kind) != TemplateKind.substeps.value or not items:
        errors.append(
            Detail(
                "id",
                f"template '{template.name}' is not a substeps template with at least one item",
                "INVALID_VALUE",
                str(template.id),
            )
        )
    op = None
    if operation_id is not None:
        op = work.session.scalars(
            scoped(Operation, work.scope, include_deleted=False)
            .where(Operation.id == operation_id)
            .with_for_update(key_share=True)
        ).first()
        if op is None:
            errors.append(
                Detail(
                    "operation_id",
                    f'Operation with id "{operation_id}" not found',
                    "REFERENCE_NOT_FOUND",
                    str(operation_id),
                )
            )
    if errors or op is None:
        raise ValidationFailed("substep_template", errors)
    substeps = get_spec("substeps")
    highest = work.session.scalar(
        scoped(Substep, work.scope)
        .with_only_columns(func.max(Substep.sequence))
        .where(Substep.operation_id == op.id)
    )
    created: list[Substep] = []
    for offset, item in enumerate(items, start=1):
        rec = Record(
            values={
                "operation_id": op.id,
                "name": item.name,
                "notes": item.notes,
                "icon_name": item.icon_name,
                "sequence": min((highest or 0) + offset, F.INT32_MAX),
                "status": "not_started",
            }
        )
        created.append(service.insert_tree(work, substeps, rec))
    return created, op.id


TEMPLATES = EntitySpec(
    name="templates",
    singular="template",
    model=Template,
    fields=(
        F.ident("name", 200, required=True),
        F.enum("kind", TemplateKind, "substeps"),
        F.long_text("description"),
        F.short("operation_type", 100, trim=True),
        F.read_only("is_global", Kind.boolean),
        # written from the `body` input by _prepare; rendered by _extras after the timestamps
        F.Field("body", Kind.object, read_only=True, output=False),
    ),
    synced=False,
    soft_delete=False,
    unique=(UniqueRule(("name",), live_only=False),),
    natural_key="name",
    listing=ListOptions(
        exact={"kind": Kind.enum, "operation_type": Kind.string, "is_global": Kind.boolean},
        search=("name", "description"),
        sortable=("name", "kind", "operation_type", "created_at", "updated_at"),
        default_sort=("name", "asc"),
    ),
    render_extras=_extras,
    extra_inputs={"items": _items_input, "body": _body_input},
    extra_input_schemas={
        "body": {
            "type": ["object", "null"],
            "description": "part and job templates: a create body",
        },
        "items": {
            "type": "array",
            "maxItems": ITEMS_MAX,
            "items": step_input_schema("Measure the hole pattern against the drawing"),
        },
    },
    prepare=_prepare,
    after_write=_write_items,
    extra_changes=_extra_changes,
    custom_filters={
        # there are no global templates: `is_global=true` matches nothing
        "is_global": lambda stmt, value: stmt.where(Template.id.is_(None)) if value else stmt,
    },
    embeds={"body": {"type": ["object", "null"]}, "items": {"type": "array"}},
)
