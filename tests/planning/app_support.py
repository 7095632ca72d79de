"""Helpers for the application-side planning tests (connections, pulls, dispatch, pushes): a
connection row pointed at a fake server, counts of what floorsync holds, and the adapters built
with a recorder instead of real retry waits."""

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import func

from floorsync.bootstrap import Services
from floorsync.db.repository import TenantScope, scoped
from floorsync.models.events import Event
from floorsync.models.master import Cell, Job, Operation
from floorsync.planning.base import PlanningAdapter
from floorsync.planning.config import PlanningConnectionConfig
from floorsync.planning.connections import create_connection
from floorsync.planning.factory import create_planning_adapter
from floorsync.planning.runtime import PlanningDeps
from tests.planning.conftest import FREPPLE_PASSWORD, FREPPLE_USER, ODOO_LOGIN, ODOO_PASSWORD


def no_wait_adapters(config: PlanningConnectionConfig) -> PlanningAdapter:
    return create_planning_adapter(config, sleep=lambda _s: None)


def deps_of(
    services: Services, adapters: Callable[..., PlanningAdapter] = no_wait_adapters
) -> PlanningDeps:
    return PlanningDeps(
        services.sessions, services.outbox, services.clock, services.secretbox, adapters
    )


def add_frepple(
    services: Services, scope: TenantScope, base_url: str, **settings: Any
) -> uuid.UUID:
    with services.sessions.begin() as s:
        row = create_connection(
            s,
            scope,
            services.secretbox,
            services.clock.now(),
            system="frepple",
            base_url=base_url,
            auth_method="basic",
            username=FREPPLE_USER,
            credential=FREPPLE_PASSWORD,
            settings={"time_zone": "Europe/Amsterdam", **settings},
        )
        row.pull_enabled = row.push_enabled = True
        return row.id


def add_odoo(
    services: Services,
    scope: TenantScope,
    base_url: str,
    database: str,
    *,
    api_key: str | None = None,
    **settings: Any,
) -> uuid.UUID:
    with services.sessions.begin() as s:
        row = create_connection(
            s,
            scope,
            services.secretbox,
            services.clock.now(),
            system="odoo",
            base_url=base_url,
            auth_method="api_key" if api_key else "basic",
            username=ODOO_LOGIN,
            credential=api_key or ODOO_PASSWORD,
            settings={"database": database, **settings},
        )
        row.pull_enabled = row.push_enabled = True
        return row.id


def count(services: Services, scope: TenantScope, model: Any, **where: Any) -> int:
    with services.sessions() as s:
        stmt = scoped(model, scope, include_deleted=False).with_only_columns(func.count())
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return int(s.scalar(stmt) or 0)


def events(services: Services, scope: TenantScope) -> int:
    with services.sessions() as s:
        return int(s.scalar(scoped(Event, scope).with_only_columns(func.count())) or 0)


def floor(services: Services, scope: TenantScope, source: str) -> tuple[int, int, int]:
    """(live jobs, live operations, live cells) of a source."""
    return (
        count(services, scope, Job, external_source=source),
        count(services, scope, Operation, external_source=source),
        count(services, scope, Cell, external_source=source),
    )
