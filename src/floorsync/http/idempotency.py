"""`Idempotency-Key` on POST and PUT (API §1.14, data model §7.2).

The key is claimed in a short transaction of its own; the unique (tenant_id, key) settles
concurrent claims. A 2xx response is stored by `ctx.respond` in the request's own transaction,
so the stored reply and the effects commit together; any other outcome deletes the claim
before the response is sent, so the key can be retried at once.

    same key, same request, same API key, first one succeeded → the stored reply,
                                                    `Idempotency-Replayed: true`
    same key, first one succeeded, another API key → 409 CONFLICT (issue 8: a reply can carry a
                                                    secret shown once, so it is replayed only to
                                                    the key that made the request)
    same key, another request                     → 409 CONFLICT
    same key while the first is still running     → 409 CONFLICT (until its lease expires)

The hook runs after authentication and the route's role check (`http.context`), and a stored
reply is sealed under a context naming its row and its API key, so it opens for that key only.
"""

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from floorsync.bootstrap import Services
from floorsync.db.repository import TenantScope, scoped, tenant_filter
from floorsync.errors import BadRequest, Conflict, PayloadTooLarge
from floorsync.http.json_body import parse_json
from floorsync.http.responses import CompactJSONResponse, Respond
from floorsync.kit.canonical_json import canonical_json
from floorsync.kit.clock import Clock
from floorsync.kit.ids import new_id
from floorsync.kit.secretbox import SecretBox
from floorsync.models.bookkeeping import IdempotencyKey
from floorsync.models.enums import IdempotencyState

if TYPE_CHECKING:  # http.context builds the request context and calls idempotency_hook
    from floorsync.http.context import Ctx

HEADER = "idempotency-key"
KEY_FORMAT = re.compile(r"[\x20-\x7e]{1,255}")
RETENTION = timedelta(hours=24)
# How long a claim stays "in progress" before a crashed request's key may be taken over.
LEASE = timedelta(minutes=5)
METHODS = frozenset({"POST", "PUT"})


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """SHA-256 of method, path, the sorted query string and the canonical JSON of the body."""
    params = urlencode(sorted(parse_qsl(query, keep_blank_values=True)))
    try:
        canonical = canonical_json(parse_json(body)).encode("utf-8") if body.strip() else b""
    except BadRequest:
        canonical = body  # the request will fail with 400 (and release the key)
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), params.encode()):
        digest.update(part)
        digest.update(b"\n")
    digest.update(canonical)
    return digest.hexdigest()


@dataclass(frozen=True)
class Claim:
    id: uuid.UUID
    locked_until: datetime  # also the claim's token: a takeover changes it


@dataclass(frozen=True)
class Replay:
    status: int
    body: bytes  # sealed, as stored
    row_id: uuid.UUID


REUSED_BY_ANOTHER_KEY = "Idempotency-Key was already used by another API key"


def claim_key(
    sessions: sessionmaker[Session], scope: TenantScope, key: str, fp: str, clock: Clock
) -> Claim | Replay:
    """Claim `key` for this request (made with `scope.api_key_id`) in a short transaction, or
    return the stored reply of this API key's own earlier request.

    Raises Conflict for a reply stored for another API key, another request with the key, or
    one still being processed.
    """
    for _attempt in range(3):
        now = clock.now()
        session = sessions()
        try:
            row = session.scalars(
                scoped(IdempotencyKey, scope).where(IdempotencyKey.key == key).with_for_update()
            ).first()
            if row is not None and row.expires_at <= now:
                session.delete(row)
                session.flush()
                row = None
            if row is None:
                claim = Claim(new_id(), now + LEASE)
                session.add(
                    IdempotencyKey(
                        id=claim.id,
                        tenant_id=scope.tenant_id,
                        key=key,
                        fingerprint=fp,
                        api_key_id=scope.api_key_id,
                        state=IdempotencyState.in_progress,
                        locked_until=claim.locked_until,
                        created_at=now,
                        expires_at=now + RETENTION,
                    )
                )
                try:
                    session.commit()
                except IntegrityError:
                    session.rollback()
                    continue  # claimed concurrently: look again
                return claim
            abandoned = (
                row.state == IdempotencyState.in_progress
                and row.locked_until is not None
                and row.locked_until <= now
            )
            completed = row.state == IdempotencyState.completed
            if completed and (row.api_key_id is None or row.api_key_id != scope.api_key_id):
                raise Conflict(REUSED_BY_ANOTHER_KEY)
            if row.fingerprint != fp and not abandoned:
                raise Conflict("Idempotency-Key was already used with a different request")
            if completed:
                return Replay(row.response_status or 200, row.response_body or b"", row.id)
            if not abandoned:
                raise Conflict("A request with this Idempotency-Key is still being processed")
            # A crashed request left the claim behind (it committed nothing): take it over.
            row.fingerprint, row.api_key_id, row.locked_until = fp, scope.api_key_id, now + LEASE
            claim = Claim(row.id, row.locked_until)
            session.commit()
            return claim
        finally:
            session.close()
    raise Conflict("A request with this Idempotency-Key is still being processed")


def store_reply(
    session: Session, scope: TenantScope, claim: Claim, status: int, body: bytes
) -> None:
    """Mark the claim completed with the reply, in the request's own transaction."""
    result = session.execute(
        update(IdempotencyKey)
        .where(
            tenant_filter(IdempotencyKey, scope),
            IdempotencyKey.id == claim.id,
            IdempotencyKey.state == IdempotencyState.in_progress,
            IdempotencyKey.locked_until == claim.locked_until,
        )
        .values(
            state=IdempotencyState.completed,
            response_status=status,
            response_body=body,
            locked_until=None,
        )
    )
    if getattr(result, "rowcount", 1) == 0:
        # Our lease ran out and another request took the key over: don't commit twice.
        raise Conflict("A request with this Idempotency-Key is still being processed")


def release_claim(sessions: sessionmaker[Session], scope: TenantScope, claim: Claim) -> None:
    """Delete a claim whose request did not store a reply (it failed, or stores nothing)."""
    session = sessions()
    try:
        session.execute(
            delete(IdempotencyKey).where(
                tenant_filter(IdempotencyKey, scope),
                IdempotencyKey.id == claim.id,
                IdempotencyKey.state == IdempotencyState.in_progress,
                IdempotencyKey.locked_until == claim.locked_until,
            )
        )
        session.commit()
    finally:
        session.close()


# What a part image upload's form may add to the image limit (files/endpoints.py: the route's
# body limit is the image limit plus this).
_FORM_OVERHEAD = 64 * 1024


async def _body_for_fingerprint(ctx: "Ctx") -> bytes | None:
    """The request body (cached for the handler), or None when it declares more than any route
    takes (the route then answers 413 without reading it). Read with a cap — the largest body
    a route takes, MAX_BODY_BYTES or a part image's limit + 64 KiB — so a chunked body
    without Content-Length can't fill the memory: past the cap it is 413 at once."""
    settings = ctx.services.settings
    cap = max(settings.max_body_bytes, settings.max_image_bytes + _FORM_OVERHEAD)
    declared = ctx.request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in ctx.request.stream():
        size += len(chunk)
        if size > cap:
            raise PayloadTooLarge(f"Request body exceeds the limit of {cap} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    # Starlette's own cache of the body (what `await request.body()` sets): the handler's
    # `request.body()` / `request.stream()` read it from there.
    ctx.request._body = body
    return body


def _is_fallback(ctx: "Ctx") -> bool:
    route = ctx.request.scope.get("route")
    return getattr(route, "path", "") == "/{path:path}"


async def idempotency_hook(ctx: "Ctx") -> None:
    """Called by the request context after authentication: claim the key, replay a stored
    reply (raises Respond), or refuse with 409."""
    request = ctx.request
    key = request.headers.get(HEADER)
    if key is None or request.method not in METHODS or _is_fallback(ctx):
        return
    if not KEY_FORMAT.fullmatch(key):
        raise BadRequest("Invalid Idempotency-Key: use 1–255 printable ASCII characters")
    body = await _body_for_fingerprint(ctx)
    if body is None:
        return  # 413 follows; there is nothing to protect
    fp = fingerprint(request.method, request.url.path, request.url.query, body)
    services = ctx.services
    outcome = await run_in_threadpool(
        claim_key, services.sessions, ctx.scope, key, fp, services.clock
    )
    if isinstance(outcome, Replay):
        body = reply_box(services).open(outcome.body, _context(outcome.row_id, ctx.scope))
        raise Respond(
            CompactJSONResponse(
                body, status_code=outcome.status, headers={"Idempotency-Replayed": "true"}
            )
        )
    claim = outcome
    stored = False

    def store(session: Session, status: int, reply: bytes) -> None:
        nonlocal stored
        # Sealed: some replies carry a secret shown once (a new API key, a webhook secret).
        store_reply(
            session,
            ctx.scope,
            claim,
            status,
            reply_box(services).seal(reply, _context(claim.id, ctx.scope)),
        )
        stored = True

    async def finish(_error: BaseException | None) -> None:
        # `stored` means the reply joined the request's transaction; if that transaction then
        # failed to commit, the handler raised and the row rolled back to in_progress.
        if not stored or _error is not None:
            await run_in_threadpool(release_claim, services.sessions, ctx.scope, claim)

    ctx.store_response = store
    ctx.on_finish.append(finish)


def _context(row_id: uuid.UUID, scope: TenantScope) -> bytes:
    """The sealed reply's associated data: its row and the API key it may be replayed to, so
    even a replay that skipped the owner check could not open another key's reply."""
    api_key = scope.api_key_id.bytes if scope.api_key_id is not None else b""
    return b"idempotency:" + row_id.bytes + b":" + api_key


def reply_box(services: Services) -> SecretBox:
    """The SecretBox that seals stored replies."""
    return services.secretbox
