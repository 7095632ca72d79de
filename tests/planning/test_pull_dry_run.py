"""`pull(..., dry_run=True)` and `floorsync planning pull --dry-run` (spec §5.5): the whole pull
runs through the sync engine's dry run in one unit of work that is rolled back — the counts and
the would-be actions are reported (jobs see the cells the same pull would create), and nothing is
written: no records, sync history, run records, events, cursor or lease."""

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func
from typer.testing import CliRunner

from floorsync.auth.tenants import create_tenant
from floorsync.bootstrap import Services, build_services
from floorsync.cli.app import app
from floorsync.config import Settings, get_settings
from floorsync.db.repository import TenantScope, scoped
from floorsync.kit.clock import FakeClock
from floorsync.models.bookkeeping import SyncRun
from floorsync.models.enums import PlanningTrigger, RunStatus
from floorsync.models.planning import PlanningConnection, PlanningRun
from floorsync.planning.service import pull
from tests.planning.app_support import add_frepple, add_odoo, deps_of, events, floor
from tests.planning.conftest import FREPPLE_PASSWORD, FREPPLE_USER, SecretWatch
from tests.planning.fakes.frepple import FakeFrepple, seed_orders
from tests.planning.fakes.odoo import FakeOdoo, seed_productions


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = build_services(settings, FakeClock())
    yield built
    built.close()


@pytest.fixture
def scope(services: Services) -> TenantScope:
    with services.sessions.begin() as s:
        return TenantScope(create_tenant(s, f"dry-{uuid.uuid4().hex[:8]}", services.clock.now()).id)


@pytest.fixture
def frepple(secret_watch: SecretWatch) -> Iterator[FakeFrepple]:
    secret_watch.register(FREPPLE_PASSWORD, FREPPLE_USER)
    fake = FakeFrepple()
    seed_orders(fake.data, 5, steps=3, work_centres=2)
    yield fake
    fake.stop()


def state(services: Services, scope: TenantScope, cid: uuid.UUID) -> dict[str, Any]:
    """Everything a pull could write, for before/after comparisons."""
    out: dict[str, Any] = {
        "floor": floor(services, scope, "frepple"),
        "events": events(services, scope),
    }
    with services.sessions() as s:
        row = s.scalars(scoped(PlanningConnection, scope).where(PlanningConnection.id == cid)).one()
        return out | {
            "runs": s.scalar(scoped(PlanningRun, scope).with_only_columns(func.count())),
            "history": s.scalar(scoped(SyncRun, scope).with_only_columns(func.count())),
            "cursor": row.pull_cursor,
            "last_pull_at": row.last_pull_at,
            "next_pull_at": row.next_pull_at,
            "lease": (row.pull_lease_owner, row.pull_locked_until),
        }


def test_a_first_dry_run_counts_everything_and_writes_nothing(
    services: Services, scope: TenantScope, frepple: FakeFrepple
) -> None:
    cid = add_frepple(services, scope, frepple.base_url)
    before = state(services, scope, cid)

    dry = pull(deps_of(services), scope, cid, trigger=PlanningTrigger.cli, dry_run=True)

    assert dry.dry_run is True
    assert dry.status is RunStatus.completed, dry
    assert dry.mode == "reconcile"
    assert dry.received == 5
    assert dry.counts["cells"]["created"] == 2
    assert dry.counts["jobs"]["created"] == 5
    assert dry.counts["operations"]["created"] == 15
    assert dry.warnings == []  # the operations found the cells the same (dry) pull creates
    assert dry.cursor_after is not None
    assert dry.run_ids == []
    assert {(c["entity"], c["action"]) for c in dry.changes} == {
        ("cells", "created"),
        ("jobs", "created"),
    }
    assert state(services, scope, cid) == before

    real = pull(deps_of(services), scope, cid, trigger=PlanningTrigger.cli)

    assert real.counts["jobs"] == dry.counts["jobs"]  # the dry run predicted the real one
    assert real.counts["operations"] == dry.counts["operations"]


def test_a_dry_run_after_an_upstream_change_shows_the_update_and_a_deletion(
    services: Services, scope: TenantScope, frepple: FakeFrepple
) -> None:
    cid = add_frepple(services, scope, frepple.base_url)
    deps = deps_of(services)
    pull(deps, scope, cid, trigger=PlanningTrigger.cli)
    frepple.data.mos["MO-000001"].update(quantity="77.00000000", lastmodified="2026-05-30T11:00:00")
    del frepple.data.mos["MO-000002"]
    before = state(services, scope, cid)

    dry = pull(deps, scope, cid, trigger=PlanningTrigger.cli, full=True, dry_run=True)

    assert dry.mode == "reconcile"
    assert dry.counts["jobs"]["updated"] == 1
    assert dry.counts["jobs"]["deleted"] == 1
    would = {(c["external_id"], c["action"]) for c in dry.changes if c["entity"] == "jobs"}
    assert would == {("MO-000001", "updated"), ("MO-000002", "deleted")}
    updated = next(c for c in dry.changes if c["action"] == "updated")
    assert "metadata" in updated["fields"]
    assert state(services, scope, cid) == before


def test_an_odoo_dry_run_writes_nothing(services: Services, scope: TenantScope) -> None:
    fake = FakeOdoo(17)
    try:
        seed_productions(fake, 4, steps=2, work_centres=2)
        cid = add_odoo(services, scope, fake.base_url, fake.database)
        before = events(services, scope)

        dry = pull(deps_of(services), scope, cid, trigger=PlanningTrigger.cli, dry_run=True)

        assert dry.counts["jobs"]["created"] == 4
        assert dry.counts["operations"]["created"] == 8
        assert events(services, scope) == before
        assert floor(services, scope, "odoo") == (0, 0, 0)
    finally:
        fake.stop()


def test_a_failing_dry_run_records_nothing(
    services: Services, scope: TenantScope, frepple: FakeFrepple
) -> None:
    cid = add_frepple(services, scope, frepple.base_url)
    frepple.fault("status", match=lambda r: "manufacturingorder" in r.path, status=503, times=99)
    before = state(services, scope, cid)

    dry = pull(deps_of(services), scope, cid, trigger=PlanningTrigger.cli, dry_run=True)

    assert dry.status is RunStatus.failed
    assert dry.error_class == "unavailable"
    assert state(services, scope, cid) == before  # no failed run, no back-off, no counter


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("FLOORSYNC_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_cli_pull_dry_run_prints_counts_and_writes_nothing(
    cli: CliRunner,
    services: Services,
    scope: TenantScope,
    frepple: FakeFrepple,
    secret_watch: SecretWatch,
) -> None:
    cid = add_frepple(services, scope, frepple.base_url)
    before = state(services, scope, cid)

    shown = cli.invoke(
        app, ["planning", "pull", str(cid), "--tenant", str(scope.tenant_id), "--dry-run", "--json"]
    )

    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert data["dry_run"] is True
    assert data["counts"]["jobs"]["created"] == 5
    assert len([w for w in data["would"] if w["entity"] == "jobs"]) == 5
    assert state(services, scope, cid) == before
    table = cli.invoke(
        app, ["planning", "pull", str(cid), "--tenant", str(scope.tenant_id), "--dry-run"]
    )
    assert table.exit_code == 0, table.output
    assert "dry run, nothing written" in table.stdout
    secret_watch.check_text(shown.output + table.output)
