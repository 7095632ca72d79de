"""OpenAPI schemas generated from the entity specs, so the docs describe what the code does."""

from typing import Any

from floorsync.entities.example_values import ENTITY_EXAMPLES, example_for
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


# Units of the numeric fields, stated in the OpenAPI field descriptions and the README's
# "Units and time zones" table (tests/ops/test_openapi_complete.py checks that they agree).
UNITS: dict[str, str] = {
    "estimated_time": "minutes (an operation's: whole minutes; a batch's: decimal minutes)",
    "actual_time": "minutes, read-only: the closed time entries' durations (a batch's: set by stop)",
    "setup_time": "minutes (decimal)",
    "run_time_per_unit": "minutes per piece (decimal)",
    "wait_time": "minutes (decimal)",
    "changeover_time": "minutes (decimal)",
    "duration": "whole minutes, read-only: end_time - start_time - pauses",
    "actual_duration": "whole minutes, read-only: from started_at to completion",
    "capacity_hours_per_day": "hours per day (0-24)",
    "quantity": "pieces",
    "quantity_good": "pieces",
    "quantity_scrap": "pieces",
    "quantity_rework": "pieces",
    "quantity_produced": "pieces",
    "affected_quantity": "pieces",
    "package_count": "packages",
    "total_weight_kg": "kilograms",
    "weight_kg": "kilograms",
    "total_volume_m3": "cubic metres",
    "length_mm": "millimetres",
    "width_mm": "millimetres",
    "height_mm": "millimetres",
    "thickness": "millimetres",
    "thickness_mm": "millimetres",
    "size_bytes": "bytes",
    "completion_percentage": "percent (0-100)",
    "wip_limit": "operations in progress at the cell",
    "wip_warning_threshold": "operations in progress at the cell",
}
TIMESTAMP_NOTE = (
    "RFC 3339 / ISO 8601 date-time; an offset is converted, a date alone is midnight UTC; "
    "answered in UTC (`…Z`)"
)


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
    out: dict[str, Any] = {"anyOf": [schema, {"type": "null"}]} if not f.required else schema
    note = field_note(f.name, f.kind)
    if note:
        out["description"] = note
    return out


def field_note(name: str, kind: Kind | None = None) -> str | None:
    """The unit of a quantity or duration, or the time-zone rule of a timestamp."""
    if name in UNITS:
        return UNITS[name]
    if kind is Kind.timestamp:
        return TIMESTAMP_NOTE
    return None


_DATE_OR_TIME = [
    {"type": "string", "format": "date", "description": "a date alone is midnight UTC"},
    {"type": "string", "format": "date-time", "description": "RFC 3339, stored in UTC"},
]


def _accepting_dates(schema: dict[str, Any]) -> dict[str, Any]:
    """A timestamp input (`due_date`, …) takes a plain date (`2026-12-31`) or a date-time."""
    if "anyOf" in schema and {"type": "null"} in schema["anyOf"]:  # nullable
        return {"anyOf": [*_DATE_OR_TIME, {"type": "null"}], "description": TIMESTAMP_NOTE}
    return {"anyOf": list(_DATE_OR_TIME), "description": TIMESTAMP_NOTE}


def input_schema(spec: EntitySpec, *, mode: str = "create") -> dict[str, Any]:
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
        unit = UNITS.get(canonical)
        props[alias] = {"description": f"alias of {canonical}" + (f" ({unit})" if unit else "")}
    for extra in spec.extra_inputs:
        props[extra] = spec.extra_input_schemas.get(
            extra, {"type": "array", "items": {"type": "object"}}
        )
    for key in sorted(spec.create_only):  # template references (create only, §9.3)
        if mode != "create":
            props.pop(key, None)
        elif key not in props and key in spec.extra_input_schemas:
            props[key] = spec.extra_input_schemas[key]
    for child in spec.children:  # nested: a job's parts carry their operations too
        props[child.key] = {
            "type": "array",
            "items": input_schema(get_spec(child.entity), mode=mode),
        }
    for name, value in ENTITY_EXAMPLES.get(spec.name, {}).items():
        if name in props and "examples" not in props[name]:
            props[name] = {**props[name], "examples": [value]}
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
_NULLABLE_TS = {
    "anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}],
    "description": "UTC, RFC 3339 (`…Z`)",
}
_TIMESTAMP = {
    "type": "string",
    "format": "date-time",
    "readOnly": True,
    "description": "UTC, RFC 3339 (`…Z`)",
}


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
    props.update(
        {
            n: {**t, "description": UNITS[n]} if n in UNITS and "description" not in t else t
            for n, t in typed.items()
        }
    )
    schema: dict[str, Any] = {"type": "object", "properties": props, "readOnly": True}
    return {"anyOf": [schema, {"type": "null"}]} if nullable else schema


def envelope(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"success": {"type": "boolean", "const": True}, "data": data},
    }


# One field at fault (errors.Detail): in error bodies and per-record sync results.
DETAIL = {
    "type": "object",
    "required": ["field", "message", "constraint"],
    "properties": {
        "field": {"type": "string"},
        "message": {"type": "string"},
        "constraint": {"type": "string"},
        "value": {},
    },
}
PAGINATION = {
    "type": "object",
    "required": ["total", "offset", "limit"],
    "properties": {
        "total": {"type": "integer", "description": "exact count matching the filters"},
        "offset": {"type": "integer"},
        "limit": {"type": "integer", "description": "the effective limit"},
    },
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
                "details": {"type": "array", "items": DETAIL},
                "rateLimitInfo": {
                    "type": "object",
                    "description": "RATE_LIMIT_EXCEEDED only: {limit, remaining, resetAt, retryAfter} "
                    "(also the `value` of its one detail)",
                },
            },
        },
    },
}


ERROR_MEANINGS: dict[int, tuple[str, str, str]] = {
    400: (
        "Bad request: malformed JSON or `?id`, an unknown query parameter on a write, a bad filter",
        "BAD_REQUEST",
        "Unknown query parameter: dryrun (this endpoint accepts: dry_run, skip_unchanged, …)",
    ),
    401: ("Missing, unknown or revoked API key", "UNAUTHORIZED", "Invalid API key"),
    403: ("The key's role may not do this (admin only)", "FORBIDDEN", "Admin API key required"),
    404: (
        "No such record in this tenant",
        "NOT_FOUND",
        "jobs with ID 3f1c9a52-7d04-4e8b-9a61-0c2d5e7f8a91 not found",
    ),
    409: (
        "Conflict: a duplicate key, or a record still referenced",
        "CONFLICT",
        "job_number 'J-1001' already exists",
    ),
    410: (
        "The cursor is older than the retained history",
        "CURSOR_EXPIRED",
        "Cursor is older than the retained event history; resynchronise",
    ),
    413: (
        "The body is larger than the limit",
        "PAYLOAD_TOO_LARGE",
        "Request body exceeds the limit of 10485760 bytes",
    ),
    422: (
        "Validation failed: `details` names every field",
        "VALIDATION_ERROR",
        "✗ 1 validation error(s) in job",
    ),
    429: (
        "Rate limit exceeded: wait `Retry-After` seconds",
        "RATE_LIMIT_EXCEEDED",
        "Rate limit exceeded: 1000 requests per 60 seconds. Retry after 12 seconds.",
    ),
    503: ("Temporarily unavailable: retry later", "SERVICE_UNAVAILABLE", "Service unavailable"),
}


def error_response(status: int) -> dict[str, Any]:
    meaning, code, message = ERROR_MEANINGS[status]
    example: dict[str, Any] = {"code": code, "message": message, "statusCode": status}
    if status == 422:
        example["details"] = [
            {
                "field": "job_number",
                "message": "Missing required string field: job_number",
                "constraint": "NOT_NULL",
            }
        ]
    return {
        "description": meaning,
        "content": {
            "application/json": {
                "schema": ERROR_SCHEMA,
                "example": {"success": False, "error": example},
            }
        },
    }


def responses(
    ok_status: int,
    data_schema: dict[str, Any],
    *errors: int,
    example: Any = None,
    api_key: bool = True,
) -> dict[int | str, Any]:
    """The success envelope around `data_schema` (with `example` as its `data`) and the error
    responses: 400, 401 and 429 always (`api_key=False`: a route without an API key, hence
    without its 401 and its tenant's rate limit, answers only `errors`), plus `errors`."""
    media: dict[str, Any] = {"schema": envelope(data_schema)}
    if example is not None:
        media["example"] = {"success": True, "data": example}
    out: dict[int | str, Any] = {
        ok_status: {"description": "Success", "content": {"application/json": media}}
    }
    for status in sorted({*errors, *((400, 401, 429) if api_key else ())}):
        out[status] = error_response(status)
    return out


def json_body(
    schema: dict[str, Any],
    *,
    example: Any = None,
    examples: dict[str, Any] | None = None,
    required: bool = True,
) -> dict[str, Any]:
    """A JSON request body. Without `example`/`examples` one is built from the schema by
    `example_for` (realistic values by field name)."""
    media: dict[str, Any] = {"schema": schema}
    if examples:
        media["examples"] = {name: {"value": value} for name, value in examples.items()}
    else:
        media["example"] = example if example is not None else example_for(schema)
    return {"requestBody": {"required": required, "content": {"application/json": media}}}


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
        params.append(
            (
                name,
                {"type": "string", "format": "date-time"},
                "inclusive date range (RFC 3339 or a date; UTC unless an offset is given)",
            )
        )
    for name, (column, op) in TIME_FILTERS.items():
        if hasattr(spec.model, column):
            bound = "inclusive" if op == ">=" else "exclusive"
            params.append(
                (
                    name,
                    {"type": "string", "format": "date-time"},
                    f"{column} bound, {bound} (RFC 3339; UTC unless an offset is given)",
                )
            )
    return query(*params)
