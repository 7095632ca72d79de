"""Helpers shared by the CLI commands."""

import typer
from sqlalchemy.orm import Session

from floorsync.auth.tenants import find_tenant
from floorsync.models.tenancy import Tenant


def tenant_or_exit(session: Session, name_or_id: str) -> Tenant:
    """The tenant named by a slug, name or id; exits 1 with a message when there is none."""
    found = find_tenant(session, name_or_id)
    if found is None:
        typer.echo(f"no tenant named {name_or_id!r}", err=True)
        raise typer.Exit(1)
    return found
