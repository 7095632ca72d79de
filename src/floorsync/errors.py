"""floorsync errors: one tree, rendered by one handler as
{"success":false,"error":{"code":…,"message":…,"statusCode":…,"details":…}}.

FloorsyncError                  500 INTERNAL_ERROR (real bugs only)
├── BadRequest                  400 BAD_REQUEST
│   ├── InvalidStateTransition  400 INVALID_STATE_TRANSITION
│   └── InvalidOperation        400 INVALID_OPERATION
├── Unauthorized                401 UNAUTHORIZED
├── Forbidden                   403 FORBIDDEN
├── NotFound                    404 NOT_FOUND
├── MethodNotAllowed            405 METHOD_NOT_ALLOWED
├── Conflict                    409 CONFLICT
├── CursorExpired               410 CURSOR_EXPIRED
├── PayloadTooLarge             413 PAYLOAD_TOO_LARGE
├── ValidationFailed            422 VALIDATION_ERROR   details: [{field, message, constraint, value?}]
├── RateLimited                 429 RATE_LIMIT_EXCEEDED
├── NotImplementedYet           501 NOT_IMPLEMENTED
└── ServiceUnavailable          503 SERVICE_UNAVAILABLE
"""

from dataclasses import dataclass, field
from typing import Any, ClassVar

_MISSING: Any = object()
# Pass as a Detail's value when no value was supplied: `value` is then left out of the JSON.
NO_VALUE: Any = _MISSING


@dataclass
class Detail:
    """One item of `details`: the field path, a message, a constraint and the offending value."""

    field: str
    message: str
    constraint: str
    value: Any = _MISSING

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "field": self.field,
            "message": self.message,
            "constraint": self.constraint,
        }
        if self.value is not _MISSING:
            out["value"] = self.value
        return out

    def prefixed(self, prefix: str) -> "Detail":
        path = (
            f"{prefix}{'' if self.field.startswith('[') else '.'}{self.field}"
            if prefix
            else self.field
        )
        return Detail(path, self.message, self.constraint, self.value)


class FloorsyncError(Exception):
    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "INTERNAL_ERROR"

    def __init__(
        self,
        message: str,
        details: list[Detail] | dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers or {}

    def details_json(self) -> Any:
        if self.details is None:
            return None
        if isinstance(self.details, dict):
            return self.details
        return [d.as_dict() for d in self.details]


class BadRequest(FloorsyncError):
    status_code = 400
    code = "BAD_REQUEST"


class InvalidStateTransition(BadRequest):
    code = "INVALID_STATE_TRANSITION"


class InvalidOperation(BadRequest):
    code = "INVALID_OPERATION"


class Unauthorized(FloorsyncError):
    status_code = 401
    code = "UNAUTHORIZED"

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(FloorsyncError):
    status_code = 403
    code = "FORBIDDEN"


class NotFound(FloorsyncError):
    status_code = 404
    code = "NOT_FOUND"


class MethodNotAllowed(FloorsyncError):
    status_code = 405
    code = "METHOD_NOT_ALLOWED"

    def __init__(self, method: str, allowed: list[str]) -> None:
        allow = ", ".join(allowed)
        super().__init__(f"Method {method} not allowed. Allowed: {allow}", headers={"Allow": allow})


class Conflict(FloorsyncError):
    status_code = 409
    code = "CONFLICT"


class CursorExpired(FloorsyncError):
    status_code = 410
    code = "CURSOR_EXPIRED"


class PayloadTooLarge(FloorsyncError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"


class ValidationFailed(FloorsyncError):
    status_code = 422
    code = "VALIDATION_ERROR"

    def __init__(self, entity: str, details: list[Detail]) -> None:
        super().__init__(f"✗ {len(details)} validation error(s) in {entity}", details)


class RateLimited(FloorsyncError):
    status_code = 429
    code = "RATE_LIMIT_EXCEEDED"

    def __init__(
        self,
        message: str,
        details: list[Detail] | dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        info: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, details, headers)
        self.info = info  # rendered as `rateLimitInfo` (Eryxon's object)


class NotImplementedYet(FloorsyncError):
    status_code = 501
    code = "NOT_IMPLEMENTED"


class ServiceUnavailable(FloorsyncError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"


@dataclass
class DetailList:
    """Collects details while validating, so every error is reported, not just the first."""

    items: list[Detail] = field(default_factory=list)

    def add(self, path: str, message: str, constraint: str, value: Any = _MISSING) -> None:
        self.items.append(Detail(path, message, constraint, value))

    def __bool__(self) -> bool:
        return bool(self.items)
