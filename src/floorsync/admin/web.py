"""The admin UI's request plumbing: who is signed in (the session cookie), the CSRF check of
form posts, template rendering, and units of work scoped to the signed-in key's tenant.

A page handler takes `AdminDep` (sign-in required: an anonymous GET is redirected to the
sign-in page and back) and, to change anything, `FormDep` as well (a form post with a valid
CSRF token, else 403). Everything it reads or writes goes through `admin.read()` /
`admin.work()`, whose scope is the session's tenant: there is no other way to a database
session here, so a page can't reach another tenant's rows.
"""

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

import jinja2
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from floorsync.admin.pages import NavItem
from floorsync.admin.sessions import (
    AdminIdentity,
    SessionPolicy,
    csrf_token,
    csrf_valid,
    resolve_session,
    touch_session,
)
from floorsync.admin.throttle import LoginThrottle
from floorsync.bootstrap import Services
from floorsync.db.engine import read_sessions
from floorsync.db.repository import TenantScope
from floorsync.db.uow import Origin, Work, unit_of_work
from floorsync.errors import FloorsyncError, Forbidden, NotFound, PayloadTooLarge
from floorsync.http.context import services_of

COOKIE = "floorsync_admin"
CSRF_FIELD = "csrf_token"
# Plain forms (sign-in, a key's name, a replay) are tiny; uploads parse their own bodies.
MAX_FORM_BYTES = 64 * 1024


@dataclass
class AdminUI:
    """What the admin app builds once and every request shares."""

    env: jinja2.Environment
    nav: list[NavItem]
    policy: SessionPolicy
    throttle: LoginThrottle
    static_versions: dict[str, str]


class SignInRequired(Exception):
    """No valid session: the handler redirects to the sign-in page (and back afterwards)."""


class CsrfRejected(Forbidden):
    def __init__(self) -> None:
        super().__init__(
            "This form was not accepted: it has expired or did not come from this page. "
            "Go back, reload the page and try again."
        )


def ui_of(request: Request) -> AdminUI:
    ui: AdminUI = request.app.state.admin_ui
    return ui


def root_of(request: Request) -> str:
    """Where the admin app is mounted (`/admin`), so links work wherever it is."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def cookie_path(request: Request) -> str:
    """The admin root as a cookie path: `/admin` matches `/admin` and `/admin/…` only."""
    return root_of(request) or "/"


def request_id_of(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", ""))


def is_https(request: Request, services: Services) -> bool:
    """Cookies get `Secure` when the browser talks HTTPS to us: directly, through a trusted
    proxy (uvicorn applies X-Forwarded-Proto from 127.0.0.1 by default, `--forwarded-allow-ips`
    for others) or when floorsync's public URL is https."""
    public = services.settings.public_url or ""
    return request.url.scheme == "https" or public.startswith("https://")


def parse_id(value: str) -> uuid.UUID:
    """A path id; anything that isn't a UUID is simply a page that doesn't exist."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound("There is no such page.") from None


def render(
    request: Request,
    template: str,
    *,
    status_code: int = 200,
    identity: AdminIdentity | None = None,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render a template with what every page has: `url()`, `static()`, the navigation bar,
    the signed-in identity (None on the sign-in and some error pages), `csrf_token()` for
    forms, `now` and the request id."""
    ui = ui_of(request)
    root = root_of(request)
    services = services_of(request)
    path = request.url.path[len(root) :] if request.url.path.startswith(root) else "/"

    def url(target: str, **query: Any) -> str:
        params = {k: v for k, v in query.items() if v is not None and v != ""}
        return root + target + ("?" + urlencode(params) if params else "")

    def static(name: str) -> str:
        return f"{root}/static/{name}?v={ui.static_versions.get(name, '0')}"

    def form_token() -> str:
        if identity is None:
            raise RuntimeError("forms that need a CSRF token are for signed-in pages")
        return csrf_token(identity.csrf_secret)

    html = ui.env.get_template(template).render(
        url=url,
        static=static,
        nav=ui.nav if identity is not None else [],
        current_path=path,
        identity=identity,
        csrf_token=form_token,
        csrf_field=CSRF_FIELD,
        now=services.clock.now(),
        request_id=request_id_of(request),
        **context,
    )
    return HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))


@dataclass
class AdminRequest:
    """A signed-in request: the session's identity and tenant scope, and its tools."""

    request: Request
    services: Services
    identity: AdminIdentity

    @property
    def scope(self) -> TenantScope:
        return self.identity.scope

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session (rolled back at the end; on SQLite it takes no write lock).
        Rows read through it stay usable afterwards, for rendering: they are detached before
        the rollback, which would otherwise expire their attributes."""
        session = read_sessions(self.services.sessions)()
        try:
            yield session
        finally:
            session.expunge_all()
            session.rollback()
            session.close()

    @contextmanager
    def work(self) -> Iterator[Work]:
        """A unit of work for the session's tenant; its events say `origin.channel` admin_ui."""
        origin = Origin(
            channel="admin_ui",
            api_key_id=self.scope.api_key_id,
            request_id=request_id_of(self.request) or None,
        )
        with unit_of_work(
            self.services.sessions, self.services.outbox, self.scope, origin=origin
        ) as work:
            yield work

    def render(
        self,
        template: str,
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        return render(
            self.request,
            template,
            status_code=status_code,
            identity=self.identity,
            headers=headers,
            **context,
        )

    def redirect(self, target: str, **query: Any) -> RedirectResponse:
        """303 See Other to an admin path: after a form post, the browser GETs the result."""
        params = {k: v for k, v in query.items() if v is not None and v != ""}
        location = root_of(self.request) + target + ("?" + urlencode(params) if params else "")
        return RedirectResponse(location, status_code=303)


def identify(services: Services, policy: SessionPolicy, token: str | None) -> AdminIdentity | None:
    """The identity behind a session cookie (None: not signed in), moving its idle clock."""
    now = services.clock.now()
    reader = read_sessions(services.sessions)()
    try:
        identity = resolve_session(reader, token, now, policy)
    finally:
        reader.rollback()
        reader.close()
    if identity is not None and identity.touch_due:
        with services.sessions.begin() as writer:
            touch_session(writer, identity, now)
    return identity


async def admin_request(request: Request) -> AdminRequest:
    services = services_of(request)
    identity = await run_in_threadpool(
        identify, services, ui_of(request).policy, request.cookies.get(COOKIE)
    )
    if identity is None:
        raise SignInRequired()
    admin = AdminRequest(request, services, identity)
    request.state.admin = admin  # error pages show the navigation bar to a signed-in user
    return admin


AdminDep = Annotated[AdminRequest, Depends(admin_request)]


async def read_form(request: Request, max_bytes: int = MAX_FORM_BYTES) -> FormData:
    """The posted form, refused (413) when it declares more than `max_bytes` or nothing at all
    (a browser always sends Content-Length for a form)."""
    declared = request.headers.get("content-length", "")
    if not declared.isdigit() or int(declared) > max_bytes:
        raise PayloadTooLarge(f"A form may send at most {max_bytes // 1024} KiB.")
    return await request.form(max_files=0, max_fields=100)


def check_csrf(admin: AdminRequest, token: Any) -> None:
    """403 unless `token` is a CSRF token of this session (for handlers that parse their own
    bodies, such as uploads; FormDep does this for plain forms)."""
    if not isinstance(token, str) or not csrf_valid(admin.identity.csrf_secret, token):
        raise CsrfRejected()


async def admin_form(request: Request, admin: AdminDep) -> FormData:
    form = await read_form(request)
    check_csrf(admin, form.get(CSRF_FIELD))
    return form


FormDep = Annotated[FormData, Depends(admin_form)]


def form_text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def field_messages(exc: FloorsyncError) -> dict[str, str]:
    """The messages of an error's details by field (for showing them next to form fields)."""
    if not isinstance(exc.details, list):
        return {}
    return {d.field: d.message for d in exc.details}
