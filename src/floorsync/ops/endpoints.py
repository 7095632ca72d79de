"""`/health/ready` (readiness) and `/metrics` (Prometheus). `/health` (liveness) is in app.py:
it answers as long as the process serves HTTP, whatever the database does."""

import hmac
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.exc import SQLAlchemyError

from floorsync import __version__
from floorsync.db import migrate
from floorsync.entities.openapi import error_response, responses
from floorsync.errors import ServiceUnavailable, Unauthorized
from floorsync.http.context import services_of
from floorsync.http.responses import ok
from floorsync.ops import metrics
from floorsync.ops.logs import database_error
from floorsync.storage.errors import BackendUnavailable

router = APIRouter(tags=["system"])

HEALTH = {
    "type": "object",
    "required": ["status", "version"],
    "properties": {
        "status": {"type": "string", "const": "ok"},
        "version": {"type": "string", "description": "floorsync's version"},
    },
}
READY = {
    "type": "object",
    "required": ["status", "version", "database", "migrations", "storage"],
    "properties": {
        "status": {"type": "string", "const": "ready"},
        "version": {"type": "string"},
        "database": {"type": "string", "const": "ok"},
        "migrations": {"type": "string", "const": "head"},
        "storage": {"type": "string", "const": "ok"},
    },
}


def _unauthenticated(ok_status: int, data: dict[str, Any], example: Any) -> dict[int | str, Any]:
    """The success answer of a route without an API key (no 400/401/429 of the API)."""
    return {ok_status: responses(ok_status, data, example=example)[ok_status]}


def health_responses() -> dict[int | str, Any]:
    return _unauthenticated(200, HEALTH, {"status": "ok", "version": __version__})


def readiness_problem(request: Request) -> str | None:
    """Why this process can't serve API calls now (the database is unreachable or its schema
    is not at this version's head revision; the file storage backend can't be used), or None."""
    services = services_of(request)
    engine = services.sessions.kw["bind"]
    try:
        with engine.connect() as connection:
            problem = migrate.schema_problem(connection)
    except SQLAlchemyError as exc:
        return f"the database is unreachable: {database_error(exc)}"
    if problem is not None:
        return problem
    try:
        services.storage.check()  # local: a probe file written and removed; S3: head_bucket
    except BackendUnavailable as exc:
        return f"file storage ({services.storage.backend}) is unusable: {exc.what}"
    return None


@router.get(
    "/health/ready",
    summary="Readiness (no authentication): database reachable and migrated, file storage usable",
    responses={
        **_unauthenticated(
            200,
            READY,
            {
                "status": "ready",
                "version": __version__,
                "database": "ok",
                "migrations": "head",
                "storage": "ok",
            },
        ),
        503: {
            **error_response(503),
            "description": "Not ready; `error.message` says why (database unreachable, "
            "migrations not at head: run `floorsync db upgrade`, file storage unusable)",
        },
    },
)
def ready(request: Request) -> Any:
    problem = readiness_problem(request)
    if problem is not None:
        raise ServiceUnavailable(f"not ready: {problem}")
    return ok(
        {
            "status": "ready",
            "version": __version__,
            "database": "ok",
            "migrations": "head",
            "storage": "ok",
        }
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics (bearer token when FLOORSYNC_METRICS_TOKEN is set)",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition format 0.0.4",
            "content": {
                "text/plain": {
                    "schema": {"type": "string"},
                    "example": "# HELP floorsync_http_requests_total HTTP requests\n"
                    "# TYPE floorsync_http_requests_total counter\n"
                    'floorsync_http_requests_total{function="api-jobs",method="GET",'
                    'status="200"} 42.0\n',
                }
            },
        },
        401: {
            **error_response(401),
            "description": "FLOORSYNC_METRICS_TOKEN is set and the bearer token is missing or wrong",
        },
    },
)
def prometheus_metrics(request: Request) -> Response:
    services = services_of(request)
    token = services.settings.metrics_token
    if token is not None:
        expected = f"Bearer {token.get_secret_value()}".encode()
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            raise Unauthorized("Missing or invalid metrics token")
    body, content_type = metrics.exposition(services.sessions, services.clock)
    return Response(body, media_type=content_type)
