"""The `floorsync` command line: thin commands over the services (exit 0 ok, 1 failed, 2 usage)."""

import os
import sys
import uuid
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from floorsync.auth.api_keys import issue_key
from floorsync.auth.tenants import create_tenant, find_tenant, set_rate_limit
from floorsync.bootstrap import build_services
from floorsync.cli import accounts
from floorsync.cli import files as files_cli
from floorsync.cli import imports as imports_cli
from floorsync.cli import webhooks as webhooks_cli
from floorsync.cli.common import tenant_or_exit
from floorsync.cli.planning import planning_app
from floorsync.config import Settings, get_settings
from floorsync.db import migrate
from floorsync.db.engine import make_engine
from floorsync.errors import FloorsyncError
from floorsync.kit.clock import SystemClock
from floorsync.kit.gc_tuning import tune_gc
from floorsync.models.enums import ApiKeyRole
from floorsync.models.tenancy import Tenant

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
app.add_typer(files_cli.files_app, name="files")
app.command("worker")(webhooks_cli.worker_command)
app.add_typer(imports_cli.imports_app, name="imports")
app.command("import")(imports_cli.import_command)


def _sessions(settings: Settings) -> sessionmaker[Session]:
    return build_services(settings).sessions


def _revisions(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return migrate.current_revisions(connection)
    finally:
        engine.dispose()


def _named(revisions: set[str]) -> str:
    return ", ".join(sorted(revisions)) or "none (empty database)"


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations to the configured database; says what it did."""
    url = get_settings().database_url
    before = _revisions(url)
    migrate.upgrade(url, revision)
    after = _revisions(url)
    if before == after:
        typer.echo(f"database already at revision {_named(after)}: nothing to do")
    else:
        typer.echo(f"database upgraded from revision {_named(before)} to {_named(after)}")


@db_app.command("check")
def db_check() -> None:
    """Fail if the models and the migrations disagree."""
    migrate.check(get_settings().database_url)


@db_app.command("current")
def db_current() -> None:
    """Print the database's revision, and whether it is this version's head."""
    current = _revisions(get_settings().database_url)
    if not current:
        typer.echo("no floorsync schema: run `floorsync db upgrade`")
        raise typer.Exit(1)
    at_head = current == migrate.head_revisions()
    typer.echo(
        f"{_named(current)}{' (head)' if at_head else ' (not head: run `floorsync db upgrade`)'}"
    )


@tenants_app.command("create")
def tenants_create(
    name: str,
    if_missing: Annotated[
        bool, typer.Option("--if-missing", help="succeed when a tenant of this name exists")
    ] = False,
) -> None:
    """Create a tenant; prints its slug (what --tenant takes) and id. A name that exists
    already is an error naming its slug, unless --if-missing."""
    sessions = _sessions(get_settings())
    with sessions.begin() as session:
        existing = session.scalars(
            select(Tenant).where(Tenant.name == name).order_by(Tenant.created_at)
        ).first()
        if existing is None:
            tenant = create_tenant(session, name, SystemClock().now())
        tenant = existing or tenant
        slug, tenant_id = tenant.slug, tenant.id
    if existing is not None and not if_missing:
        typer.echo(
            f"tenant {name!r} exists already: slug {slug}, id {tenant_id} (--if-missing accepts that)",
            err=True,
        )
        raise typer.Exit(1)
    verb = "exists" if existing is not None else "created"
    typer.echo(f"tenant {slug} {verb} (id {tenant_id}); use --tenant {slug}")


tenants_app.command("list")(accounts.list_tenants)
keys_app.command("list")(accounts.list_api_keys)
keys_app.command("revoke")(accounts.revoke_api_key)


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
def demo(
    sample_data: Annotated[
        bool,
        typer.Option(
            "--sample-data", help="also seed a small plant (cells, resources, 12 jobs, …) once"
        ),
    ] = False,
) -> None:
    """Development only: create the demo tenant with an admin key if none exists, and print the key."""
    settings = get_settings()
    if settings.environment == "production":
        typer.echo("floorsync demo is for development only", err=True)
        raise typer.Exit(1)
    sessions = _sessions(settings)
    plaintext = None
    with sessions.begin() as session:
        tenant = find_tenant(session, "demo")
        if tenant is None:
            tenant = create_tenant(session, "demo", SystemClock().now())
            _row, plaintext = issue_key(
                session,
                tenant.id,
                name="demo admin",
                role=ApiKeyRole.admin,
                now=SystemClock().now(),
            )
        tenant_id = tenant.id
    if sample_data:
        _seed_sample_data(settings, tenant_id)
    if plaintext is None:
        typer.echo(
            "demo tenant exists; create another key with: floorsync keys create --tenant demo --role admin"
        )
        return
    typer.echo("created tenant 'demo' with an admin API key:")
    typer.echo(plaintext)


def _seed_sample_data(settings: Settings, tenant_id: uuid.UUID) -> None:
    from floorsync.cli import sample_data

    services = build_services(settings)
    try:
        if sample_data.seeded(services, tenant_id):
            typer.echo("sample data: already there (jobs DEMO-2001…)")
            return
        made = sample_data.seed(services, tenant_id)
    finally:
        services.close()
    typer.echo(
        f"sample data: {made['cells']} cells, {made['resources']} resources, "
        f"{made['materials']} materials, {made['jobs']} jobs (DEMO-2001…), "
        f"{made['operations_moved']} operations under way or done"
    )


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
    from floorsync.cli.startup import prepare

    settings = get_settings()
    prepare(settings)  # exit 2 on an unmigrated database; metrics for every process
    serving.RUN_WORKER = not no_worker
    if no_worker:
        # With --workers N uvicorn starts fresh processes that re-import `serving`; they read this.
        os.environ["FLOORSYNC_NO_WORKER"] = "1"
    from floorsync.ops.logs import log_config

    uvicorn.run(
        "floorsync.serving:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
        log_config=log_config(settings.log_level, settings.log_format),
        access_log=False,
        # SIGTERM waits this long for the requests in flight, then cancels them and exits.
        timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
    )


def main() -> None:
    tune_gc()
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except FloorsyncError as exc:  # a command's input refused by a service
        for line in accounts.error_lines(exc):
            typer.echo(line, err=True)
        sys.exit(1)
    except DBAPIError as exc:  # the database is away or not migrated: one line, no traceback
        typer.echo(accounts.database_failure(exc), err=True)
        sys.exit(1)
