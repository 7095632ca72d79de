"""Rows of one CSV file → sync records in the exact item shape the sync engine's bulk sync
takes (CSV import §5, §6, §8).

Pure: lines, the entity, the column mapping and the options in; `ParsedRow`s out, one per data
row, each with its physical line number, its sync item and every issue found in it (all of
them, never only the first). A row with an error must not be sent to the engine.

The item holds what the engine resolves itself: `external_id`, `external_source`, the fields,
and the reference forms it knows (`job_id`, `job_external_id` + `job_external_source`,
`material_…`, `part_…`, `cell_id`, `cell_external_id`, `cell_name`). The name forms only the
importer can resolve (§5.3: a part's `job_number` and `material_code`, an operation's job +
`part_number`) are in `row.lookups`; the caller turns them into `job_id` / `material_id` /
`part_id` on the item. When a derived external id (§5.2) needs the job or part number of a
record referenced by id or external id, `row.id_pending` is set and the caller finishes it with
`finish_derived_id` once it knows them.

Streaming: rows are produced one at a time; only the first 10,000 are buffered, to settle an
`auto` number format and date order (§6.3, §6.4) exactly as the file analysis does. The only
state that grows with the file is the optional `UploadKeys`, which must remember every key to
find duplicates (§8.3 `DUPLICATE_IN_UPLOAD`).
"""

import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from floorsync.csv_import.columns import (
    ENTITIES,
    METADATA_PREFIX,
    UNIT_TABLES,
    EntityColumns,
    Reference,
)
from floorsync.csv_import.detect import (
    SNIFF_ROWS,
    DateOrderGuess,
    detect_date_orders,
    detect_separator,
)
from floorsync.csv_import.formulas import restore
from floorsync.csv_import.headers import ColumnMapping, ColumnMatch, match_columns
from floorsync.csv_import.issues import Code, Issue, clip
from floorsync.csv_import.reading import open_table
from floorsync.csv_import.values import (
    CellError,
    DateOrder,
    DecimalSeparator,
    clean,
    converter,
    unit_factor,
)

DecimalChoice = Literal["auto", "comma", "point"]
DateOrderChoice = Literal["auto", "dmy", "mdy", "ymd"]
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class ImportOptions:
    """Settings of the whole import (§2.1 upload step, §2.2 CLI)."""

    source: str = "csv"  # external_source of every row without its own external_source cell
    time_zone: str = "UTC"  # for date-times written without an offset
    empty_clears: bool = False  # empty cells of optional fields are sent as null (§6.1)
    derive_ids: bool = True  # derive a missing external_id (§5.2)
    reserved_sources: frozenset[str] = frozenset()  # planning connections' sources (§5.1)


@dataclass(frozen=True)
class FileSettings:
    """Settings of one file, as detected or as the user changed them on the file card."""

    delimiter: str = ","
    header_line: int | None = None  # physical line of the header; None: the first non-blank
    decimal: DecimalChoice = "auto"
    date_order: DateOrderChoice = "auto"


@dataclass(slots=True)
class ParsedRow:
    line: int  # physical line the record starts on
    item: dict[str, Any]  # the sync record
    lookups: dict[str, str]  # name references the importer resolves (§5.3)
    cells: list[str]  # the cells as read (for the failed-rows file)
    issues: list[Issue] = field(default_factory=list)
    id_pending: bool = False  # the external id is derived once the references are resolved

    @property
    def ok(self) -> bool:
        return not any(i.severity == "error" for i in self.issues)

    @property
    def key(self) -> tuple[str, str] | None:
        ext = self.item.get("external_id")
        return (self.item["external_source"], ext) if isinstance(ext, str) else None


class BlockedMapping(Exception):
    """The mapping has blocking issues (§8.1 mapping level); nothing can be parsed."""

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues = tuple(issues)
        super().__init__("; ".join(i.message for i in self.issues))


class UploadKeys:
    """Every `(external_source, external_id)` seen so far in the files of one entity, with the
    file and line that had it first (§8.3 `DUPLICATE_IN_UPLOAD`)."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], tuple[str, int]] = {}

    def claim(self, row: ParsedRow, file_name: str) -> None:
        """Record the row's key, or add DUPLICATE_IN_UPLOAD to it if an earlier row had it."""
        key = row.key
        if key is None:
            return
        first = self._seen.setdefault(key, (file_name, row.line))
        if first != (file_name, row.line):
            where = f"line {first[1]}" if first[0] == file_name else f"{first[0]} line {first[1]}"
            row.issues.append(
                Issue(
                    Code.DUPLICATE_IN_UPLOAD,
                    f"external_id {key[1]!r} (source {key[0]!r}) already appeared on {where}; "
                    "the first occurrence is imported",
                    line=row.line,
                    field="external_id",
                    value=clip(key[1]),
                    external_id=key[1],
                )
            )


def derive_external_id(*components: str) -> str:
    """§5.2: trimmed components, `%` and `/` percent-encoded, joined by `/`, so two different
    keys never give the same id."""
    return "/".join(c.strip().replace("%", "%25").replace("/", "%2F") for c in components)


def finish_derived_id(row: ParsedRow, entity: str, *, job_number: str, part_number: str) -> None:
    """Complete a pending derived id once the caller knows the referenced job number (parts)
    or job and part numbers (operations)."""
    if entity == "parts":
        row.item["external_id"] = derive_external_id(job_number, row.item["part_number"])
    else:
        row.item["external_id"] = derive_external_id(
            job_number, part_number, str(row.item["sequence"])
        )
    row.id_pending = False
    row.issues = [i.at(external_id=row.item["external_id"]) for i in row.issues]


# --- the plan: what to do with each mapped column --------------------------------------------

_ITEM, _LOOKUP, _META, _SOURCE = range(4)


@dataclass(frozen=True)
class _Cell:
    position: int
    header: str
    number: int
    name: str
    target: int
    convert: Callable[[str], Any]
    required: bool


def _lookup_names(spec: EntityColumns) -> set[str]:
    """Reference columns the engine does not accept on this entity's records."""
    names: set[str] = set()
    for ref in spec.references:
        if ref.name_column and not ref.name_by_engine:
            names.add(ref.name_column)
    if spec.entity == "operations":  # an operation names its part through a job + part number
        names |= {"job_id", "job_external_id", "job_external_source", "job_number", "part_number"}
    return names


_MISS = object()
REMEMBERED_VALUES = 4096  # per column


def _remembering(convert: Callable[[str], Any]) -> Callable[[str], Any]:
    """The converter, remembering what it gave for the texts it met last. A column's values
    repeat (dates, times, quantities, statuses), and converting a date or a number is most of
    what parsing a row costs. The values are immutable (str, int, float, bool); a text that
    does not convert raises every time (CellError is not remembered). Bounded: forgets
    everything when full."""
    seen: dict[str, Any] = {}

    def convert_remembered(text: str) -> Any:
        value = seen.get(text, _MISS)
        if value is _MISS:
            value = convert(text)
            if len(seen) >= REMEMBERED_VALUES:
                seen.clear()
            seen[text] = value
        return value

    return convert_remembered


def _plan(
    spec: EntityColumns,
    mapping: ColumnMapping,
    separator: DecimalSeparator,
    orders: dict[int, DateOrder],
    zone: ZoneInfo,
) -> list[_Cell]:
    lookups = _lookup_names(spec)
    plan = []
    for column in mapping.columns:
        if column.field is None:
            continue
        if column.field.startswith(METADATA_PREFIX):
            key = column.field[len(METADATA_PREFIX) :]
            plan.append(
                _Cell(column.position, column.header, column.number, key, _META, str, False)
            )
            continue
        col = spec.column(column.field)
        table = UNIT_TABLES.get(col.type)
        factor = unit_factor(table[column.unit]) if table and column.unit in table else None
        convert = converter(
            col.type,
            separator=separator,
            date_order=orders.get(column.position, "dmy"),
            zone=zone,
            factor=None if factor == Decimal(1) else factor,
        )
        if convert is not str:
            convert = _remembering(convert)
        target = (
            _SOURCE if col.name == "external_source" else _LOOKUP if col.name in lookups else _ITEM
        )
        plan.append(
            _Cell(
                column.position,
                column.header,
                column.number,
                col.name,
                target,
                convert,
                col.required,
            )
        )
    return plan


# --- parsing ----------------------------------------------------------------------------------


class FileParse:
    """One file being parsed: iterate it for its rows. `warnings` holds the file-level warnings
    (`DERIVED_ID`, `DATE_ORDER_ASSUMED`), known before the first row."""

    def __init__(
        self,
        lines: Iterable[str],
        entity: str,
        *,
        settings: FileSettings,
        options: ImportOptions,
        mapping: ColumnMapping | None = None,
        file_name: str = "",
        skip_rows: int = 0,
        keys: UploadKeys | None = None,
    ) -> None:
        self.entity, self.spec = entity, ENTITIES[entity]
        self.options, self.file_name, self.keys = options, file_name, keys
        table = open_table(lines, settings.delimiter, header_line=settings.header_line)
        self.header, self.header_line = table.header, table.header_line
        self.mapping = mapping or match_columns(entity, table.header, derive_ids=options.derive_ids)
        if len(self.mapping.columns) != len(self.header):
            raise ValueError("the mapping was made for another header")
        head = list(itertools.islice(table.records, SNIFF_ROWS))
        self.separator: DecimalSeparator = (
            detect_separator(settings.delimiter, (cells for _, cells in head))
            if settings.decimal == "auto"
            else settings.decimal
        )
        warnings: list[Issue] = []
        blocking = list(self.mapping.blocking)
        self.date_orders: dict[int, DateOrder] = {}
        for guess in detect_date_orders(self.mapping, [cells for _, cells in head]):
            column = self.mapping.columns[guess.position]
            if settings.date_order != "auto":
                self.date_orders[guess.position] = settings.date_order
                continue
            self.date_orders[guess.position] = guess.order
            if (issue := date_order_issue(column, guess, entity)) is not None:
                (blocking if issue.severity == "error" else warnings).append(issue)
        if blocking:
            raise BlockedMapping(blocking)
        if "external_id" not in self.mapping.by_field:
            warnings.append(
                Issue(
                    Code.DERIVED_ID,
                    f"No column holds external_id; it is derived from {self.spec.derived_from}",
                    field="external_id",
                    entity=entity,
                    file=file_name,
                )
            )
        self.warnings = tuple(w.at(file=file_name) for w in warnings)
        try:
            zone = ZoneInfo(options.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {options.time_zone!r}") from None
        self._ref_columns = {c for ref in self.spec.references for c in ref.columns}
        self._ref_forms = self._reference_forms()
        self._plan = _plan(self.spec, self.mapping, self.separator, self.date_orders, zone)
        self._records = itertools.islice(itertools.chain(head, table.records), skip_rows, None)

    def __iter__(self) -> Iterator[ParsedRow]:
        width = len(self.header)
        restore_cells = self.mapping.failed_rows_file
        for line, cells in self._records:
            issues: list[Issue] = []
            if len(cells) != width:
                cells = self._fit(line, cells, width, issues)
            if restore_cells:  # a failed-rows file come back: undo the `'` we added (§15)
                cells = [restore(c) for c in cells]
            if _CONTROL.search("".join(cells)):
                issues.append(
                    Issue(
                        Code.CONTROL_CHARACTERS,
                        "The row contains control characters (often a sign of a wrong encoding)",
                        line=line,
                    )
                )
            yield self._row(line, cells, issues)

    def _fit(self, line: int, cells: list[str], width: int, issues: list[Issue]) -> list[str]:
        if len(cells) < width:
            issues.append(
                Issue(
                    Code.MISSING_TRAILING_FIELDS,
                    f"The row has {len(cells)} fields, the header {width}; the missing ones are empty",
                    line=line,
                )
            )
            return cells + [""] * (width - len(cells))
        extra = [(n, c) for n, c in enumerate(cells[width:], start=width + 1) if c.strip()]
        if extra:
            number, value = extra[0]
            issues.append(
                Issue(
                    Code.FIELD_COUNT,
                    f"The row has {len(cells)} fields but the header only {width}; field {number} holds a value",
                    line=line,
                    column_number=number,
                    value=clip(value),
                )
            )
        else:
            issues.append(
                Issue(
                    Code.TRAILING_EMPTY_FIELDS,
                    f"The row has {len(cells) - width} empty fields after the last column",
                    line=line,
                )
            )
        return cells

    def _row(self, line: int, cells: list[str], issues: list[Issue]) -> ParsedRow:
        item: dict[str, Any] = {}
        lookups: dict[str, str] = {}
        metadata: dict[str, str] | None = None
        source: str | None = None
        empty_clears = self.options.empty_clears
        for cell in self._plan:
            text = clean(cells[cell.position])
            if cell.target == _META:
                metadata = {} if metadata is None else metadata
                if text:
                    metadata[cell.name] = text
                continue
            if not text:
                if cell.required:
                    issues.append(
                        Issue(
                            Code.REQUIRED,
                            f"{cell.name} is required",
                            line=line,
                            column=cell.header,
                            column_number=cell.number,
                            field=cell.name,
                        )
                    )
                elif empty_clears and cell.target == _ITEM and cell.name not in self._ref_columns:
                    item[cell.name] = None
                continue
            try:
                value = cell.convert(text)
            except CellError as err:
                issues.append(
                    Issue(
                        err.code,
                        err.message,
                        line=line,
                        column=cell.header,
                        column_number=cell.number,
                        field=cell.name,
                        value=clip(text),
                    )
                )
                continue
            if cell.target == _ITEM:
                item[cell.name] = value
            elif cell.target == _LOOKUP:
                lookups[cell.name] = value
            else:
                source = value
        item["external_source"] = source or self.options.source
        if source and source in self.options.reserved_sources:
            issues.append(
                Issue(
                    Code.SOURCE_RESERVED,
                    f"Source {source!r} belongs to a planning connection, whose pulls maintain these records",
                    line=line,
                    field="external_source",
                    value=clip(source),
                )
            )
        if metadata is not None:
            item["metadata"] = metadata
        self._references(line, item, lookups, issues)
        row = ParsedRow(line, item, lookups, cells, issues)
        if "external_id" not in item and "external_id" not in self.mapping.by_field:
            self._derive(row)
        elif "external_id" not in item and not any(i.field == "external_id" for i in issues):
            issues.append(
                Issue(
                    Code.REQUIRED,
                    "external_id is required",
                    line=line,
                    field="external_id",
                    **self._where("external_id"),
                )
            )
        ext = item.get("external_id")
        entity, file_name = self.entity, self.file_name
        row.issues = [
            i.at(entity=entity, file=file_name, external_id=ext if isinstance(ext, str) else None)
            for i in issues
        ]
        if self.keys is not None and not row.id_pending:
            self.keys.claim(row, file_name)
            row.issues = [i.at(entity=entity, file=file_name) for i in row.issues]
        return row

    def _where(self, name: str) -> dict[str, Any]:
        column = self.mapping.column_for(name)
        return {"column": column.header, "column_number": column.number} if column else {}

    def _reference_forms(self) -> list[tuple[Reference, list[str]]]:
        """Per reference, the columns of the file that can give it (once per file, not per
        row)."""
        out = []
        for ref in self.spec.references:
            if self.entity == "operations" and ref.key == "job":
                continue  # only a way to name the part
            mapped = [c for c in ref.columns if c in self.mapping.by_field]
            if ref.key == "part":
                mapped += [
                    c
                    for c in ("job_id", "job_external_id", "job_number")
                    if c in self.mapping.by_field
                ]
            out.append((ref, mapped))
        return out

    def _references(
        self, line: int, item: dict[str, Any], lookups: dict[str, str], issues: list[Issue]
    ) -> None:
        """A required reference needs one non-empty form (§5.8, §5.9); with empty-clears an
        optional reference with every form empty is cleared (`…_id: null`)."""
        for ref, mapped in self._ref_forms:
            given = any(c in item or c in lookups for c in mapped)
            if ref.required and not given:
                first = next((c for c in mapped), ref.id_column)
                issues.append(
                    Issue(
                        Code.REQUIRED,
                        f"The {ref.key} is required: fill in one of {', '.join(mapped) or ref.id_column}",
                        line=line,
                        field=first,
                        **self._where(first),
                    )
                )
            elif (
                ref.required
                and ref.key == "part"
                and not ("part_id" in item or "part_external_id" in item)
            ):
                if "part_number" not in lookups or not any(
                    c in lookups for c in ("job_id", "job_external_id", "job_number")
                ):
                    missing = "part_number" if "part_number" not in lookups else "job_number"
                    issues.append(
                        Issue(
                            Code.REQUIRED,
                            "Naming the part by part_number needs the job too (job_number, job_external_id or job_id)"
                            if missing == "job_number"
                            else "Naming the part through its job needs part_number",
                            line=line,
                            field=missing,
                            **self._where(missing),
                        )
                    )
            elif not ref.required and not given and mapped and self.options.empty_clears:
                item[ref.id_column] = None

    def _derive(self, row: ParsedRow) -> None:
        item, lookups, line = row.item, row.lookups, row.line
        if not self.options.derive_ids:
            return
        entity = self.entity
        if entity in ("cells", "resources", "jobs", "materials"):
            natural = {
                "cells": "name",
                "resources": "name",
                "jobs": "job_number",
                "materials": "code",
            }[entity]
            value = item.get(natural)
            if isinstance(value, str) and value:
                item["external_id"] = derive_external_id(value)
            elif entity == "materials":
                row.issues.append(
                    _cannot_derive(
                        line,
                        "a material without a code cannot get a derived external_id",
                        self._where("code"),
                        "code",
                    )
                )
            return
        if entity == "parts":
            if "job_number" in lookups and "part_number" in item:
                item["external_id"] = derive_external_id(lookups["job_number"], item["part_number"])
            elif "part_number" in item:
                row.id_pending = True
            return
        if "sequence" not in item:
            row.issues.append(
                _cannot_derive(
                    line,
                    "an operation without a sequence cannot get a derived external_id",
                    self._where("sequence"),
                    "sequence",
                )
            )
        elif (
            "job_number" in lookups
            and "part_number" in lookups
            and not ("part_id" in item or "part_external_id" in item)
        ):
            item["external_id"] = derive_external_id(
                lookups["job_number"], lookups["part_number"], str(item["sequence"])
            )
        elif row.ok:
            row.id_pending = True


def _cannot_derive(line: int, message: str, where: dict[str, Any], name: str) -> Issue:
    return Issue(
        Code.CANNOT_DERIVE_ID, message[0].upper() + message[1:], line=line, field=name, **where
    )


def date_order_issue(column: ColumnMatch, guess: DateOrderGuess, entity: str) -> Issue | None:
    """DATE_ORDER_CONFLICT (blocks) or DATE_ORDER_ASSUMED (a warning) for an `auto` column."""
    where: dict[str, Any] = {
        "column": column.header,
        "column_number": column.number,
        "field": column.field,
        "entity": entity,
        "value": guess.example,
    }
    if guess.conflict:
        return Issue(
            Code.DATE_ORDER_CONFLICT,
            f"`{column.header}` holds day-first and month-first dates; choose the date order",
            **where,
        )
    if guess.assumed:
        return Issue(
            Code.DATE_ORDER_ASSUMED,
            f"`{column.header}` could be day-first or month-first; {guess.example} is read as day first",
            **where,
        )
    return None


def parse_file(lines: Iterable[str], entity: str, **kwargs: Any) -> FileParse:
    """`FileParse(lines, entity, settings=…, options=…, mapping=…, …)`; raises FileError for an
    unreadable header, BlockedMapping for a mapping that blocks. Iterating may raise FileError
    (an unterminated quote, a field over the limit, too many rows) at the record concerned."""
    return FileParse(lines, entity, **kwargs)
