"""One handler renders every error, the framework's own included, as the error envelope."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from floorsync.db.integrity import translate_integrity_error
from floorsync.db.transient import is_transient, sqlstate
from floorsync.errors import (
    BadRequest,
    FloorsyncError,
    MethodNotAllowed,
    NotFound,
    ServiceUnavailable,
)
from floorsync.http.responses import Respond, error_response

log = logging.getLogger("floorsync.http")

RETRY_AFTER = "2"  # seconds, on every 503 for a busy or unreachable database


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

    @app.exception_handler(DBAPIError)
    async def _database(_request: Request, exc: DBAPIError) -> Any:
        # Lock conflicts reach this only when the endpoint's retries ran out (http.retry).
        if not is_transient(exc):
            raise exc
        log.warning(
            "database busy or unavailable (SQLSTATE %s: %s): answering 503",
            sqlstate(exc),
            (str(exc.orig).strip().splitlines() or [""])[0][:200],
        )
        return error_response(
            ServiceUnavailable(
                "The database is busy or unreachable; retry shortly",
                headers={"Retry-After": RETRY_AFTER},
            )
        )

    @app.exception_handler(PoolTimeout)
    async def _pool_exhausted(_request: Request, exc: PoolTimeout) -> Any:
        log.warning(
            "database connection pool exhausted (%s): answering 503", str(exc).split(" (")[0]
        )
        return error_response(
            ServiceUnavailable(
                "All database connections are busy; retry shortly",
                headers={"Retry-After": RETRY_AFTER},
            )
        )

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
