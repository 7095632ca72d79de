"""What a file is, guessed from its content (CSV import §3.3, §4, §6.3, §6.4).

Every guess comes with a reason the file card shows, and every guess can be overridden: the
delimiter (`,` `;` tab `|`, or the one an Excel `sep=` line fixes), the number format, the date
order per date column, and the entity (file name words, then header scores).
"""

import csv
import io
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from floorsync.csv_import.columns import DATE_TYPES, ENTITIES, ENTITY_ORDER
from floorsync.csv_import.headers import ColumnMapping, compact, normalise, score
from floorsync.csv_import.reading import is_blank, sep_directive
from floorsync.csv_import.values import (
    DateOrder,
    DecimalSeparator,
    choose_separator,
    date_order_evidence,
)

CANDIDATES = ("\t", ";", ",", "|")  # also the tie-break order of §3.3
SAMPLE_BYTES = 64 * 1024
SAMPLE_RECORDS = 100
SNIFF_ROWS = 10_000  # rows read for the number format and the date order


def delimiter_name(delimiter: str) -> str:
    return {"\t": "tab", ";": "semicolon", ",": "comma", "|": "pipe"}.get(delimiter, delimiter)


def sample_text(lines: Iterable[str], limit: int = SAMPLE_BYTES) -> str:
    """The first 64 KiB of text cut at the last complete line (all of a shorter file)."""
    out: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) > limit and out:
            break
        out.append(line)
        size += len(line)
    return "".join(out)


def detect_delimiter(sample: str) -> tuple[str, str]:
    """(delimiter, reason), §3.3: an Excel `sep=` line fixes it; otherwise each candidate reads
    up to 100 records and the highest share of records as wide as the header (trailing empty
    fields ignored) wins; ties go to the wider header, then to tab, `;`, `,`, `|`."""
    first = sample.split("\n", 1)[0].split("\r", 1)[0]
    if (fixed := sep_directive(first)) is not None:
        return fixed, f"fixed by the file's first line `{first.strip()}`"
    best: tuple[float, int, int] | None = None
    chosen = ","
    for rank, candidate in enumerate(CANDIDATES):
        records = _records(sample, candidate)
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        rows = records[1:] or records
        share = sum(1 for r in rows if len(r) == width) / len(rows)
        key = (share, width, -rank)
        if best is None or key > best:
            best, chosen = key, candidate
    if best is None:
        return ",", "no delimiter splits the header; the file has one column"
    share, width, _ = best
    return chosen, f"{delimiter_name(chosen)}: {width} columns in {share:.0%} of the first rows"


def _records(sample: str, delimiter: str) -> list[list[str]]:
    reader = csv.reader(
        io.StringIO(sample, newline=""),
        delimiter=delimiter,
        quotechar='"',
        skipinitialspace=True,
        strict=False,
    )
    out: list[list[str]] = []
    try:
        for cells in reader:
            if not cells or is_blank(cells):
                continue
            end = len(cells)
            while end > 1 and not cells[end - 1].strip():
                end -= 1
            out.append(cells[:end])
            if len(out) > SAMPLE_RECORDS:
                break
    except csv.Error:
        pass  # a broken record ends the sample; reading the file reports it with its line
    return out


def detect_separator(delimiter: str, rows: Iterable[Sequence[str]]) -> DecimalSeparator:
    """§6.3 auto, over the cells of the first 10,000 rows."""
    cells = (c.strip() for row in itertools.islice(rows, SNIFF_ROWS) for c in row)
    return choose_separator(delimiter, cells)


@dataclass(frozen=True)
class DateOrderGuess:
    position: int
    order: DateOrder
    conflict: bool
    assumed: bool
    example: str | None


def detect_date_orders(
    mapping: ColumnMapping, rows: Sequence[Sequence[str]]
) -> list[DateOrderGuess]:
    """§6.4 auto, per mapped date column, from its first 10,000 non-empty values."""
    spec = ENTITIES[mapping.entity]
    out = []
    for column in mapping.columns:
        if column.field is None or column.field not in spec.by_name:
            continue
        if spec.column(column.field).type not in DATE_TYPES:
            continue
        values = (
            row[column.position].strip()
            for row in rows[:SNIFF_ROWS]
            if column.position < len(row) and row[column.position].strip()
        )
        order, conflict, assumed, example = date_order_evidence(values)
        out.append(DateOrderGuess(column.position, order, conflict, assumed, example))
    return out


@dataclass(frozen=True)
class EntityGuess:
    entity: str | None
    reason: str
    by_name: str | None = None  # what the file name says


def entity_from_name(file_name: str) -> str | None:
    """The entity named by a §4 word in the file name (`werkplekken.csv`, `Aufträge 2026.csv`).

    Words are matched as runs of the normalised name's words; a match inside a longer one does
    not count (`work_orders` is parts, not jobs), and a name naming two entities names none.
    """
    stem = file_name.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    words = normalise(stem)[0].split("_")
    wanted = {compact(w): e for e in ENTITY_ORDER for w in ENTITIES[e].file_words}
    spans = [
        (i, j, wanted[run])
        for i in range(len(words))
        for j in range(i + 1, len(words) + 1)
        if (run := "".join(words[i:j])) in wanted
    ]
    outer = {
        entity
        for i, j, entity in spans
        if not any(a <= i and j <= b and (a, b) != (i, j) for a, b, _ in spans)
    }
    return next(iter(outer)) if len(outer) == 1 else None


def detect_entity(file_name: str, header_cells: Sequence[str]) -> EntityGuess:
    """§4: the qualifying entity with the highest header score; a tie is decided by the file
    name; with no qualifying entity the file name decides alone; otherwise nobody knows."""
    by_name = entity_from_name(file_name)
    shown = file_name.replace("\\", "/").rsplit("/", 1)[-1]
    scored = {e: score(e, header_cells) for e in ENTITY_ORDER}
    qualifying = {e: s for e, s in scored.items() if s[1]}
    if qualifying:
        top = max(s[0] for s in qualifying.values())
        leaders = [e for e, s in qualifying.items() if s[0] == top]
        if len(leaders) == 1:
            entity = leaders[0]
            matched = scored[entity][2]
            return EntityGuess(
                entity,
                f"{matched} of {len(header_cells)} headers match {entity}",
                by_name,
            )
        if by_name in leaders:
            return EntityGuess(
                by_name, f"file name `{shown}` (headers fit {', '.join(leaders)})", by_name
            )
    elif by_name is not None:
        return EntityGuess(by_name, f"file name `{shown}`", by_name)
    return EntityGuess(None, "Select the kind of data in this file", by_name)
