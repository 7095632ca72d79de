"""`PARENT_FAILED` (CSV import §5.3, §10.2): a row whose reference points at a row of an earlier
file of the same import that failed, or into an earlier file that could not be read, fails
with `PARENT_FAILED` naming that file and line, instead of a bare `REFERENCE_NOT_FOUND`. Pure.

`FailedParents` remembers, per entity, the keys `(external_source, external_id)` and the names
(job numbers, cell and material names, part numbers within a job) of the rows that failed, with
their file and line, and the files that could not be read. `rewrite` turns a row's
`REFERENCE_NOT_FOUND` issues into `PARENT_FAILED` when the reference matches one of them.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from floorsync.csv_import.issues import Code, Issue

Key = tuple[str, str]

# reference field → (parent entity, how it names the parent, external-source field)
REFERENCES: dict[str, tuple[str, str, str | None]] = {
    "job_external_id": ("jobs", "key", "job_external_source"),
    "job_number": ("jobs", "name", None),
    "material_external_id": ("materials", "key", "material_external_source"),
    "material_code": ("materials", "name", None),
    "part_external_id": ("parts", "key", "part_external_source"),
    "part_number": ("parts", "part", None),
    "cell_external_id": ("cells", "key", "cell_external_source"),
    "cell_name": ("cells", "name", None),
    "resource_external_id": ("resources", "key", "resource_external_source"),
    "resource_name": ("resources", "name", None),
}
NAME_FIELD = {"jobs": "job_number", "cells": "name", "materials": "code", "resources": "name"}
SINGULAR = {
    "jobs": "job",
    "parts": "part",
    "cells": "cell",
    "materials": "material",
    "resources": "resource",
    "operations": "operation",
}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass
class FailedParents:
    rows: dict[tuple[str, str, object], tuple[str, int]] = field(default_factory=dict)
    files: dict[str, list[str]] = field(default_factory=dict)  # entity → unreadable files

    def add_file(self, entity: str, file_name: str) -> None:
        self.files.setdefault(entity, []).append(file_name)

    def add_row(
        self,
        entity: str,
        item: dict[str, Any],
        lookups: dict[str, str],
        file_name: str,
        line: int,
    ) -> None:
        """Remember a failed row of `entity` by its key and its names (first failure wins)."""
        where = (file_name, line)
        source = _text(item.get("external_source")) or "csv"
        ext = _text(item.get("external_id"))
        if ext is not None:
            self.rows.setdefault((entity, "key", (source, ext)), where)
        name = _text(item.get(NAME_FIELD.get(entity, "")))
        if name is not None:
            self.rows.setdefault((entity, "name", name), where)
        part_number = _text(item.get("part_number"))
        if entity == "parts" and part_number is not None:
            job_number = _text(lookups.get("job_number")) or _text(item.get("job_number"))
            if job_number is not None:
                self.rows.setdefault((entity, "part", ("num", job_number, part_number)), where)
            job_ext = _text(item.get("job_external_id")) or _text(lookups.get("job_external_id"))
            if job_ext is not None:
                job_src = _text(item.get("job_external_source")) or source
                self.rows.setdefault(
                    (entity, "part", ("key", job_src, job_ext, part_number)), where
                )

    def _find(
        self, field_name: str, item: dict[str, Any], lookups: dict[str, str]
    ) -> tuple[str, str, tuple[str, int] | None] | None:
        """(parent entity, the reference as written, the failed row's (file, line) or None when
        only an unreadable file of the parent entity can explain it)."""
        target = REFERENCES.get(field_name)
        if target is None:
            return None
        entity, kind, source_field = target
        value = _text(item.get(field_name)) or _text(lookups.get(field_name))
        if value is None:
            return None
        own = _text(item.get("external_source")) or "csv"
        found: tuple[str, int] | None
        if kind == "key":
            source = (
                _text(item.get(source_field or "")) or _text(lookups.get(source_field or "")) or own
            )
            found = self.rows.get((entity, kind, (source, value)))
        elif kind == "part":
            found = None
            job_number = _text(lookups.get("job_number"))
            job_ext = _text(lookups.get("job_external_id"))
            if job_number is not None:
                found = self.rows.get((entity, kind, ("num", job_number, value)))
            elif job_ext is not None:
                job_src = _text(lookups.get("job_external_source")) or own
                found = self.rows.get((entity, kind, ("key", job_src, job_ext, value)))
        else:
            found = self.rows.get((entity, kind, value))
        if found is None and not self.files.get(entity):
            return None
        return entity, value, found

    def rewrite(
        self, issues: Iterable[Issue], item: dict[str, Any], lookups: dict[str, str]
    ) -> list[Issue]:
        """The issues, with each `REFERENCE_NOT_FOUND` whose parent failed as `PARENT_FAILED`."""
        out: list[Issue] = []
        for issue in issues:
            hit = (
                self._find(issue.field or "", item, lookups)
                if issue.code == Code.REFERENCE_NOT_FOUND
                else None
            )
            if hit is None:
                out.append(issue)
                continue
            entity, value, where = hit
            noun = SINGULAR.get(entity, entity)
            if where is not None:
                message = (
                    f"The {noun} {value!r} this row refers to failed to import "
                    f"({where[0]} line {where[1]})"
                )
            else:
                unreadable = ", ".join(self.files[entity])
                message = (
                    f"No {noun} {value!r} in this tenant; the {entity} file {unreadable} "
                    "of this import could not be read"
                )
            out.append(issue.at(code=Code.PARENT_FAILED, message=message))
        return out
