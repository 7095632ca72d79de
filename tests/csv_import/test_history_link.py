"""A CSV import's sync-history rows name their import (`sync_runs.csv_import_id`, migration 0013;
CSV import §11.3, §12.4): the API filters the history by it, the import's result page links
to each of its history rows, and a history row links back to the import. Against a live
server on SQLite and PostgreSQL."""

from collections.abc import Iterator

import pytest

from floorsync.bootstrap import Services
from floorsync.db.repository import TenantScope
from floorsync.models.bookkeeping import SyncRun
from tests.csv_import.service_helpers import count, import_files
from tests.support.admin import AdminClient, signed_in
from tests.support.server import LiveServer
from tests.support.tenants import TenantHandle

FILES: dict[str, str | bytes] = {
    "orders.csv": "job_number;customer\nH-1;Acme\nH-2;Jörg\n",
    "regels.csv": "job_number;part_number;quantity\nH-1;P-1;3\nH-9;P-2;1\n",
}


@pytest.fixture
def admin(server: LiveServer, tenant: TenantHandle) -> Iterator[AdminClient]:
    client = signed_in(server.base_url, tenant.admin_key)
    yield client
    client.close()


def test_the_history_names_the_import_and_both_pages_link_each_other(
    services: Services, tenant: TenantHandle, admin: AdminClient
) -> None:
    scope = TenantScope(tenant.id)
    imp = import_files(services, scope, FILES)
    other = import_files(services, scope, {"orders.csv": "job_number\nH-3\n"})
    assert count(services, scope, SyncRun, csv_import_id=imp.id) == 2

    data = tenant.client.get("/api-erp-sync/status", params={"csv_import_id": str(imp.id)}).json()[
        "data"
    ]
    rows = data["history"]
    assert sorted(r["entity_type"] for r in rows) == ["jobs", "parts"]
    assert {r["csv_import_id"] for r in rows} == {str(imp.id)}
    assert {r["trigger"] for r in rows} == {"csv_import"}
    parts = next(r for r in rows if r["entity_type"] == "parts")
    assert (parts["created_count"], parts["error_count"]) == (1, 1)
    everything = tenant.client.get("/api-erp-sync/status").json()["data"]["history"]
    assert str(other.id) in {r["csv_import_id"] for r in everything}

    bad = tenant.client.get("/api-erp-sync/status", params={"csv_import_id": "nope"})
    assert bad.status_code == 400
    assert "csv_import_id" in bad.text

    page = admin.get(f"/admin/imports/{imp.id}").text
    assert f"/admin/sync-history?csv_import_id={imp.id}" in page
    for run in rows:
        assert f"/admin/sync-history/{run['id']}" in page
    run_page = admin.get(f"/admin/sync-history/{parts['id']}").text
    assert f"/admin/imports/{imp.id}" in run_page
    listing = admin.get("/admin/sync-history", params={"csv_import_id": str(imp.id)}).text
    assert 'data-testid="filter-csv-import"' in listing
    assert listing.count('data-testid="run-import-link"') == 2  # only this import's two rows


def test_another_tenants_import_id_finds_nothing(
    services: Services, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    imp = import_files(services, TenantScope(tenant.id), {"orders.csv": "job_number\nX-1\n"})
    data = other_tenant.client.get(
        "/api-erp-sync/status", params={"csv_import_id": str(imp.id)}
    ).json()["data"]
    assert data["history"] == []
    assert data["stats"]["total_syncs"] == 0
