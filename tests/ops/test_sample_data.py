"""`floorsync demo --sample-data`: a small plant in varied states, through the public write paths,
clear of the README examples' records."""

from floorsync.bootstrap import build_services
from floorsync.cli import sample_data
from floorsync.config import Settings
from tests.support.tenants import TenantHandle


def test_the_sample_plant_has_jobs_in_several_states(
    settings: Settings, tenant: TenantHandle
) -> None:
    services = build_services(settings)
    try:
        assert not sample_data.seeded(services, tenant.id)
        made = sample_data.seed(services, tenant.id)
        assert sample_data.seeded(services, tenant.id)
    finally:
        services.close()
    assert made["jobs"] == 12
    c = tenant.client
    jobs = c.get("/api-jobs", params={"limit": 100}).json()["data"]["jobs"]
    numbers = sorted(j["job_number"] for j in jobs)
    assert numbers == [f"DEMO-{2001 + n}" for n in range(12)]
    assert "J-1001" not in numbers  # the README's examples create J-1001 and cell Laser
    cells = sorted(x["name"] for x in c.get("/api-cells").json()["data"]["cells"])
    assert cells == ["Assembly", "Laser 1", "Press brake", "Welding"]
    assert len(c.get("/api-resources").json()["data"]["resources"]) == 4
    operations = c.get("/api-operations", params={"limit": 1000}).json()["data"]["operations"]
    statuses = {op["status"] for op in operations}
    assert {"not_started", "in_progress", "completed", "on_hold"} <= statuses, statuses
    entries = c.get("/api-time-entries").json()["data"]["time_entries"]
    assert len(entries) == 7
    quantities = c.get("/api-operation-quantities").json()["data"]["operation_quantities"]
    assert len(quantities) == 3
    history = c.get("/api-erp-sync/status").json()["data"]
    assert history  # the seed went through the sync service like an ERP
