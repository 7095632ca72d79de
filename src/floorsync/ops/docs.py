"""The interactive API docs (`/docs`: Swagger UI, `/redoc`: ReDoc) served with floorsync's own
copies of their scripts and stylesheet, so they work on a plant network without internet.

The assets come from the `fastapi-offline` package (pinned in pyproject.toml; it ships Swagger
UI's and ReDoc's release bundles); floorsync serves them under `/docs/assets/` and the pages
reference nothing else (no CDN, no Google Fonts).
"""

from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from floorsync.events.registry import CATALOGUE

ASSETS = "/docs/assets"


def asset_dir() -> Path:
    return Path(str(files("fastapi_offline") / "static"))


def event_catalogue() -> str:
    """The event types as a Markdown table (the docs' description lists them)."""
    rows = [f"| `{t.name}` | {t.fires_when} |" for t in CATALOGUE.values() if not t.reserved]
    return (
        "\n\n## Event types\n\nWhat `/api-events` returns and webhooks deliver "
        "(subscribe by name, `prefix.*` or `*`):\n\n| Type | Fires when |\n|---|---|\n"
        + "\n".join(rows)
    )


def restore_examples(doc: dict[str, Any], routes: list[Any]) -> dict[str, Any]:
    """Put the routes' examples back as declared: FastAPI encodes the document with
    `exclude_none`, which drops every `null` from them (a record's unset fields)."""
    for route in _api_routes(routes):
        if not route.include_in_schema:
            continue
        item = doc["paths"].get(route.path_format)
        if item is None:
            continue
        declared_body = (route.openapi_extra or {}).get("requestBody", {}).get("content", {})
        for method in route.methods or ():
            op = item.get(method.lower())
            if op is None:
                continue
            for media_type, media in declared_body.items():
                _copy_examples(media, op.get("requestBody", {}).get("content", {}).get(media_type))
            for status, answer in (route.responses or {}).items():
                for media_type, media in answer.get("content", {}).items():
                    target = op["responses"].get(str(status), {}).get("content", {})
                    _copy_examples(media, target.get(media_type))
    return doc


_FRAMEWORK_ERROR = "#/components/schemas/HTTPValidationError"


def drop_framework_422(doc: dict[str, Any]) -> dict[str, Any]:
    """Remove the 422 FastAPI adds to a route with path parameters: floorsync reads those
    itself (a bad id is its own 400), so it never answers FastAPI's `{"detail": […]}`."""
    for item in doc.get("paths", {}).values():
        for op in item.values():
            answer = op.get("responses", {}).get("422", {})
            media = answer.get("content", {}).get("application/json", {})
            if media.get("schema", {}).get("$ref") == _FRAMEWORK_ERROR:
                del op["responses"]["422"]
    schemas = doc.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return doc


def _api_routes(routes: list[Any]) -> Any:
    """Every APIRoute, descending into included routers."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _api_routes(inner.routes)
        elif isinstance(route, APIRoute):
            yield route


def _copy_examples(declared: dict[str, Any], generated: dict[str, Any] | None) -> None:
    if generated is None:
        return
    for key in ("example", "examples"):
        if key in declared:
            generated[key] = declared[key]


def mount_docs(app: FastAPI) -> None:
    """Add /docs, /redoc and their assets (create the app with docs_url=None, redoc_url=None),
    list the event catalogue in the API description, and keep the examples' nulls."""
    app.description += event_catalogue()
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = drop_framework_422(restore_examples(generate(), app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.mount(ASSETS, StaticFiles(directory=asset_dir()), name="docs-assets")
    title = app.title

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{title} API",
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{title} API",
            redoc_js_url=f"{root}{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS}/favicon.png",
            with_google_fonts=False,
        )
