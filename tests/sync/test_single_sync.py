"""`PUT /api-<entity>/sync` (API §4.5, §4.7): one record keyed by (external_source, external_id)."""

from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from floorsync.models.master import Job
from tests.support.api import PREFIXES, events, fails, invalid, make_cell, ok, row
from tests.support.tenants import TenantHandle
from tests.sync.helpers import event_types, job_body, key, rows


def sync(client: httpx.Client, entity: str, body: Any, status: int = 200, **params: str) -> Any:
    return ok(client.put(f"/api-{entity}/sync", json=body, params=params), status)


class TestCreateUpdateSkip:
    def test_a_new_key_is_created_with_201_and_the_documented_response_shape(
        self, tenant: TenantHandle
    ) -> None:
        body = job_body(
            "SO-1001",
            job_number="J-1001",
            customer_name="Acme BV",
            due_date="2026-12-31",
            priority=2,
        )
        data = sync(tenant.client, "jobs", body, 201)
        assert list(data) == ["job", "action", "id", "external_id", "external_source"]
        assert (data["action"], data["external_id"], data["external_source"]) == (
            "created",
            "SO-1001",
            "SAP",
        )
        job = data["job"]
        assert job["id"] == data["id"]
        assert (job["customer"], job["due_date"], job["priority"]) == (
            "Acme BV",
            "2026-12-31T00:00:00.000Z",
            2,
        )
        assert job["synced_at"] == job["created_at"] == job["updated_at"]
        assert (
            job["sync_hash"] == "fc60620ec60f2f73d1d8a9e7a65e20356fe4f11f12aa7e20f479328a95463b78"
        )
        assert job["parts"] == []
        assert list(job)[-1] == "metadata"

    def test_resyncing_an_unchanged_job_writes_no_row_and_emits_no_event(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        body = job_body(customer="Acme", priority="3")
        first = sync(tenant.client, "jobs", body, 201)
        before = row(sessions, tenant.id, Job, first["id"])
        again = sync(
            tenant.client,
            "jobs",
            {**body, "priority": 3, "customer_name": "Acme"} | {"customer": "Acme"},
        )
        assert (again["action"], again["skipped_reason"], again["id"]) == (
            "skipped",
            "unchanged",
            first["id"],
        )
        after = row(sessions, tenant.id, Job, first["id"])
        assert (after.updated_at, after.synced_at, after.sync_hash) == (
            before.updated_at,
            before.synced_at,
            before.sync_hash,
        )
        assert event_types(sessions, tenant.id) == ["job.created"]

    def test_a_changed_field_is_updated_with_one_event_naming_it(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        body = job_body(customer="Acme", priority=1)
        first = sync(tenant.client, "jobs", body, 201)
        data = sync(tenant.client, "jobs", {**body, "customer": "Acme BV"})
        assert data["action"] == "updated"
        assert data["job"]["customer"] == "Acme BV"
        assert data["job"]["synced_at"] > first["job"]["synced_at"]
        assert data["job"]["sync_hash"] != first["job"]["sync_hash"]
        updated = events(sessions, tenant.id, "job.updated")
        assert len(updated) == 1
        payload = updated[0].data
        assert payload["changed_fields"] == ["customer"]
        assert payload["previous"] == {"customer": "Acme"}
        assert payload["origin"]["channel"] == "sync"
        assert payload["origin"]["external_source"] == "SAP"

    def test_omitted_fields_keep_their_values_and_an_explicit_null_clears_one(
        self, tenant: TenantHandle
    ) -> None:
        body = job_body(customer="Acme", notes="keep me")
        sync(tenant.client, "jobs", body, 201)
        kept = sync(
            tenant.client, "jobs", {k: v for k, v in body.items() if k != "notes"} | {"priority": 4}
        )["job"]
        assert (kept["notes"], kept["priority"]) == ("keep me", 4)
        cleared = sync(tenant.client, "jobs", {**body, "notes": None})["job"]
        assert cleared["notes"] is None

    def test_skip_unchanged_false_rewrites_an_equal_record_as_updated(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        body = job_body()
        sync(tenant.client, "jobs", body, 201)
        data = sync(tenant.client, "jobs", body, skip_unchanged="false")
        assert data["action"] == "updated"
        assert event_types(sessions, tenant.id) == ["job.created", "job.updated"]

    def test_a_patch_clears_the_hash_so_the_next_sync_reapplies_the_erp_values(
        self, tenant: TenantHandle
    ) -> None:
        body = job_body(customer="ERP name")
        created = sync(tenant.client, "jobs", body, 201)
        patched = ok(
            tenant.client.patch(
                "/api-jobs", params={"id": created["id"]}, json={"customer": "Local edit"}
            )
        )["job"]
        assert patched["sync_hash"] is None
        data = sync(tenant.client, "jobs", body)
        assert (data["action"], data["job"]["customer"]) == ("updated", "ERP name")

    def test_status_is_applied_when_present_and_left_alone_when_absent(
        self, tenant: TenantHandle
    ) -> None:
        body = job_body()
        sync(tenant.client, "jobs", {**body, "status": "on_hold"}, 201)
        assert sync(tenant.client, "jobs", {**body, "priority": 2})["job"]["status"] == "on_hold"


class TestRevive:
    def test_syncing_a_soft_deleted_key_revives_the_same_row(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        body = job_body()
        created = sync(tenant.client, "jobs", body, 201)
        ok(tenant.client.delete("/api-jobs", params={"id": created["id"]}))
        data = sync(tenant.client, "jobs", body)
        assert (data["action"], data["revived"], data["id"]) == ("updated", True, created["id"])
        assert data["job"]["deleted_at"] is None
        assert rows(sessions, tenant.id, "jobs") == 1
        revived = events(sessions, tenant.id, "job.updated")
        assert len(revived) == 1
        assert revived[0].data["revived"] is True

    def test_a_revive_that_collides_with_a_live_job_number_is_a_conflict(
        self, tenant: TenantHandle
    ) -> None:
        body = job_body(job_number="J-SHARED")
        created = sync(tenant.client, "jobs", body, 201)
        ok(tenant.client.delete("/api-jobs", params={"id": created["id"]}))
        ok(tenant.client.post("/api-jobs", json={"job_number": "J-SHARED"}), 201)
        error = fails(tenant.client.put("/api-jobs/sync", json=body), 409, "CONFLICT")
        assert error["details"][0]["field"] == "job_number"


class TestFailures:
    def test_missing_key_fields_answer_422_with_the_spec_messages(
        self, tenant: TenantHandle
    ) -> None:
        error = fails(
            tenant.client.put("/api-jobs/sync", json={"job_number": "J-1"}), 422, "VALIDATION_ERROR"
        )
        assert {d["field"]: d["message"] for d in error["details"]} == {
            "external_id": "external_id is required",
            "external_source": "external_source is required",
        }
        assert error["message"] == "✗ 2 validation error(s) in job"

    def test_a_field_out_of_range_answers_422_with_its_constraint(
        self, tenant: TenantHandle
    ) -> None:
        invalid(
            tenant.client.put("/api-jobs/sync", json=job_body(priority=-1)), "priority", "MIN_VALUE"
        )

    def test_a_new_key_whose_job_number_is_taken_by_another_live_job_is_409(
        self, tenant: TenantHandle
    ) -> None:
        ok(tenant.client.post("/api-jobs", json={"job_number": "J-TAKEN"}), 201)
        error = fails(
            tenant.client.put("/api-jobs/sync", json=job_body(job_number="J-TAKEN")),
            409,
            "CONFLICT",
        )
        assert error["details"][0]["constraint"] == "UNIQUE_CONSTRAINT"

    def test_an_unresolved_reference_answers_422_with_reference_not_found(
        self, tenant: TenantHandle
    ) -> None:
        body = {
            "external_id": key(),
            "external_source": "SAP",
            "job_external_id": "SO-404",
            "part_number": "P",
        }
        detail = invalid(
            tenant.client.put("/api-parts/sync", json=body),
            "job_external_id",
            "REFERENCE_NOT_FOUND",
        )
        assert detail["message"] == 'Job with external_id "SO-404" not found'

    def test_a_reference_to_another_tenants_record_is_not_found(
        self, tenant: TenantHandle, other_tenant: TenantHandle
    ) -> None:
        theirs = sync(other_tenant.client, "jobs", job_body("SO-THEIRS"), 201)
        body = {"external_id": key(), "external_source": "SAP", "part_number": "P"}
        invalid(
            tenant.client.put("/api-parts/sync", json={**body, "job_external_id": "SO-THEIRS"}),
            "job_external_id",
            "REFERENCE_NOT_FOUND",
        )
        invalid(
            tenant.client.put("/api-parts/sync", json={**body, "job_id": theirs["id"]}),
            "job_id",
            "REFERENCE_NOT_FOUND",
        )

    def test_a_body_that_is_not_a_json_object_is_400(self, tenant: TenantHandle) -> None:
        fails(
            tenant.client.put("/api-jobs/sync", json=[job_body()]),
            400,
            "BAD_REQUEST",
            "Request body must be a JSON object",
        )
        fails(
            tenant.client.put("/api-jobs/sync", content=b"{nope"),
            400,
            "BAD_REQUEST",
            "Invalid JSON in request body",
        )

    def test_bulk_only_options_and_unknown_query_parameters_are_refused(
        self, tenant: TenantHandle
    ) -> None:
        fails(
            tenant.client.put("/api-jobs/sync", json=job_body(), params={"atomic": "true"}),
            400,
            "BAD_REQUEST",
        )
        fails(
            tenant.client.put("/api-jobs/sync", json=job_body(), params={"dry_run": "maybe"}),
            400,
            "BAD_REQUEST",
        )
        # Issue 15 reverses the old rule (unknown parameters ignored): on a write it is 400
        # naming it, so a misspelt safety option can never write (tests/http/test_query_params).
        fails(
            tenant.client.put("/api-jobs/sync", json=job_body(), params={"utm_source": "x"}),
            400,
            "BAD_REQUEST",
        )

    def test_wrong_methods_on_the_sync_routes_are_405_with_allow(
        self, tenant: TenantHandle
    ) -> None:
        resp = tenant.client.post("/api-jobs/sync", json=job_body())
        fails(resp, 405, "METHOD_NOT_ALLOWED")
        assert resp.headers["allow"] == "PUT, OPTIONS"
        assert (
            tenant.client.put("/api-jobs/bulk-sync", json={"items": []}).headers["allow"]
            == "POST, OPTIONS"
        )


class TestDryRun:
    def test_a_dry_run_update_reports_field_changes_and_writes_nothing(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        body = job_body(customer="Acme")
        created = sync(tenant.client, "jobs", body, 201)
        data = sync(tenant.client, "jobs", {**body, "customer": "Acme BV"}, dry_run="true")
        assert (data["action"], data["dry_run"], data["id"]) == ("updated", True, created["id"])
        assert data["changes"] == [{"field": "customer", "old": "Acme", "new": "Acme BV"}]
        assert row(sessions, tenant.id, Job, created["id"]).customer == "Acme"
        assert event_types(sessions, tenant.id) == ["job.created"]

    def test_a_dry_run_create_answers_200_with_a_null_id_and_creates_nothing(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        data = sync(tenant.client, "jobs", job_body(), dry_run="true")
        assert (data["action"], data["id"], data["dry_run"]) == ("created", None, True)
        assert rows(sessions, tenant.id, "jobs") == 0
        assert event_types(sessions, tenant.id) == []


MINIMAL = {
    "cells": lambda: {"name": f"Cell {key()}"},
    "resources": lambda: {"name": f"Res {key()}", "type": "machine"},
    "materials": lambda: {"name": f"Steel {key()}", "code": key()},
    "jobs": lambda: {"job_number": f"J-{key()}"},
}


class TestEveryEntity:
    @pytest.mark.parametrize("prefix", PREFIXES)
    @pytest.mark.parametrize(
        "entity", ["cells", "resources", "materials", "jobs", "parts", "operations"]
    )
    def test_each_synced_entity_creates_then_skips_under_both_prefixes(
        self, tenant: TenantHandle, entity: str, prefix: str
    ) -> None:
        c = tenant.client
        if entity == "parts":
            job = sync(c, "jobs", job_body(), 201)
            fields: dict[str, Any] = {"job_id": job["id"], "part_number": "P-1"}
        elif entity == "operations":
            job = sync(
                c, "jobs", job_body(parts=[{"external_id": key(), "part_number": "P-1"}]), 201
            )
            part_key = job["children"]["parts"][0]["external_id"]
            fields = {
                "part_external_id": part_key,
                "operation_name": "Cut",
                "cell_name": make_cell(c)["name"],
            }
        else:
            fields = MINIMAL[entity]()
        body = {"external_id": key(), "external_source": "SAP", **fields}
        created = ok(c.put(f"{prefix}/api-{entity}/sync", json=body), 201)
        assert created["action"] == "created"
        again = ok(c.put(f"{prefix}/api-{entity}/sync", json=body))
        assert (again["action"], again["id"]) == ("skipped", created["id"])
