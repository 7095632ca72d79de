"""Compact JSON responses and the success and error envelopes."""

from typing import Any

from starlette.responses import Response

from floorsync.errors import FloorsyncError
from floorsync.kit import json_bytes

# Key in the ASGI scope's "state": headers that the middleware adds to the response of the
# request, whatever answers it (a handler, an error handler, a hook). Rate-limit headers.
RESPONSE_HEADERS = "response_headers"


def dumps(value: Any) -> bytes:
    """Compact, raw UTF-8, key order kept: the one JSON writer of every response (integers
    beyond 64 bits, which a stored JSON value can hold, are written exactly)."""
    return json_bytes.dumps(value)


class CompactJSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return content if isinstance(content, bytes) else dumps(content)


class Respond(Exception):
    """Raised while the request context is built to send a ready-made response instead of
    running the handler (an idempotent replay)."""

    def __init__(self, response: Any) -> None:
        super().__init__("response ready")
        self.response = response


def success_body(data: Any) -> bytes:
    return dumps({"success": True, "data": data})


def ok(
    data: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> CompactJSONResponse:
    return CompactJSONResponse(success_body(data), status_code=status_code, headers=headers)


def error_response(exc: FloorsyncError, *, message: str | None = None) -> CompactJSONResponse:
    error: dict[str, Any] = {
        "code": exc.code,
        "message": message or exc.message,
        "statusCode": exc.status_code,
    }
    details = exc.details_json()
    if details is not None:
        error["details"] = details
    info = getattr(exc, "info", None)
    if exc.code == "RATE_LIMIT_EXCEEDED" and (info is not None or details is not None):
        error["rateLimitInfo"] = info if info is not None else details
    return CompactJSONResponse(
        {"success": False, "error": error}, status_code=exc.status_code, headers=exc.headers
    )
