"""`floorsync tenants rate-limit`: the CLI sets and removes a tenant's limit, which the API
then applies."""

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from floorsync.cli.app import app
from floorsync.config import Settings, get_settings
from floorsync.models.tenancy import Tenant
from tests.support.tenants import TenantHandle


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("FLOORSYNC_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def _limits(sessions, tenant: TenantHandle) -> tuple[int | None, int]:
    with sessions() as session:
        row = session.execute(
            select(Tenant.rate_limit_requests, Tenant.rate_limit_window_seconds).where(
                Tenant.id == tenant.id
            )
        ).one()
        return row[0], row[1]


def test_the_cli_sets_a_limit_that_the_api_applies_and_removes_it(
    cli: CliRunner, tenant: TenantHandle, sessions
) -> None:
    result = cli.invoke(
        app, ["tenants", "rate-limit", str(tenant.id), "--requests", "500", "--window", "3600"]
    )
    assert result.exit_code == 0, result.output
    assert _limits(sessions, tenant) == (500, 3600)
    assert tenant.client.get("/api-jobs").headers["x-ratelimit-limit"] == "500"
    result = cli.invoke(app, ["tenants", "rate-limit", str(tenant.id), "--unlimited"])
    assert result.exit_code == 0, result.output
    assert _limits(sessions, tenant)[0] is None
    assert "x-ratelimit-limit" not in tenant.client.get("/api-jobs").headers


@pytest.mark.parametrize(
    ("args", "code"), [(["--requests", "5", "--unlimited"], 2), ([], 2), (["--requests", "0"], 2)]
)
def test_contradictory_or_missing_options_are_usage_errors(
    cli: CliRunner, tenant: TenantHandle, args: list[str], code: int
) -> None:
    assert cli.invoke(app, ["tenants", "rate-limit", str(tenant.id), *args]).exit_code == code


def test_an_unknown_tenant_fails(cli: CliRunner) -> None:
    assert (
        cli.invoke(app, ["tenants", "rate-limit", "no-such-tenant", "--requests", "5"]).exit_code
        == 1
    )
