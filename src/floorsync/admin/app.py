"""The admin sub-app: built once from the shared services and mounted at `/admin`."""

import hashlib
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import jinja2
from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from starlette.staticfiles import StaticFiles

from floorsync.admin import api_keys, events, imports, planning, signin, sync_history, webhooks
from floorsync.admin.errors import AdminShell, install_error_pages
from floorsync.admin.filters import install_filters
from floorsync.admin.pages import AdminPage, NavItem
from floorsync.admin.sessions import SessionPolicy
from floorsync.admin.throttle import LoginThrottle
from floorsync.admin.web import AdminUI
from floorsync.bootstrap import Services

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
MOUNT_PATH = "/admin"


def default_pages() -> list[AdminPage]:
    """The pages floorsync ships, in navigation order."""
    return [
        sync_history.PAGE,
        webhooks.PAGE,
        events.PAGE,
        api_keys.PAGE,
        imports.PAGE,
        planning.PAGE,
    ]


def _environment(pages: Sequence[AdminPage]) -> jinja2.Environment:
    dirs = [TEMPLATES, *(p.templates for p in pages if p.templates is not None)]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in dirs]),
        autoescape=True,  # every template, whatever its name: all output is HTML-escaped
        undefined=jinja2.StrictUndefined,  # a misspelt variable fails loudly, not blank
        trim_blocks=True,
        lstrip_blocks=True,
    )
    install_filters(env)
    return env


def _static_versions() -> dict[str, str]:
    """A content hash per static file, appended to its URL so a new release is never served
    a stale cached stylesheet."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:12]
        for p in STATIC.iterdir()
        if p.is_file()
    }


def create_admin_app(services: Services, pages: Sequence[AdminPage] | None = None) -> FastAPI:
    pages = list(default_pages() if pages is None else pages)
    settings = services.settings
    ui = AdminUI(
        env=_environment(pages),
        nav=sorted(
            (p.nav for p in pages if p.nav is not None), key=lambda n: n.order
        ),  # sorted() is stable: equal orders keep the pages' order
        policy=SessionPolicy.from_settings(settings),
        throttle=LoginThrottle(
            settings.admin_login_attempts,
            timedelta(seconds=settings.admin_login_window_seconds),
            services.clock,
        ),
        static_versions=_static_versions(),
    )
    app = FastAPI(
        title="floorsync admin",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,
    )
    app.state.services = services
    app.state.admin_ui = ui
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(signin.router)
    for page in pages:
        app.include_router(page.router)
    install_error_pages(app)
    app.add_middleware(AdminShell)
    return app


def mount_admin(app: FastAPI, services: Services, pages: Sequence[AdminPage] | None = None) -> None:
    """Serve the admin UI under /admin of `app` (call before any catch-all route is added).

    The API strips a trailing slash from every path, so the admin root is `/admin` itself, a
    route of the main app: it opens the first page of the navigation bar (which sends an
    anonymous browser to the sign-in page first)."""
    admin = create_admin_app(services, pages)
    nav = admin.state.admin_ui.nav
    first = MOUNT_PATH + (nav[0].path if nav else "/sign-in")

    @app.get(MOUNT_PATH, include_in_schema=False)
    def admin_root() -> RedirectResponse:
        return RedirectResponse(first, status_code=303)

    app.mount(MOUNT_PATH, admin)


__all__ = ["AdminPage", "NavItem", "create_admin_app", "default_pages", "mount_admin"]
