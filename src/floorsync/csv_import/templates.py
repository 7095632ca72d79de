"""Import templates (CSV import §13): one per entity, `,` by default or `;` with decimal commas,
UTF-8 with a BOM, a header of canonical column names and one example row. The six examples fit
together (the part names the job and material, the operation the part and the cell), so
`templates.zip`, which adds a README.md (skipped by the importer), imports as-is into an empty tenant.
"""

import csv
import io
from typing import Literal

from floorsync.csv_import.columns import ENTITIES, ENTITY_ORDER, NUMBER_TYPES, ValueType
from floorsync.csv_import.formulas import neutralise
from floorsync.csv_import.reports import BOM, zip_files

Variant = Literal[",", ";"]

_TYPE_WORDS = {
    ValueType.text: "text",
    ValueType.integer: "whole number",
    ValueType.decimal: "number",
    ValueType.minutes: "minutes (a unit in the header converts: `(h)`, `(s)`)",
    ValueType.whole_minutes: "whole minutes (a unit in the header converts: `(h)`, `(s)`)",
    ValueType.length_mm: "millimetres (a unit in the header converts: `(cm)`, `(in)`)",
    ValueType.date_or_datetime: "date (2026-07-15, 15-07-2026) or date and time",
    ValueType.datetime: "date and time (2026-07-01T07:00:00Z, 01-07-2026 09:00)",
    ValueType.boolean: "true/false (yes/no, 1/0, ja/nee, ja/nein)",
    ValueType.status: "not_started, in_progress, on_hold or completed",
}


def _number_cell(value: str, variant: Variant) -> str:
    return value.replace(".", ",") if variant == ";" else value


def template(entity: str, variant: Variant = ",") -> str:
    """The template of one entity as text (BOM first)."""
    spec = ENTITIES[entity]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=variant, lineterminator="\r\n")
    writer.writerow(spec.template)
    example = []
    for name, value in zip(spec.template, spec.template_example, strict=True):
        typed = spec.column(name).type in NUMBER_TYPES
        example.append(neutralise(_number_cell(value, variant) if typed else value))
    writer.writerow(example)
    return BOM + out.getvalue()


def template_name(entity: str) -> str:
    return f"{entity}.csv"


def readme(variant: Variant = ",") -> str:
    """The README of `templates.zip`: import order, then per template its columns."""
    lines = [
        "floorsync import templates",
        "==========================",
        "",
        "Import order: " + " -> ".join(ENTITY_ORDER) + " (later files may refer to earlier ones).",
        "Each file is UTF-8 with a BOM, "
        + (
            "comma-separated with decimal points."
            if variant == ","
            else "semicolon-separated with decimal commas."
        ),
        "external_id is the key of each row; when it is left out it is derived (cells and",
        "resources: name; materials: code; jobs: job_number; parts: job number/part number;",
        "operations: job number/part number/sequence). external_source defaults to the import's source.",
        "",
    ]
    for entity in ENTITY_ORDER:
        spec = ENTITIES[entity]
        lines += [f"{template_name(entity)}", "-" * len(template_name(entity))]
        required = {*spec.required, *(r.id_column for r in spec.references if r.required)}
        for name in spec.template:
            column = spec.column(name)
            mark = " (required)" if name in required else ""
            lines.append(f"  {name}: {_TYPE_WORDS[column.type]}{mark}")
        refs = [r for r in spec.references if r.required]
        for ref in refs:
            forms = [ref.id_column, ref.ext_column, ref.name_column]
            lines.append(
                f"  the {ref.key} is required: give one of {', '.join(f for f in forms if f)}"
                + (" (with a job reference)" if ref.via else "")
            )
        lines.append("")
    return "\r\n".join(lines)


def templates_zip(variant: Variant = ",") -> bytes:
    files = [(template_name(e), template(e, variant)) for e in ENTITY_ORDER]
    return zip_files([*files, ("README.md", readme(variant))])
