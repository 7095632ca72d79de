"""One handler renders every error, the framework's own included, as the error envelope."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from floorsync.db.integrity import translate_integrity_error
from floorsync.errors import (
    BadRequest,
    FloorsyncError,
    MethodNotAllowed,
    NotFound,
    ServiceUnavailable,
)
from floorsync.http.responses import Respond, error_response


def register_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Respond)
    async def _respond(_request: Request, exc: Respond) -> Any:
        return exc.response  # the request context answered the request (idempotent replay)

    @app.exception_handler(FloorsyncError)
    async def _floorsync(_request: Request, exc: FloorsyncError) -> Any:
        return error_response(exc)

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, exc: IntegrityError) -> Any:
        return error_response(translate_integrity_error(exc))

    @app.exception_handler(OperationalError)
    async def _operational(_request: Request, exc: OperationalError) -> Any:
        if is_transient(exc):
            return error_response(
                ServiceUnavailable(
                    "The database is busy or unreachable; retry shortly",
                    headers={"Retry-After": "2"},
                )
            )
        raise exc

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, _exc: RequestValidationError) -> Any:
        return error_response(BadRequest("Invalid request"))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Any:
        if exc.status_code == 405:
            allow = (exc.headers or {}).get("Allow", "")
            return error_response(
                MethodNotAllowed(request.method, [m.strip() for m in allow.split(",") if m.strip()])
            )
        if exc.status_code == 404:
            return error_response(NotFound("Unknown endpoint"))
        return error_response(BadRequest(str(exc.detail)))


# PostgreSQL SQLSTATEs a retry can cure: serialization failure, deadlock, lock timeout,
# connection failures, shutting down.
_TRANSIENT_SQLSTATES = {
    "40001",
    "40P01",
    "55P03",
    "57P01",
    "57P02",
    "57P03",
    "08000",
    "08001",
    "08003",
    "08006",
}
_TRANSIENT_WORDS = ("database is locked", "could not connect", "connection", "deadlock")


def is_transient(exc: OperationalError) -> bool:
    """A database condition that goes away on retry (→ 503 with Retry-After, never a 500)."""
    sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if sqlstate in _TRANSIENT_SQLSTATES:
        return True
    text = str(exc.orig).lower()
    return any(word in text for word in _TRANSIENT_WORDS)
