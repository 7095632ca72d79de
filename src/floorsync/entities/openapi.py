"""OpenAPI schemas generated from the entity specs, so the docs describe what the code does."""

from typing import Any

from floorsync.entities.fields import Field, Kind
from floorsync.entities.listing import TIME_FILTERS
from floorsync.entities.spec import EntitySpec, get_spec

_KIND_SCHEMA: dict[Kind, dict[str, Any]] = {
    Kind.string: {"type": "string"},
    Kind.text: {"type": "string"},
    Kind.integer: {"type": "integer"},
    Kind.number: {"type": "number"},
    Kind.boolean: {"type": "boolean"},
    Kind.timestamp: {"type": "string", "format": "date-time"},
    Kind.uuid: {"type": "string", "format": "uuid"},
    Kind.enum: {"type": "string"},
    Kind.object: {"type": "object"},
    Kind.string_list: {"type": "array", "items": {"type": "string"}},
    Kind.country: {"type": "string", "minLength": 2, "maxLength": 2},
}


def field_schema(f: Field) -> dict[str, Any]:
    schema = dict(_KIND_SCHEMA[f.kind])
    if f.choices:
        schema["enum"] = list(f.choices)
    if f.max_len is not None and f.kind in (Kind.string, Kind.text):
        schema["maxLength"] = f.max_len
    if f.min_len is not None and f.kind in (Kind.string, Kind.text):
        schema["minLength"] = f.min_len
    if f.min_value is not None:
        schema["minimum"] = float(f.min_value) if f.kind is Kind.number else int(f.min_value)
    if f.max_value is not None and not f.exclusive_max:
        schema["maximum"] = float(f.max_value) if f.kind is Kind.number else int(f.max_value)
    if f.read_only:
        schema["readOnly"] = True
    return {"anyOf": [schema, {"type": "null"}]} if not f.required else schema


_DATE_OR_TIME = [
    {"type": "string", "format": "date", "description": "a date alone is midnight UTC"},
    {"type": "string", "format": "date-time", "description": "RFC 3339, stored in UTC"},
]


def _accepting_dates(schema: dict[str, Any]) -> dict[str, Any]:
    """A timestamp input (`due_date`, …) takes a plain date (`2026-12-31`) or a date-time."""
    if "anyOf" in schema:  # nullable
        return {"anyOf": [*_DATE_OR_TIME, {"type": "null"}]}
    return {"anyOf": list(_DATE_OR_TIME)}


def input_schema(spec: EntitySpec, *, nested: bool = False, mode: str = "create") -> dict[str, Any]:
    """The JSON body a create (or, with `mode`, a sync or a PATCH) takes; the create-only
    inputs (§9.3 templates, an operation's substeps) appear on creates only."""
    props: dict[str, Any] = {}
    for f in spec.fields:
        if not f.read_only:
            props[f.name] = (
                _accepting_dates(field_schema(f)) if f.kind is Kind.timestamp else field_schema(f)
            )
    for ref in spec.refs:
        for name in ref.input_fields:
            props[name] = {
                "type": "string",
                "description": f"reference to a {ref.label.lower()} (alternative to {ref.id_field})",
            }
    for alias, canonical in spec.aliases.items():
        props[alias] = {"description": f"alias of {canonical}"}
    for extra in spec.extra_inputs:
        props[extra] = spec.extra_input_schemas.get(
            extra, {"type": "array", "items": {"type": "object"}}
        )
    for key in sorted(spec.create_only):  # template references (create only, §9.3)
        if mode != "create":
            props.pop(key, None)
        elif key not in props and key in spec.extra_input_schemas:
            props[key] = spec.extra_input_schemas[key]
    if not nested:
        for child in spec.children:
            props[child.key] = {
                "type": "array",
                "items": input_schema(get_spec(child.entity), nested=True, mode=mode),
            }
    required = [
        f.name
        for f in spec.fields
        if f.required and not f.read_only and f.name not in spec.refs_by_id_field
    ]
    return {
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": False,
    }


_NULLABLE_TEXT = {"anyOf": [{"type": "string"}, {"type": "null"}]}
_NULLABLE_TS = {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]}
_TIMESTAMP = {"type": "string", "format": "date-time", "readOnly": True}


def record_schema(spec: EntitySpec) -> dict[str, Any]:
    """A record as written (render.base_record): id, the fields, the sync block, the embeds and
    child arrays of `spec.embeds`, then metadata."""
    props: dict[str, Any] = {"id": {"type": "string", "format": "uuid", "readOnly": True}}
    for f in spec.wire_fields():
        props[f.name] = field_schema(f)
    if spec.synced:
        props["external_id"] = props["external_source"] = _NULLABLE_TEXT
        props["synced_at"] = {**_NULLABLE_TS, "readOnly": True}
        props["sync_hash"] = {**_NULLABLE_TEXT, "readOnly": True}
    props["created_at"] = props["updated_at"] = _TIMESTAMP
    if spec.soft_delete:
        props["deleted_at"] = {**_NULLABLE_TS, "readOnly": True}
        props["deleted_by"] = {
            "anyOf": [{"type": "string", "format": "uuid"}, {"type": "null"}],
            "readOnly": True,
        }
    base = list(props)
    props.update(spec.embeds)
    if spec.has_metadata:
        props["metadata"] = {"type": "object"}
        base.append("metadata")
    return {"type": "object", "properties": props, "required": base}


def obj(*names: str, nullable: bool = False, **typed: Any) -> dict[str, Any]:
    """A small object schema for embeds: `names` are strings (ids as uuids), `typed` the rest."""
    props: dict[str, Any] = {
        n: {"type": "string", "format": "uuid"}
        if n == "id" or (n.endswith("_id") and n != "external_id")
        else _NULLABLE_TEXT
        for n in names
    }
    props.update(typed)
    schema: dict[str, Any] = {"type": "object", "properties": props, "readOnly": True}
    return {"anyOf": [schema, {"type": "null"}]} if nullable else schema


def envelope(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"success": {"type": "boolean", "const": True}, "data": data},
    }


ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "success": {"type": "boolean", "const": False},
        "error": {
            "type": "object",
            "required": ["code", "message", "statusCode"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "statusCode": {"type": "integer"},
                "details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["field", "message", "constraint"],
                        "properties": {
                            "field": {"type": "string"},
                            "message": {"type": "string"},
                            "constraint": {"type": "string"},
                            "value": {},
                        },
                    },
                },
                "rateLimitInfo": {
                    "type": "object",
                    "description": "RATE_LIMIT_EXCEEDED only: {limit, remaining, resetAt, retryAfter} "
                    "(also the `value` of its one detail)",
                },
            },
        },
    },
}


def responses(ok_status: int, data_schema: dict[str, Any], *errors: int) -> dict[int | str, Any]:
    out: dict[int | str, Any] = {
        ok_status: {
            "description": "Success",
            "content": {"application/json": {"schema": envelope(data_schema)}},
        }
    }
    for status in (400, 401, *errors, 429):
        out[status] = {
            "description": "Error",
            "content": {"application/json": {"schema": ERROR_SCHEMA}},
        }
    return out


def json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def query(*params: tuple[str, dict[str, Any], str]) -> list[dict[str, Any]]:
    return [
        {"name": n, "in": "query", "required": False, "schema": s, "description": d}
        for n, s, d in params
    ]


def list_parameters(spec: EntitySpec) -> list[dict[str, Any]]:
    opts = spec.listing
    params: list[tuple[str, dict[str, Any], str]] = [
        ("id", {"type": "string", "format": "uuid"}, "return this one record instead of a list"),
        (
            "limit",
            {"type": "integer", "default": 100, "minimum": 1, "maximum": 1000},
            "page size (clamped to 1..1000)",
        ),
        ("offset", {"type": "integer", "default": 0, "minimum": 0}, "records to skip"),
        (
            "sort",
            {"type": "string", "enum": list(opts.sortable)},
            f"default {opts.default_sort[0]}",
        ),
        ("order", {"type": "string", "enum": ["asc", "desc"]}, f"default {opts.default_sort[1]}"),
        ("direction", {"type": "string", "enum": ["asc", "desc"]}, "synonym of `order`"),
        (
            "search",
            {"type": "string", "maxLength": 200},
            "substring over " + ", ".join(opts.search),
        ),
    ]
    if spec.soft_delete:
        params.append(("include_deleted", {"type": "boolean"}, "also return soft-deleted records"))
    for name, kind in opts.exact.items():
        f = spec.by_name.get(name)
        params.append((name, field_schema(f) if f else dict(_KIND_SCHEMA[kind]), "exact filter"))
    for name in opts.fuzzy:
        params.append((name, {"type": "string"}, "substring filter"))
    for name in opts.date_ranges:
        params.append((name, {"type": "string", "format": "date-time"}, "inclusive date range"))
    for name, (column, op) in TIME_FILTERS.items():
        if hasattr(spec.model, column):
            bound = "inclusive" if op == ">=" else "exclusive"
            params.append(
                (
                    name,
                    {"type": "string", "format": "date-time"},
                    f"{column} bound, {bound} (RFC 3339)",
                )
            )
    return query(*params)
