"""The issue record every stage of the parsing layer reports (CSV import §8.2, §8.3).

An issue is an error or a warning with the file, the physical line (1-based, the line on which
the record starts), the column as its header text and 1-based position, the target field, the
entity, the row's external id when known, a stable code, a message and the offending value
(at most 200 characters). File-level problems stop the reading of one file and are raised as
`FileError`; row issues are collected, never raised, so one bad cell never hides another.
"""

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Literal

VALUE_MAX = 200

Severity = Literal["error", "warning"]


class Code(StrEnum):
    # file level: the file cannot be read, nothing of it is imported
    FILE_EMPTY = "FILE_EMPTY"
    FILE_BINARY = "FILE_BINARY"
    FILE_EXCEL = "FILE_EXCEL"
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    TOO_MANY_ROWS = "TOO_MANY_ROWS"
    TOO_MANY_COLUMNS = "TOO_MANY_COLUMNS"
    ENCODING_UNSUPPORTED = "ENCODING_UNSUPPORTED"
    ENCODING_ERROR = "ENCODING_ERROR"
    UNTERMINATED_QUOTE = "UNTERMINATED_QUOTE"
    FIELD_TOO_LONG = "FIELD_TOO_LONG"
    ENTITY_UNKNOWN = "ENTITY_UNKNOWN"
    # archive level (the whole upload is refused, §3.5, §14)
    ARCHIVE_REFUSED = "ARCHIVE_REFUSED"
    # mapping level: blocks the import until fixed
    REQUIRED_COLUMN_MISSING = "REQUIRED_COLUMN_MISSING"
    DUPLICATE_MAPPING = "DUPLICATE_MAPPING"
    DATE_ORDER_CONFLICT = "DATE_ORDER_CONFLICT"
    # row level
    FIELD_COUNT = "FIELD_COUNT"
    REQUIRED = "REQUIRED"
    TYPE_INTEGER = "TYPE_INTEGER"
    TYPE_DECIMAL = "TYPE_DECIMAL"
    TYPE_DATE = "TYPE_DATE"
    TYPE_DATETIME = "TYPE_DATETIME"
    TYPE_BOOLEAN = "TYPE_BOOLEAN"
    REFERENCE_NOT_FOUND = "REFERENCE_NOT_FOUND"
    REFERENCE_MISMATCH = "REFERENCE_MISMATCH"
    PARENT_FAILED = "PARENT_FAILED"
    DUPLICATE_IN_UPLOAD = "DUPLICATE_IN_UPLOAD"
    CANNOT_DERIVE_ID = "CANNOT_DERIVE_ID"
    # warnings: shown, never block
    DERIVED_ID = "DERIVED_ID"
    MISSING_TRAILING_FIELDS = "MISSING_TRAILING_FIELDS"
    TRAILING_EMPTY_FIELDS = "TRAILING_EMPTY_FIELDS"
    DATE_ORDER_ASSUMED = "DATE_ORDER_ASSUMED"
    MOJIBAKE_SUSPECTED = "MOJIBAKE_SUSPECTED"
    CONTROL_CHARACTERS = "CONTROL_CHARACTERS"
    SOURCE_RESERVED = "SOURCE_RESERVED"
    UNIT_UNKNOWN = "UNIT_UNKNOWN"
    AMBIGUOUS_HEADER = "AMBIGUOUS_HEADER"
    DUPLICATE_COLUMN = "DUPLICATE_COLUMN"


WARNINGS = frozenset(
    {
        Code.DERIVED_ID,
        Code.MISSING_TRAILING_FIELDS,
        Code.TRAILING_EMPTY_FIELDS,
        Code.DATE_ORDER_ASSUMED,
        Code.MOJIBAKE_SUSPECTED,
        Code.CONTROL_CHARACTERS,
        Code.SOURCE_RESERVED,
        Code.UNIT_UNKNOWN,
        Code.AMBIGUOUS_HEADER,
        Code.DUPLICATE_COLUMN,
    }
)


@dataclass(frozen=True, slots=True)
class Issue:
    """One error or warning, in the shape of the error report (§12.2)."""

    code: str
    message: str
    line: int | None = None
    column: str | None = None
    column_number: int | None = None
    field: str | None = None
    value: str | None = None
    entity: str | None = None
    external_id: str | None = None
    file: str = ""

    @property
    def severity(self) -> Severity:
        return "warning" if self.code in WARNINGS else "error"

    def at(self, **changes: object) -> "Issue":
        """A copy with some attributes filled in (the file name, the row's external id)."""
        return replace(self, **changes)  # type: ignore[arg-type]


def clip(value: str | None) -> str | None:
    """The value as the report stores it: at most 200 characters."""
    if value is None or len(value) <= VALUE_MAX:
        return value
    return value[: VALUE_MAX - 1] + "…"


class FileError(Exception):
    """A file cannot be read (§8.1 file level); `issue` says why and, when known, where."""

    def __init__(self, code: Code, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.issue = Issue(code=code, message=message, line=line)


class ArchiveRefused(Exception):
    """A zip upload is refused as a whole (§14: limits, zip bombs, nested archives, paths)."""

    def __init__(self, message: str, *, entry: str | None = None) -> None:
        super().__init__(message)
        self.entry = entry
        self.issue = Issue(code=Code.ARCHIVE_REFUSED, message=message, file=entry or "")
