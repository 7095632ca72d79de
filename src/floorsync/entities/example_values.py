"""Realistic example values for the OpenAPI request bodies (a small plant in Eindhoven): by
field name, per entity, and `example_for`, which builds a body's example from its schema.
tests/ops/test_openapi_complete.py checks that every example matches its schema."""

from typing import Any

# Realistic values by field name for the generated examples (a small plant in Eindhoven).
EXAMPLE_VALUES: dict[str, Any] = {
    "job_number": "J-1001",
    "customer": "Acme BV",
    "customer_name": "Acme BV",
    "due_date": "2026-12-31",
    "priority": 2,
    "notes": "Rush order: deliver before the plant shutdown",
    "part_number": "P-10",
    "quantity": 10,
    "material": "S235JR",
    "drawing_no": "DWG-4471-B",
    "operation_name": "Laser cutting",
    "sequence": 1,
    "cell_name": "Laser",
    "estimated_time": 45,
    "setup_time": 15,
    "run_time_per_unit": 2.5,
    "type": "machine",
    "external_source": "SAP",
    "operator_id": "B-17",
    "operator_name": "Ann de Vries",
    "full_name": "Ann de Vries",
    "employee_number": "E-1017",
    "time_type": "run",
    "start_time": "2026-12-01T07:30:00Z",
    "end_time": "2026-12-01T08:15:00Z",
    "duration": 45,
    "quantity_good": 9,
    "quantity_scrap": 1,
    "quantity_rework": 0,
    "scrap_reason_code": "BURR",
    "title": "Burr on cut edge",
    "severity": "medium",
    "category": "process",
    "role": "integration",
    "filename": "drawing-4471.pdf",
    "content_type": "application/pdf",
    "capacity_hours_per_day": 16,
    "location": "Hall 2",
    "thickness": 3,
    "weight_kg": 12.5,
    "completed": True,
    "batch_number": "B-2026-001",
    "color": "#1f77b4",
    # references by id: ids of records the caller made earlier (placeholders here)
    "job_id": "3f1c9a52-7d04-4e8b-9a61-0c2d5e7f8a91",
    "part_id": "8b2e4d10-3c5f-4a7e-b1d9-6f0a2c4e8d13",
    "operation_id": "c7d9e1f3-5a6b-4c8d-9e0f-1a2b3c4d5e6f",
    "description": "Trumpf TruLaser 3030, 3 kW",
}
# Per-entity values of the fields whose realistic value depends on the entity (names, codes,
# external ids), put on the input schemas as JSON Schema `examples`.
ENTITY_EXAMPLES: dict[str, dict[str, Any]] = {
    "jobs": {"external_id": "SO-1001", "external_source": "SAP"},
    "parts": {"external_id": "SO-1001-10", "external_source": "SAP"},
    "operations": {"external_id": "SO-1001-10-1", "external_source": "SAP"},
    "cells": {
        "name": "Laser",
        "description": "Laser cutting, two machines",
        "external_id": "WC-LASER",
        "external_source": "SAP",
    },
    "resources": {"name": "TruLaser 3030", "external_id": "RES-TL3030", "external_source": "SAP"},
    "materials": {
        "name": "S235JR sheet 3 mm",
        "code": "S235-3",
        "description": "Structural steel sheet, 3 mm",
        "external_id": "MAT-S235-3",
        "external_source": "SAP",
    },
    "operators": {"external_id": "HR-1017", "external_source": "SAP"},
    "scrap_reasons": {
        "code": "BURR",
        "description": "Burr on the cut edge",
        "external_id": "SR-BURR",
        "external_source": "SAP",
    },
    "batches": {"cell_name": "Laser"},
    "substeps": {"name": "Check the first piece against the drawing"},
    "templates": {
        "name": "First-piece inspection",
        "description": "Checks before a series is released",
    },
    "issues": {"description": "Burr on the cut edge of 3 of 10 pieces"},
}
# Not shown inside a parent: the parent is the reference.
_NESTED_SKIP = {"job_id", "part_id"}


def example_for(schema: dict[str, Any], missing: list[str] | None = None, at: str = "") -> Any:
    """An example value of `schema`: objects get their required properties and the optional
    ones with a realistic value in EXAMPLE_VALUES; child arrays one item. Properties that are
    required but have no realistic value are appended to `missing` (tests keep it empty)."""
    if "example" in schema:
        return schema["example"]
    if schema.get("examples"):
        return schema["examples"][0]
    if "anyOf" in schema or "oneOf" in schema:
        options = [
            o for o in schema.get("anyOf", schema.get("oneOf", [])) if o.get("type") != "null"
        ]
        return example_for(options[-1], missing, at) if options else None
    kind = schema.get("type")
    if kind == "object":
        out: dict[str, Any] = {}
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            if "type" not in prop and "anyOf" not in prop and "examples" not in prop:
                continue  # an alias: the canonical field is shown instead
            if at and name in _NESTED_SKIP:
                continue
            if prop.get("examples"):
                out[name] = prop["examples"][0]
            elif name in EXAMPLE_VALUES and not _is_child_array(prop):
                out[name] = EXAMPLE_VALUES[name]
            elif _is_child_array(prop) and "properties" in prop["items"]:
                out[name] = [example_for(prop["items"], missing, f"{at}{name}[0].")]
            elif name in required:
                if "enum" in prop:
                    out[name] = prop["enum"][0]
                elif "default" in prop:
                    out[name] = prop["default"]
                else:
                    out[name] = example_for(prop, missing, f"{at}{name}.")
                    if missing is not None and not isinstance(out[name], (dict, list)):
                        missing.append(at + name)
        return out
    if kind == "array":
        items = schema.get("items", {})
        return [example_for(items, missing, at)] if items else []
    if "enum" in schema:
        return schema["enum"][0]
    return {"string": "…", "integer": 1, "number": 1.5, "boolean": True}.get(str(kind))


def _is_child_array(prop: dict[str, Any]) -> bool:
    return (
        prop.get("type") == "array"
        and isinstance(prop.get("items"), dict)
        and prop["items"].get("type") == "object"
    )


_PLACEHOLDER_ID = "01a24ec8-6f67-7867-8ff2-660c99c75888"
_STAMP = "2026-12-01T07:00:00.000Z"


def record_example(
    schema: dict[str, Any],
    defaults: dict[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A whole record of `schema` (a record schema): every required property, from
    `overrides`, else EXAMPLE_VALUES, else the field's `defaults`, else null where allowed, else
    a placeholder of its type."""
    values = {**(defaults or {}), **EXAMPLE_VALUES, **(overrides or {})}
    out: dict[str, Any] = {}
    for name in schema.get("required", []):
        prop = schema["properties"][name]
        if name in values:
            out[name] = values[name]
        elif prop.get("examples"):
            out[name] = prop["examples"][0]
        else:
            out[name] = _placeholder(prop)
    return out


def _placeholder(prop: dict[str, Any]) -> Any:
    options = prop.get("anyOf") or prop.get("oneOf")
    if options:
        if any(o.get("type") == "null" for o in options):
            return None
        return _placeholder(options[0])
    if "enum" in prop:
        return prop["enum"][0]
    if "default" in prop:
        return prop["default"]
    fmt, kind = prop.get("format"), prop.get("type")
    if fmt == "uuid":
        return _PLACEHOLDER_ID
    if fmt == "date-time":
        return _STAMP
    return {"integer": 0, "number": 0, "boolean": False, "object": {}, "array": []}.get(
        str(kind), "…"
    )
