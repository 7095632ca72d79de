"""Shared helpers of the parsing-layer tests: fixture bytes and parsing a text in one call."""

import io
from pathlib import Path
from typing import Any

from floorsync.csv_import.analysis import FileAnalysis, FileChoices, analyse_file
from floorsync.csv_import.parser import (
    FileParse,
    FileSettings,
    ImportOptions,
    ParsedRow,
    parse_file,
)

DATA = Path(__file__).parent / "data"


def fixture(name: str) -> bytes:
    return (DATA / name).read_bytes()


def lines(text: str) -> io.StringIO:
    return io.StringIO(text, newline="")


def parse(
    text: str,
    entity: str,
    *,
    delimiter: str = ",",
    decimal: Any = "auto",
    date_order: Any = "auto",
    **options: Any,
) -> tuple[FileParse, list[ParsedRow]]:
    parsed = parse_file(
        lines(text),
        entity,
        settings=FileSettings(delimiter, decimal=decimal, date_order=date_order),
        options=ImportOptions(**options),
        file_name=f"{entity}.csv",
    )
    return parsed, list(parsed)


def analyse(name: str, data: bytes | None = None, **choices: Any) -> FileAnalysis:
    return analyse_file(name, fixture(name) if data is None else data, FileChoices(**choices))


def codes(row: ParsedRow) -> list[str]:
    return [str(i.code) for i in row.issues]
