"""The records a pull produces are exactly what floorsync's sync engine takes: pulled from the
fake servers through the real adapters, planned by `planning.records`, and sent through
`POST /api-erp-sync/sync` of a real server on the test database (matrix rows 20–21 at the
adapter's edge; the pull service will call the engine directly with the same records)."""

from collections.abc import Iterator
from typing import Any

import pytest

from floorsync.planning.base import PlanningAdapter
from floorsync.planning.config import PlanningConnectionConfig
from floorsync.planning.records import plan_equipment, plan_jobs, usable_cells
from tests.planning.conftest import FREPPLE_PASSWORD, FREPPLE_USER, ODOO_PASSWORD, MakeAdapter
from tests.planning.fakes.frepple import FakeFrepple, seed_orders
from tests.planning.fakes.odoo import FakeOdoo, seed_productions
from tests.support.api import ok
from tests.support.tenants import TenantHandle


@pytest.fixture(params=["frepple", "odoo"])
def pulled_adapter(
    request: pytest.FixtureRequest, make_adapter: MakeAdapter
) -> Iterator[tuple[str, PlanningAdapter]]:
    if request.param == "frepple":
        fake: Any = FakeFrepple()
        seed_orders(fake.data, 12, steps=3, work_centres=4)
        config = {
            "base_url": fake.base_url,
            "auth_method": "basic",
            "username": FREPPLE_USER,
            "credential": FREPPLE_PASSWORD,
            "settings": {"time_zone": "Europe/Amsterdam"},
        }
    else:
        fake = FakeOdoo(17)
        seed_productions(fake, 12, steps=3, work_centres=4)
        config = {
            "base_url": fake.base_url,
            "auth_method": "basic",
            "username": "integration",
            "credential": ODOO_PASSWORD,
            "settings": {"database": fake.database},
        }
    adapter = make_adapter(
        PlanningConnectionConfig.model_validate({"system": request.param, **config})
    )
    yield request.param, adapter
    fake.stop()


def pull_body(system: str, adapter: PlanningAdapter) -> dict[str, Any]:
    equipment = plan_equipment(adapter.pull_resources(), source=system)
    jobs = plan_jobs(
        adapter.pull_work_orders(), source=system, floor={}, active_cells=usable_cells(equipment)
    )
    assert jobs.warnings == ()
    return {
        "cells": list(equipment.cells),
        "resources": list(equipment.resources),
        "jobs": list(jobs.jobs),
        "source": system,
    }


class TestPulledRecordsInTheSyncEngine:
    def test_a_first_pull_creates_everything_with_the_systems_source_and_linked_cells(
        self, pulled_adapter: tuple[str, PlanningAdapter], tenant: TenantHandle
    ) -> None:
        system, adapter = pulled_adapter

        data = ok(tenant.client.post("/api-erp-sync/sync", json=pull_body(system, adapter)))

        summary = data["summary"]
        assert summary["total_errors"] == 0, data
        assert data["entities"]["cells"]["created"] == 4
        assert data["entities"]["jobs"]["created"] == 12
        operations = ok(
            tenant.client.get("/api-operations", params={"external_source": system, "limit": 100})
        )["operations"]
        assert len(operations) == 36
        assert all(op["cell_id"] for op in operations)
        jobs = ok(tenant.client.get("/api-jobs", params={"external_source": system}))["jobs"]
        assert {j["status"] for j in jobs} == {"not_started"}
        assert {j["metadata"]["planning"]["system"] for j in jobs} == {system}

    def test_a_second_identical_pull_is_skipped_record_by_record(
        self, pulled_adapter: tuple[str, PlanningAdapter], tenant: TenantHandle
    ) -> None:
        system, adapter = pulled_adapter
        ok(tenant.client.post("/api-erp-sync/sync", json=pull_body(system, adapter)))

        again = ok(tenant.client.post("/api-erp-sync/sync", json=pull_body(system, adapter)))

        summary = again["summary"]
        assert (summary["total_created"], summary["total_updated"], summary["total_errors"]) == (
            0,
            0,
            0,
        )
        assert summary["total_skipped"] == summary["total_records"]
