"""References in bodies (API §4.3): by id, by external id (with or without a source), by cell
name, and the resources list of an operation; misses, mismatches and ambiguity are 422s."""

import uuid

from tests.support.api import (
    create,
    fails,
    invalid,
    make_cell,
    make_job,
    make_material,
    make_operation,
    make_part,
    make_resource,
    ok,
)
from tests.support.tenants import TenantHandle


class TestPartReferences:
    def test_a_job_by_id_or_by_external_id(self, tenant: TenantHandle) -> None:
        job = make_job(tenant.client, external_id="SO-1", external_source="SAP")
        assert (
            create(tenant.client, "parts", {"job_id": job["id"], "part_number": "a"})["job_id"]
            == job["id"]
        )
        assert (
            create(tenant.client, "parts", {"job_external_id": " SO-1 ", "part_number": "b"})[
                "job_id"
            ]
            == job["id"]
        )
        assert (
            create(
                tenant.client,
                "parts",
                {"job_external_id": "SO-1", "job_external_source": "SAP", "part_number": "c"},
            )["job_id"]
            == job["id"]
        )
        both = create(
            tenant.client,
            "parts",
            {"job_id": job["id"], "job_external_id": "SO-1", "part_number": "d"},
        )
        assert both["job_id"] == job["id"]

    def test_an_external_id_is_looked_up_under_the_records_own_source_by_default(
        self, tenant: TenantHandle
    ) -> None:
        sap = make_job(tenant.client, external_id="SO-1", external_source="SAP")
        odoo = make_job(tenant.client, external_id="SO-1", external_source="odoo")
        part = create(
            tenant.client,
            "parts",
            {
                "job_external_id": "SO-1",
                "part_number": "a",
                "external_id": "L-1",
                "external_source": "odoo",
            },
        )
        assert part["job_id"] == odoo["id"]
        part = create(
            tenant.client,
            "parts",
            {
                "job_external_id": "SO-1",
                "job_external_source": "SAP",
                "part_number": "b",
                "external_id": "L-2",
                "external_source": "odoo",
            },
        )
        assert part["job_id"] == sap["id"]

    def test_an_external_id_without_a_source_that_matches_several_sources_is_ambiguous(
        self, tenant: TenantHandle
    ) -> None:
        make_job(tenant.client, external_id="SO-2", external_source="SAP")
        make_job(tenant.client, external_id="SO-2", external_source="odoo")
        item = invalid(
            tenant.client.post("/api-parts", json={"job_external_id": "SO-2", "part_number": "a"}),
            "job_external_id",
            "AMBIGUOUS_REFERENCE",
        )
        assert item["value"] == "SO-2"

    def test_a_missing_or_soft_deleted_job_is_reference_not_found(
        self, tenant: TenantHandle
    ) -> None:
        invalid(
            tenant.client.post(
                "/api-parts", json={"job_id": str(uuid.uuid4()), "part_number": "a"}
            ),
            "job_id",
            "REFERENCE_NOT_FOUND",
        )
        invalid(
            tenant.client.post("/api-parts", json={"job_external_id": "nope", "part_number": "a"}),
            "job_external_id",
            "REFERENCE_NOT_FOUND",
        )
        gone = make_job(tenant.client, external_id="SO-gone", external_source="SAP")
        ok(tenant.client.delete("/api-jobs", params={"id": gone["id"]}))
        invalid(
            tenant.client.post("/api-parts", json={"job_id": gone["id"], "part_number": "a"}),
            "job_id",
            "REFERENCE_NOT_FOUND",
        )
        invalid(
            tenant.client.post(
                "/api-parts", json={"job_external_id": "SO-gone", "part_number": "a"}
            ),
            "job_external_id",
            "REFERENCE_NOT_FOUND",
        )

    def test_two_forms_naming_different_jobs_are_a_mismatch(self, tenant: TenantHandle) -> None:
        make_job(tenant.client, external_id="SO-3", external_source="SAP")
        other = make_job(tenant.client)
        invalid(
            tenant.client.post(
                "/api-parts",
                json={"job_id": other["id"], "job_external_id": "SO-3", "part_number": "a"},
            ),
            "job_external_id",
            "REFERENCE_MISMATCH",
        )

    def test_a_reference_input_must_be_a_non_empty_string(self, tenant: TenantHandle) -> None:
        invalid(
            tenant.client.post("/api-parts", json={"job_external_id": 5, "part_number": "a"}),
            "job_external_id",
            "TYPE_MISMATCH",
        )
        invalid(
            tenant.client.post("/api-parts", json={"job_external_id": " ", "part_number": "a"}),
            "job_external_id",
            "TYPE_MISMATCH",
        )
        invalid(
            tenant.client.post("/api-parts", json={"job_id": "SO-3", "part_number": "a"}),
            "job_id",
            "UUID_FORMAT",
        )

    def test_a_material_by_id_or_external_id(self, tenant: TenantHandle) -> None:
        material = make_material(
            tenant.client, code="M-1", external_id="MAT-1", external_source="SAP"
        )
        job = make_job(tenant.client)
        part = create(
            tenant.client,
            "parts",
            {"job_id": job["id"], "part_number": "a", "material_external_id": "MAT-1"},
        )
        assert (part["material_id"], part["material"]) == (material["id"], "M-1")
        invalid(
            tenant.client.post(
                "/api-parts",
                json={"job_id": job["id"], "part_number": "b", "material_id": str(uuid.uuid4())},
            ),
            "material_id",
            "REFERENCE_NOT_FOUND",
        )

    def test_a_parent_part_must_be_a_live_part_of_the_same_job_without_cycles(
        self, tenant: TenantHandle
    ) -> None:
        job = make_job(tenant.client)
        root = make_part(tenant.client, job["id"])
        child = make_part(tenant.client, job["id"], parent_part_id=root["id"])
        elsewhere = make_part(tenant.client)
        invalid(
            tenant.client.post(
                "/api-parts",
                json={"job_id": job["id"], "part_number": "x", "parent_part_id": elsewhere["id"]},
            ),
            "parent_part_id",
            "REFERENCE_MISMATCH",
        )
        invalid(
            tenant.client.patch(
                "/api-parts", params={"id": root["id"]}, json={"parent_part_id": root["id"]}
            ),
            "parent_part_id",
            "INVALID_VALUE",
        )
        invalid(
            tenant.client.patch(
                "/api-parts", params={"id": root["id"]}, json={"parent_part_id": child["id"]}
            ),
            "parent_part_id",
            "INVALID_VALUE",
        )


class TestOperationReferences:
    def test_a_part_by_external_id(self, tenant: TenantHandle) -> None:
        part = make_part(tenant.client, external_id="L-9", external_source="SAP")
        assert (
            create(tenant.client, "operations", {"part_external_id": "L-9", "operation_name": "a"})[
                "part_id"
            ]
            == part["id"]
        )
        invalid(
            tenant.client.post(
                "/api-operations",
                json={
                    "part_external_id": "L-9",
                    "part_external_source": "odoo",
                    "operation_name": "a",
                },
            ),
            "part_external_id",
            "REFERENCE_NOT_FOUND",
        )

    def test_a_cell_by_id_external_id_or_exact_name(self, tenant: TenantHandle) -> None:
        cell = make_cell(tenant.client, name="Laser 1", external_id="WC-1", external_source="SAP")
        part = make_part(tenant.client)
        for ref in (
            {"cell_id": cell["id"]},
            {"cell_external_id": "WC-1"},
            {"cell_name": " Laser 1 "},
            {
                "cell_id": cell["id"],
                "cell_name": "Laser 1",
                "cell_external_id": "WC-1",
                "cell_external_source": "SAP",
            },
        ):
            op = create(
                tenant.client, "operations", {"part_id": part["id"], "operation_name": "a", **ref}
            )
            assert op["cell_id"] == cell["id"]
            assert op["cell"]["name"] == "Laser 1"
        invalid(
            tenant.client.post(
                "/api-operations",
                json={"part_id": part["id"], "operation_name": "a", "cell_name": "laser 1"},
            ),
            "cell_name",
            "REFERENCE_NOT_FOUND",
        )

    def test_a_cell_name_and_a_cell_id_naming_different_cells_are_a_mismatch(
        self, tenant: TenantHandle
    ) -> None:
        first = make_cell(tenant.client, name="Saw")
        make_cell(tenant.client, name="Mill")
        error = fails(
            tenant.client.post(
                "/api-operations",
                json={
                    "part_id": make_part(tenant.client)["id"],
                    "operation_name": "a",
                    "cell_id": first["id"],
                    "cell_name": "Mill",
                },
            ),
            422,
            "VALIDATION_ERROR",
        )
        assert [d["constraint"] for d in error["details"]] == ["REFERENCE_MISMATCH"]

    def test_patch_can_set_and_clear_the_cell_by_any_form(self, tenant: TenantHandle) -> None:
        cell = make_cell(tenant.client, name="Bend")
        op = make_operation(tenant.client)
        assert (
            ok(
                tenant.client.patch(
                    "/api-operations", params={"id": op["id"]}, json={"cell_name": "Bend"}
                )
            )["operation"]["cell_id"]
            == cell["id"]
        )
        assert (
            ok(
                tenant.client.patch(
                    "/api-operations", params={"id": op["id"]}, json={"cell_name": None}
                )
            )["operation"]["cell_id"]
            is None
        )

    def test_a_jobs_current_cell_must_be_a_live_cell(self, tenant: TenantHandle) -> None:
        invalid(
            tenant.client.post(
                "/api-jobs", json={"job_number": "J", "current_cell_id": str(uuid.uuid4())}
            ),
            "current_cell_id",
            "REFERENCE_NOT_FOUND",
        )


class TestOperationResources:
    def test_resources_by_id_external_id_or_name_with_quantity_and_notes(
        self, tenant: TenantHandle
    ) -> None:
        a = make_resource(tenant.client, name="Press", type="machine")
        b = make_resource(
            tenant.client, name="Die", type="tooling", external_id="T-1", external_source="SAP"
        )
        c = make_resource(tenant.client, name="Gauge", type="gauge")
        op = make_operation(
            tenant.client,
            resources=[
                {"resource_id": a["id"], "quantity": "2.50"},
                {"resource_external_id": "T-1", "notes": "n"},
                {"resource_name": "Gauge", "name": "ignored", "type": "ignored"},
            ],
        )
        assert op["resources"] == [
            {
                "resource_id": a["id"],
                "name": "Press",
                "type": "machine",
                "quantity": 2.5,
                "notes": None,
            },
            {"resource_id": b["id"], "name": "Die", "type": "tooling", "quantity": 1, "notes": "n"},
            {
                "resource_id": c["id"],
                "name": "Gauge",
                "type": "gauge",
                "quantity": 1,
                "notes": None,
            },
        ]

    def test_invalid_resource_items_are_reported_with_their_paths(
        self, tenant: TenantHandle
    ) -> None:
        res = make_resource(tenant.client)
        part = make_part(tenant.client)
        cases = [
            ([{"resource_name": "missing"}], "resources[0].resource_name", "REFERENCE_NOT_FOUND"),
            (
                [{"resource_id": res["id"]}, {"resource_id": res["id"]}],
                "resources[1].resource_id",
                "UNIQUE_CONSTRAINT",
            ),
            ([{"resource_id": res["id"], "quantity": 0}], "resources[0].quantity", "MIN_VALUE"),
            ([{"resource_id": "x"}], "resources[0].resource_id", "UUID_FORMAT"),
            ([{"resource_id": res["id"], "spare": 1}], "resources[0].spare", "UNKNOWN_FIELD"),
            ([{"quantity": 1}], "resources[0].resource_id", "NOT_NULL"),
            (["Press"], "resources[0]", "TYPE_MISMATCH"),
            ({"resource_id": res["id"]}, "resources", "TYPE_MISMATCH"),
        ]
        for resources, field, constraint in cases:
            invalid(
                tenant.client.post(
                    "/api-operations",
                    json={"part_id": part["id"], "operation_name": "a", "resources": resources},
                ),
                field,
                constraint,
            )

    def test_a_soft_deleted_resource_cannot_be_added(self, tenant: TenantHandle) -> None:
        res = make_resource(tenant.client)
        ok(tenant.client.delete("/api-resources", params={"id": res["id"]}))
        invalid(
            tenant.client.post(
                "/api-operations",
                json={
                    "part_id": make_part(tenant.client)["id"],
                    "operation_name": "a",
                    "resources": [{"resource_id": res["id"]}],
                },
            ),
            "resources[0].resource_id",
            "REFERENCE_NOT_FOUND",
        )


class TestMovingAPart:
    def test_a_part_with_a_parent_or_children_can_not_leave_them_in_the_old_job(
        self, tenant: TenantHandle
    ) -> None:
        job, other = make_job(tenant.client), make_job(tenant.client)
        parent = make_part(tenant.client, job["id"])
        child = make_part(tenant.client, job["id"], parent_part_id=parent["id"])
        invalid(
            tenant.client.patch(
                "/api-parts", params={"id": child["id"]}, json={"job_id": other["id"]}
            ),
            "job_id",
            "REFERENCE_MISMATCH",
        )
        invalid(
            tenant.client.patch(
                "/api-parts", params={"id": parent["id"]}, json={"job_id": other["id"]}
            ),
            "job_id",
            "REFERENCE_MISMATCH",
        )
        moved = ok(
            tenant.client.patch(
                "/api-parts",
                params={"id": child["id"]},
                json={"job_id": other["id"], "parent_part_id": None},
            )
        )["part"]
        assert (moved["job_id"], moved["parent_part_id"]) == (other["id"], None)
        assert (
            ok(
                tenant.client.patch(
                    "/api-parts", params={"id": parent["id"]}, json={"job_id": other["id"]}
                )
            )["part"]["job_id"]
            == other["id"]
        )
