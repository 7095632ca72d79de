"""`api-erp-sync` (API §4.11, §4.13; events §2.5): unified sync, diff and history."""

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tests.support.api import PREFIXES, events, fails, ok
from tests.support.tenants import TenantHandle
from tests.sync.helpers import event_types, job_body, rows


def spec_body() -> dict[str, Any]:
    """The request of API §4.11, in an order that only works when processed by dependency."""
    return {
        "operations": [
            {
                "external_id": "SO-1001-10-1",
                "external_source": "SAP",
                "part_external_id": "SO-1001-10",
                "cell_external_id": "WC-10",
                "operation_name": "Cut",
                "estimated_time_minutes": 30,
            }
        ],
        "parts": [
            {
                "external_id": "SO-1001-10",
                "external_source": "SAP",
                "job_external_id": "SO-1001",
                "part_number": "P-10",
                "material": "S235",
                "quantity": 4,
            }
        ],
        "jobs": [
            {
                "external_id": "SO-1001",
                "external_source": "SAP",
                "job_number": "J-1001",
                "customer_name": "Acme BV",
                "due_date": "2026-12-31",
                "priority": 2,
            }
        ],
        "cells": [{"external_id": "WC-10", "external_source": "SAP", "name": "Laser"}],
        "options": {"skip_unchanged": True},
        "source": "sap-connector",
    }


class TestUnifiedSync:
    def test_sections_are_processed_in_dependency_order_in_one_request(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        data = ok(tenant.client.post("/api-erp-sync/sync", json=spec_body()))
        assert list(data) == ["summary", "entities", "group_id", "dry_run", "committed"]
        assert list(data["entities"]) == ["cells", "jobs", "parts", "operations"]
        summary = data["summary"]
        assert (
            summary["total_entities"],
            summary["total_records"],
            summary["total_created"],
            summary["total_errors"],
        ) == (4, 4, 4, 0)
        jobs = data["entities"]["jobs"]
        assert list(jobs) == [
            "total",
            "created",
            "updated",
            "skipped",
            "deleted",
            "errors",
            "results",
            "duration_ms",
        ]
        assert jobs["results"][0]["action"] == "created"
        op = ok(tenant.client.get("/api-operations"))["operations"][0]
        assert (op["cell"]["name"], op["estimated_time"], op["part"]["job"]["job_number"]) == (
            "Laser",
            30,
            "J-1001",
        )
        types = event_types(sessions, tenant.id)
        assert types[:4] == ["cell.created", "job.created", "part.created", "operation.created"]
        assert types[4:] == [
            "sync.cells.completed",
            "sync.jobs.completed",
            "sync.parts.completed",
            "sync.operations.completed",
            "sync.batch.completed",
        ]

    def test_the_batch_summary_event_and_the_source_label(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        data = ok(tenant.client.post("/api-erp-sync/sync", json=spec_body()))
        batch = events(sessions, tenant.id, "sync.batch.completed")[0].data
        assert list(batch) == [
            "group_id",
            "trigger",
            "entities",
            "total_records",
            "total_created",
            "total_updated",
            "total_skipped",
            "total_deleted",
            "total_errors",
            "summary",
            "duration_ms",
            "source",
            "synced_at",
            "origin",
        ]
        assert (batch["group_id"], batch["trigger"], batch["source"]) == (
            data["group_id"],
            "erp_sync",
            "sap-connector",
        )
        assert batch["entities"] == ["cells", "jobs", "parts", "operations"]
        assert batch["origin"]["channel"] == "erp_sync"
        jobs = events(sessions, tenant.id, "sync.jobs.completed")[0].data
        assert (jobs["source"], jobs["external_ids"], jobs["trigger"]) == (
            "sap-connector",
            ["SO-1001"],
            "erp_sync",
        )
        record = events(sessions, tenant.id, "job.created")[0].data
        assert record["origin"]["channel"] == "erp_sync"

    def test_a_second_identical_request_skips_everything_and_emits_nothing(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        ok(tenant.client.post("/api-erp-sync/sync", json=spec_body()))
        before = len(events(sessions, tenant.id))
        data = ok(tenant.client.post("/functions/v1/api-erp-sync/sync", json=spec_body()))
        assert (data["summary"]["total_skipped"], data["summary"]["total_created"]) == (4, 0)
        assert len(events(sessions, tenant.id)) == before

    def test_atomic_covers_all_sections(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        body = spec_body()
        body["parts"][0]["quantity"] = 0
        body["options"] = {"atomic": True}
        data = ok(tenant.client.post("/api-erp-sync/sync", json=body))
        assert data["committed"] is False
        assert data["entities"]["jobs"]["results"][0]["action"] == "rolled_back"
        assert data["entities"]["parts"]["results"][0]["action"] == "error"
        assert data["entities"]["operations"]["results"][0]["code"] == "REFERENCE_NOT_FOUND"
        assert rows(sessions, tenant.id, "jobs") == 0
        statuses = {
            h["entity_type"]: h["status"]
            for h in ok(tenant.client.get("/api-erp-sync/status"))["history"]
        }
        assert statuses == {
            "cells": "failed",
            "jobs": "failed",
            "parts": "failed",
            "operations": "failed",
        }

    def test_a_key_in_a_section_and_nested_in_another_is_a_duplicate(
        self, tenant: TenantHandle
    ) -> None:
        body = {
            "jobs": [job_body("SO-1", parts=[{"external_id": "P-1", "part_number": "P"}])],
            "parts": [
                {
                    "external_id": "P-1",
                    "external_source": "SAP",
                    "job_external_id": "SO-1",
                    "part_number": "P",
                }
            ],
        }
        data = ok(tenant.client.post("/api-erp-sync/sync", json=body))
        record = data["entities"]["parts"]["results"][0]
        assert record["code"] == "DUPLICATE_IN_REQUEST"
        assert record["details"][0]["message"] == "duplicate of item 0 (parts[0]) of jobs"

    def test_snapshot_names_the_entities_to_prune(self, tenant: TenantHandle) -> None:
        c = tenant.client
        ok(
            c.post(
                "/api-erp-sync/sync",
                json={
                    "jobs": [job_body("A"), job_body("B")],
                    "cells": [
                        {"external_id": "C1", "external_source": "SAP", "name": "C1"},
                        {"external_id": "C2", "external_source": "SAP", "name": "C2"},
                    ],
                },
            )
        )
        data = ok(
            c.post(
                "/api-erp-sync/sync",
                json={
                    "jobs": [job_body("A")],
                    "cells": [{"external_id": "C1", "external_source": "SAP", "name": "C1"}],
                    "options": {"snapshot": ["jobs"]},
                },
            )
        )
        assert [(r["external_id"], r["action"]) for r in data["entities"]["jobs"]["results"]] == [
            ("A", "skipped"),
            ("B", "deleted"),
        ]
        assert data["entities"]["cells"]["deleted"] == 0
        assert data["summary"]["total_deleted"] == 1
        fails(
            c.post("/api-erp-sync/sync", json={"jobs": [], "options": {"snapshot": ["batches"]}}),
            400,
            "BAD_REQUEST",
        )

    def test_bad_bodies_and_routes(self, tenant: TenantHandle) -> None:
        c = tenant.client
        fails(c.post("/api-erp-sync/sync", json={"jobs": {}}), 400, "BAD_REQUEST")
        fails(c.post("/api-erp-sync/sync", json={"batches": []}), 400, "BAD_REQUEST")
        fails(c.post("/api-erp-sync/sync", json={"jobs": [], "source": 5}), 400, "BAD_REQUEST")
        fails(c.post("/api-erp-sync/sync", json={"jobs": [{}] * 1001}), 400, "BAD_REQUEST")
        fails(
            c.post(
                "/api-erp-sync/sync",
                json={"jobs": [{}] * 1000, "parts": [{"operations": [{}] * 9}] * 1000},
            ),
            400,
            "BAD_REQUEST",
            "Maximum 10000 records (including nested) per sync request",
        )
        for prefix in PREFIXES:
            fails(
                c.post(f"{prefix}/api-erp-sync/push", json={}),
                400,
                "BAD_REQUEST",
                "Invalid endpoint. Use /diff, /sync, or /status",
            )
            resp = c.get(f"{prefix}/api-erp-sync/sync")
            fails(resp, 405, "METHOD_NOT_ALLOWED")
            assert resp.headers["allow"] == "POST, OPTIONS"

    def test_every_section_present_appears_even_when_empty(self, tenant: TenantHandle) -> None:
        data = ok(tenant.client.post("/api-erp-sync/sync", json={"materials": [], "jobs": []}))
        assert list(data["entities"]) == ["materials", "jobs"]
        assert data["entities"]["jobs"]["total"] == 0


class TestDiff:
    def test_diff_previews_per_record_and_writes_nothing(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        ok(
            c.post(
                "/api-erp-sync/sync",
                json={"jobs": [job_body("SO-1001", job_number="J-1001", customer="Acme")]},
            )
        )
        before = len(events(sessions, tenant.id))
        body = spec_body()
        body["parts"].append(
            {
                "external_id": "BAD",
                "external_source": "SAP",
                "job_external_id": "SO-404",
                "part_number": "X",
            }
        )
        data = ok(c.post("/api-erp-sync/diff", json=body))
        assert list(data) == ["summary", "entities"]
        assert data["summary"] == {
            "total_entities": 4,
            "total_records": 5,
            "total_to_create": 3,
            "total_to_update": 1,
            "total_unchanged": 0,
            "total_to_delete": 0,
            "total_errors": 1,
        }
        jobs = data["entities"]["jobs"]
        assert list(jobs) == [
            "entity_type",
            "total",
            "to_create",
            "to_update",
            "unchanged",
            "to_delete",
            "errors",
            "records",
        ]
        record = jobs["records"][0]
        assert (record["status"], record["existing_id"] is not None) == ("update", True)
        assert {"field": "customer", "old": "Acme", "new": "Acme BV"} in record["changes"]
        part = data["entities"]["parts"]["records"][0]
        assert (part["status"], part["existing_id"]) == ("create", None)
        assert data["entities"]["parts"]["records"][1]["code"] == "REFERENCE_NOT_FOUND"
        assert rows(sessions, tenant.id, "parts") == 0
        assert len(events(sessions, tenant.id)) == before
        assert ok(c.get("/api-erp-sync/status"))["stats"]["total_syncs"] == 1

    def test_diff_reports_revives_and_snapshot_deletions(self, tenant: TenantHandle) -> None:
        c = tenant.client
        first = ok(c.post("/api-erp-sync/sync", json={"jobs": [job_body("A"), job_body("B")]}))
        ok(c.delete("/api-jobs", params={"id": first["entities"]["jobs"]["results"][0]["id"]}))
        data = ok(
            c.post(
                "/api-erp-sync/diff",
                json={"jobs": [job_body("A")], "options": {"snapshot": ["jobs"]}},
            )
        )
        statuses = [(r["external_id"], r["status"]) for r in data["entities"]["jobs"]["records"]]
        assert statuses == [("A", "update"), ("B", "delete")]
        assert data["entities"]["jobs"]["records"][0]["changes"][-1]["field"] == "deleted_at"
        assert len(ok(c.get("/api-jobs"))["jobs"]) == 1


class TestStatus:
    def test_history_rows_stats_filters_and_paging(self, tenant: TenantHandle) -> None:
        c = tenant.client
        ok(c.post("/api-erp-sync/sync", json=spec_body()))
        ok(
            c.post(
                "/api-jobs/bulk-sync", json={"items": [job_body("X"), job_body("Y", priority=-1)]}
            )
        )
        data = ok(c.get("/api-erp-sync/status"))
        assert data["stats"] == {
            "total_syncs": 5,
            "successful": 4,
            "partial": 1,
            "failed": 0,
            "total_created": 5,
            "total_updated": 0,
            "total_skipped": 0,
            "total_deleted": 0,
            "total_errors": 1,
        }
        newest = data["history"][0]
        assert list(newest) == [
            "id",
            "group_id",
            "entity_type",
            "operation",
            "trigger",
            "source",
            "status",
            "total_records",
            "created_count",
            "updated_count",
            "skipped_count",
            "deleted_count",
            "error_count",
            "errors",
            "options",
            "api_key_id",
            "request_id",
            "csv_import_id",  # the CSV import whose rows the run counts (null for API syncs)
            "started_at",
            "completed_at",
            "duration_ms",
        ]
        assert (newest["trigger"], newest["status"], newest["operation"]) == (
            "bulk_sync",
            "partial",
            "upsert",
        )
        assert data["pagination"] == {"total": 5, "offset": 0, "limit": 20}
        jobs = ok(
            c.get("/api-erp-sync/status", params={"entity_type": "jobs", "trigger": "erp_sync"})
        )
        assert [h["entity_type"] for h in jobs["history"]] == ["jobs"]
        page = ok(c.get("/api-erp-sync/status", params={"limit": 2, "offset": 1}))
        assert (len(page["history"]), page["pagination"]["limit"]) == (2, 2)
        assert (
            ok(c.get("/api-erp-sync/status", params={"limit": 500}))["pagination"]["limit"] == 100
        )
        fails(c.get("/api-erp-sync/status", params={"status": "done"}), 400, "BAD_REQUEST")
        fails(c.get("/api-erp-sync/status", params={"limit": "x"}), 400, "BAD_REQUEST")

    def test_history_is_per_tenant(self, tenant: TenantHandle, other_tenant: TenantHandle) -> None:
        ok(tenant.client.post("/api-jobs/bulk-sync", json={"items": [job_body()]}))
        assert ok(other_tenant.client.get("/api-erp-sync/status"))["stats"]["total_syncs"] == 0
