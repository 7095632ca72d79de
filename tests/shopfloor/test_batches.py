"""`api-batches` (API §3.7): create with memberships, PATCH rules, cancel releases, delete rules."""

import re
import uuid

from sqlalchemy.orm import Session, sessionmaker

from tests.shopfloor.helpers import (
    constraint_of,
    events,
    fails,
    make_batch,
    make_cell,
    make_job,
    ok,
)
from tests.support.tenants import TenantHandle


class TestCreate:
    def test_operation_ids_become_members_in_order_and_the_response_counts_them(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        tree = make_job(c, ops=3)
        cell = make_cell(c, f"Laser {uuid.uuid4().hex[:4]}")
        cell_name = ok(c.get("/api-cells", params={"id": cell}))["cell"]["name"]
        resp = c.post(
            "/api-batches",
            json={
                "batch_number": "NEST-0042",
                "batch_type": "laser_nesting",
                "production_mode": "automated",
                "cell_name": cell_name,
                "thickness_mm": "3.0",
                "estimated_time": 95,
                "nesting_metadata": {"sheets": 2},
                "created_by": "NEST-1",
                "operation_ids": list(reversed(tree.ops)),
            },
        )
        batch = ok(resp, 201)["batch"]
        keys = list(batch)
        assert keys[keys.index("operations_count") + 1] == "operations_assigned"
        assert keys[-3:] == ["cell", "operations", "nesting_metadata"]
        assert (
            batch["operations_count"],
            batch["operations_assigned"],
            batch["cell_id"],
            batch["thickness_mm"],
        ) == (3, 3, cell, 3)
        assert [(o["id"], o["sequence_in_batch"]) for o in batch["operations"]] == [
            (op, i + 1) for i, op in enumerate(reversed(tree.ops))
        ]
        assert re.findall(r'"id":"([0-9a-f-]{36})"', resp.text)[0] == batch["id"]
        listed = ok(c.get("/api-batches"))["batches"][0]
        assert "operations" not in listed
        assert "operations_assigned" not in listed
        assert listed["cell"]["id"] == cell
        created = events(sessions, tenant.id, "batch.created")[0].data["batch"]
        assert created["operations_count"] == 3
        assert "operations" not in created

    def test_bad_bodies_are_refused_with_nothing_written(
        self, tenant: TenantHandle, other_tenant: TenantHandle
    ) -> None:
        c = tenant.client
        tree = make_job(c, ops=2)
        cell = make_cell(c)
        foreign_op = make_job(other_tenant.client, ops=1).ops[0]
        foreign_cell = make_cell(other_tenant.client)
        cases = [
            ({"cell_id": cell}, "batch_number", "NOT_NULL"),
            ({"batch_number": "X"}, "cell_id", "NOT_NULL"),
            ({"batch_number": "X", "cell_id": foreign_cell}, "cell_id", "REFERENCE_NOT_FOUND"),
            (
                {"batch_number": "X", "cell_id": cell, "batch_type": "nest"},
                "batch_type",
                "ENUM_CONSTRAINT",
            ),
            (
                {"batch_number": "X", "cell_id": cell, "production_mode": "automated"},
                "production_mode",
                "INVALID_VALUE",
            ),
            (
                {"batch_number": "X", "cell_id": cell, "status": "in_progress"},
                "status",
                "INVALID_VALUE",
            ),
            (
                {"batch_number": "X", "cell_id": cell, "thickness_mm": -1},
                "thickness_mm",
                "MIN_VALUE",
            ),
            (
                {"batch_number": "X", "cell_id": cell, "operation_ids": [tree.ops[0], foreign_op]},
                "operation_ids[1]",
                "REFERENCE_NOT_FOUND",
            ),
            (
                {"batch_number": "X", "cell_id": cell, "operation_ids": [tree.ops[0], tree.ops[0]]},
                "operation_ids[1]",
                "UNIQUE_CONSTRAINT",
            ),
            (
                {"batch_number": "X", "cell_id": cell, "operation_ids": ["x"]},
                "operation_ids[0]",
                "UUID_FORMAT",
            ),
            (
                {"batch_number": "X", "cell_id": cell, "operation_ids": "all"},
                "operation_ids",
                "TYPE_MISMATCH",
            ),
            (
                {"batch_number": "X", "cell_id": cell, "parent_batch_id": str(uuid.uuid4())},
                "parent_batch_id",
                "REFERENCE_NOT_FOUND",
            ),
        ]
        for body, field_name, constraint in cases:
            err = fails(c.post("/api-batches", json=body), 422, "VALIDATION_ERROR")
            assert err["message"].endswith("in batch")
            assert constraint_of(err, field_name) == constraint, (body, err)
        first = make_batch(c, tree.ops[:1], cell_id=cell)
        err = fails(
            c.post(
                "/api-batches",
                json={"batch_number": "Y", "cell_id": cell, "operation_ids": tree.ops},
            ),
            409,
            "CONFLICT",
        )
        assert err["details"][0]["field"] == "operation_ids[0]"
        assert err["details"][0]["value"] == first["id"]
        fails(
            c.post("/api-batches", json={"batch_number": first["batch_number"], "cell_id": cell}),
            409,
            "CONFLICT",
        )
        assert len(ok(c.get("/api-batches"))["batches"]) == 1


class TestPatchAndCancel:
    def test_operation_ids_cannot_be_patched(self, tenant: TenantHandle) -> None:
        batch = make_batch(tenant.client, [])
        err = fails(
            tenant.client.patch(
                "/api-batches", params={"id": batch["id"]}, json={"operation_ids": []}
            ),
            422,
            "VALIDATION_ERROR",
        )
        assert (
            err["details"][0]["message"]
            == "operation_ids cannot be changed with PATCH; use api-batch-lifecycle/add-operations"
        )

    def test_cancelling_releases_the_operations_for_another_batch(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        tree = make_job(c, ops=2)
        batch = make_batch(c, tree.ops)
        fails(
            c.post(
                "/api-batches",
                json={
                    "batch_number": "AGAIN",
                    "cell_id": batch["cell_id"],
                    "operation_ids": tree.ops,
                },
            ),
            409,
            "CONFLICT",
        )
        cancelled = ok(
            c.patch(
                "/api-batches",
                params={"id": batch["id"]},
                json={"status": "cancelled", "notes": "material missing"},
            )
        )["batch"]
        assert (cancelled["status"], cancelled["operations_count"], cancelled["operations"]) == (
            "cancelled",
            0,
            [],
        )
        assert cancelled["cancelled_at"] is not None
        assert cancelled["notes"] == "material missing"
        again = ok(
            c.post(
                "/api-batches",
                json={
                    "batch_number": "AGAIN",
                    "cell_id": batch["cell_id"],
                    "operation_ids": tree.ops,
                },
            ),
            201,
        )["batch"]
        assert again["operations_count"] == 2
        ev = events(sessions, tenant.id, "batch.cancelled")[0].data
        assert (ev["previous_status"], ev["new_status"], ev["operations_released"]) == (
            "draft",
            "cancelled",
            tree.ops,
        )
        assert ev["cancelled_at"] == cancelled["cancelled_at"]
        assert events(sessions, tenant.id, "batch.updated")[0].data["changed_fields"] == ["notes"]

    def test_a_batch_cannot_be_its_own_parent_and_automated_needs_laser(
        self, tenant: TenantHandle
    ) -> None:
        c = tenant.client
        parent = make_batch(c, [])
        child = make_batch(c, [], parent_batch_id=parent["id"])
        assert child["parent_batch_id"] == parent["id"]
        err = fails(
            c.patch(
                "/api-batches", params={"id": child["id"]}, json={"parent_batch_id": child["id"]}
            ),
            422,
            "VALIDATION_ERROR",
        )
        assert constraint_of(err, "parent_batch_id") == "INVALID_VALUE"
        err = fails(
            c.patch(
                "/api-batches", params={"id": child["id"]}, json={"production_mode": "automated"}
            ),
            422,
            "VALIDATION_ERROR",
        )
        assert constraint_of(err, "production_mode") == "INVALID_VALUE"
        ok(
            c.patch(
                "/api-batches",
                params={"id": child["id"]},
                json={"production_mode": "automated", "batch_type": "laser_nesting"},
            )
        )


class TestDelete:
    def test_an_in_progress_batch_cannot_be_deleted_others_are_removed_cleanly(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        tree = make_job(c, ops=2)
        batch = make_batch(c, tree.ops)
        child = make_batch(c, [], parent_batch_id=batch["id"])
        ok(
            c.post(
                "/api-batch-lifecycle/start", params={"id": batch["id"]}, json={"operator_id": "OP"}
            )
        )
        fails(c.delete("/api-batches", params={"id": batch["id"]}), 409, "CONFLICT")
        ok(c.post("/api-batch-lifecycle/stop", params={"id": batch["id"]}))
        assert ok(c.delete("/api-batches", params={"id": batch["id"]})) == {
            "message": "Deleted successfully",
            "id": batch["id"],
            "mode": "hard",
        }
        fails(
            c.get("/api-batches", params={"id": batch["id"]}),
            404,
            "NOT_FOUND",
            f"batches with ID {batch['id']} not found",
        )
        assert (
            ok(c.get("/api-batches", params={"id": child["id"]}))["batch"]["parent_batch_id"]
            is None
        )
        entries = ok(c.get("/api-time-entries", params={"job_id": tree.job}))["time_entries"]
        assert len(entries) == 2
        assert {e["batch_id"] for e in entries} == {None}
        make_batch(c, tree.ops)  # the operations are free again
        tomb = events(sessions, tenant.id, "batch.deleted")[0].data
        assert tomb["batch"]["batch_number"] == batch["batch_number"]
        assert tomb["hard"] is True

    def test_hard_deleting_a_batched_operation_updates_the_count(
        self, tenant: TenantHandle
    ) -> None:
        c = tenant.client
        tree = make_job(c, ops=2)
        batch = make_batch(c, tree.ops)
        ok(c.delete("/api-operations", params={"id": tree.ops[0], "hard": "true"}))
        assert (
            ok(c.get("/api-batches", params={"id": batch["id"]}))["batch"]["operations_count"] == 1
        )
