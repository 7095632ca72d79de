"""Signing in and out of the admin UI.

`GET /sign-in` shows the form; `POST /sign-in` takes an admin API key and answers with the
session cookie (`HttpOnly`, `SameSite=Lax`, `Path` = the admin root, `Secure` over HTTPS) and a
redirect to where the user was going. The key itself is never stored in the browser.

The sign-in form has no session yet, so it is protected by a double-submit token instead: a
random value in a short-lived cookie that the form must repeat (a page on another site can
neither read nor set it). Failed sign-ins are throttled per client address (`throttle.py`).
"""

import re
import secrets
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from floorsync.admin.sessions import AdminIdentity, SessionPolicy, end_session, start_session
from floorsync.admin.web import (
    COOKIE,
    AdminDep,
    FormDep,
    cookie_path,
    form_text,
    identify,
    is_https,
    read_form,
    render,
    root_of,
    ui_of,
)
from floorsync.auth.api_keys import touch_last_used, verify_key
from floorsync.bootstrap import Services
from floorsync.db.repository import TenantRepository
from floorsync.errors import Forbidden, RateLimited, Unauthorized
from floorsync.http.context import services_of
from floorsync.models.enums import ApiKeyRole
from floorsync.models.tenancy import ApiKey

router = APIRouter()
SIGNIN_COOKIE = "floorsync_admin_signin"
SIGNIN_FIELD = "signin_token"
SIGNIN_TOKEN_SECONDS = 3600
SIGNIN_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")


def safe_next(request: Request, target: str | None) -> str:
    """Where to go after signing in: a path inside the admin UI, never another site."""
    root = root_of(request)
    home = root or "/"
    if not target:
        return home
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith(root + "/")
        or "//" in target
        or "\\" in target
        or any(ord(c) < 32 for c in target)
    ):
        return home
    return target


def _set_cookie(
    response: Response, request: Request, name: str, value: str, max_age: int, services: Services
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=cookie_path(request),
        httponly=True,
        samesite="lax",
        secure=is_https(request, services),
    )


def _sign_in_page(
    request: Request, *, error: str | None = None, status_code: int = 200, **extra: Any
) -> HTMLResponse:
    services = services_of(request)
    # Keep the token of a form already open in another tab valid: reuse the cookie's value.
    token = request.cookies.get(SIGNIN_COOKIE, "")
    if not SIGNIN_TOKEN.fullmatch(token):
        token = secrets.token_urlsafe(24)
    response = render(
        request,
        "sign_in.html",
        status_code=status_code,
        error=error,
        signin_token=token,
        signin_field=SIGNIN_FIELD,
        next=safe_next(request, request.query_params.get("next")),
        signed_out=request.query_params.get("signed_out", ""),
        **extra,
    )
    _set_cookie(response, request, SIGNIN_COOKIE, token, SIGNIN_TOKEN_SECONDS, services)
    return response


@router.get("/sign-in", response_model=None)
async def sign_in_form(request: Request) -> Response:
    services = services_of(request)
    ui = ui_of(request)
    identity = await run_in_threadpool(identify, services, ui.policy, request.cookies.get(COOKIE))
    if identity is not None:
        return RedirectResponse(safe_next(request, request.query_params.get("next")), 303)
    return _sign_in_page(request)


def _verify(session: Session, services: Services, key: str) -> ApiKey:
    """The active admin key for `key`; Unauthorized (unknown, revoked, expired, malformed) or
    Forbidden (an integration key)."""
    now = services.clock.now()
    scope, touch = verify_key(session, f"Bearer {key}", now)
    if scope.role != ApiKeyRole.admin:
        raise Forbidden("This is an integration key. The admin UI needs a key with the admin role.")
    row = TenantRepository(session, scope, ApiKey).get(scope.api_key_id)  # type: ignore[arg-type]
    if row is None:  # revoked and removed between the two statements
        raise Unauthorized("Invalid API key")
    if touch:
        touch_last_used(session, row.id, now)
    return row


def _open_session(services: Services, policy: SessionPolicy, key: str) -> str:
    with services.sessions.begin() as session:
        row = _verify(session, services, key)
        _session, token = start_session(session, row, services.clock.now(), policy)
    return token


@router.post("/sign-in", response_model=None)
async def sign_in(request: Request) -> Response:
    services = services_of(request)
    ui = ui_of(request)
    client = request.client.host if request.client else "unknown"
    wait = ui.throttle.retry_after(client)
    if wait is not None:
        raise RateLimited(
            f"Too many failed sign-ins from your address. Try again in {wait} seconds.",
            headers={"Retry-After": str(wait)},
        )
    form = await read_form(request)
    expected = request.cookies.get(SIGNIN_COOKIE, "")
    given = form.get(SIGNIN_FIELD)
    if not expected or not isinstance(given, str) or not secrets.compare_digest(expected, given):
        raise Forbidden(
            "The sign-in form had expired or did not come from this page. Reload it and try again."
        )
    key = form_text(form, "api_key")
    target = safe_next(request, form_text(form, "next"))
    try:
        token = await run_in_threadpool(_open_session, services, ui.policy, key)
    except Unauthorized:
        ui.throttle.failed(client)
        return _sign_in_page(
            request,
            error="That key was not accepted: it is unknown, revoked or expired. "
            "Check it and try again.",
            status_code=401,
        )
    except Forbidden as exc:
        return _sign_in_page(request, error=exc.message, status_code=403)
    response = RedirectResponse(target, status_code=303)
    max_age = int(ui.policy.lifetime.total_seconds())
    _set_cookie(response, request, COOKIE, token, max_age, services)
    response.delete_cookie(SIGNIN_COOKIE, path=cookie_path(request))
    return response


def _close_session(services: Services, identity: AdminIdentity) -> None:
    with services.sessions.begin() as session:
        end_session(session, identity)


@router.post("/sign-out", response_model=None)
async def sign_out(admin: AdminDep, _form: FormDep) -> Response:
    await run_in_threadpool(_close_session, admin.services, admin.identity)
    response = admin.redirect("/sign-in", signed_out="1")
    response.delete_cookie(
        COOKIE,
        path=cookie_path(admin.request),
        httponly=True,
        samesite="lax",
        secure=is_https(admin.request, admin.services),
    )
    return response
