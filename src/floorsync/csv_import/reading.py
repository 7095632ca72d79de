"""Records out of lines, with physical line numbers (CSV import §3.3, §3.4, §14).

The standard `csv` module does the quoting: `"` is the only quote character, `""` inside a
quoted field is one quote, quoted fields may hold delimiters and line breaks, spaces between a
delimiter and an opening quote are ignored, backslash is an ordinary character. A record is
identified by the physical line it starts on, counting the header, skipped lines and every line
of a multi-line field. A quote that is never closed and a field over 32,767 characters stop the
file (`UNTERMINATED_QUOTE`, `FIELD_TOO_LONG`, naming the record's first line). Blank lines (only
whitespace or only delimiters) are not records.
"""

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from floorsync.csv_import.issues import Code, FileError

MAX_FIELD_CHARS = 32_767  # Excel's cell limit
MAX_COLUMNS = 500
MAX_ROWS = 1_000_000
_SEP_LINE = re.compile(r'^"?sep=(?P<d>[^"\r\n])"?[ \t]*$', re.IGNORECASE)
_BLANK = " \t\u00a0\ufeff"


class _Lines:
    """The line iterator the csv reader pulls from, counting physical lines and keeping the
    lines of the record being read (for the unterminated-quote check)."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self.count = 0
        self.exhausted = False
        self.current: list[str] = []

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        try:
            line = next(self._lines)
        except StopIteration:
            self.exhausted = True
            raise
        self.count += 1
        self.current.append(line)
        return line


def sep_directive(line: str) -> str | None:
    """The delimiter fixed by Excel's `sep=;` first line, or None."""
    found = _SEP_LINE.match(line.rstrip("\r\n").lstrip("\ufeff"))
    if found is None:
        return None
    return found.group("d")


def is_blank(cells: list[str]) -> bool:
    return all(not c.strip(_BLANK) for c in cells)


@dataclass
class Table:
    """A header and a stream of its records, `(line, cells)`; blank lines are left out."""

    header: list[str]
    header_line: int
    records: Iterator[tuple[int, list[str]]]


def open_table(lines: Iterable[str], delimiter: str, *, header_line: int | None = None) -> Table:
    """Skip the lines above the header (a `sep=` line, or every line before `header_line`),
    read the header and return the table; raises FileError for an empty file, too many columns
    or a broken first record."""
    source = _Lines(iter(lines))
    if header_line is not None:
        for _ in range(max(header_line - 1, 0)):
            if next(source, None) is None:
                raise FileError(Code.FILE_EMPTY, f"The file has no line {header_line}")
    else:
        first = next(source, None)
        if first is None:
            raise FileError(Code.FILE_EMPTY, "The file is empty")
        if sep_directive(first) is None:
            source = _Lines(_prepend(first, source))
            source.count, source.exhausted = 0, False
    records = _records(source, delimiter)
    for line, cells in records:
        if len(cells) > MAX_COLUMNS and len(_trim_trailing(cells)) > MAX_COLUMNS:
            raise FileError(
                Code.TOO_MANY_COLUMNS,
                f"The header has {len(_trim_trailing(cells))} columns; at most {MAX_COLUMNS} are allowed",
                line=line,
            )
        return Table(cells, line, records)
    raise FileError(Code.FILE_EMPTY, "The file has no header line and no data")


def _prepend(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def _trim_trailing(cells: list[str]) -> list[str]:
    end = len(cells)
    while end and not cells[end - 1].strip(_BLANK):
        end -= 1
    return cells[:end]


def _records(source: _Lines, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(
        source,
        delimiter=delimiter,
        quotechar='"',
        doublequote=True,
        skipinitialspace=True,
        strict=False,
    )
    rows = 0
    while True:
        start = source.count + 1
        source.current = []
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # the module's own field limit (131,072) was hit first
            _too_long_or_unterminated(source, delimiter, start, str(exc))
        if source.exhausted and _unterminated(source.current, delimiter):
            raise FileError(
                Code.UNTERMINATED_QUOTE,
                f"The quoted field that starts on line {start} is never closed",
                line=start,
            )
        if not cells or is_blank(cells):
            continue
        if max(map(len, cells)) > MAX_FIELD_CHARS:
            raise FileError(
                Code.FIELD_TOO_LONG,
                f"A field of the record on line {start} is longer than {MAX_FIELD_CHARS:,} characters",
                line=start,
            )
        rows += 1
        if rows > MAX_ROWS + 1:  # the header is the first record
            raise FileError(
                Code.TOO_MANY_ROWS, f"The file has more than {MAX_ROWS:,} rows", line=start
            )
        yield start, cells


def _too_long_or_unterminated(source: _Lines, delimiter: str, start: int, reason: str) -> None:
    """A field outgrew the csv module: an open quote running to the end of the file is
    UNTERMINATED_QUOTE, anything else FIELD_TOO_LONG (the rest of the file is only scanned)."""
    if "field larger than field limit" not in reason:
        raise FileError(
            Code.UNTERMINATED_QUOTE,
            f"The record on line {start} cannot be read: {reason}",
            line=start,
        )
    if _unterminated(_chain(source.current, source), delimiter):
        raise FileError(
            Code.UNTERMINATED_QUOTE,
            f"The quoted field that starts on line {start} is never closed",
            line=start,
        )
    raise FileError(
        Code.FIELD_TOO_LONG,
        f"A field of the record on line {start} is longer than {MAX_FIELD_CHARS:,} characters",
        line=start,
    )


def _chain(first: list[str], rest: Iterable[str]) -> Iterator[str]:
    yield from first
    yield from rest


def _unterminated(lines: Iterable[str], delimiter: str) -> bool:
    """Whether the record starting with these lines ends inside a quoted field (RFC 4180 states,
    with the reader's liberties: spaces before an opening quote, stray quotes inside unquoted
    fields are text)."""
    quoted = False
    field_start = True
    for text in lines:
        i, n = 0, len(text)
        while i < n:
            if quoted:
                j = text.find('"', i)
                if j < 0:
                    break
                if j + 1 < n and text[j + 1] == '"':
                    i = j + 2
                    continue
                quoted, field_start, i = False, False, j + 1
                continue
            ch = text[i]
            if field_start and ch == " ":
                i += 1
            elif field_start and ch == '"':
                quoted, i = True, i + 1
            elif ch == delimiter:
                field_start, i = True, i + 1
            elif ch in "\r\n":
                return False
            else:
                field_start, i = False, i + 1
    return quoted
