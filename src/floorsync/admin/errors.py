"""The admin UI's own error pages: HTML, never the API's JSON envelope.

Every error of the error tree (`floorsync.errors`) becomes a page with its status code and
message; a missing or expired session becomes a redirect to the sign-in page; an unexpected
exception becomes a 500 page that quotes the request id (the exception is logged once, here).
The shell also sets the security headers of every admin response: a Content-Security-Policy
that lets pages load scripts, styles, images and fonts from floorsync itself only (plants run
offline networks, and it keeps injected markup inert), no framing, no caching of pages.
"""

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from floorsync.admin.web import SignInRequired, render, root_of
from floorsync.db.integrity import translate_integrity_error
from floorsync.db.transient import is_transient
from floorsync.errors import FloorsyncError, NotFound, ServiceUnavailable

log = logging.getLogger("floorsync.admin")

TITLES = {
    400: "That request was not understood",
    401: "Sign-in needed",
    403: "Not allowed",
    404: "Page not found",
    405: "Not allowed here",
    409: "Conflict",
    413: "Too large",
    422: "Please check the form",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "floorsync is busy",
}
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


def error_page(
    request: Request, status_code: int, message: str, headers: dict[str, str] | None = None
) -> HTMLResponse:
    admin = getattr(request.state, "admin", None)
    return render(
        request,
        "error.html",
        status_code=status_code,
        identity=admin.identity if admin is not None else None,
        headers=headers,
        title=TITLES.get(status_code, "Error"),
        message=message,
        status=status_code,
    )


def install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, _exc: SignInRequired) -> Response:
        root = root_of(request)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        location = f"{root}/sign-in"
        if request.method == "GET" and target.rstrip("/") != root:
            location += "?next=" + quote(target, safe="")
        return RedirectResponse(location, status_code=303)

    @app.exception_handler(FloorsyncError)
    async def _floorsync(request: Request, exc: FloorsyncError) -> Response:
        return error_page(request, exc.status_code, exc.message, exc.headers)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> Response:
        error = translate_integrity_error(exc)
        return error_page(request, error.status_code, error.message)

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> Response:
        if is_transient(exc):
            return _busy(request)
        raise exc

    @app.exception_handler(PoolTimeout)
    async def _pool_exhausted(request: Request, _exc: PoolTimeout) -> Response:
        return _busy(request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, _exc: RequestValidationError) -> Response:
        return error_page(request, 400, "Some of the request's values could not be read.")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return error_page(request, 404, NotFound("There is no such page.").message)
        if exc.status_code == 405:
            return error_page(
                request,
                405,
                f"This page does not accept {request.method} requests.",
                dict(exc.headers or {}),
            )
        return error_page(request, exc.status_code, str(exc.detail))


class AdminShell:
    """Outermost layer of the admin app: security headers on every response, and the 500 page
    for an exception nothing else handled."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        root = str(scope.get("root_path", "")).rstrip("/")
        is_static = str(scope.get("path", "")).startswith(root + "/static/")
        started = False

        async def send_secured(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [*message.get("headers", []), *SECURITY_HEADERS]
                if not is_static and not any(k.lower() == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message = dict(message, headers=headers)
            await send(message)

        try:
            await self.app(scope, receive, send_secured)
        except Exception:
            request_id = scope.get("state", {}).get("request_id", "")
            log.exception("admin page failed (request id %s)", request_id)
            if started:
                raise
            request = Request(scope, receive)
            try:
                response: Any = error_page(
                    request,
                    500,
                    "An unexpected error occurred. Quote the request id below when reporting it.",
                )
            except Exception:  # the error page itself failed: plain text still tells the id
                log.exception("the admin error page failed too")
                response = Response(
                    f"Internal error. Request id: {request_id}\n",
                    status_code=500,
                    media_type="text/plain",
                )
            await response(scope, receive, send_secured)


def _busy(request: Request) -> Response:
    busy = ServiceUnavailable("The database is busy. Wait a moment and reload the page.")
    return error_page(request, busy.status_code, busy.message, {"Retry-After": "2"})
