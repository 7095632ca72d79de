"""The interactive API docs (`/docs`: Swagger UI, `/redoc`: ReDoc) served with floorsync's own
copies of their scripts and stylesheet, so they work on a plant network without internet.

The assets come from the `fastapi-offline` package (pinned in pyproject.toml; it ships Swagger
UI's and ReDoc's release bundles); floorsync serves them under `/docs/assets/` and the pages
reference nothing else (no CDN, no Google Fonts).
"""

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
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


def mount_docs(app: FastAPI) -> None:
    """Add /docs, /redoc and their assets (create the app with docs_url=None, redoc_url=None),
    and list the event catalogue in the API description."""
    app.description += event_catalogue()
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
