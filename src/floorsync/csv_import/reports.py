"""Downloads made from an import (CSV import §12.2, §12.3): the error report and the failed-rows
file. Both are UTF-8 with a BOM (so Excel shows accented characters), and every cell goes
through `formulas.neutralise` (§15).

- Error report: one line per issue with the columns of §8.2, errors before warnings, by file
  order, line and column; `;` when the first uploaded file used `;`, otherwise `,`.
- Failed rows: per file, the original header and each failed row's cells as read, plus
  `floorsync_line` and `floorsync_errors` (the messages joined by ` | `), in the file's own
  delimiter. Uploaded again, the two extra columns are ignored and the `'` added here removed.

Writers take any text stream and iterables, so a caller can stream from the database.
"""

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from typing import IO, Any

from floorsync.csv_import.columns import FAILED_ROWS_COLUMNS
from floorsync.csv_import.formulas import neutralise
from floorsync.csv_import.issues import Issue
from floorsync.csv_import.reading import open_table

BOM = "\ufeff"
ERROR_COLUMNS = (
    "file",
    "line",
    "column",
    "column_number",
    "field",
    "entity",
    "external_id",
    "severity",
    "code",
    "message",
    "value",
)


def _writer(out: IO[str], delimiter: str) -> Any:
    return csv.writer(out, delimiter=delimiter, quotechar='"', lineterminator="\r\n")


def _safe(values: Iterable[object]) -> list[str]:
    return [neutralise("" if v is None else str(v)) for v in values]


def issue_order(file_position: int, issue: Issue) -> tuple[int, int, int, int]:
    """Sort key of the error report: errors first, then by file, line and column."""
    return (
        issue.severity != "error",
        file_position,
        issue.line or 0,
        issue.column_number or 0,
    )


def write_error_report(out: IO[str], issues: Iterable[Issue], *, delimiter: str = ",") -> int:
    """Write the report of issues given in report order (`issue_order`); returns the count."""
    out.write(BOM)
    writer = _writer(out, delimiter)
    writer.writerow(ERROR_COLUMNS)
    count = 0
    for issue in issues:
        writer.writerow(
            _safe(
                (
                    issue.file,
                    issue.line,
                    issue.column,
                    issue.column_number,
                    issue.field,
                    issue.entity,
                    issue.external_id,
                    issue.severity,
                    issue.code,
                    issue.message,
                    issue.value,
                )
            )
        )
        count += 1
    return count


def write_failed_rows(
    out: IO[str],
    header: Sequence[str],
    rows: Iterable[tuple[int, Sequence[str], Sequence[str]]],
    *,
    delimiter: str,
) -> int:
    """Write the header and each `(line, cells, messages)` failed row; returns the row count."""
    out.write(BOM)
    writer = _writer(out, delimiter)
    writer.writerow(_safe([*header, *FAILED_ROWS_COLUMNS]))
    count = 0
    for line, cells, messages in rows:
        writer.writerow(_safe([*cells, line, " | ".join(messages)]))
        count += 1
    return count


def failed_rows_from_source(
    out: IO[str],
    lines: Iterable[str],
    failures: dict[int, Sequence[str]],
    *,
    delimiter: str,
    header_line: int | None = None,
) -> int:
    """Re-read a stored file and write its failed rows: `failures` maps a record's first line
    to its messages. Streams; the header is the file's own, cells are those of the record."""
    table = open_table(lines, delimiter, header_line=header_line)
    width = len(table.header)
    rows = (
        (line, [*cells, *[""] * (width - len(cells))][: max(width, len(cells))], failures[line])
        for line, cells in table.records
        if line in failures
    )
    return write_failed_rows(out, table.header, rows, delimiter=delimiter)


def zip_files(files: Iterable[tuple[str, str]]) -> bytes:
    """Several (name, text) downloads as one zip (failed rows of several files, templates)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in files:
            archive.writestr(name, text.encode("utf-8"))
    return buffer.getvalue()
