"""Request dependencies: authentication (→ TenantScope), the request body, `?id=` parsing, and
the per-request context that opens units of work and renders responses."""

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from floorsync.auth.api_keys import touch_last_used, verify_key
from floorsync.bootstrap import Services
from floorsync.db.engine import read_sessions
from floorsync.db.repository import TenantScope
from floorsync.db.uow import Origin, Work, unit_of_work
from floorsync.errors import BadRequest, Detail, Forbidden, PayloadTooLarge
from floorsync.http.idempotency import idempotency_hook
from floorsync.http.json_body import parse_json
from floorsync.http.query_params import check_query_params
from floorsync.http.ratelimit import RateLimitState, count_request, tenant_limit
from floorsync.http.responses import RESPONSE_HEADERS, CompactJSONResponse, success_body
from floorsync.models.enums import ApiKeyRole


def services_of(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


@dataclass
class Ctx:
    services: Services
    scope: TenantScope
    request: Request
    request_id: str
    # Set by the Idempotency-Key check: stores a 2xx response in the request's transaction.
    store_response: Callable[[Session, int, bytes], None] | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    # Called with the handler's exception (or None) after it finishes, before the response.
    on_finish: list[Callable[[BaseException | None], Any]] = field(default_factory=list)
    # A unit of work of this request has committed (http.retry never runs the handler again then).
    committed: bool = False

    @property
    def params(self) -> Any:
        return self.request.query_params

    def origin(self, channel: str = "api") -> Origin:
        return Origin(channel=channel, api_key_id=self.scope.api_key_id, request_id=self.request_id)

    @contextmanager
    def work(self, channel: str = "api") -> Iterator[Work]:
        with unit_of_work(
            self.services.sessions, self.services.outbox, self.scope, origin=self.origin(channel)
        ) as work:
            yield work
        self.committed = self.committed or not work.discarded

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading only (rolled back at the end; on SQLite it doesn't take the
        write lock, so reads don't queue behind writes)."""
        session = read_sessions(self.services.sessions)()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def respond(
        self, data: Any, status_code: int = 200, work: Work | None = None
    ) -> CompactJSONResponse:
        """Render the success envelope; inside a unit of work, store it for idempotent replay."""
        body = success_body(data)
        if (
            work is not None
            and self.store_response is not None
            and 200 <= status_code < 300
            and not work.discarded
        ):
            self.store_response(work.session, status_code, body)
        return CompactJSONResponse(
            body, status_code=status_code, headers=self.response_headers or None
        )


def _authenticate(
    services: Services, authorization: str | None
) -> tuple[TenantScope, RateLimitState | None]:
    """Authenticate (401s) and count the request against the tenant's rate limit.

    The key and the tenant's limit are read without taking a write lock; only when there is
    something to write (`last_used_at`, at most once a minute, or the rate-limit counter) does a
    short write transaction of its own follow.
    """
    now = services.clock.now()
    reader = read_sessions(services.sessions)()
    try:
        scope, touch = verify_key(reader, authorization, now)
        limit = tenant_limit(reader, scope.tenant_id)
    finally:
        reader.rollback()
        reader.close()
    if not touch and limit is None:
        return scope, None
    writer = services.sessions()
    try:
        if touch and scope.api_key_id is not None:
            touch_last_used(writer, scope.api_key_id, now)
        state = count_request(writer, scope.tenant_id, now, *limit) if limit is not None else None
        writer.commit()
    finally:
        writer.close()
    return scope, state


# Declared so that OpenAPI documents the Bearer scheme on every route that authenticates; the
# header itself is checked by `verify_key` (three distinct 401 messages).
_BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    bearerFormat="ery_live_<32 hex>",
    description="An API key: `Authorization: Bearer ery_live_…`",
)


def _context_dependency(role: ApiKeyRole | None) -> Callable[..., AsyncIterator[Ctx]]:
    """The request context for routes open to every key (`role` None) or to one role only.

    Order (API §1.16): authentication (401), rate limit (429), role (403), then the idempotency
    check, so an idempotent replay is never served to a key its route would refuse.
    """

    async def api_context(
        request: Request,
        _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_BEARER)] = None,
    ) -> AsyncIterator[Ctx]:
        services = services_of(request)
        scope, limited = await run_in_threadpool(
            _authenticate, services, request.headers.get("authorization")
        )
        request.scope.setdefault("state", {})["tenant_id"] = scope.tenant_id  # the access line
        if limited is not None:
            # The middleware adds these to whatever response this request ends with, errors
            # included.
            request.scope.setdefault("state", {}).setdefault(RESPONSE_HEADERS, {}).update(
                limited.headers()
            )
            if limited.exceeded:
                raise limited.error()
        if role is not None and scope.role != role:
            raise Forbidden(f"{role.value.capitalize()} API key required")
        check_query_params(request)  # 400 for an unknown one on a write (http/query_params.py)
        ctx = Ctx(services, scope, request, request.scope.get("state", {}).get("request_id", ""))
        error: BaseException | None = None
        try:
            # Claims the request's Idempotency-Key: may answer by raising Respond (a stored
            # reply), and may append to `ctx.on_finish`, whose callbacks run once the handler is
            # done (normally or with an error), before the response is sent.
            await idempotency_hook(ctx)
            yield ctx
        except BaseException as exc:
            error = exc
            raise
        finally:
            for callback in ctx.on_finish:
                done = callback(error)
                if hasattr(done, "__await__"):
                    await done

    return api_context


api_context = _context_dependency(None)
admin_context = _context_dependency(ApiKeyRole.admin)

# scope="function": the code after `yield` runs before the response is sent, so a callback
# (releasing an idempotency claim) has finished when the client sees the answer.
ApiCtx = Annotated[Ctx, Depends(api_context, scope="function")]
# The same for routes only an admin key may call (403 "Admin API key required" otherwise).
AdminCtx = Annotated[Ctx, Depends(admin_context, scope="function")]


@dataclass
class RawBody:
    data: bytes
    too_large: bool = False
    limit: int = 0

    def _check_size(self) -> None:
        if self.too_large:
            raise PayloadTooLarge(f"Request body exceeds the limit of {self.limit} bytes")

    def parse(self) -> Any:
        self._check_size()
        return parse_json(self.data)

    def json_object(self, *, optional: bool = False) -> dict[str, Any]:
        self._check_size()
        if optional and not self.data.strip():
            return {}
        value = self.parse()
        if not isinstance(value, dict):
            raise BadRequest("Request body must be a JSON object")
        return value


async def raw_body(request: Request) -> RawBody:
    limit = services_of(request).settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return RawBody(b"", too_large=True, limit=limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return RawBody(b"", too_large=True, limit=limit)
        chunks.append(chunk)
    return RawBody(b"".join(chunks), limit=limit)


BodyDep = Annotated[RawBody, Depends(raw_body)]


def parse_uuid(value: str, name: str = "id") -> uuid.UUID:
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        raise BadRequest(
            f"Invalid {name}: must be a UUID",
            [Detail(name, f"{name} must be a UUID", "UUID_FORMAT", value)],
        ) from None


def optional_id(params: Any) -> uuid.UUID | None:
    raw = params.get("id")
    if raw is None:
        return None
    return parse_uuid(raw)


def required_id(params: Any, message: str = "ID parameter is required (?id=<uuid>)") -> uuid.UUID:
    raw = params.get("id")
    if raw is None or raw == "":
        raise BadRequest(message, [Detail("id", message, "NOT_NULL")])
    return parse_uuid(raw)
