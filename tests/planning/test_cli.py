"""`floorsync planning …` against the fake servers (matrix row 49): add tests the connection and
switches pulls and pushes on; a validation error exits 2 field by field; a failed test exits 1
and leaves them off; the credential comes from stdin or an environment variable and never shows
in any output; pull prints its counts; pushes list and retry; pause, resume and remove."""

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from floorsync.cli.app import app
from floorsync.config import Settings, get_settings
from tests.planning.conftest import FREPPLE_PASSWORD, FREPPLE_USER, ODOO_PASSWORD, SecretWatch
from tests.planning.fakes.frepple import FakeFrepple, seed_orders
from tests.planning.fakes.odoo import FakeOdoo, seed_productions
from tests.support.tenants import TenantHandle


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("FLOORSYNC_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


@pytest.fixture
def frepple(secret_watch: SecretWatch) -> Iterator[FakeFrepple]:
    secret_watch.register(FREPPLE_PASSWORD, FREPPLE_USER)
    fake = FakeFrepple()
    seed_orders(fake.data, 3, steps=2, work_centres=2)
    yield fake
    fake.stop()


def add_frepple(cli: CliRunner, tenant: TenantHandle, base_url: str, *more: str) -> object:
    return cli.invoke(
        app,
        [
            "planning",
            "connections",
            "add",
            "--tenant",
            str(tenant.id),
            "--system",
            "frepple",
            "--base-url",
            base_url,
            "--auth",
            "basic",
            "--username",
            FREPPLE_USER,
            "--credential-stdin",
            "--set",
            "time_zone=Europe/Amsterdam",
            "--json",
            *more,
        ],
        input=FREPPLE_PASSWORD + "\n",
    )


def run(cli: CliRunner, *args: str) -> object:
    return cli.invoke(app, ["planning", *args])


def test_add_tests_and_enables_then_pull_list_show_and_remove(
    cli: CliRunner, tenant: TenantHandle, frepple: FakeFrepple, secret_watch: SecretWatch
) -> None:
    t = str(tenant.id)
    added = add_frepple(cli, tenant, frepple.base_url)
    assert added.exit_code == 0, added.output
    data = json.loads(added.stdout)
    assert data["test"]["ok"] is True
    assert data["connection"]["pull_enabled"] is data["connection"]["push_enabled"] is True
    assert data["connection"]["credential"] == "••••"

    pulled = run(cli, "pull", "frepple", "--tenant", t, "--json")
    assert pulled.exit_code == 0, pulled.output
    summary = json.loads(pulled.stdout)
    assert summary["status"] == "completed"
    assert summary["counts"]["jobs"]["created"] == 3

    listed = run(cli, "connections", "list", "--tenant", t, "--json")
    assert json.loads(listed.stdout)["connections"][0]["last_pull_status"] == "completed"
    shown = run(cli, "connections", "show", "frepple", "--tenant", t)
    assert shown.exit_code == 0
    assert "pull_work_orders" in shown.stdout
    paused = run(cli, "connections", "pause", "frepple", "--tenant", t, "--pull", "--json")
    assert json.loads(paused.stdout)["pull_enabled"] is False
    assert json.loads(paused.stdout)["push_enabled"] is True
    resumed = run(cli, "connections", "resume", "frepple", "--tenant", t, "--json")
    assert json.loads(resumed.stdout)["pull_enabled"] is True
    assert run(cli, "pushes", "list", "frepple", "--tenant", t, "--json").exit_code == 0
    assert run(cli, "pushes", "retry", "frepple", "--tenant", t, "--all-failed").exit_code == 0
    for result in (added, pulled, listed, shown):
        secret_watch.check_text(result.output)
    assert run(cli, "connections", "remove", "frepple", "--tenant", t).exit_code == 0
    assert json.loads(run(cli, "connections", "list", "--tenant", t, "--json").stdout) == {
        "connections": []
    }


def test_a_validation_error_exits_2_field_by_field(
    cli: CliRunner, tenant: TenantHandle, frepple: FakeFrepple
) -> None:
    result = cli.invoke(
        app,
        [
            "planning",
            "connections",
            "add",
            "--tenant",
            str(tenant.id),
            "--system",
            "frepple",
            "--base-url",
            frepple.base_url + "/api",
            "--auth",
            "basic",
            "--credential-stdin",
            "--set",
            "time_zone=Mars/Base",
            "--set",
            "colour=red",
            "--json",
        ],
        input="x\n",
    )

    assert result.exit_code == 2
    fields = {e["field"] for e in json.loads(result.stdout)["errors"]}
    assert {"base_url", "username", "settings.time_zone", "settings.colour"} <= fields


def test_a_failed_test_exits_1_and_leaves_pulls_and_pushes_off(
    cli: CliRunner, tenant: TenantHandle, frepple: FakeFrepple, secret_watch: SecretWatch
) -> None:
    frepple.users["planner"].password = "something-else"

    added = add_frepple(cli, tenant, frepple.base_url)

    assert added.exit_code == 1
    data = json.loads(added.stdout)
    assert data["test"]["error_kind"] == "auth"
    assert data["connection"]["pull_enabled"] is False
    secret_watch.check_text(added.output)
    tested = run(cli, "connections", "test", "frepple", "--tenant", str(tenant.id))
    assert tested.exit_code == 1


def test_odoo_from_an_environment_variable_and_a_failing_pull_exits_1(
    cli: CliRunner,
    tenant: TenantHandle,
    secret_watch: SecretWatch,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret_watch.register(ODOO_PASSWORD, "integration")
    fake = FakeOdoo(18)
    try:
        seed_productions(fake, 2, steps=1, work_centres=1)
        monkeypatch.setenv("ODOO_SECRET", ODOO_PASSWORD)
        t = str(tenant.id)
        added = cli.invoke(
            app,
            [
                "planning",
                "connections",
                "add",
                "--tenant",
                t,
                "--system",
                "odoo",
                "--base-url",
                fake.base_url,
                "--auth",
                "basic",
                "--username",
                "integration",
                "--credential-env",
                "ODOO_SECRET",
                "--set",
                f"database={fake.database}",
                "--json",
            ],
        )
        assert added.exit_code == 0, added.output
        assert json.loads(added.stdout)["test"]["server_version"].startswith("18")
        fake.users["integration"].password = "rotated"

        pulled = run(cli, "pull", "odoo", "--tenant", t, "--json")

        assert pulled.exit_code == 1
        assert json.loads(pulled.stdout)["error_class"] == "auth"
        for result in (added, pulled):
            secret_watch.check_text(result.output)
    finally:
        fake.stop()


def test_push_sends_a_start_and_a_completion_directly_and_records_runs(
    cli: CliRunner, tenant: TenantHandle, frepple: FakeFrepple, secret_watch: SecretWatch
) -> None:
    t = str(tenant.id)
    assert add_frepple(cli, tenant, frepple.base_url, "--no-push").exit_code == 0

    started = run(
        cli, "push", "frepple", "--tenant", t, "--order", "MO-000001", "--start",
        "--at", "2026-06-01T05:30:00Z", "--json",
    )  # fmt: skip

    assert started.exit_code == 0, started.output
    assert json.loads(started.stdout)["outcome"] == "applied"
    assert frepple.data.mos["MO-000001"]["status"] == "confirmed"
    assert frepple.data.mos["MO-000001"]["startdate"] == "2026-06-01T07:30:00"  # naive local
    again = run(
        cli, "push", "frepple", "--tenant", t, "--order", "MO-000001", "--start",
        "--at", "2026-06-01T05:30:00Z", "--json",
    )  # fmt: skip
    assert json.loads(again.stdout)["outcome"] == "already_applied"  # same start: read first

    completed = run(
        cli, "push", "frepple", "--tenant", t, "--order", "MO-000001", "--complete",
        "--good", "7", "--scrap", "1", "--json",
    )  # fmt: skip

    assert completed.exit_code == 0, completed.output
    assert frepple.data.mos["MO-000001"]["status"] == "completed"
    assert frepple.data.mos["MO-000001"]["quantity"].startswith("7")
    shown = run(cli, "connections", "show", "frepple", "--tenant", t, "--json")
    kinds = [r["kind"] for r in json.loads(shown.stdout)["recent_runs"]]
    assert kinds.count("push_order_start") == 2
    assert kinds.count("push_order_completion") == 1
    listed = run(cli, "pushes", "list", "frepple", "--tenant", t, "--json")
    assert json.loads(listed.stdout)["pushes"] == []  # direct pushes bypass the queue
    for result in (started, again, completed, shown):
        secret_watch.check_text(result.output)


def test_push_refuses_bad_usage_with_2_and_a_refused_push_with_1(
    cli: CliRunner, tenant: TenantHandle, frepple: FakeFrepple
) -> None:
    t = str(tenant.id)
    assert add_frepple(cli, tenant, frepple.base_url, "--no-push").exit_code == 0
    base = ["push", "frepple", "--tenant", t, "--order", "MO-000002"]
    for wrong in (
        [],
        ["--start", "--complete", "--good", "1"],
        ["--complete"],
        ["--start", "--good", "3"],
        ["--complete", "--good", "many"],
        ["--start", "--at", "yesterday"],
    ):
        assert run(cli, *base, *wrong).exit_code == 2, wrong
    frepple.requests.clear()

    negative = run(cli, *base, "--complete", "--good", "-1", "--json")

    assert negative.exit_code == 1
    assert json.loads(negative.stdout)["error_class"] == "rejected"
    assert frepple.requests == []  # refused before any request
    missing = run(cli, "push", "frepple", "--tenant", t, "--order", "MO-404", "--start", "--json")
    assert missing.exit_code == 1
    assert json.loads(missing.stdout)["error_class"] == "rejected"
