"""`POST /api-<entity>/bulk-sync` (API §4.6, §4.8, §4.10): partial success, codes, options."""

from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from floorsync.models.master import Job
from tests.support.api import PREFIXES, events, fails, ok, row
from tests.support.tenants import TenantHandle
from tests.sync.helpers import event_types, job_body, rows


def bulk(
    client: httpx.Client, body: Any, entity: str = "jobs", prefix: str = "", **params: str
) -> Any:
    return ok(client.post(f"{prefix}/api-{entity}/bulk-sync", json=body, params=params))


class TestRequestShape:
    @pytest.mark.parametrize("prefix", PREFIXES)
    def test_items_or_the_plural_key_carry_the_records(
        self, tenant: TenantHandle, prefix: str
    ) -> None:
        assert bulk(tenant.client, {"items": [job_body()]}, prefix=prefix)["created"] == 1
        assert bulk(tenant.client, {"jobs": [job_body()]}, prefix=prefix)["created"] == 1

    def test_items_wins_when_both_arrays_are_given(self, tenant: TenantHandle) -> None:
        data = bulk(
            tenant.client, {"items": [job_body("A")], "jobs": [job_body("B"), job_body("C")]}
        )
        assert [r["external_id"] for r in data["records"]] == ["A"]

    def test_a_body_without_an_array_or_with_another_key_is_400(self, tenant: TenantHandle) -> None:
        c = tenant.client
        fails(c.post("/api-jobs/bulk-sync", json={"records": []}), 400, "BAD_REQUEST")
        fails(
            c.post("/api-jobs/bulk-sync", json={"items": {}}),
            400,
            "BAD_REQUEST",
            'Request body must contain either "items" array or "jobs" array',
        )
        fails(c.post("/api-jobs/bulk-sync", json={"items": [], "extra": 1}), 400, "BAD_REQUEST")
        fails(c.post("/api-jobs/bulk-sync", json=[]), 400, "BAD_REQUEST")

    def test_an_empty_array_is_a_valid_request(self, tenant: TenantHandle) -> None:
        data = bulk(tenant.client, {"items": []})
        assert (data["total"], data["records"], data["committed"]) == (0, [], True)

    def test_more_than_1000_items_or_10000_records_is_400(self, tenant: TenantHandle) -> None:
        c = tenant.client
        fails(
            c.post("/api-jobs/bulk-sync", json={"items": [{}] * 1001}),
            400,
            "BAD_REQUEST",
            "Maximum 1000 items per bulk-sync request",
        )
        nested = [{"parts": [{"operations": [{}] * 9}] * 10}] * 100  # 100 + 1000 + 9000 records
        fails(
            c.post("/api-jobs/bulk-sync", json={"items": nested}),
            400,
            "BAD_REQUEST",
            "Maximum 10000 records (including nested) per sync request",
        )

    def test_options_come_from_the_query_or_the_body_and_the_body_wins(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        data = bulk(
            tenant.client, {"items": [job_body()], "options": {"dry_run": False}}, dry_run="true"
        )
        assert (data["dry_run"], data["committed"]) == (False, True)
        assert rows(sessions, tenant.id, "jobs") == 1

    def test_unknown_or_malformed_options_are_400(self, tenant: TenantHandle) -> None:
        c = tenant.client
        fails(
            c.post("/api-jobs/bulk-sync", json={"items": [], "options": {"fast": True}}),
            400,
            "BAD_REQUEST",
        )
        fails(
            c.post("/api-jobs/bulk-sync", json={"items": [], "options": {"atomic": "yes"}}),
            400,
            "BAD_REQUEST",
        )
        fails(c.post("/api-jobs/bulk-sync", json={"items": [], "options": []}), 400, "BAD_REQUEST")


class TestPartialSuccess:
    def test_the_response_has_records_in_input_order_and_the_eryxon_results(
        self, tenant: TenantHandle
    ) -> None:
        c = tenant.client
        bulk(c, {"items": [job_body("SO-1002", customer="Old")]})
        bad = {
            "external_id": "SO-1003",
            "external_source": "SAP",
            "job_number": "J-1003",
            "priority": -1,
        }
        data = bulk(c, {"items": [job_body("SO-1001"), job_body("SO-1002", customer="New"), bad]})
        assert list(data) == [
            "total",
            "created",
            "updated",
            "skipped",
            "failed",
            "deleted",
            "records",
            "results",
            "group_id",
            "dry_run",
            "committed",
        ]
        assert [(r["index"], r["external_id"], r["action"]) for r in data["records"]] == [
            (0, "SO-1001", "created"),
            (1, "SO-1002", "updated"),
            (2, "SO-1003", "error"),
        ]
        assert (data["total"], data["created"], data["updated"], data["failed"]) == (3, 1, 1, 1)
        error = data["records"][2]
        assert list(error) == [
            "index",
            "external_id",
            "external_source",
            "id",
            "action",
            "error",
            "code",
            "details",
        ]
        assert (error["id"], error["code"], error["error"]) == (
            None,
            "VALIDATION_ERROR",
            "✗ 1 validation error(s) in job",
        )
        assert error["details"] == [
            {
                "field": "priority",
                "message": "priority must be >= 0",
                "constraint": "MIN_VALUE",
                "value": -1,
            }
        ]
        assert data["results"] == {
            "created": 1,
            "updated": 1,
            "skipped": 0,
            "failed": 1,
            "deleted": 0,
            "errors": [
                {
                    "index": 2,
                    "external_id": "SO-1003",
                    "item": bad,
                    "error": "✗ 1 validation error(s) in job",
                }
            ],
        }
        assert data["group_id"] is not None
        assert data["committed"] is True

    def test_every_per_record_code_is_reported_and_the_good_records_are_written(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        ok(c.post("/api-jobs", json={"job_number": "J-TAKEN"}), 201)
        items: list[Any] = [
            job_body("A"),
            "not an object",
            {"external_source": "SAP", "job_number": "J-no-key"},
            job_body("A", job_number="J-other"),
            job_body("B", job_number="J-TAKEN"),
            {
                "external_id": "C",
                "external_source": "SAP",
                "job_number": "J-C",
                "current_cell_id": "0190f3a2-7c1e-7b6a-9d2e-5f4c3b2a1d00",
            },
            job_body("D", unknown_field=1),
            job_body("E"),
        ]
        data = bulk(c, {"items": items})
        codes = [r.get("code", r["action"]) for r in data["records"]]
        assert codes == [
            "created",
            "VALIDATION_ERROR",
            "VALIDATION_ERROR",
            "DUPLICATE_IN_REQUEST",
            "CONFLICT",
            "REFERENCE_NOT_FOUND",
            "VALIDATION_ERROR",
            "created",
        ]
        assert data["records"][3]["details"] == [
            {
                "field": "external_id",
                "message": "duplicate of item 0",
                "constraint": "UNIQUE_CONSTRAINT",
                "value": "A",
            }
        ]
        assert data["records"][1]["external_id"] is None
        assert data["results"]["errors"][0]["item"] == "not an object"
        assert rows(sessions, tenant.id, "jobs") == 3  # J-TAKEN, A, E
        assert sorted(
            e.data["job"]["external_id"]
            for e in events(sessions, tenant.id, "job.created")
            if e.data["job"]["external_id"]
        ) == ["A", "E"]

    def test_two_new_keys_claiming_one_job_number_conflict_on_the_second(
        self, tenant: TenantHandle
    ) -> None:
        data = bulk(
            tenant.client,
            {"items": [job_body("X", job_number="J-SAME"), job_body("Y", job_number="J-SAME")]},
        )
        assert [r.get("code", r["action"]) for r in data["records"]] == ["created", "CONFLICT"]

    def test_a_job_number_freed_earlier_in_the_batch_can_be_taken_later(
        self, tenant: TenantHandle
    ) -> None:
        bulk(tenant.client, {"items": [job_body("X", job_number="J-1")]})
        data = bulk(
            tenant.client,
            {"items": [job_body("X", job_number="J-2"), job_body("Y", job_number="J-1")]},
        )
        assert [r["action"] for r in data["records"]] == ["updated", "created"]

    def test_a_1000_record_batch_with_one_bad_record_in_ten_writes_exactly_the_900_good_ones(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        items = [
            job_body(f"SO-{i:04d}", priority=-1 if i % 10 == 7 else i % 5) for i in range(1000)
        ]
        data = bulk(tenant.client, {"items": items})
        assert (data["created"], data["failed"]) == (900, 100)
        assert [r["index"] for r in data["records"] if r["action"] == "error"] == list(
            range(7, 1000, 10)
        )
        assert rows(sessions, tenant.id, "jobs") == 900
        assert len(events(sessions, tenant.id, "job.created")) == 900
        again = bulk(tenant.client, {"items": items})
        assert (again["skipped"], again["failed"], again["created"]) == (900, 100, 0)


class TestAtomic:
    def test_one_failure_rolls_back_everything_and_the_others_report_rolled_back(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        items = [job_body("A"), job_body("B", priority=-1), job_body("C")]
        data = bulk(tenant.client, {"items": items, "options": {"atomic": True}})
        assert [r["action"] for r in data["records"]] == ["rolled_back", "error", "rolled_back"]
        assert (data["created"], data["failed"], data["rolled_back"], data["committed"]) == (
            0,
            1,
            2,
            False,
        )
        assert rows(sessions, tenant.id, "jobs") == 0
        assert [e for e in event_types(sessions, tenant.id) if not e.startswith("sync.")] == []
        history = ok(tenant.client.get("/api-erp-sync/status"))["history"]
        assert (history[0]["status"], history[0]["error_count"], history[0]["group_id"]) == (
            "failed",
            3,
            data["group_id"],
        )

    def test_an_atomic_batch_without_failures_commits(self, tenant: TenantHandle) -> None:
        data = bulk(tenant.client, {"items": [job_body(), job_body()]}, atomic="true")
        assert (data["created"], data["rolled_back"], data["committed"]) == (2, 0, True)


class TestDryRun:
    def test_a_dry_run_reports_what_would_happen_and_leaves_no_trace(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        created = bulk(c, {"items": [job_body("A", customer="Old")]})["records"][0]
        data = bulk(
            c,
            {"items": [job_body("A", customer="New"), job_body("B")], "options": {"dry_run": True}},
        )
        assert [(r["action"], r["id"]) for r in data["records"]] == [
            ("updated", created["id"]),
            ("created", None),
        ]
        assert data["records"][0]["changes"] == [{"field": "customer", "old": "Old", "new": "New"}]
        assert (data["dry_run"], data["committed"], data["group_id"]) == (True, False, None)
        assert rows(sessions, tenant.id, "jobs") == 1
        assert event_types(sessions, tenant.id, "job.created", "job.updated") == ["job.created"]
        assert ok(c.get("/api-erp-sync/status"))["stats"]["total_syncs"] == 1


class TestSnapshot:
    def test_snapshot_soft_deletes_the_missing_keys_of_the_sources_in_the_request(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        bulk(
            c,
            {"items": [job_body("A"), job_body("B"), job_body("C"), job_body("X", source="OTHER")]},
        )
        manual = ok(c.post("/api-jobs", json={"job_number": "J-manual"}), 201)["job"]
        data = bulk(
            c, {"items": [job_body("A"), job_body("C", priority=-1)], "options": {"snapshot": True}}
        )
        assert [(r["index"], r["external_id"], r["action"]) for r in data["records"]] == [
            (0, "A", "skipped"),
            (1, "C", "error"),
            (None, "B", "deleted"),
        ]
        assert data["deleted"] == 1
        assert data["results"]["deleted"] == 1
        live = {j["external_id"] for j in ok(c.get("/api-jobs"))["jobs"]}
        assert live == {"A", "C", "X", None}
        assert row(sessions, tenant.id, Job, manual["id"]).deleted_at is None
        assert [
            e.data["job"]["external_id"] for e in events(sessions, tenant.id, "job.deleted")
        ] == ["B"]

    def test_an_empty_snapshot_prunes_nothing(self, tenant: TenantHandle) -> None:
        bulk(tenant.client, {"items": [job_body("A")]})
        assert bulk(tenant.client, {"items": [], "options": {"snapshot": True}})["deleted"] == 0


class TestHistory:
    def test_every_committed_bulk_run_writes_a_history_row_and_a_summary_event(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        data = bulk(c, {"items": [job_body("A"), job_body("B", priority=-1)]})
        run = ok(c.get("/api-erp-sync/status"))["history"][0]
        assert (
            run["group_id"],
            run["entity_type"],
            run["trigger"],
            run["source"],
            run["status"],
        ) == (data["group_id"], "jobs", "bulk_sync", "SAP", "partial")
        assert (run["total_records"], run["created_count"], run["error_count"]) == (2, 1, 1)
        assert run["errors"] == [
            {
                "index": 1,
                "external_id": "B",
                "code": "VALIDATION_ERROR",
                "message": "✗ 1 validation error(s) in job",
                # which field was wrong, so the history (and the admin UI) can say so
                "details": [
                    {
                        "field": "priority",
                        "message": "priority must be >= 0",
                        "constraint": "MIN_VALUE",
                        "value": -1,
                    }
                ],
            }
        ]
        summary = events(sessions, tenant.id, "sync.jobs.completed")
        assert len(summary) == 1
        payload = summary[0].data
        assert list(payload) == [
            "sync_run_id",
            "group_id",
            "entity_type",
            "trigger",
            "source",
            "total",
            "created",
            "updated",
            "skipped",
            "deleted",
            "errors",
            "summary",
            "duration_ms",
            "external_ids",
            "synced_at",
            "origin",
        ]
        assert (
            payload["sync_run_id"],
            payload["total"],
            payload["created"],
            payload["errors"],
        ) == (run["id"], 2, 1, 1)
        assert payload["summary"] == {
            "total": 2,
            "created": 1,
            "updated": 0,
            "skipped": 0,
            "deleted": 0,
            "errors": 1,
        }
        assert payload["external_ids"] == ["A"]

    def test_a_run_that_wrote_nothing_emits_no_summary_and_record_history_false_writes_no_row(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        bulk(c, {"items": [job_body("A")]})
        bulk(c, {"items": [job_body("A")]})
        assert event_types(sessions, tenant.id, "sync.jobs.completed") == ["sync.jobs.completed"]
        bulk(c, {"items": [job_body("B")]}, record_history="false")
        assert ok(c.get("/api-erp-sync/status"))["stats"]["total_syncs"] == 2
