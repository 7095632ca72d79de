"""The CLI guides: idempotent `tenants create` printing the slug, `tenants list`, `keys list |
revoke`, `db upgrade` / `db current` saying what they did, field details in errors, and one
line instead of a traceback on an unmigrated database."""

import subprocess
import uuid
from collections.abc import Iterator

import httpx
import pytest
from typer.testing import CliRunner

from floorsync.cli.app import app
from floorsync.config import Settings, get_settings
from floorsync.db import migrate
from tests.support.tenants import TenantHandle
from tests.support.worker_process import FLOORSYNC, worker_env


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("FLOORSYNC_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FLOORSYNC_WEBHOOK_ALLOW_PRIVATE", "false")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_tenants_create_prints_the_slug_and_refuses_a_second_one(cli: CliRunner) -> None:
    name = f"Plant Eindhoven {uuid.uuid4().hex[:6]}"
    slug = name.lower().replace(" ", "-")
    first = cli.invoke(app, ["tenants", "create", name])
    assert first.exit_code == 0, first.output
    assert first.output.startswith(f"tenant {slug} created (id ")
    assert f"use --tenant {slug}" in first.output
    again = cli.invoke(app, ["tenants", "create", name])
    assert again.exit_code == 1
    assert f"tenant {name!r} exists already: slug {slug}" in again.output
    tolerated = cli.invoke(app, ["tenants", "create", name, "--if-missing"])
    assert tolerated.exit_code == 0
    assert tolerated.output.startswith(f"tenant {slug} exists (id ")
    listed = cli.invoke(app, ["tenants", "list"])
    assert listed.exit_code == 0
    assert sum(line.startswith(slug + " ") for line in listed.output.splitlines()) == 1


def test_keys_list_shows_prefixes_and_revoke_ends_a_key(
    cli: CliRunner, tenant: TenantHandle
) -> None:
    listed = cli.invoke(app, ["keys", "list", "--tenant", str(tenant.id)])
    assert listed.exit_code == 0, listed.output
    assert tenant.integration_key[:12] + "…" in listed.output
    assert tenant.integration_key not in listed.output
    assert tenant.client_for(tenant.integration_key).get("/api-jobs").status_code == 200
    revoked = cli.invoke(
        app, ["keys", "revoke", tenant.integration_key[:12], "--tenant", str(tenant.id)]
    )
    assert revoked.exit_code == 0, revoked.output
    assert revoked.output.startswith(f"revoked {tenant.integration_key[:12]}…")
    assert tenant.client_for(tenant.integration_key).get("/api-jobs").status_code == 401
    # the last active admin key stays: the service's 409 comes back as one clear line
    last = cli.invoke(app, ["keys", "revoke", tenant.admin_key[:12], "--tenant", str(tenant.id)])
    assert last.exit_code == 1
    assert "CONFLICT: Cannot revoke the tenant's last active admin key" in last.output


def test_db_current_and_upgrade_say_where_the_database_is(cli: CliRunner) -> None:
    (head,) = migrate.head_revisions()
    current = cli.invoke(app, ["db", "current"])
    assert current.exit_code == 0
    assert current.output.strip() == f"{head} (head)"
    upgraded = cli.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0
    assert upgraded.output.strip() == f"database already at revision {head}: nothing to do"


def test_db_upgrade_on_an_empty_database_says_what_it_did(
    unmigrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOORSYNC_DATABASE_URL", unmigrated_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        before = runner.invoke(app, ["db", "current"])
        assert before.exit_code == 1
        assert before.output.strip() == "no floorsync schema: run `floorsync db upgrade`"
        (head,) = migrate.head_revisions()
        done = runner.invoke(app, ["db", "upgrade"])
        assert done.exit_code == 0, done.output
        assert done.output.strip() == (
            f"database upgraded from revision none (empty database) to {head}"
        )
    finally:
        get_settings.cache_clear()


def test_a_command_on_an_unmigrated_database_is_one_line(
    settings: Settings, unmigrated_url: str, tmp_path
) -> None:
    done = subprocess.run(
        [str(FLOORSYNC), "tenants", "create", "Plant"],
        env=worker_env(settings, FLOORSYNC_DATABASE_URL=unmigrated_url),
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.decode().splitlines() == [
        "floorsync: the database has no floorsync schema: run `floorsync db upgrade`"
    ]


def test_webhook_commands_show_field_details_and_an_empty_list(
    cli: CliRunner, tenant: TenantHandle
) -> None:
    empty = cli.invoke(app, ["webhooks", "list", "--tenant", str(tenant.id)])
    assert empty.exit_code == 0
    assert "has no webhook endpoints" in empty.output
    hook = tenant.client.post(
        "/api-webhooks", json={"url": "http://127.0.0.1:9/hook", "events": ["*"]}
    )
    assert hook.status_code == 201, hook.text
    hook_id = hook.json()["data"]["webhook"]["id"]
    replay = cli.invoke(
        app, ["webhooks", "replay", hook_id, "not-an-event", "--tenant", str(tenant.id)]
    )
    assert replay.exit_code == 1
    lines = replay.output.splitlines()
    assert lines[0].startswith("VALIDATION_ERROR: ")
    assert lines[1].startswith("  event_id: ")


def test_a_private_webhook_target_names_the_setting_that_allows_it(
    settings: Settings, tenant: TenantHandle
) -> None:
    from tests.support.server import start_server

    strict = settings.model_copy(update={"webhook_allow_private": False})
    live = start_server(strict)
    try:
        resp = httpx.post(
            f"{live.base_url}/api-webhooks",
            headers={"Authorization": f"Bearer {tenant.admin_key}"},
            json={"url": "https://127.0.0.1/hook", "events": ["*"]},
        )
    finally:
        live.stop()
        live.app.state.services.close()
    assert resp.status_code == 422
    (detail,) = resp.json()["error"]["details"]
    assert detail["constraint"] == "PRIVATE_ADDRESS"
    assert "set FLOORSYNC_WEBHOOK_ALLOW_PRIVATE=true" in detail["message"]
