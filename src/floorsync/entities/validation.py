"""Validate one input record against an entity spec: aliases, unknown and read-only fields,
types and limits, required fields, references given, and nested children.

Pure: no database. Every error is collected with its nested path; nothing stops at the first.
"""

import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from floorsync.entities.fields import FieldError
from floorsync.entities.spec import ALWAYS_READ_ONLY, EntitySpec, get_spec
from floorsync.errors import Detail

Mode = Literal["create", "patch", "sync"]

_EMBED_KEYS = frozenset(
    {"job", "part", "cell", "operation", "operations_count", "operations_assigned"}
)


def join(path: str, name: str) -> str:
    if not path:
        return name
    return f"{path}{name}" if name.startswith("[") else f"{path}.{name}"


@dataclass
class Record:
    """A validated input record: canonical stored values of the fields that were present."""

    values: dict[str, Any] = field(default_factory=dict)
    refs: dict[str, Any] = field(default_factory=dict)  # reference inputs as given (ids coerced)
    children: dict[str, list["Record"]] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)  # entity-specific inputs (resources)
    errors: list[Detail] = field(default_factory=list)
    path: str = ""
    raw: dict[str, Any] = field(default_factory=dict)
    # The id the record's row will get, chosen before references are resolved so that nested
    # children know their parent (a create); None when the writer picks it at insert time.
    new_id: uuid.UUID | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and all(c.ok for cs in self.children.values() for c in cs)

    def all_errors(self) -> list[Detail]:
        out = list(self.errors)
        for cs in self.children.values():
            for c in cs:
                out.extend(c.all_errors())
        return out


def map_aliases(
    spec: EntitySpec, raw: dict[str, Any], path: str, errors: list[Detail]
) -> dict[str, Any]:
    """Replace aliases by their canonical names; an alias that disagrees is ALIAS_CONFLICT."""
    out = {k: v for k, v in raw.items() if k not in spec.aliases}
    seen_from: dict[str, str] = {}
    for alias, canonical in spec.aliases.items():
        if alias not in raw:
            continue
        value = raw[alias]
        if canonical in out and not _same_input(spec, canonical, out[canonical], value):
            other = seen_from.get(canonical, canonical)
            errors.append(
                Detail(
                    join(path, alias), f"{alias} conflicts with {other}", "ALIAS_CONFLICT", value
                )
            )
            continue
        out[canonical] = value
        seen_from.setdefault(canonical, alias)
    return out


def _same_input(spec: EntitySpec, canonical: str, a: Any, b: Any) -> bool:
    """Equal as given, or equal once coerced (" Acme " and "Acme", 5 and "5")."""
    if a == b and type(a) is type(b):
        return True
    f = spec.writable.get(canonical)
    if f is None or a is None or b is None:
        return False
    try:
        return bool(f.coerce(a) == f.coerce(b))
    except FieldError:
        return False


# How a key of an input object is handled, per entity (compiled once, see _routes).
_FIELD, _REF_INPUT, _CHILD, _EXTRA, _IGNORED = range(5)
Route = tuple[int, Any]
_ROUTES: dict[int, tuple[EntitySpec, dict[str, Route]]] = {}


def _routes(spec: EntitySpec) -> dict[str, Route]:
    """Key → (what it is, its field / child / parser) for every key an entity knows; any other
    key is unknown. Nested-parent inputs and the patch mode are checked before this."""
    hit = _ROUTES.get(id(spec))
    if hit is not None and hit[0] is spec:
        return hit[1]
    routes: dict[str, Route] = {}
    ignored = ALWAYS_READ_ONLY | spec.by_name.keys() | _EMBED_KEYS | {c.key for c in spec.children}
    for key in ignored:
        routes[key] = (_IGNORED, None)  # read-only on input: a client may send back what it read
    for key, parse in spec.extra_inputs.items():
        routes[key] = (_EXTRA, parse)
    for child in spec.children:
        routes[child.key] = (_CHILD, child)
    for key in spec.ref_inputs:
        routes[key] = (_REF_INPUT, None)
    for key, f in spec.writable.items():
        routes[key] = (_FIELD, f)
    _ROUTES[id(spec)] = (spec, routes)
    return routes


def validate_record(
    spec: EntitySpec,
    raw: Any,
    mode: Mode,
    *,
    path: str = "",
    implied_parent: str | None = None,
    inherited_source: str | None = None,
) -> Record:
    """Validate one input object (and its nested children) in named steps: aliases, each
    key by what it is, required fields and references, the external key."""
    rec = Record(path=path, raw=raw if isinstance(raw, dict) else {})
    if not isinstance(raw, dict):
        rec.errors.append(
            Detail(path or "body", f"{spec.singular} must be a JSON object", "TYPE_MISMATCH")
        )
        return rec
    data = map_aliases(spec, raw, path, rec.errors) if _has_alias(spec, raw) else raw
    if (
        implied_parent is not None
        and inherited_source is not None
        and data.get("external_source") is None
        and "external_id" in data
    ):
        data = {**data, "external_source": inherited_source}
    _take_keys(rec, spec, data, mode, implied_parent)
    if mode != "patch":
        _check_required(rec, spec, data, implied_parent)
    if mode == "sync":
        _check_sync_key(rec)
    elif spec.synced:
        _check_external_pair(rec, data, path)
    return rec


def _has_alias(spec: EntitySpec, raw: dict[str, Any]) -> bool:
    return bool(spec.aliases) and not raw.keys().isdisjoint(spec.aliases)


def _take_keys(
    rec: Record, spec: EntitySpec, data: dict[str, Any], mode: Mode, implied_parent: str | None
) -> None:
    """Each key of the input by what it is: a field (coerced), a reference input, a child
    array, an entity-specific input, a read-only key (ignored), or unknown."""
    parent_inputs = _parent_inputs(spec, implied_parent)
    routes = _routes(spec)
    for key, value in data.items():
        if parent_inputs and key in parent_inputs:
            rec.errors.append(
                Detail(
                    join(rec.path, key),
                    f"{key} cannot be given on a nested {spec.singular}; the parent is implied",
                    "UNKNOWN_FIELD",
                )
            )
            continue
        if key in spec.create_only and mode != "create" and not _sent_back(spec, key, mode):
            rec.errors.append(
                Detail(
                    join(rec.path, key),
                    f"Unknown field: {key} (accepted on creates only, not by {mode})",
                    "UNKNOWN_FIELD",
                    value,
                )
            )
            continue
        route = routes.get(key)
        if route is None:
            rec.errors.append(
                Detail(join(rec.path, key), f"Unknown field: {key}", "UNKNOWN_FIELD", value)
            )
            continue
        kind, target = route
        if kind == _FIELD:
            _take_field(rec, spec, target, key, value, mode)
        elif kind == _REF_INPUT:
            _take_ref_input(rec, key, value, join(rec.path, key))
        elif kind == _CHILD:
            if mode != "patch":
                _validate_children(
                    rec, spec, target, value, mode, join(rec.path, key), data.get("external_source")
                )
        elif kind == _EXTRA:
            try:
                rec.extras[key] = target(value, join(rec.path, key))
            except _ExtraErrors as errs:
                rec.errors.extend(errs.details)


def _sent_back(spec: EntitySpec, key: str, mode: Mode) -> bool:
    """A PATCH may send back a read-only value it read (a job's `template_id`): ignored."""
    f = spec.by_name.get(key)
    return mode == "patch" and f is not None and f.read_only


def _parent_inputs(spec: EntitySpec, implied_parent: str | None) -> set[str]:
    """The keys a nested child may not give: its parent's id and the parent's other forms."""
    if not implied_parent:
        return set()
    parent_ref = spec.refs_by_id_field.get(implied_parent)
    return {implied_parent, *(parent_ref.input_fields if parent_ref else ())}


def _take_field(rec: Record, spec: EntitySpec, f: Any, key: str, value: Any, mode: Mode) -> None:
    """A writable field: null is a default, a clear or an error by the field's rules; any other
    value is coerced (a reference id goes to `refs`, to be resolved)."""
    if value is None:
        if f.required:
            rec.errors.append(_missing(f.name, f.kind.value, join(rec.path, key)))
        elif f.default is not None and f.default_value() is not None:
            rec.values[key] = f.default_value()
        elif not f.nullable and mode == "patch":
            rec.errors.append(Detail(join(rec.path, key), f"{f.name} cannot be null", "NOT_NULL"))
        elif f.nullable:
            rec.values[key] = None
        return
    try:
        coerced = f.coerce(value)
    except FieldError as err:
        rec.errors.append(err.detail(join(rec.path, key), value))
        return
    if key in spec.refs_by_id_field:
        rec.refs[key] = coerced
    else:
        rec.values[key] = coerced


def _check_required(
    rec: Record, spec: EntitySpec, data: dict[str, Any], implied_parent: str | None
) -> None:
    """Required fields and required references (create and sync)."""
    for f in spec.writable.values():
        if f.required and f.name not in data and f.name not in spec.refs_by_id_field:
            rec.errors.append(_missing(f.name, f.kind.value, join(rec.path, f.name)))
    for ref in spec.refs:
        if ref.required and ref.id_field != implied_parent and not _ref_given(rec, ref):
            rec.errors.append(_missing(ref.id_field, "uuid", join(rec.path, ref.id_field)))


def _check_sync_key(rec: Record) -> None:
    """A synced record needs its external key (unless that field already has an error)."""
    for key in ("external_id", "external_source"):
        if rec.values.get(key) is None:
            where = join(rec.path, key)
            if not any(d.field == where for d in rec.errors):
                rec.errors.append(Detail(where, f"{key} is required", "NOT_NULL"))


def _missing(name: str, kind: str, where: str) -> Detail:
    what = "string field" if kind in ("string", "text") else "field"
    return Detail(where, f"Missing required {what}: {name}", "NOT_NULL")


def _ref_given(rec: Record, ref: Any) -> bool:
    return any(
        rec.refs.get(k) is not None for k in (ref.id_field, ref.ext_field, ref.name_field) if k
    )


def _take_ref_input(rec: Record, key: str, value: Any, where: str) -> None:
    if value is None:
        rec.refs[key] = None
        return
    if not isinstance(value, str) or not value.strip():
        rec.errors.append(
            Detail(where, f"{key} must be a non-empty string", "TYPE_MISMATCH", value)
        )
        return
    if "\x00" in value or len(value) > 255:
        rec.errors.append(
            Detail(where, f"{key} must be at most 255 characters", "MAX_LENGTH", value)
        )
        return
    rec.refs[key] = value.strip()


def _check_external_pair(rec: Record, data: dict[str, Any], path: str) -> None:
    has_id, has_source = "external_id" in data, "external_source" in data
    if has_id != has_source or (
        has_id
        and (rec.values.get("external_id") is None) != (rec.values.get("external_source") is None)
    ):
        missing = "external_source" if has_id else "external_id"
        rec.errors.append(
            Detail(
                join(path, missing),
                "external_id and external_source must be given together",
                "NOT_NULL",
            )
        )


def _validate_children(
    rec: Record, _spec: EntitySpec, child: Any, value: Any, mode: Mode, where: str, source: Any
) -> None:
    if value is None:
        return
    if not isinstance(value, list):
        rec.errors.append(Detail(where, f"{child.key} must be an array", "TYPE_MISMATCH"))
        return
    child_spec = get_spec(child.entity)
    inherited = source if isinstance(source, str) else None
    rec.children[child.key] = [
        validate_record(
            child_spec,
            item,
            mode,
            path=f"{where}[{i}]",
            implied_parent=child.parent_ref,
            inherited_source=inherited,
        )
        for i, item in enumerate(value)
    ]
    for unique_field in child.sibling_unique:
        seen: dict[Any, int] = {}
        for i, item in enumerate(rec.children[child.key]):
            val = item.values.get(unique_field)
            if val is None:
                continue
            if val in seen:
                item.errors.append(
                    Detail(
                        f"{where}[{i}].{unique_field}",
                        f"duplicate {unique_field} {val!r} (also in {child.key}[{seen[val]}])",
                        "UNIQUE_CONSTRAINT",
                        val,
                    )
                )
            else:
                seen[val] = i


class _ExtraErrors(Exception):
    def __init__(self, details: list[Detail]) -> None:
        super().__init__("invalid")
        self.details = details


ExtraErrors = _ExtraErrors
