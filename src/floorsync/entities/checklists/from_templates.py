"""Records made from templates through the ordinary creates (api-catalogue-completion §9.3).

There is no "instantiate" endpoint: `POST /api-jobs` and `POST /api-parts` (and each nested part
of a job) accept `template_id` / `template_name`, and the template's body is merged with the
request before the create validates it — top-level request fields replace the template's,
`metadata` merges one level deep (request keys win), a request `parts` / `operations` array
replaces the template's — so validation, references, the one transaction, the events and the
response are the create's own; the record then keeps `template_id`. Operations (direct, nested,
and inside template bodies) accept `substeps[]` and `substep_template_id`: the explicit steps
first, then the template's items, numbered 1, 2, …, each with `substep.created`.

Only creates accept these inputs (sync carries the ERP's whole state: `EntitySpec.create_only`).
"""

import uuid
from collections.abc import Callable
from typing import Any

from floorsync.db.repository import scoped
from floorsync.db.uow import Work
from floorsync.entities import fields as F
from floorsync.entities import service
from floorsync.entities.fields import FieldError
from floorsync.entities.spec import get_spec
from floorsync.entities.validation import ExtraErrors, Record, join
from floorsync.errors import Detail, ValidationFailed
from floorsync.models.catalogue import Template, TemplateItem
from floorsync.models.enums import TemplateKind

TEMPLATE_INPUTS = frozenset({"template_id", "template_name"})
OPERATION_INPUTS = frozenset({"substeps", "substep_template_id"})
SUBSTEPS_MAX = 200

_TEMPLATE_ID = F.ref_id("template_id")
_TEMPLATE_NAME = F.ident("template_name", 200)
_STEP_FIELDS = (
    F.ident("name", 255, required=True),
    F.long_text("notes"),
    F.short("icon_name", 100),
    F.integer("sequence", min_value=1),
)


def _value(x: Any) -> Any:
    return x.value if hasattr(x, "value") else x


# ---------------------------------------------------------------- operation inputs


def substeps_input(value: Any, where: str) -> list[dict[str, Any]]:
    """`substeps`: ≤200 of {name, notes, icon_name, sequence}; the order given is kept."""
    if not isinstance(value, list):
        raise ExtraErrors([Detail(where, "substeps must be an array", "TYPE_MISMATCH")])
    if len(value) > SUBSTEPS_MAX:
        raise ExtraErrors(
            [
                Detail(
                    where,
                    f"substeps must have at most {SUBSTEPS_MAX} items",
                    "MAX_LENGTH",
                    len(value),
                )
            ]
        )
    errors: list[Detail] = []
    out: list[dict[str, Any]] = []
    known = {f.name for f in _STEP_FIELDS}
    for i, item in enumerate(value):
        at = f"{where}[{i}]"
        if not isinstance(item, dict):
            errors.append(Detail(at, "each substep must be an object", "TYPE_MISMATCH"))
            continue
        errors.extend(
            Detail(f"{at}.{key}", f"Unknown field: {key}", "UNKNOWN_FIELD", item[key])
            for key in item
            if key not in known
        )
        clean: dict[str, Any] = {}
        for f in _STEP_FIELDS:
            raw = item.get(f.name)
            if raw is None:
                if f.required:
                    errors.append(
                        Detail(f"{at}.{f.name}", f"Missing required field: {f.name}", "NOT_NULL")
                    )
                continue
            try:
                clean[f.name] = f.coerce(raw)
            except FieldError as err:
                errors.append(err.detail(f"{at}.{f.name}", raw))
        out.append(clean)
    if errors:
        raise ExtraErrors(errors)
    return out


def substep_template_input(value: Any, where: str) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(str(_TEMPLATE_ID.coerce(value)))
    except FieldError as err:
        raise ExtraErrors([err.detail(where, value)]) from None


def step_input_schema(example: str) -> dict[str, Any]:
    """One checklist step as an input: an operation's `substeps[]` and a substeps template's
    `items[]` take the same shape."""
    return {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 255, "examples": [example]},
            "notes": {"type": ["string", "null"], "maxLength": 10000},
            "icon_name": {"type": ["string", "null"], "maxLength": 100},
            "sequence": {"type": "integer", "minimum": 1},
        },
    }


SUBSTEPS_SCHEMA = {
    "type": "array",
    "maxItems": SUBSTEPS_MAX,
    "writeOnly": True,
    "description": "create only: checklist steps to create with the operation",
    "items": step_input_schema("Check the first piece against the drawing"),
}
SUBSTEP_TEMPLATE_SCHEMA = {
    "type": ["string", "null"],
    "format": "uuid",
    "writeOnly": True,
    "description": "create only: a substeps template whose items become the operation's substeps",
}
TEMPLATE_INPUT_SCHEMAS = {
    "template_id": {
        "type": ["string", "null"],
        "format": "uuid",
        "writeOnly": True,
        "description": "create only: the template the record is made from (§9.3)",
    },
    "template_name": {
        "type": ["string", "null"],
        "maxLength": 200,
        "writeOnly": True,
        "description": "create only: the template's name instead of its id",
    },
}


def create_substeps(work: Work, rec: Record) -> None:
    """After an operation's create: its explicit substeps, then its template's items."""
    steps = list(rec.extras.get("substeps") or ())
    template_id = rec.extras.get("substep_template_id")
    if template_id is not None:
        template = _load(work, template_id, None)
        where = join(rec.path, "substep_template_id")
        if template is None:
            raise ValidationFailed(
                "operation", [_not_found(where, "id", str(template_id), template_id)]
            )
        if _value(template.kind) != TemplateKind.substeps.value:
            raise ValidationFailed(
                "operation", [_wrong_kind(where, template, TemplateKind.substeps.value)]
            )
        items = work.session.scalars(
            scoped(TemplateItem, work.scope)
            .where(TemplateItem.template_id == template.id)
            .order_by(TemplateItem.sequence, TemplateItem.id)
        )
        steps.extend({"name": i.name, "notes": i.notes, "icon_name": i.icon_name} for i in items)
    if not steps or rec.new_id is None:
        return
    spec = get_spec("substeps")
    for number, step in enumerate(steps, start=1):
        values = {
            "operation_id": rec.new_id,
            "name": step["name"],
            "notes": step.get("notes"),
            "icon_name": step.get("icon_name"),
            "sequence": step.get("sequence") or number,
            "status": "not_started",
        }
        service.insert_tree(work, spec, Record(values=values))


# ---------------------------------------------------------------- job and part templates


def _load(work: Work, id_: uuid.UUID | None, name: str | None) -> Template | None:
    stmt = scoped(Template, work.scope)
    stmt = stmt.where(Template.id == id_) if id_ is not None else stmt.where(Template.name == name)
    return work.session.scalars(stmt.limit(1)).first()


def _not_found(where: str, how: str, shown: str, value: Any) -> Detail:
    return Detail(
        where,
        f'Template with {how} "{shown}" not found',
        "REFERENCE_NOT_FOUND",
        str(value) if isinstance(value, uuid.UUID) else value,
    )


def _wrong_kind(where: str, template: Template, wanted: str) -> Detail:
    return Detail(
        where,
        f"template '{template.name}' is a {_value(template.kind)} template; "
        f"a {wanted} template is required",
        "INVALID_VALUE",
        str(template.id),
    )


def _template_of(
    work: Work, body: dict[str, Any], kind: str, path: str, errors: list[Detail]
) -> Template | None:
    """The template a create body names by `template_id` and/or `template_name`, or None."""
    raw_id, raw_name = body.get("template_id"), body.get("template_name")
    id_field, name_field = join(path, "template_id"), join(path, "template_name")
    by_id = by_name = None
    if raw_id is not None:
        try:
            tid = uuid.UUID(str(_TEMPLATE_ID.coerce(raw_id)))
        except FieldError as err:
            errors.append(err.detail(id_field, raw_id))
            return None
        by_id = _load(work, tid, None)
        if by_id is None:
            errors.append(_not_found(id_field, "id", str(tid), raw_id))
            return None
    if raw_name is not None:
        try:
            name = str(_TEMPLATE_NAME.coerce(raw_name))
        except FieldError as err:
            errors.append(err.detail(name_field, raw_name))
            return None
        by_name = _load(work, None, name)
        if by_name is None:
            errors.append(_not_found(name_field, "name", name, raw_name))
            return None
    if by_id is not None and by_name is not None and by_id.id != by_name.id:
        errors.append(
            Detail(
                name_field,
                "template_id and template_name name different templates",
                "REFERENCE_MISMATCH",
                raw_name,
            )
        )
        return None
    template = by_id or by_name
    if template is not None and _value(template.kind) != kind:
        errors.append(_wrong_kind(id_field if by_id else name_field, template, kind))
        return None
    return template


def _merge(entity: str, template_body: Any, request: dict[str, Any]) -> dict[str, Any]:
    """Each request field replaces the template's (aliases count as their field); `metadata`
    merges one level deep, request keys winning."""
    aliases = get_spec(entity).aliases
    merged = dict(template_body) if isinstance(template_body, dict) else {}
    for key, value in request.items():
        canonical = aliases.get(key, key)
        inherited = [k for k in merged if aliases.get(k, k) == canonical]
        base = merged.get("metadata") if canonical == "metadata" else None
        for k in inherited:
            del merged[k]
        if isinstance(base, dict) and isinstance(value, dict):
            value = {**base, **value}
        merged[key] = value
    return merged


def _strip(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in TEMPLATE_INPUTS}


def _expand_parts(
    work: Work, parts: Any, path: str, errors: list[Detail]
) -> tuple[Any, list[uuid.UUID | None]]:
    """The nested parts of a job body, each merged with the part template it names."""
    if not isinstance(parts, list):
        return parts, []
    out: list[Any] = []
    ids: list[uuid.UUID | None] = []
    for i, part in enumerate(parts):
        if not isinstance(part, dict) or TEMPLATE_INPUTS.isdisjoint(part):
            out.append(part)
            ids.append(None)
            continue
        template = _template_of(work, part, TemplateKind.part.value, f"{path}[{i}]", errors)
        out.append(_merge("parts", template.body, _strip(part)) if template else _strip(part))
        ids.append(template.id if template else None)
    return out, ids


def _stamper(
    top: uuid.UUID | None, key: str | None, kids: list[uuid.UUID | None]
) -> Callable[[Record], None] | None:
    if top is None and not any(kids):
        return None

    def stamp(rec: Record) -> None:
        if top is not None:
            rec.values["template_id"] = top
        if key is not None:
            for kid, tid in zip(rec.children.get(key, []), kids, strict=False):
                if tid is not None:
                    kid.values["template_id"] = tid

    return stamp


def expand_job(work: Work, body: Any) -> tuple[Any, Callable[[Record], None] | None]:
    """`POST /api-jobs` with `template_id` / `template_name` (a job template), and nested parts
    naming part templates."""
    if not isinstance(body, dict):
        return body, None
    errors: list[Detail] = []
    template = None
    merged = body
    if not TEMPLATE_INPUTS.isdisjoint(body):
        template = _template_of(work, body, TemplateKind.job.value, "", errors)
        merged = _merge("jobs", template.body, _strip(body)) if template else _strip(body)
    parts, kids = _expand_parts(work, merged.get("parts"), "parts", errors)
    if kids:
        merged = {**merged, "parts": parts}
    if errors:
        raise ValidationFailed("job", errors)
    return merged, _stamper(template.id if template else None, "parts", kids)


def expand_part(work: Work, body: Any) -> tuple[Any, Callable[[Record], None] | None]:
    """`POST /api-parts` with `template_id` / `template_name` (a part template)."""
    if not isinstance(body, dict) or TEMPLATE_INPUTS.isdisjoint(body):
        return body, None
    errors: list[Detail] = []
    template = _template_of(work, body, TemplateKind.part.value, "", errors)
    if errors:
        raise ValidationFailed("part", errors)
    if template is None:  # both given as null
        return _strip(body), None
    return _merge("parts", template.body, _strip(body)), _stamper(template.id, None, [])
