""" "Identical to an import of the last 24 hours" (CSV import §11.6), on SQLite and PostgreSQL:
the service finds the earlier import by its files' SHA-256, choices and options; the wizard
shows the notice (with a link) and the CLI prints it; neither blocks the import."""

import json
import subprocess
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from floorsync.bootstrap import Services
from floorsync.config import Settings
from floorsync.csv_import.duplicates import identical_import
from floorsync.db.repository import TenantScope
from floorsync.models.enums import CsvImportStatus
from floorsync.models.imports import CsvImport
from tests.csv_import.service_helpers import import_files, new_scope, upload
from tests.support.admin import signed_in
from tests.support.server import LiveServer
from tests.support.tenants import TenantHandle
from tests.support.worker_process import FLOORSYNC, worker_env

FILES: dict[str, str | bytes] = {"orders.csv": "job_number;customer\nI-1;Acme\nI-2;Jörg\n"}


class TestIdenticalImport:
    def test_an_identical_upload_names_the_earlier_import(self, services: Services) -> None:
        scope = new_scope(services)
        first = import_files(services, scope, FILES)
        again = upload(services, scope, FILES)
        found = identical_import(services, scope, again)
        assert found is not None
        assert found.import_id == first.id
        assert str(first.id) in found.message()
        assert "unchanged" in found.message()

    def test_other_files_options_or_tenants_are_not_identical(self, services: Services) -> None:
        scope = new_scope(services)
        import_files(services, scope, FILES)
        changed = {"orders.csv": "job_number;customer\nI-1;Acme\nI-2;Joerg\n"}
        assert identical_import(services, scope, upload(services, scope, changed)) is None
        other_source = upload(services, scope, FILES, source="SAP")
        assert identical_import(services, scope, other_source) is None
        other = new_scope(services)
        assert identical_import(services, other, upload(services, other, FILES)) is None

    def test_only_the_last_24_hours_count_and_unfinished_imports_never(
        self, services: Services
    ) -> None:
        scope = new_scope(services)
        first = import_files(services, scope, FILES)
        pending = upload(services, scope, FILES)  # never run: not an import that ran
        assert identical_import(services, scope, pending) is not None  # (matches `first`)
        with services.sessions.begin() as session:
            session.execute(
                update(CsvImport)
                .where(CsvImport.id == first.id)
                .values(finished_at=services.clock.now() - timedelta(hours=25))
            )
        assert identical_import(services, scope, upload(services, scope, FILES)) is None
        with services.sessions.begin() as session:
            status = session.get(CsvImport, pending)
            assert status is not None
            assert status.status is CsvImportStatus.uploaded


def test_the_wizard_and_the_cli_show_the_notice_and_still_import(
    services: Services,
    settings: Settings,
    server: LiveServer,
    tenant: TenantHandle,
    tmp_path: Path,
) -> None:
    scope = TenantScope(tenant.id)
    first = import_files(services, scope, FILES)
    again = upload(services, scope, FILES)
    admin = signed_in(server.base_url, tenant.admin_key)
    try:
        page = admin.get(f"/admin/imports/{again}").text
        assert 'data-testid="identical-notice"' in page
        assert f"/admin/imports/{first.id}" in page
        fresh = upload(services, scope, {"orders.csv": "job_number\nI-9\n"})
        assert 'data-testid="identical-notice"' not in admin.get(f"/admin/imports/{fresh}").text
    finally:
        admin.close()
    (tmp_path / "orders.csv").write_bytes(str(FILES["orders.csv"]).encode())

    def cli() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(FLOORSYNC), "import", "orders.csv", "--tenant", str(tenant.id), "--json"],
            env=worker_env(settings),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
        )

    once = cli()
    assert once.returncode == 0, once.stderr
    first_cli = json.loads(once.stdout)["import_id"]
    twice = cli()  # identical to the first command's import: a note, and it still runs
    assert twice.returncode == 0, twice.stderr
    assert f"identical to import {first_cli}" in twice.stderr
    summary = json.loads(twice.stdout)
    assert summary["identical_to"] == first_cli
    assert json.loads(once.stdout)["identical_to"] != first_cli
    assert summary["status"] == "completed"
    assert summary["counts"]["unchanged"] == 2
