"""Header normalisation (CSV import §7.1) and column matching (§7.2).

Matching gives every column a target field of the file's entity, or none, and says how the
match was made: `saved` (a remembered mapping for this header layout, §7.5), `exact` (the
normalised header is the field's name or an API input alias), `alias` (§7.3), `loose` (equal
without underscores), `manual`, or `ignored`. A header that matches several fields by one rule
is left unmapped with its candidates. Each field takes one column: of two columns matched
automatically, the leftmost wins and the other is ignored with a warning; two columns put on one
field by hand block the import (`DUPLICATE_MAPPING`), and so does a required field with no
column (`REQUIRED_COLUMN_MISSING`).
"""

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping as MappingOf
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from floorsync.csv_import.columns import (
    ENTITIES,
    FAILED_ROWS_COLUMNS,
    METADATA_PREFIX,
    UNIT_TABLES,
    EntityColumns,
)
from floorsync.csv_import.issues import Code, Issue

_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_UNIT = re.compile(r"^(?P<name>.*?)\s*(?:\((?P<p>[^()]*)\)|\[(?P<b>[^\[\]]*)\]|\{(?P<c>[^{}]*)\})$")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
IGNORE = "-"  # what a manual mapping uses to ignore a column


class MatchKind(StrEnum):
    saved = "saved"
    exact = "exact"
    alias = "alias"
    loose = "loose"
    manual = "manual"
    ignored = "ignored"


def normalise(header: str) -> tuple[str, str | None]:
    """(normalised header, unit hint) by the six steps of §7.1."""
    text = unicodedata.normalize("NFKC", header.replace("\ufeff", "").strip()).casefold()
    text = unicodedata.normalize("NFD", text.translate(_TRANSLIT))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    unit: str | None = None
    if found := _UNIT.match(text):
        hint = found.group("p") or found.group("b") or found.group("c") or ""
        unit = _NOT_WORD.sub("_", hint).strip("_") or None
        text = found.group("name")
    text = text.replace("#", " no ").replace("%", " pct ")
    return _NOT_WORD.sub("_", text).strip("_"), unit


def compact(normalised: str) -> str:
    return normalised.replace("_", "")


def display_headers(cells: Sequence[str]) -> list[str]:
    """Header cells as the mapping step shows them: trimmed, a stray BOM removed, an empty cell
    named `Column <n>`, and a repeated header numbered (`Notes`, `Notes (2)`), §3.4."""
    out: list[str] = []
    seen: dict[str, int] = {}
    for n, cell in enumerate(cells, start=1):
        name = cell.replace("\ufeff", "").strip() or f"Column {n}"
        count = seen.get(name.casefold(), 0) + 1
        seen[name.casefold()] = count
        out.append(name if count == 1 else f"{name} ({count})")
    return out


def signature(cells: Sequence[str]) -> str:
    """SHA-256 of the list of normalised headers, in order: the key of a remembered mapping."""
    names = [normalise(c)[0] for c in cells]
    return hashlib.sha256(json.dumps(names, ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True)
class ColumnMatch:
    position: int  # 0-based
    header: str  # as displayed
    normalised: str
    unit: str | None
    field: str | None  # a target of the entity, `metadata.<key>`, or None (ignored)
    kind: MatchKind
    candidates: tuple[str, ...] = ()
    note: str | None = None  # why an unmapped column is ignored

    @property
    def number(self) -> int:
        return self.position + 1


@dataclass(frozen=True)
class ColumnMapping:
    """The columns of one file matched to one entity, with the mapping-level issues."""

    entity: str
    columns: tuple[ColumnMatch, ...]
    issues: tuple[Issue, ...] = ()
    external_id_line: str = ""
    derive_ids: bool = True
    failed_rows_file: bool = False  # a failed-rows file come back (§12.3): its `'` are undone
    by_field: dict[str, ColumnMatch] = field(default_factory=dict, compare=False)

    @property
    def blocking(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.severity == "error")

    def column_for(self, name: str) -> ColumnMatch | None:
        return self.by_field.get(name)

    def as_positions(self) -> dict[int, str]:
        """position → field (or `-`): what a remembered mapping stores."""
        return {c.position: c.field or IGNORE for c in self.columns}


def _targets(
    spec: EntityColumns,
) -> tuple[dict[str, str], dict[str, set[str]], dict[str, set[str]]]:
    exact: dict[str, str] = {}
    alias: dict[str, set[str]] = {}
    loose: dict[str, set[str]] = {}
    for column in spec.columns:
        for name in (column.name, *column.api_aliases):
            exact[name] = column.name
            loose.setdefault(compact(name), set()).add(column.name)
        for name in column.aliases:
            alias.setdefault(name, set()).add(column.name)
            loose.setdefault(compact(name), set()).add(column.name)
    return exact, alias, loose


_TABLES = {name: _targets(spec) for name, spec in ENTITIES.items()}


def known_target(entity: str, name: str) -> bool:
    return name in ENTITIES[entity].by_name or (
        name.startswith(METADATA_PREFIX) and len(name) > len(METADATA_PREFIX)
    )


def _automatic(
    entity: str, header: str, normalised: str
) -> tuple[str | None, MatchKind, tuple[str, ...]]:
    written = header.strip()
    if written.casefold().startswith(METADATA_PREFIX) and len(written) > len(METADATA_PREFIX):
        return METADATA_PREFIX + written[len(METADATA_PREFIX) :].strip(), MatchKind.exact, ()
    exact, alias, loose = _TABLES[entity]
    if normalised in exact:
        return exact[normalised], MatchKind.exact, ()
    for kind, table, key in (
        (MatchKind.alias, alias, normalised),
        (MatchKind.loose, loose, compact(normalised)),
    ):
        found = table.get(key)
        if found and len(found) == 1:
            return next(iter(found)), kind, ()
        if found:
            return None, MatchKind.ignored, tuple(sorted(found))
    return None, MatchKind.ignored, ()


def match_columns(
    entity: str,
    header_cells: Sequence[str],
    *,
    saved: MappingOf[int, str] | None = None,
    manual: MappingOf[int, str] | None = None,
    derive_ids: bool = True,
) -> ColumnMapping:
    """Match every column of a header to a field of `entity` (§7.2) and check the result.

    `saved` and `manual` map 0-based positions to a field name or `-` (ignore); a manual choice
    beats a saved one, which beats the automatic rules. Unknown field names raise ValueError
    (a usage error of the caller).
    """
    spec = ENTITIES[entity]
    shown = display_headers(header_cells)
    failed_rows_file = [normalise(c)[0] for c in header_cells[-2:]] == list(FAILED_ROWS_COLUMNS)
    chosen: list[ColumnMatch] = []
    for position, (cell, header) in enumerate(zip(header_cells, shown, strict=True)):
        normalised, unit = normalise(cell)
        for source, kind in ((manual, MatchKind.manual), (saved, MatchKind.saved)):
            if source is not None and position in source:
                target = source[position]
                if target != IGNORE and not known_target(entity, target):
                    raise ValueError(f"{target!r} is not a field of {entity}")
                chosen.append(
                    ColumnMatch(
                        position,
                        header,
                        normalised,
                        unit,
                        None if target == IGNORE else target,
                        kind if target != IGNORE else MatchKind.ignored,
                        note="ignored by choice" if target == IGNORE else None,
                    )
                )
                break
        else:
            if not cell.replace("\ufeff", "").strip():
                chosen.append(
                    ColumnMatch(
                        position,
                        header,
                        normalised,
                        unit,
                        None,
                        MatchKind.ignored,
                        note="no header",
                    )
                )
            elif failed_rows_file and position >= len(header_cells) - 2:
                chosen.append(
                    ColumnMatch(
                        position,
                        header,
                        normalised,
                        unit,
                        None,
                        MatchKind.ignored,
                        note="added by floorsync to a failed-rows file",
                    )
                )
            else:
                found, kind, candidates = _automatic(entity, cell, normalised)
                note = (
                    f"matches {', '.join(candidates)}; choose one"
                    if candidates
                    else (None if found else "no matching field")
                )
                chosen.append(
                    ColumnMatch(position, header, normalised, unit, found, kind, candidates, note)
                )
    return _settle(spec, chosen, derive_ids=derive_ids, failed_rows_file=failed_rows_file)


def _issue(
    code: Code, message: str, column: ColumnMatch | None = None, entity: str | None = None
) -> Issue:
    return Issue(
        code,
        message,
        column=column.header if column else None,
        column_number=column.number if column else None,
        field=column.field if column else None,
        entity=entity,
    )


def _settle(
    spec: EntityColumns, chosen: list[ColumnMatch], *, derive_ids: bool, failed_rows_file: bool
) -> ColumnMapping:
    issues: list[Issue] = []
    by_field: dict[str, ColumnMatch] = {}
    by_hand = {MatchKind.manual, MatchKind.saved}
    # Hand-made choices first, so an automatic match never displaces one.
    order = sorted(chosen, key=lambda c: (c.kind not in by_hand, c.position))
    final: dict[int, ColumnMatch] = {}
    for column in order:
        if column.field is None:
            final[column.position] = column
            continue
        holder = by_field.get(column.field)
        if holder is None:
            by_field[column.field] = column
            final[column.position] = column
        elif column.kind in by_hand:
            issues.append(
                _issue(
                    Code.DUPLICATE_MAPPING,
                    f"Columns `{holder.header}` and `{column.header}` are both mapped to {column.field}; map one of them to another field or ignore it",
                    column,
                    spec.entity,
                )
            )
            final[column.position] = column
        else:
            final[column.position] = ColumnMatch(
                column.position,
                column.header,
                column.normalised,
                column.unit,
                None,
                MatchKind.ignored,
                (column.field,),
                f"{column.field} is already taken by `{holder.header}`",
            )
            issues.append(
                _issue(
                    Code.DUPLICATE_COLUMN,
                    f"`{column.header}` also matches {column.field}, which `{holder.header}` supplies; it is ignored (swap them if needed)",
                    column,
                    spec.entity,
                ).at(field=column.field)
            )
    columns = tuple(final[p] for p in sorted(final))
    for column in columns:
        if column.field is None and (column.note or "").startswith("matches "):
            issues.append(
                _issue(
                    Code.AMBIGUOUS_HEADER,
                    f"`{column.header}` matches {', '.join(column.candidates)}; choose the field by hand",
                    column,
                    spec.entity,
                )
            )
        if column.field and column.unit:
            table = (
                UNIT_TABLES.get(spec.column(column.field).type)
                if column.field in spec.by_name
                else None
            )
            if table is not None and column.unit not in table:
                issues.append(
                    _issue(
                        Code.UNIT_UNKNOWN,
                        f"The unit `{column.unit}` of `{column.header}` is not known; its values would be read as {'minutes' if 'min' in table else 'millimetres'}. Rename the header or convert the values",
                        column,
                        spec.entity,
                    )
                )
    issues.extend(_missing(spec, by_field, derive_ids))
    return ColumnMapping(
        spec.entity,
        columns,
        tuple(issues),
        _external_id_line(spec, by_field, derive_ids),
        derive_ids,
        failed_rows_file,
        by_field,
    )


def _missing(
    spec: EntityColumns, by_field: dict[str, ColumnMatch], derive_ids: bool
) -> list[Issue]:
    out = [
        Issue(
            Code.REQUIRED_COLUMN_MISSING,
            f"No column is mapped to the required field {name}",
            field=name,
            entity=spec.entity,
        )
        for name in spec.required
        if name not in by_field
    ]
    for ref in spec.references:
        if ref.required and not reference_covered(spec, ref.key, by_field):
            forms = " or ".join(
                (
                    ref.id_column,
                    ref.ext_column,
                    *(
                        ["a job reference plus " + ref.name_column]
                        if ref.via and ref.name_column
                        else [ref.name_column]
                        if ref.name_column
                        else []
                    ),
                )
            )
            out.append(
                Issue(
                    Code.REQUIRED_COLUMN_MISSING,
                    f"No column names the {ref.key}: map {forms}",
                    field=ref.id_column,
                    entity=spec.entity,
                )
            )
    if "external_id" not in by_field:
        if not derive_ids:
            out.append(
                Issue(
                    Code.REQUIRED_COLUMN_MISSING,
                    "No column is mapped to external_id and deriving ids is turned off",
                    field="external_id",
                    entity=spec.entity,
                )
            )
        else:
            needed = {"materials": "code", "operations": "sequence"}.get(spec.entity)
            if needed and needed not in by_field:
                out.append(
                    Issue(
                        Code.REQUIRED_COLUMN_MISSING,
                        f"No column is mapped to external_id, and without a {needed} column it cannot be derived",
                        field="external_id",
                        entity=spec.entity,
                    )
                )
    return out


def reference_covered(spec: EntityColumns, key: str, by_field: MappingOf[str, object]) -> bool:
    ref = next(r for r in spec.references if r.key == key)
    if ref.id_column in by_field or ref.ext_column in by_field:
        return True
    if ref.name_column is None or ref.name_column not in by_field:
        return False
    return ref.via is None or reference_covered(spec, ref.via, by_field)


def _external_id_line(
    spec: EntityColumns, by_field: dict[str, ColumnMatch], derive_ids: bool
) -> str:
    column = by_field.get("external_id")
    if column is not None:
        return f"column `{column.header}` → `external_id`"
    if derive_ids:
        return f"derived from `{spec.derived_from}`"
    return "missing"


def score(entity: str, header_cells: Sequence[str]) -> tuple[int, bool, int]:
    """(score, qualifies, matched columns) of entity detection by headers (§4 step 2): one point
    per matched column plus three per required field covered; an entity qualifies only when
    every required field (the derivable external id aside) has a column."""
    mapping = match_columns(entity, header_cells)
    spec = ENTITIES[entity]
    matched = sum(1 for c in mapping.columns if c.field is not None)
    required = [*spec.required, *(r.key for r in spec.references if r.required)]
    covered = sum(1 for name in spec.required if name in mapping.by_field) + sum(
        1
        for r in spec.references
        if r.required and reference_covered(spec, r.key, mapping.by_field)
    )
    if "external_id" in mapping.by_field:
        covered += 1
    return (
        matched + 3 * covered,
        covered - ("external_id" in mapping.by_field) == len(required),
        matched,
    )
