"""The `floorsync` command line: thin commands over the services (exit 0 ok, 1 failed, 2 usage)."""

import os
import sys
from typing import Annotated

import typer
from sqlalchemy.orm import Session, sessionmaker

from floorsync.auth.api_keys import issue_key
from floorsync.auth.tenants import create_tenant, find_tenant, set_rate_limit
from floorsync.bootstrap import build_services
from floorsync.cli import webhooks as webhooks_cli
from floorsync.cli.common import tenant_or_exit
from floorsync.cli.planning import planning_app
from floorsync.config import Settings, get_settings
from floorsync.db import migrate
from floorsync.kit.clock import SystemClock
from floorsync.models.enums import ApiKeyRole

app = typer.Typer(
    help="floorsync: ERP ⇄ shop-floor sync service", no_args_is_help=True, add_completion=False
)
db_app = typer.Typer(help="Database migrations", no_args_is_help=True)
tenants_app = typer.Typer(help="Tenants", no_args_is_help=True)
keys_app = typer.Typer(help="API keys", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(tenants_app, name="tenants")
app.add_typer(keys_app, name="keys")
app.add_typer(webhooks_cli.webhooks_app, name="webhooks")
app.add_typer(planning_app, name="planning")
app.command("worker")(webhooks_cli.worker_command)


def _sessions(settings: Settings) -> sessionmaker[Session]:
    return build_services(settings).sessions


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations to the configured database."""
    migrate.upgrade(get_settings().database_url, revision)
    typer.echo("database is at the latest revision")


@db_app.command("check")
def db_check() -> None:
    """Fail if the models and the migrations disagree."""
    migrate.check(get_settings().database_url)


@db_app.command("current")
def db_current() -> None:
    migrate.current(get_settings().database_url)


@tenants_app.command("create")
def tenants_create(name: str) -> None:
    """Create a tenant; prints its id."""
    sessions = _sessions(get_settings())
    with sessions.begin() as session:
        tenant = create_tenant(session, name, SystemClock().now())
        tenant_id = tenant.id
    typer.echo(str(tenant_id))


@tenants_app.command("rate-limit")
def tenants_rate_limit(
    tenant: Annotated[str, typer.Argument(help="tenant name, slug or id")],
    requests: Annotated[
        int | None, typer.Option("--requests", min=1, help="requests allowed per window")
    ] = None,
    window: Annotated[int, typer.Option("--window", min=1, help="window length in seconds")] = 60,
    unlimited: Annotated[bool, typer.Option("--unlimited", help="remove the limit")] = False,
) -> None:
    """Set a tenant's rate limit (N requests per W-second window), or remove it."""
    if (requests is None) == (not unlimited):
        typer.echo(
            "give either --requests N (with an optional --window W) or --unlimited", err=True
        )
        raise typer.Exit(2)
    sessions = _sessions(get_settings())
    with sessions.begin() as session:
        found = tenant_or_exit(session, tenant)
        set_rate_limit(session, found, None if unlimited else requests, window, SystemClock().now())
        slug = found.slug
    typer.echo(
        f"tenant {slug}: "
        + ("unlimited" if unlimited else f"{requests} requests per {window} seconds")
    )


@keys_app.command("create")
def keys_create(
    tenant: Annotated[str, typer.Option("--tenant", help="tenant name, slug or id")],
    role: Annotated[str, typer.Option("--role", help="admin or integration")] = "integration",
    name: Annotated[str, typer.Option("--name", help="a label for the key")] = "cli",
) -> None:
    """Create an API key; the key alone is the last line of output (shown once)."""
    if role not in ("admin", "integration"):
        typer.echo("--role must be admin or integration", err=True)
        raise typer.Exit(2)
    sessions = _sessions(get_settings())
    with sessions.begin() as session:
        found = tenant_or_exit(session, tenant)
        row, plaintext = issue_key(
            session, found.id, name=name, role=ApiKeyRole(role), now=SystemClock().now()
        )
        typer.echo(
            f"created {row.role.value} key {row.key_prefix}… for tenant {found.slug}; store it now, it is not shown again:"
        )
    typer.echo(plaintext)


@app.command("demo")
def demo() -> None:
    """Development only: create the demo tenant with an admin key if none exists, and print the key."""
    settings = get_settings()
    if settings.environment == "production":
        typer.echo("floorsync demo is for development only", err=True)
        raise typer.Exit(1)
    sessions = _sessions(settings)
    with sessions.begin() as session:
        tenant = find_tenant(session, "demo")
        if tenant is not None:
            typer.echo(
                "demo tenant exists; create another key with: floorsync keys create --tenant demo --role admin"
            )
            return
        tenant = create_tenant(session, "demo", SystemClock().now())
        _row, plaintext = issue_key(
            session, tenant.id, name="demo admin", role=ApiKeyRole.admin, now=SystemClock().now()
        )
    typer.echo("created tenant 'demo' with an admin API key:")
    typer.echo(plaintext)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    workers: Annotated[int, typer.Option(help="API processes")] = 1,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="do not run the delivery worker in this process")
    ] = False,
) -> None:
    """Serve the API (and, unless --no-worker, the background worker in the same process)."""
    import uvicorn

    from floorsync import serving

    serving.RUN_WORKER = not no_worker
    if no_worker:
        # With --workers N uvicorn starts fresh processes that re-import `serving`; they read this.
        os.environ["FLOORSYNC_NO_WORKER"] = "1"
    from floorsync.http.logs import log_config

    settings = get_settings()
    uvicorn.run(
        "floorsync.serving:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
        log_config=log_config(settings.log_level),
        access_log=False,
        # SIGTERM waits this long for the requests in flight, then cancels them and exits.
        timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
    )


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
