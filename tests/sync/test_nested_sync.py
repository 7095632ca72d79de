"""Nested sync (API §4.9) and references by id or external id (API §4.3)."""

from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from tests.support.api import events, fails, make_cell, make_resource, ok
from tests.support.tenants import TenantHandle
from tests.sync.helpers import event_types, job_body, key, rows


def order(ext: str = "SO-1", parts: int = 1, ops: int = 2, **job: Any) -> dict[str, Any]:
    return job_body(
        ext,
        **job,
        parts=[
            {
                "external_id": f"{ext}-{p}",
                "part_number": f"P-{p}",
                "quantity": 2,
                "operations": [
                    {"external_id": f"{ext}-{p}-{o}", "operation_name": f"Op {o}"}
                    for o in range(ops)
                ],
            }
            for p in range(parts)
        ],
    )


def put(
    client: httpx.Client, body: Any, entity: str = "jobs", status: int = 200, **params: str
) -> Any:
    return ok(client.put(f"/api-{entity}/sync", json=body, params=params), status)


class TestNestedJobs:
    def test_a_job_with_parts_and_operations_is_upserted_as_one_unit(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        data = put(tenant.client, order(parts=2, ops=2), status=201)
        parts = data["children"]["parts"]
        assert [(p["index"], p["external_id"], p["action"]) for p in parts] == [
            (0, "SO-1-0", "created"),
            (1, "SO-1-1", "created"),
        ]
        assert list(parts[0]) == ["index", "external_id", "id", "action", "children"]
        assert [o["external_id"] for o in parts[1]["children"]["operations"]] == [
            "SO-1-1-0",
            "SO-1-1-1",
        ]
        assert (rows(sessions, tenant.id, "parts"), rows(sessions, tenant.id, "operations")) == (
            2,
            4,
        )
        assert event_types(sessions, tenant.id) == [
            "job.created",
            "part.created",
            "operation.created",
            "operation.created",
            "part.created",
            "operation.created",
            "operation.created",
        ]
        ops = ok(tenant.client.get("/api-operations", params={"part_id": parts[0]["id"]}))[
            "operations"
        ]
        assert [(o["sequence"], o["external_source"]) for o in ops] == [(1, "SAP"), (2, "SAP")]

    def test_the_parent_can_be_skipped_while_a_child_is_updated(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        body = order()
        put(tenant.client, body, status=201)
        body["parts"][0]["operations"][1]["estimated_time_minutes"] = 45
        data = put(tenant.client, body)
        assert data["action"] == "skipped"
        part = data["children"]["parts"][0]
        assert part["action"] == "skipped"
        assert [o["action"] for o in part["children"]["operations"]] == ["skipped", "updated"]
        assert event_types(sessions, tenant.id, "operation.updated") == ["operation.updated"]
        assert events(sessions, tenant.id, "operation.updated")[0].data["changed_fields"] == [
            "estimated_time"
        ]

    def test_the_parent_hash_excludes_the_children(self, tenant: TenantHandle) -> None:
        with_children = put(tenant.client, order(), status=201)
        alone = put(tenant.client, job_body("SO-1"))
        assert alone["action"] == "skipped"
        assert alone["job"]["sync_hash"] == with_children["job"]["sync_hash"]

    def test_a_failing_child_fails_the_whole_record_with_a_nested_path(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        body = order(ops=2)
        body["parts"][0]["operations"][1]["sequence"] = 0
        error = fails(tenant.client.put("/api-jobs/sync", json=body), 422, "VALIDATION_ERROR")
        assert error["details"][0]["field"] == "parts[0].operations[1].sequence"
        assert rows(sessions, tenant.id, "jobs") == 0
        bulk = ok(tenant.client.post("/api-jobs/bulk-sync", json={"items": [body, order("SO-2")]}))
        assert [r["action"] for r in bulk["records"]] == ["error", "created"]
        assert "children" not in bulk["records"][0]
        assert bulk["children"]["parts"]["created"] == 1

    def test_children_inherit_the_source_and_may_not_name_their_parent(
        self, tenant: TenantHandle
    ) -> None:
        body = order()
        body["parts"][0]["job_external_id"] = "SO-1"
        error = fails(tenant.client.put("/api-jobs/sync", json=body), 422, "VALIDATION_ERROR")
        assert error["details"][0]["field"] == "parts[0].job_external_id"
        body = order()
        del body["parts"][0]["external_id"]
        error = fails(tenant.client.put("/api-jobs/sync", json=body), 422, "VALIDATION_ERROR")
        assert error["details"][0]["field"] == "parts[0].external_id"

    def test_a_child_key_repeated_in_the_request_is_a_duplicate(self, tenant: TenantHandle) -> None:
        first, second = order("SO-1"), order("SO-2")
        second["parts"][0]["external_id"] = "SO-1-0"
        data = ok(tenant.client.post("/api-jobs/bulk-sync", json={"items": [first, second]}))
        assert [r.get("code", r["action"]) for r in data["records"]] == [
            "created",
            "DUPLICATE_IN_REQUEST",
        ]
        assert data["records"][1]["details"][0]["field"] == "parts[0].external_id"

    def test_bulk_reports_child_counts_per_entity(self, tenant: TenantHandle) -> None:
        data = ok(
            tenant.client.post(
                "/api-jobs/bulk-sync", json={"items": [order("SO-1", parts=2), order("SO-2")]}
            )
        )
        assert data["children"] == {
            "parts": {"created": 3, "updated": 0, "skipped": 0, "failed": 0, "deleted": 0},
            "operations": {"created": 6, "updated": 0, "skipped": 0, "failed": 0, "deleted": 0},
        }

    def test_replace_children_soft_deletes_the_parents_other_children_of_its_source(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        created = put(c, order(parts=3, ops=1), status=201)
        manual = ok(
            c.post("/api-parts", json={"job_id": created["id"], "part_number": "P-manual"}), 201
        )["part"]
        body = order(parts=1, ops=1)
        kept = put(c, body)
        assert [p["action"] for p in kept["children"]["parts"]] == ["skipped"]
        data = put(c, body, replace_children="true")
        parts = data["children"]["parts"]
        assert [(p["index"], p["external_id"], p["action"]) for p in parts] == [
            (0, "SO-1-0", "skipped"),
            (None, "SO-1-1", "deleted"),
            (None, "SO-1-2", "deleted"),
        ]
        live = {
            p["part_number"]
            for p in ok(c.get("/api-parts", params={"job_id": created["id"]}))["parts"]
        }
        assert live == {"P-0", "P-manual"}
        assert manual["id"]
        deleted = [
            (e.type, e.data.get("caused_by", {}).get("type"))
            for e in events(sessions, tenant.id, "part.deleted", "operation.deleted")
        ]
        assert deleted == [
            ("part.deleted", None),
            ("operation.deleted", "part.deleted"),
            ("part.deleted", None),
            ("operation.deleted", "part.deleted"),
        ]

    def test_reviving_a_job_does_not_revive_its_children(self, tenant: TenantHandle) -> None:
        c = tenant.client
        created = put(c, order(), status=201)
        ok(c.delete("/api-jobs", params={"id": created["id"]}))
        revived = put(c, job_body("SO-1"))
        assert revived["revived"] is True
        assert ok(c.get("/api-parts", params={"job_id": created["id"]}))["parts"] == []
        again = put(c, order())
        assert [p["revived"] for p in again["children"]["parts"]] == [True]


class TestReferences:
    def test_parts_and_operations_resolve_their_parents_by_external_id_under_their_own_source(
        self, tenant: TenantHandle
    ) -> None:
        c = tenant.client
        put(c, job_body("SO-1"), status=201)
        put(c, job_body("SO-1", source="OTHER", job_number="J-other"), status=201)
        part = put(
            c,
            {
                "external_id": "P1",
                "external_source": "OTHER",
                "job_external_id": "SO-1",
                "part_number": "P",
            },
            "parts",
            201,
        )
        other_job = ok(c.get("/api-jobs", params={"external_source": "OTHER"}))["jobs"][0]
        assert part["part"]["job_id"] == other_job["id"]
        explicit = put(
            c,
            {
                "external_id": "P2",
                "external_source": "X",
                "job_external_id": "SO-1",
                "job_external_source": "SAP",
                "part_number": "P",
            },
            "parts",
            201,
        )
        assert explicit["part"]["job_id"] != other_job["id"]
        op = put(
            c,
            {
                "external_id": "O1",
                "external_source": "OTHER",
                "part_external_id": "P1",
                "operation_name": "Cut",
            },
            "operations",
            201,
        )
        assert op["operation"]["part_id"] == part["id"]

    def test_cells_materials_and_resources_resolve_by_external_id_name_or_id(
        self, tenant: TenantHandle
    ) -> None:
        c = tenant.client
        cell = put(
            c, {"external_id": "WC-10", "external_source": "SAP", "name": "Laser"}, "cells", 201
        )
        named_cell = make_cell(c, name="Bend")
        material = put(
            c,
            {"external_id": "MAT-1", "external_source": "SAP", "code": "S235", "name": "Steel"},
            "materials",
            201,
        )
        resource = make_resource(c, name="Press 1")
        tool = put(
            c,
            {"external_id": "R-2", "external_source": "SAP", "name": "Die", "type": "tooling"},
            "resources",
            201,
        )
        body = order(ops=2)
        body["parts"][0]["material_external_id"] = "MAT-1"
        body["parts"][0]["operations"][0] |= {
            "cell_external_id": "WC-10",
            "resources": [{"resource_name": "Press 1", "quantity": 2}],
        }
        body["parts"][0]["operations"][1] |= {
            "cell_name": "Bend",
            "resources": [{"resource_external_id": "R-2"}, {"resource_id": resource["id"]}],
        }
        data = put(c, body, status=201)
        part = ok(c.get("/api-parts", params={"id": data["children"]["parts"][0]["id"]}))["part"]
        assert (part["material_id"], part["material"]) == (material["id"], "S235")
        ops = ok(c.get("/api-operations", params={"part_id": part["id"]}))["operations"]
        assert [o["cell_id"] for o in ops] == [cell["id"], named_cell["id"]]
        assert [[r["resource_id"] for r in o["resources"]] for o in ops] == [
            [resource["id"]],
            [tool["id"], resource["id"]],
        ]
        assert ops[0]["resources"][0]["quantity"] == 2
        assert (
            put(c, body)["children"]["parts"][0]["children"]["operations"][1]["action"] == "skipped"
        )
        body["parts"][0]["operations"][1]["resources"] = [{"resource_id": resource["id"]}]
        changed = put(c, body)["children"]["parts"][0]["children"]["operations"]
        assert [o["action"] for o in changed] == ["skipped", "updated"]

    def test_a_missing_cell_or_resource_reference_fails_with_reference_not_found(
        self, tenant: TenantHandle
    ) -> None:
        body = order(ops=1)
        body["parts"][0]["operations"][0]["cell_name"] = "Nowhere"
        data = ok(tenant.client.post("/api-jobs/bulk-sync", json={"items": [body]}))
        record = data["records"][0]
        assert (record["code"], record["error"]) == (
            "REFERENCE_NOT_FOUND",
            'Cell with name "Nowhere" not found',
        )
        assert record["details"][0]["field"] == "parts[0].operations[0].cell_name"
        body["parts"][0]["operations"][0] = {
            "external_id": "O",
            "operation_name": "Op",
            "resources": [{"resource_name": "Ghost"}],
        }
        record = ok(tenant.client.post("/api-jobs/bulk-sync", json={"items": [body]}))["records"][0]
        assert (record["code"], record["details"][0]["field"]) == (
            "REFERENCE_NOT_FOUND",
            "parts[0].operations[0].resources[0].resource_name",
        )

    def test_two_forms_naming_different_targets_are_a_mismatch(self, tenant: TenantHandle) -> None:
        c = tenant.client
        a = put(c, job_body("A"), status=201)
        put(c, job_body("B"), status=201)
        body = {
            "external_id": "P",
            "external_source": "SAP",
            "job_id": a["id"],
            "job_external_id": "B",
            "part_number": "P",
        }
        record = ok(c.post("/api-parts/bulk-sync", json={"items": [body]}))["records"][0]
        assert (record["code"], record["details"][0]["constraint"]) == (
            "VALIDATION_ERROR",
            "REFERENCE_MISMATCH",
        )

    def test_operations_without_a_sequence_continue_after_the_parts_highest(
        self, tenant: TenantHandle
    ) -> None:
        c = tenant.client
        body = order(ops=1)
        body["parts"][0]["operations"][0]["sequence"] = 5
        data = put(c, body, status=201)
        part_id = data["children"]["parts"][0]["id"]
        items = [
            {
                "external_id": f"N{i}",
                "external_source": "SAP",
                "part_id": part_id,
                "operation_name": f"N{i}",
            }
            for i in range(3)
        ]
        items.insert(
            1,
            {
                "external_id": "E",
                "external_source": "SAP",
                "part_id": part_id,
                "operation_name": "E",
                "sequence": 20,
            },
        )
        ok(c.post("/api-operations/bulk-sync", json={"items": items}))
        ops = ok(c.get("/api-operations", params={"part_id": part_id}))["operations"]
        assert [(o["operation_name"], o["sequence"]) for o in ops] == [
            ("Op 0", 5),
            ("N0", 6),
            ("E", 20),
            ("N1", 21),
            ("N2", 22),
        ]

    def test_new_cells_without_a_sequence_get_increasing_ones(self, tenant: TenantHandle) -> None:
        items = [
            {"external_id": key(), "external_source": "SAP", "name": f"C{i}"} for i in range(3)
        ]
        ok(tenant.client.post("/api-cells/bulk-sync", json={"items": items}))
        cells = ok(tenant.client.get("/api-cells"))["cells"]
        assert [(c["name"], c["sequence"]) for c in cells] == [("C0", 0), ("C1", 1), ("C2", 2)]
