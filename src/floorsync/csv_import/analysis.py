"""The analysis of one uploaded file, everything the wizard's file card and mapping panel show
(CSV import §2.1 steps 2–3): encoding with a sample of non-ASCII words, delimiter, header line,
number format, date orders, row count, detected entity with its reason, the proposed column
mapping with up to three sample values per column, and the file's issues. A file that cannot be
read gets `error` (one file-level issue) and nothing else; other files are unaffected.

One pass over the whole file (it must be read to count rows and to find a broken record
anywhere); memory stays bounded: samples and the first 10,000 rows for the format guesses.
"""

import itertools
from collections.abc import Callable
from collections.abc import Mapping as MappingOf
from dataclasses import dataclass, field

from floorsync.csv_import.decoding import Decoded, EncodingChoice, decode
from floorsync.csv_import.detect import (
    SNIFF_ROWS,
    DateOrderGuess,
    EntityGuess,
    detect_date_orders,
    detect_delimiter,
    detect_entity,
    detect_separator,
    sample_text,
)
from floorsync.csv_import.headers import ColumnMapping, display_headers, match_columns, signature
from floorsync.csv_import.issues import Code, FileError, Issue
from floorsync.csv_import.parser import (
    DateOrderChoice,
    DecimalChoice,
    FileSettings,
    date_order_issue,
)
from floorsync.csv_import.reading import open_table
from floorsync.csv_import.values import DecimalSeparator

SAMPLES_PER_COLUMN = 3


@dataclass(frozen=True)
class FileChoices:
    """What the user may change on a file card; None / "auto" means detect."""

    encoding: EncodingChoice = "auto"
    delimiter: str | None = None
    header_line: int | None = None
    decimal: DecimalChoice = "auto"
    date_order: DateOrderChoice = "auto"
    entity: str | None = None
    derive_ids: bool = True
    saved: MappingOf[int, str] | None = None  # a remembered mapping for this layout (§7.5)
    manual: MappingOf[int, str] | None = None


@dataclass
class FileAnalysis:
    name: str
    size: int
    error: Issue | None = None
    encoding: str = ""
    non_ascii_sample: tuple[str, ...] = ()
    delimiter: str = ","
    delimiter_reason: str = ""
    header_line: int = 1
    header: list[str] = field(default_factory=list)  # as displayed (`Column 3`, `Notes (2)`)
    header_cells: list[str] = field(default_factory=list)  # as read
    signature: str = ""
    decimal: DecimalSeparator = "point"
    date_orders: list[DateOrderGuess] = field(default_factory=list)
    row_count: int = 0
    entity: EntityGuess | None = None
    mapping: ColumnMapping | None = None
    samples: list[list[str]] = field(default_factory=list)  # per column, up to three values
    empty_columns: list[int] = field(default_factory=list)  # trailing columns empty everywhere
    issues: list[Issue] = field(default_factory=list)  # warnings and mapping-level issues
    decoded: Decoded | None = field(default=None, repr=False)

    def settings(self, choices: FileChoices) -> FileSettings:
        """What to hand the parser for this file."""
        return FileSettings(
            delimiter=self.delimiter,
            header_line=self.header_line,
            decimal=self.decimal if choices.decimal == "auto" else choices.decimal,
            date_order=choices.date_order,
        )

    @property
    def blocked(self) -> bool:
        return self.error is not None or any(i.severity == "error" for i in self.issues)


# (entity, header signature) → the mapping remembered for that layout (§7.5), or None
SavedLookup = Callable[[str, str], MappingOf[int, str] | None]


def analyse_file(
    name: str,
    data: bytes,
    choices: FileChoices | None = None,
    *,
    saved_lookup: SavedLookup | None = None,
) -> FileAnalysis:
    """`saved_lookup`: a remembered mapping for the detected entity and header layout is
    applied (unless `choices.saved` is given) when it has one entry per column — found during
    the one pass, so a file is not read twice to apply it."""
    choices = choices or FileChoices()
    result = FileAnalysis(name, len(data))
    try:
        _analyse(result, data, choices, saved_lookup)
    except FileError as exc:
        result.error = exc.issue.at(file=name)
    return result


def _analyse(
    result: FileAnalysis, data: bytes, choices: FileChoices, saved_lookup: SavedLookup | None
) -> None:
    decoded = decode(data, choices.encoding)
    result.decoded = decoded
    result.encoding, result.non_ascii_sample = decoded.encoding, decoded.non_ascii_sample
    result.issues.extend(w.at(file=result.name) for w in decoded.warnings)
    if choices.delimiter is None:
        lines = decoded.lines()
        if choices.header_line:
            lines = itertools.islice(lines, choices.header_line - 1, None)
        result.delimiter, result.delimiter_reason = detect_delimiter(sample_text(lines))
    else:
        result.delimiter, result.delimiter_reason = choices.delimiter, "chosen"
    table = open_table(decoded.lines(), result.delimiter, header_line=choices.header_line)
    result.header_line, result.header_cells = table.header_line, table.header
    result.header = display_headers(table.header)
    result.signature = signature(table.header)
    width = len(table.header)
    samples: list[list[str]] = [[] for _ in range(width)]
    filled = [False] * width
    head: list[list[str]] = []
    rows = 0
    for _line, cells in table.records:
        rows += 1
        if rows <= SNIFF_ROWS:
            head.append(cells)
        for position, cell in enumerate(cells[:width]):
            if cell.strip():
                filled[position] = True
                if len(samples[position]) < SAMPLES_PER_COLUMN:
                    samples[position].append(cell.strip()[:100])
    if rows == 0:
        raise FileError(Code.FILE_EMPTY, "The file has a header line but no data rows")
    result.row_count, result.samples = rows, samples
    trailing = width
    while trailing > 0 and not filled[trailing - 1] and not table.header[trailing - 1].strip():
        trailing -= 1
    result.empty_columns = list(range(trailing, width))
    result.decimal = (
        detect_separator(result.delimiter, head) if choices.decimal == "auto" else choices.decimal
    )
    result.entity = (
        EntityGuess(choices.entity, "chosen")
        if choices.entity
        else detect_entity(result.name, table.header)
    )
    if result.entity.entity is None:
        result.issues.append(
            Issue(Code.ENTITY_UNKNOWN, "Select the kind of data in this file", file=result.name)
        )
        return
    saved = choices.saved
    if saved is None and saved_lookup is not None and result.signature:
        found = saved_lookup(result.entity.entity, result.signature)
        if found is not None and len(found) == len(result.header):
            saved = found
    mapping = match_columns(
        result.entity.entity,
        table.header,
        saved=saved,
        manual=choices.manual,
        derive_ids=choices.derive_ids,
    )
    result.mapping = mapping
    result.issues.extend(i.at(file=result.name) for i in mapping.issues)
    result.date_orders = detect_date_orders(mapping, head)
    if choices.date_order == "auto":
        for guess in result.date_orders:
            column = mapping.columns[guess.position]
            if (issue := date_order_issue(column, guess, mapping.entity)) is not None:
                result.issues.append(issue.at(file=result.name))
