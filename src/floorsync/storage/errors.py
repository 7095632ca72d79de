"""What can go wrong with a stored file, as errors of the one tree in `floorsync.errors`, so the
one handler renders them (catalogue §2.3–2.4) and endpoints need not translate anything.

Storage errors
├── UploadTooLarge      413  more bytes than the limit arrived (nothing is kept)
├── UploadRejected      422  `file`: wrong size, empty, or bytes that fail the allow-list check
├── ObjectNotFound      404  no object under the key
└── BackendUnavailable  503  the disk or the object store failed (`Retry-After: 5`)

Refusal is not raised to the client directly: it is one validation problem of a declared
filename or type, which the issuing endpoint collects with its other field errors.
"""

from typing import Any

from floorsync.errors import (
    NO_VALUE,
    Detail,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    ValidationFailed,
)


class UploadTooLarge(PayloadTooLarge):
    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"File exceeds the upload limit of {max_bytes} bytes")
        self.max_bytes = max_bytes


class UploadRejected(ValidationFailed):
    """The uploaded bytes are not acceptable; the detail names the field `file`."""

    def __init__(self, message: str, constraint: str, entity: str = "upload") -> None:
        super().__init__(entity, [Detail("file", message, constraint)])
        self.reason = message


class ContentMismatch(UploadRejected):
    def __init__(self, content_type: str) -> None:
        super().__init__(f"File content does not match {content_type}", "INVALID_VALUE")


class SizeMismatch(UploadRejected):
    def __init__(self, expected: int, actual: int | None) -> None:
        got = f"more than {expected}" if actual is None else str(actual)
        super().__init__(
            f"File has {got} bytes but size_bytes announced {expected}", "INVALID_VALUE"
        )


class EmptyUpload(UploadRejected):
    def __init__(self) -> None:
        super().__init__("File is empty", "MIN_LENGTH")


class ObjectNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("File not found in storage")


class BackendUnavailable(ServiceUnavailable):
    def __init__(self, what: str) -> None:
        super().__init__(f"File storage is unavailable ({what}); retry shortly")
        self.headers["Retry-After"] = "5"
        self.what = what  # the cause alone (start-up and readiness say it in their own words)


class Refusal(Exception):
    """A declared filename, type or extension is not acceptable (one validation detail)."""

    def __init__(self, message: str, constraint: str, value: Any = NO_VALUE) -> None:
        super().__init__(message)
        self.message = message
        self.constraint = constraint
        self.value = value

    def as_detail(self, field: str) -> Detail:
        return Detail(field, self.message, self.constraint, self.value)
