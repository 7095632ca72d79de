"""What writes leave behind: soft-delete cascades with deleted_by and one event per row, hard
deletes with their cascades, PATCH merges (no-op writes nothing, a change clears sync_hash)."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from floorsync.auth.api_keys import hash_key
from floorsync.kit.ids import new_id
from floorsync.models.master import Cell, Job, Material, Operation, OperationResource, Part
from floorsync.models.shopfloor import Assignment, BatchOperation
from floorsync.models.tenancy import ApiKey
from tests.support.api import (
    count_rows,
    events,
    fails,
    make_cell,
    make_job,
    make_material,
    make_operation,
    make_part,
    make_resource,
    make_tree,
    ok,
    row,
)
from tests.support.tenants import TenantHandle


def key_id(sessions: sessionmaker[Session], key: str) -> str:
    with sessions() as session:
        return str(session.scalars(select(ApiKey.id).where(ApiKey.key_hash == hash_key(key))).one())


class TestSoftDelete:
    def test_a_job_cascades_to_its_live_parts_and_operations_with_the_same_stamp(
        self, tenant: TenantHandle, sessions
    ) -> None:
        job = make_tree(tenant.client, parts=2, ops=2)
        data = ok(tenant.client.delete("/api-jobs", params={"id": job["id"]}))
        assert data == {
            "message": "Deleted successfully",
            "id": job["id"],
            "mode": "soft",
            "cascaded": {"parts": 2, "operations": 4},
        }
        actor = key_id(sessions, tenant.admin_key)
        stamps = set()
        for model, ids in (
            (Job, [job["id"]]),
            (Part, [p["id"] for p in job["parts"]]),
            (Operation, [o["id"] for p in job["parts"] for o in p["operations"]]),
        ):
            for id_ in ids:
                stored = row(sessions, tenant.id, model, id_)
                assert str(stored.deleted_by) == actor
                stamps.add(stored.deleted_at)
        assert len(stamps) == 1

    def test_each_removed_row_gets_its_own_deleted_event_caused_by_the_first(
        self, tenant: TenantHandle, sessions
    ) -> None:
        job = make_tree(tenant.client, parts=1, ops=2)
        ok(tenant.client.delete("/api-jobs", params={"id": job["id"]}))
        deleted = events(sessions, tenant.id, "job.deleted", "part.deleted", "operation.deleted")
        assert [e.type for e in deleted] == [
            "job.deleted",
            "part.deleted",
            "operation.deleted",
            "operation.deleted",
        ]
        root = deleted[0]
        assert root.data["job"]["deleted_by"] == key_id(sessions, tenant.admin_key)
        assert root.data["hard"] is False
        assert "caused_by" not in root.data
        for ev in deleted[1:]:
            assert ev.data["caused_by"] == {"type": "job.deleted", "entity_id": job["id"]}
        assert deleted[1].data["part"]["job_id"] == job["id"]

    def test_a_part_cascades_to_its_operations_only(self, tenant: TenantHandle, sessions) -> None:
        job = make_tree(tenant.client, parts=2, ops=3)
        data = ok(tenant.client.delete("/api-parts", params={"id": job["parts"][0]["id"]}))
        assert data["cascaded"] == {"operations": 3}
        assert row(sessions, tenant.id, Job, job["id"]).deleted_at is None
        assert row(sessions, tenant.id, Part, job["parts"][1]["id"]).deleted_at is None

    def test_rows_deleted_earlier_keep_their_own_stamp(
        self, tenant: TenantHandle, sessions
    ) -> None:
        job = make_tree(tenant.client, parts=2, ops=1)
        ok(tenant.client.delete("/api-parts", params={"id": job["parts"][0]["id"]}))
        first = row(sessions, tenant.id, Part, job["parts"][0]["id"]).deleted_at
        data = ok(tenant.client.delete("/api-jobs", params={"id": job["id"]}))
        assert data["cascaded"] == {"parts": 1, "operations": 1}
        assert row(sessions, tenant.id, Part, job["parts"][0]["id"]).deleted_at == first

    def test_operations_cells_resources_materials_do_not_cascade_and_keep_references(
        self, tenant: TenantHandle, sessions
    ) -> None:
        cell, material, resource = (
            make_cell(tenant.client),
            make_material(tenant.client),
            make_resource(tenant.client),
        )
        part = make_part(tenant.client, material_id=material["id"], current_cell_id=cell["id"])
        op = make_operation(
            tenant.client,
            part["id"],
            cell_id=cell["id"],
            resources=[{"resource_id": resource["id"]}],
        )
        for entity, record in (("cells", cell), ("materials", material), ("resources", resource)):
            data = ok(tenant.client.delete(f"/api-{entity}", params={"id": record["id"]}))
            assert "cascaded" not in data
        stored_op, stored_part = (
            row(sessions, tenant.id, Operation, op["id"]),
            row(sessions, tenant.id, Part, part["id"]),
        )
        assert (
            str(stored_op.cell_id),
            str(stored_part.material_id),
            str(stored_part.current_cell_id),
        ) == (cell["id"], material["id"], cell["id"])

    def test_a_soft_deleted_record_cannot_be_referenced_any_more(
        self, tenant: TenantHandle
    ) -> None:
        cell = make_cell(tenant.client, name="Old cell")
        ok(tenant.client.delete("/api-cells", params={"id": cell["id"]}))
        part = make_part(tenant.client)
        for ref in ({"cell_id": cell["id"]}, {"cell_name": "Old cell"}):
            error = fails(
                tenant.client.post(
                    "/api-operations", json={"part_id": part["id"], "operation_name": "x", **ref}
                ),
                422,
                "VALIDATION_ERROR",
            )
            assert error["details"][0]["constraint"] == "REFERENCE_NOT_FOUND"
        make_cell(tenant.client, name="Old cell")  # the name is free again


def _assign_and_batch(
    sessions: sessionmaker[Session], tenant_id: uuid.UUID, job_id: str, op_id: str, cell_id: str
) -> None:
    from floorsync.models.shopfloor import Batch

    now = datetime.now(UTC)
    with sessions.begin() as session:
        session.add(
            Assignment(
                id=new_id(),
                tenant_id=tenant_id,
                operator_id="op-1",
                job_id=uuid.UUID(job_id),
                created_at=now,
                updated_at=now,
            )
        )
        batch = Batch(
            id=new_id(),
            tenant_id=tenant_id,
            batch_number=f"B-{new_id().hex[:6]}",
            cell_id=uuid.UUID(cell_id),
            operations_count=1,
            created_at=now,
            updated_at=now,
        )
        session.add(batch)
        session.flush()
        session.add(
            BatchOperation(
                id=new_id(),
                tenant_id=tenant_id,
                batch_id=batch.id,
                operation_id=uuid.UUID(op_id),
                sequence_in_batch=1,
                created_at=now,
                updated_at=now,
            )
        )


class TestHardDelete:
    def test_a_job_removes_its_parts_operations_assignments_and_batch_memberships(
        self, tenant: TenantHandle, sessions
    ) -> None:
        job = make_tree(tenant.client, parts=2, ops=2)
        op_id = job["parts"][0]["operations"][0]["id"]
        _assign_and_batch(sessions, tenant.id, job["id"], op_id, make_cell(tenant.client)["id"])
        data = ok(tenant.client.delete("/api-jobs", params={"id": job["id"], "hard": "true"}))
        assert data == {
            "message": "Deleted successfully",
            "id": job["id"],
            "mode": "hard",
            "cascaded": {"parts": 2, "operations": 4},
        }
        assert [
            count_rows(sessions, tenant.id, m)
            for m in (Job, Part, Operation, Assignment, BatchOperation)
        ] == [0, 0, 0, 0, 0]
        types = [
            e.type
            for e in events(
                sessions,
                tenant.id,
                "job.deleted",
                "part.deleted",
                "operation.deleted",
                "assignment.deleted",
            )
        ]
        assert sorted(types) == sorted(
            [
                "job.deleted",
                "part.deleted",
                "part.deleted",
                *["operation.deleted"] * 4,
                "assignment.deleted",
            ]
        )

    def test_a_hard_delete_includes_rows_soft_deleted_before(
        self, tenant: TenantHandle, sessions
    ) -> None:
        job = make_tree(tenant.client, parts=2, ops=1)
        ok(tenant.client.delete("/api-parts", params={"id": job["parts"][0]["id"]}))
        data = ok(tenant.client.delete("/api-jobs", params={"id": job["id"], "hard": "true"}))
        assert data["cascaded"] == {"parts": 2, "operations": 2}
        assert count_rows(sessions, tenant.id, Part) == 0

    def test_optional_references_to_a_removed_row_are_set_to_null(
        self, tenant: TenantHandle, sessions
    ) -> None:
        cell, material, resource = (
            make_cell(tenant.client),
            make_material(tenant.client),
            make_resource(tenant.client),
        )
        job = make_job(tenant.client, current_cell_id=cell["id"])
        parent = make_part(tenant.client, job["id"])
        child = make_part(
            tenant.client,
            job["id"],
            parent_part_id=parent["id"],
            material_id=material["id"],
            current_cell_id=cell["id"],
        )
        op = make_operation(
            tenant.client,
            child["id"],
            cell_id=cell["id"],
            resources=[{"resource_id": resource["id"]}],
        )
        for entity, record in (
            ("cells", cell),
            ("materials", material),
            ("parts", parent),
            ("resources", resource),
        ):
            ok(tenant.client.delete(f"/api-{entity}", params={"id": record["id"], "hard": "true"}))
        assert row(sessions, tenant.id, Job, job["id"]).current_cell_id is None
        stored = row(sessions, tenant.id, Part, child["id"])
        assert (stored.parent_part_id, stored.material_id, stored.current_cell_id) == (
            None,
            None,
            None,
        )
        assert row(sessions, tenant.id, Operation, op["id"]).cell_id is None
        assert count_rows(sessions, tenant.id, OperationResource) == 0
        assert count_rows(sessions, tenant.id, Cell) == 0
        assert count_rows(sessions, tenant.id, Material) == 0


class TestPatch:
    def test_a_patch_that_changes_nothing_writes_nothing_and_emits_nothing(
        self, tenant: TenantHandle, sessions
    ) -> None:
        job = make_job(
            tenant.client,
            customer="Acme",
            due_date="2026-12-31",
            total_weight_kg=1.5,
            metadata={"a": 1},
        )
        before = len(events(sessions, tenant.id))
        same = {
            "customer": " Acme ",
            "due_date": "2026-12-31T00:00:00Z",
            "total_weight_kg": "1.50",
            "metadata": {"a": 1},
            "customer_name": "Acme",
            "status": "not_started",
            "priority": "0",
            "updated_at": "2000-01-01",
            "parts": [],
        }
        data = ok(tenant.client.patch("/api-jobs", params={"id": job["id"]}, json=same))["job"]
        assert data["updated_at"] == job["updated_at"]
        assert len(events(sessions, tenant.id)) == before
        assert (
            ok(tenant.client.put("/api-jobs", params={"id": job["id"]}, json={}))["job"][
                "updated_at"
            ]
            == job["updated_at"]
        )
        assert len(events(sessions, tenant.id)) == before

    def test_a_patch_that_changes_a_field_clears_the_sync_hash_and_emits_one_event(
        self, tenant: TenantHandle, sessions
    ) -> None:
        job = make_job(tenant.client, external_id="SO-1", external_source="SAP")
        with sessions.begin() as session:
            session.execute(
                update(Job).where(Job.id == uuid.UUID(job["id"])).values(sync_hash="a" * 64)
            )
        ok(tenant.client.patch("/api-jobs", params={"id": job["id"]}, json={"priority": 0}))
        assert row(sessions, tenant.id, Job, job["id"]).sync_hash == "a" * 64  # no change: kept
        data = ok(
            tenant.client.patch(
                "/api-jobs", params={"id": job["id"]}, json={"priority": 3, "notes": "x"}
            )
        )["job"]
        assert data["sync_hash"] is None
        assert data["updated_at"] > job["updated_at"]
        updated = events(sessions, tenant.id, "job.updated")
        assert len(updated) == 1
        assert updated[0].data["changed_fields"] == ["priority", "notes"]
        assert updated[0].data["previous"] == {"priority": 0, "notes": None}

    def test_null_clears_an_optional_field(self, tenant: TenantHandle) -> None:
        cell = make_cell(tenant.client)
        job = make_job(
            tenant.client, customer="Acme", current_cell_id=cell["id"], due_date="2026-01-01"
        )
        data = ok(
            tenant.client.patch(
                "/api-jobs",
                params={"id": job["id"]},
                json={"customer": None, "current_cell_id": None, "due_date": None},
            )
        )["job"]
        assert (data["customer"], data["current_cell_id"], data["due_date"]) == (None, None, None)

    def test_patch_can_link_a_record_to_the_erp_and_unlink_it(self, tenant: TenantHandle) -> None:
        job = make_job(tenant.client)
        linked = ok(
            tenant.client.patch(
                "/api-jobs",
                params={"id": job["id"]},
                json={"external_id": " SO-7 ", "external_source": "SAP"},
            )
        )["job"]
        assert (linked["external_id"], linked["external_source"]) == ("SO-7", "SAP")
        unlinked = ok(
            tenant.client.patch(
                "/api-jobs",
                params={"id": job["id"]},
                json={"external_id": None, "external_source": None},
            )
        )["job"]
        assert (unlinked["external_id"], unlinked["external_source"]) == (None, None)

    def test_a_part_can_move_to_another_job_by_reference(self, tenant: TenantHandle) -> None:
        part = make_part(tenant.client)
        target = make_job(tenant.client, external_id="SO-move", external_source="SAP")
        moved = ok(
            tenant.client.patch(
                "/api-parts", params={"id": part["id"]}, json={"job_external_id": "SO-move"}
            )
        )["part"]
        assert moved["job_id"] == target["id"]
        assert moved["job"]["id"] == target["id"]

    def test_the_operation_resource_list_is_replaced_and_an_empty_list_clears_it(
        self, tenant: TenantHandle
    ) -> None:
        first, second = make_resource(tenant.client), make_resource(tenant.client)
        op = make_operation(
            tenant.client, resources=[{"resource_id": first["id"], "quantity": 2, "notes": "n"}]
        )
        assert op["resources"] == [
            {
                "resource_id": first["id"],
                "name": first["name"],
                "type": "machine",
                "quantity": 2,
                "notes": "n",
            }
        ]
        data = ok(
            tenant.client.patch(
                "/api-operations",
                params={"id": op["id"]},
                json={"resources": [{"resource_name": second["name"]}]},
            )
        )["operation"]
        assert [(r["resource_id"], r["quantity"]) for r in data["resources"]] == [(second["id"], 1)]
        assert (
            ok(
                tenant.client.patch(
                    "/api-operations", params={"id": op["id"]}, json={"resources": []}
                )
            )["operation"]["resources"]
            == []
        )


class TestAutoFields:
    def test_a_null_sequence_means_auto_on_create_and_is_refused_on_patch(
        self, tenant: TenantHandle
    ) -> None:
        from tests.support.api import invalid

        part = make_part(tenant.client)
        make_operation(tenant.client, part["id"], sequence=3)
        op = make_operation(tenant.client, part["id"], sequence=None)
        assert op["sequence"] == 4
        invalid(
            tenant.client.patch(
                "/api-operations", params={"id": op["id"]}, json={"sequence": None}
            ),
            "sequence",
            "NOT_NULL",
        )
        cell = make_cell(tenant.client, sequence=None)
        invalid(
            tenant.client.patch("/api-cells", params={"id": cell["id"]}, json={"sequence": None}),
            "sequence",
            "NOT_NULL",
        )


class TestIntegrityTranslation:
    def test_a_not_null_violation_is_a_422_not_a_conflict(self) -> None:
        from sqlalchemy.exc import IntegrityError

        from floorsync.db.integrity import translate_integrity_error
        from floorsync.errors import ValidationFailed

        class PgNotNull(Exception):
            sqlstate = "23502"

            class diag:  # the driver's attribute name
                column_name = "sequence"
                constraint_name = None

        for orig in (
            Exception("NOT NULL constraint failed: operations.sequence"),
            PgNotNull("null value in column"),
        ):
            err = translate_integrity_error(IntegrityError("UPDATE …", {}, orig))
            assert isinstance(err, ValidationFailed)
            assert err.details_json() == [
                {
                    "field": "sequence",
                    "message": "sequence cannot be null",
                    "constraint": "NOT_NULL",
                }
            ]
