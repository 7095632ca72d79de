"""The outermost layer: request ids, the two URL forms, CORS (OPTIONS answers before auth) and
the last-resort 500 that never leaks SQL or a stack trace."""

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from floorsync.http.access import access_line
from floorsync.http.logs import REQUEST_ID as CURRENT_REQUEST_ID
from floorsync.http.responses import RESPONSE_HEADERS, dumps

log = logging.getLogger("floorsync.http")

REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,200}")
HOSTED_PREFIX = "/functions/v1"
# Methods the routes (the fallback included) are registered for; others are answered as TRACE.
ROUTED_METHODS = frozenset(
    {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "TRACE", "CONNECT", "OPTIONS"}
)
ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
ALLOW_HEADERS = "authorization, content-type, x-request-id, idempotency-key, x-client-info, apikey"
EXPOSE_HEADERS = "x-request-id, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset, retry-after, idempotency-replayed, x-ignored-query-params"


def normalize_path(path: str) -> str:
    """`/functions/v1/api-x/…` → `/api-x/…`; a trailing slash makes no difference."""
    if path.startswith(HOSTED_PREFIX + "/api-"):
        path = path[len(HOSTED_PREFIX) :]
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return path


class FloorsyncMiddleware:
    def __init__(self, app: ASGIApp, cors_origins: list[str]) -> None:
        self.app = app
        self.any_origin = "*" in cors_origins
        self.origins = set(cors_origins)

    def _cors(self, origin: str | None) -> list[tuple[bytes, bytes]]:
        headers = [
            (b"vary", b"Origin"),
            (b"access-control-allow-methods", ALLOW_METHODS.encode()),
            (b"access-control-allow-headers", ALLOW_HEADERS.encode()),
            (b"access-control-expose-headers", EXPOSE_HEADERS.encode()),
        ]
        if origin and (self.any_origin or origin in self.origins):
            headers.append((b"access-control-allow-origin", origin.encode("latin-1")))
        return headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        incoming = headers.get("x-request-id", "")
        request_id = incoming if REQUEST_ID.fullmatch(incoming) else str(uuid.uuid4())
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        late_headers: dict[str, str] = state.setdefault(RESPONSE_HEADERS, {})
        state["original_path"] = scope["path"]
        path = normalize_path(scope["path"])
        if path != scope["path"]:
            scope = dict(scope, path=path, raw_path=path.encode())
        if scope["method"] not in ROUTED_METHODS:
            # An exotic method (PROPFIND, …) would match no route and get the framework's 405
            # before authentication; the fallback route answers it (401, then 405 with the
            # route's real Allow list) under the original name.
            state["original_method"] = scope["method"]
            scope = dict(scope, method="TRACE")
        extra = [(b"x-request-id", request_id.encode()), *self._cors(headers.get("origin"))]

        if scope["method"] == "OPTIONS":
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"text/plain; charset=utf-8"),
                        (b"content-length", b"2"),
                        (b"access-control-max-age", b"600"),
                        *extra,
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b"ok"})
            return

        started = False
        status = 500
        clock_start = time.perf_counter()

        async def send_with_headers(message: Message) -> None:
            nonlocal started, status
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                late = [
                    (k.lower().encode("latin-1"), v.encode("latin-1"))
                    for k, v in late_headers.items()
                ]
                message = dict(message, headers=[*message.get("headers", []), *extra, *late])
            await send(message)

        token = CURRENT_REQUEST_ID.set(request_id)  # every log line of the request carries it
        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception("unhandled error (request id %s)", request_id)
            if started:
                raise
            body = dumps(
                {
                    "success": False,
                    "error": {
                        "code": "INTERNAL_ERROR",
                        "message": f"An unexpected error occurred. Quote request id {request_id} when reporting it.",
                        "statusCode": 500,
                    },
                }
            )
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        *extra,
                        *(
                            (k.lower().encode("latin-1"), v.encode("latin-1"))
                            for k, v in late_headers.items()
                        ),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
        finally:
            # One access line and the request metrics (http/access.py), errors included.
            access_line(scope, headers, status, time.perf_counter() - clock_start)
            CURRENT_REQUEST_ID.reset(token)
