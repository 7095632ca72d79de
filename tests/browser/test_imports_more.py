"""More of the Data Import wizard in a real headless Chromium against the live server (CSV
import §7.5, §11.3, §11.6, §12.4): "Forget this mapping" for a remembered mapping; the notice
for an upload identical to an import of the last 24 hours; the result's links to the sync
history; a second import of the tenant waiting while another runs. Screenshots go to
var/screenshots/imports-more-*.png."""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import update

from floorsync.bootstrap import Services, build_services
from floorsync.config import Settings
from floorsync.csv_import import service
from floorsync.csv_import.job import run_job
from floorsync.db.repository import TenantScope
from floorsync.models.enums import CsvImportStatus, ImportPhase
from floorsync.models.imports import CsvImport
from tests.browser.conftest import shoot
from tests.browser.test_admin import fits_the_window, sign_in
from tests.csv_import.service_helpers import import_files, upload
from tests.support.tenants import TenantHandle

# German headers: auto-matched by aliases, except "Kunde Nr" which the user maps by hand
ORDERS = "Auftragsnummer;Kunde;Kunde Nr\nA-1;Acme;K-1\nA-2;Jörg;K-2\n"


@pytest.fixture(scope="module")
def services(settings: Settings) -> Iterator[Services]:
    built = build_services(settings)
    yield built
    built.close()


def upload_in_browser(page: Any, name: str, data: bytes) -> str:
    page.goto("/admin/imports/new")
    page.get_by_test_id("upload-files").set_input_files(
        [{"name": name, "mimeType": "text/csv", "buffer": data}]
    )
    page.get_by_test_id("upload-submit").click()
    page.wait_for_url(re.compile(r"/admin/imports/[0-9a-f-]{36}$"))
    return str(page.url.rsplit("/", 1)[-1])


class TestRememberedMappings:
    def test_a_remembered_mapping_is_applied_and_can_be_forgotten(
        self, page: Any, tenant: TenantHandle
    ) -> None:
        sign_in(page, tenant.admin_key, "/admin/imports")
        upload_in_browser(page, "auftraege.csv", ORDERS.encode())
        assert page.get_by_test_id("remembered-0").count() == 0
        page.get_by_test_id("map-0-2").select_option("notes")  # a manual choice
        page.get_by_test_id("remember-mapping").check()
        page.get_by_test_id("save-mapping").click()
        page.wait_for_load_state()
        assert "Mapping and options saved" in page.get_by_test_id("notice").inner_text()

        # the same layout again: the remembered mapping applies, with a way to forget it
        upload_in_browser(page, "auftraege-2.csv", ORDERS.replace("A-", "B-").encode())
        assert page.get_by_test_id("remembered-0").is_visible()
        assert page.get_by_test_id("map-0-2").input_value() == "notes"
        assert "saved" in page.get_by_test_id("mapping-table-0").inner_text()
        shoot(page, "imports-more-01-remembered")
        assert fits_the_window(page)
        page.get_by_test_id("forget-mapping-0").click()
        page.wait_for_load_state()
        assert "forgotten" in page.get_by_test_id("notice").inner_text()
        assert page.get_by_test_id("remembered-0").count() == 0
        assert page.get_by_test_id("map-0-2").input_value() != "notes"
        assert "saved" not in page.get_by_test_id("mapping-table-0").inner_text()
        shoot(page, "imports-more-02-forgotten")

        # and a third upload of the layout no longer gets it
        upload_in_browser(page, "auftraege-3.csv", ORDERS.replace("A-", "C-").encode())
        assert page.get_by_test_id("remembered-0").count() == 0


class TestNoticesAndLinks:
    def test_identical_upload_notice_sync_history_links_and_waiting(
        self, page: Any, tenant: TenantHandle, services: Services
    ) -> None:
        scope = TenantScope(tenant.id)
        files: dict[str, str | bytes] = {"orders.csv": "job_number;customer\nN-1;Acme\nN-2;Jörg\n"}
        first = import_files(services, scope, files)
        sign_in(page, tenant.admin_key, "/admin/imports")

        # the result page links to the import's sync-history rows, and back
        page.goto(f"/admin/imports/{first.id}")
        assert page.get_by_test_id("import-sync-runs").is_visible()
        shoot(page, "imports-more-03-result-history")
        assert fits_the_window(page)
        page.get_by_test_id("sync-run-link-jobs").click()
        page.wait_for_load_state()
        assert page.get_by_test_id("run-csv-import-link").is_visible()
        page.get_by_test_id("run-csv-import-link").click()
        page.wait_for_url(re.compile(rf"/admin/imports/{first.id}$"))

        # the same file again: a notice, not a refusal
        upload_in_browser(page, "orders.csv", str(files["orders.csv"]).encode())
        notice = page.get_by_test_id("identical-notice")
        assert notice.is_visible()
        assert "every row as unchanged" in notice.inner_text()
        shoot(page, "imports-more-04-identical")
        assert fits_the_window(page)

        # another import of the tenant runs: this one waits, queued, and says for which
        running = upload(services, scope, {"orders.csv": "job_number\nW-1\n"})
        waiting = upload(services, scope, {"orders.csv": "job_number\nW-2\n"})
        for import_id in (running, waiting):
            service.confirm_mapping(services, scope, import_id)
            service.request(services, scope, import_id, ImportPhase.import_, background=False)
        now = services.clock.now()
        with services.sessions.begin() as session:  # a live worker runs `running`
            session.execute(
                update(CsvImport)
                .where(CsvImport.id == running)
                .values(
                    status=CsvImportStatus.running,
                    lease_owner="browser-test",
                    heartbeat_at=now,
                    started_at=now,
                )
            )

        assert run_job(services, scope.tenant_id, waiting, owner="w") is CsvImportStatus.queued
        page.goto(f"/admin/imports/{waiting}")
        waits = page.get_by_test_id("waiting-for")
        assert waits.is_visible()
        assert "Only one import per tenant runs at a time" in waits.inner_text()
        shoot(page, "imports-more-05-waiting")
        service.cancel(services, scope, waiting)
        with services.sessions.begin() as session:
            session.execute(
                update(CsvImport)
                .where(CsvImport.id == running)
                .values(status=CsvImportStatus.cancelled, lease_owner=None)
            )
