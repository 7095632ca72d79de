"""The application factory: one FastAPI app serving both URL forms of every function."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI

from floorsync import __version__
from floorsync.admin.app import mount_admin
from floorsync.auth.endpoints import router as keys_router
from floorsync.config import Settings
from floorsync.db.engine import make_engine, make_sessionmaker
from floorsync.entities import cells, jobs, materials, operations, parts, resources
from floorsync.entities.endpoints import crud_router
from floorsync.events.outbox import Outbox
from floorsync.http import idempotency
from floorsync.http.context import Services
from floorsync.http.errors import register_error_handlers
from floorsync.http.middleware import FloorsyncMiddleware
from floorsync.http.responses import CompactJSONResponse, ok
from floorsync.http.routing import build_route_table, fallback_router
from floorsync.kit.clock import Clock, SystemClock
from floorsync.lifecycle.endpoints import lifecycle_router
from floorsync.shopfloor.endpoints import shopfloor_routers
from floorsync.sync.endpoints import sync_routers
from floorsync.webhooks.wiring import install_webhooks, webhook_routers

ENTITY_SPECS = (
    jobs.JOBS,
    parts.PARTS,
    operations.OPERATIONS,
    cells.CELLS,
    resources.RESOURCES,
    materials.MATERIALS,
)

# Start-up work of features, run once the shared services exist.
SERVICE_HOOKS: list[Callable[[Services], None]] = [install_webhooks]


def api_routers() -> list[APIRouter]:
    routers = [crud_router(spec) for spec in ENTITY_SPECS]
    routers.append(keys_router)
    routers.extend(webhook_routers())
    routers.extend([*shopfloor_routers(), lifecycle_router()])
    routers.extend(sync_routers())
    return routers


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
    clock = clock or SystemClock()
    services = Services(
        settings=settings, sessions=make_sessionmaker(engine), clock=clock, outbox=Outbox(clock)
    )
    for hook in SERVICE_HOOKS:
        hook(services)
    return services


def create_app(
    settings: Settings, *, clock: Clock | None = None, services: Services | None = None
) -> FastAPI:
    services = services or build_services(settings, clock)
    idempotency.install()  # Idempotency-Key on POST and PUT of every function

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        bind = services.sessions.kw.get("bind")
        if bind is not None:
            bind.dispose()

    app = FastAPI(
        title="floorsync",
        version=__version__,
        description="ERP ⇄ shop-floor sync API, wire-compatible with Eryxon Flow. Every `/api-<name>` "
        "path is also served under `/functions/v1/api-<name>`. Authenticate with `Authorization: Bearer ery_live_…`.",
        default_response_class=CompactJSONResponse,
        lifespan=lifespan,
        redirect_slashes=False,
    )
    app.state.services = services

    @app.get("/health", tags=["system"], summary="Liveness (no authentication)")
    def health() -> Any:
        return ok({"status": "ok", "version": __version__})

    for router in api_routers():
        app.include_router(router)
    mount_admin(app, services)  # /admin: the web UI (before the catch-all fallback)
    app.include_router(fallback_router())
    app.state.route_table = build_route_table(app)
    register_error_handlers(app)
    app.add_middleware(FloorsyncMiddleware, cors_origins=settings.cors_origin_list)
    return app
