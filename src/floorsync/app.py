"""The application factory: one FastAPI app serving both URL forms of every function."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI

from floorsync import __version__
from floorsync.admin.app import mount_admin
from floorsync.auth.endpoints import router as keys_router
from floorsync.bootstrap import Services, build_services
from floorsync.checklists.endpoints import checklist_routers
from floorsync.config import Settings
from floorsync.entities import registry as entity_registry
from floorsync.entities.endpoints import crud_router
from floorsync.entities.shopfloor.endpoints import shopfloor_routers
from floorsync.events.endpoints import router as events_router
from floorsync.export.endpoints import router as export_router
from floorsync.files.endpoints import file_routers, signed_file_router
from floorsync.http.errors import register_error_handlers
from floorsync.http.middleware import FloorsyncMiddleware
from floorsync.http.responses import CompactJSONResponse, ok
from floorsync.http.routing import build_route_table, fallback_router
from floorsync.kit.clock import Clock
from floorsync.lifecycle.endpoints import lifecycle_router
from floorsync.ops.docs import mount_docs
from floorsync.ops.endpoints import health_responses
from floorsync.ops.endpoints import router as ops_router
from floorsync.quality.endpoints import quality_routers
from floorsync.sync.endpoints import sync_routers
from floorsync.webhooks.endpoints import logs_router
from floorsync.webhooks.endpoints import router as webhooks_router


def api_routers() -> list[APIRouter]:
    routers = [crud_router(spec) for spec in entity_registry.MASTER_DATA]
    routers.append(keys_router)
    routers.extend([events_router, webhooks_router, logs_router])
    routers.extend([*shopfloor_routers(), lifecycle_router()])
    routers.extend(quality_routers())
    routers.extend(checklist_routers())
    routers.append(export_router())
    routers.extend(file_routers())
    routers.extend(sync_routers())
    return routers


def create_app(
    settings: Settings, *, clock: Clock | None = None, services: Services | None = None
) -> FastAPI:
    """The app on `services` (built from `settings` by bootstrap.build_services when not given)."""
    services = services or build_services(settings, clock)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        services.close()

    app = FastAPI(
        title="floorsync",
        version=__version__,
        description="ERP ⇄ shop-floor sync API, wire-compatible with Eryxon Flow. Every `/api-<name>` "
        "path is also served under `/functions/v1/api-<name>`. Authenticate with `Authorization: Bearer ery_live_…`.",
        default_response_class=CompactJSONResponse,
        lifespan=lifespan,
        redirect_slashes=False,
        docs_url=None,  # ops/docs.py serves /docs and /redoc with local assets (offline plants)
        redoc_url=None,
    )
    app.state.services = services

    @app.get(
        "/health",
        tags=["system"],
        summary="Liveness (no authentication): the process serves HTTP",
        responses=health_responses(),
    )
    def health() -> Any:
        return ok({"status": "ok", "version": __version__})

    app.include_router(ops_router)  # /health/ready, /metrics
    mount_docs(app)
    for router in api_routers():
        app.include_router(router)
    app.include_router(signed_file_router())  # /files/…: no API key, the token is the credential
    mount_admin(app, services)  # /admin: the web UI (before the catch-all fallback)
    app.include_router(fallback_router())
    app.state.route_table = build_route_table(app)
    register_error_handlers(app)
    app.add_middleware(FloorsyncMiddleware, cors_origins=settings.cors_origin_list)
    return app
