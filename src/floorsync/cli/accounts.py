"""`floorsync tenants list` and `floorsync keys list | revoke`, and the CLI's error rendering:
a floorsync error with its field details, a database error in one line that says what to do."""

import uuid
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from floorsync.auth.keys import list_keys, revoke_key
from floorsync.bootstrap import build_services
from floorsync.cli.common import tenant_or_exit
from floorsync.config import get_settings
from floorsync.db import migrate
from floorsync.db.engine import make_engine
from floorsync.db.repository import TenantScope
from floorsync.db.uow import unit_of_work
from floorsync.errors import FloorsyncError
from floorsync.events.outbox import Origin
from floorsync.kit.timefmt import format_ts
from floorsync.models.tenancy import Tenant
from floorsync.ops.logs import database_error

TenantOpt = Annotated[str, typer.Option("--tenant", help="tenant name, slug or id")]


def error_lines(exc: FloorsyncError) -> list[str]:
    """`CODE: message`, then one `  field: message` line per detail."""
    lines = [f"{exc.code}: {exc.message}"]
    for detail in exc.details_json() or []:
        if isinstance(detail, dict):
            value = f" (got {detail['value']!r})" if "value" in detail else ""
            lines.append(f"  {detail.get('field', '?')}: {detail.get('message', '')}{value}")
    return lines


def fail(exc: FloorsyncError) -> typer.Exit:
    for line in error_lines(exc):
        typer.echo(line, err=True)
    return typer.Exit(1)


def database_failure(exc: DBAPIError) -> str:
    """What went wrong with the database, in one line: an unmigrated schema says to migrate."""
    try:
        engine = make_engine(get_settings().database_url)
        try:
            with engine.connect() as connection:
                problem = migrate.schema_problem(connection)
        finally:
            engine.dispose()
    except Exception:
        problem = None
    return f"floorsync: {problem or database_error(exc)}"


def list_tenants() -> None:
    """Every tenant: slug, name, id and rate limit."""
    services = build_services(get_settings())
    with services.sessions() as session:
        tenants = list(session.scalars(select(Tenant).order_by(Tenant.created_at)))
    if not tenants:
        typer.echo('no tenants yet: floorsync tenants create "Plant name"')
        return
    for t in tenants:
        limit = (
            f"{t.rate_limit_requests}/{t.rate_limit_window_seconds}s"
            if t.rate_limit_requests
            else "unlimited"
        )
        typer.echo(f"{t.slug:<24} {t.id}  {limit:<12} {t.name}")


def list_api_keys(tenant: TenantOpt) -> None:
    """The tenant's keys: prefix, role, state, name, last use (never the key itself)."""
    services = build_services(get_settings())
    with services.sessions() as session:
        found = tenant_or_exit(session, tenant)
        rows = list_keys(session, TenantScope(found.id))
        if not rows:
            typer.echo(f"tenant {found.slug} has no API keys")
            return
        for row in rows:
            state = "active" if row.active else "revoked"
            used = format_ts(row.last_used_at) if row.last_used_at else "never used"
            typer.echo(
                f"{row.id}  {row.key_prefix}…  {row.role.value:<11} {state:<7} {used:<24} {row.name}"
            )


def revoke_api_key(
    key: Annotated[str, typer.Argument(help="the key's id or its prefix (ery_live_…)")],
    tenant: TenantOpt,
) -> None:
    """Revoke one of the tenant's keys (by id or prefix); the last active admin key is kept."""
    services = build_services(get_settings())
    with services.sessions() as session:
        found = tenant_or_exit(session, tenant)
        scope = TenantScope(found.id)
        candidates = [
            row
            for row in list_keys(session, scope)
            if str(row.id) == key or (len(key) >= 12 and row.key_prefix == key[:12])
        ]
    if len(candidates) != 1:
        typer.echo(
            f"no key {key!r} in tenant {found.slug}"
            if not candidates
            else f"{key!r} names {len(candidates)} keys of tenant {found.slug}: give the id",
            err=True,
        )
        raise typer.Exit(1)
    key_id: uuid.UUID = candidates[0].id
    try:
        with unit_of_work(
            services.sessions, services.outbox, scope, origin=Origin(channel="cli")
        ) as work:
            row = revoke_key(work, key_id)
            prefix = row.key_prefix
    except FloorsyncError as exc:
        raise fail(exc) from None
    typer.echo(f"revoked {prefix}… ({key_id}) of tenant {found.slug}")
