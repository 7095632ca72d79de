"""How records are written: key order of every entity, embeds per mode, the nested job create
(one transaction, the first three "id" keys), compact bytes and raw UTF-8."""

import uuid

import pytest

from floorsync.models.master import Job, Operation, Part
from tests.support.api import (
    PREFIXES,
    count_rows,
    create,
    fails,
    first_ids,
    invalid,
    make_cell,
    make_job,
    make_operation,
    make_part,
    make_tree,
    ok,
)
from tests.support.tenants import TenantHandle

SYNC_BLOCK = [
    "external_id",
    "external_source",
    "synced_at",
    "sync_hash",
    "created_at",
    "updated_at",
    "deleted_at",
    "deleted_by",
]
JOB_KEYS = [
    "id",
    "job_number",
    "customer",
    "due_date",
    "due_date_override",
    "status",
    "priority",
    "notes",
    "current_cell_id",
    "delivery_address",
    "delivery_city",
    "delivery_postal_code",
    "delivery_country",
    "total_weight_kg",
    "total_volume_m3",
    "package_count",
    "started_at",
    "paused_at",
    "resumed_at",
    "completed_at",
    "actual_duration",
    "template_id",  # api-catalogue-completion §1.2 item 2
    *SYNC_BLOCK,
    "parts",
    "metadata",
]
PART_FIELDS = [
    "id",
    "job_id",
    "part_number",
    "material",
    "material_id",
    "quantity",
    "status",
    "parent_part_id",
    "current_cell_id",
    "drawing_no",
    "cnc_program_name",
    "is_bullet_card",
    "file_paths",
    "image_paths",
    "material_lot",
    "material_supplier",
    "material_cert_number",
    "weight_kg",
    "length_mm",
    "width_mm",
    "height_mm",
    "notes",
    "started_at",
    "completed_at",
    "template_id",  # api-catalogue-completion §1.2 item 2
    *SYNC_BLOCK,
]
OPERATION_FIELDS = [
    "id",
    "part_id",
    "cell_id",
    "operation_name",
    "sequence",
    "status",
    "estimated_time",
    "setup_time",
    "run_time_per_unit",
    "wait_time",
    "changeover_time",
    "actual_time",
    "completion_percentage",
    "assigned_operator_id",
    "planned_start",
    "planned_end",
    "icon_name",
    "notes",
    "started_at",
    "paused_at",
    "resumed_at",
    "completed_at",
    *SYNC_BLOCK,
]
CELL_KEYS = [
    "id",
    "name",
    "description",
    "color",
    "sequence",
    "active",
    "wip_limit",
    "wip_warning_threshold",
    "enforce_wip_limit",
    "show_capacity_warning",
    "capacity_hours_per_day",
    "icon_name",
    "image_url",
    *SYNC_BLOCK,
    "metadata",
]
RESOURCE_KEYS = [
    "id",
    "name",
    "type",
    "description",
    "identifier",
    "location",
    "status",
    "active",
    *SYNC_BLOCK,
    "metadata",
]
MATERIAL_KEYS = [
    "id",
    "code",
    "name",
    "description",
    "grade",
    "thickness",
    "unit",
    "color",
    "active",
    *SYNC_BLOCK,
    "metadata",
]


class TestKeyOrder:
    def test_jobs(self, tenant: TenantHandle) -> None:
        job = make_job(tenant.client)
        assert list(job) == JOB_KEYS
        assert list(ok(tenant.client.get("/api-jobs", params={"id": job["id"]}))["job"]) == JOB_KEYS
        assert list(ok(tenant.client.get("/api-jobs"))["jobs"][0]) == JOB_KEYS

    def test_parts_single_list_and_nested(self, tenant: TenantHandle) -> None:
        part = make_part(tenant.client)
        assert list(part) == [*PART_FIELDS, "job", "operations", "metadata"]
        assert list(ok(tenant.client.get("/api-parts"))["parts"][0]) == [
            *PART_FIELDS,
            "job",
            "metadata",
        ]
        nested = make_tree(tenant.client, parts=1, ops=1)["parts"][0]
        assert list(nested) == [*PART_FIELDS, "operations", "metadata"]

    def test_operations_single_list_and_nested(self, tenant: TenantHandle) -> None:
        op = make_operation(tenant.client)
        assert list(op) == [*OPERATION_FIELDS, "cell", "part", "resources", "metadata"]
        assert list(ok(tenant.client.get("/api-operations"))["operations"][0]) == [
            *OPERATION_FIELDS,
            "cell",
            "part",
            "resources",
            "metadata",
        ]
        nested = make_tree(tenant.client, parts=1, ops=1)["parts"][0]["operations"][0]
        assert list(nested) == [*OPERATION_FIELDS, "resources", "metadata"]

    def test_cells_resources_materials(self, tenant: TenantHandle) -> None:
        assert list(create(tenant.client, "cells", {"name": "C"})) == CELL_KEYS
        assert (
            list(create(tenant.client, "resources", {"name": "R", "type": "machine"}))
            == RESOURCE_KEYS
        )
        assert list(create(tenant.client, "materials", {"name": "M"})) == MATERIAL_KEYS

    def test_metadata_is_written_last_even_with_an_id_inside(self, tenant: TenantHandle) -> None:
        raw = tenant.client.post(
            "/api-jobs", json={"job_number": "J-meta", "metadata": {"id": "x", "z": 1}}
        ).content
        assert raw.endswith(b'"metadata":{"id":"x","z":1}}}}')


class TestEmbeds:
    def test_a_job_embeds_its_live_parts_as_summaries_oldest_first(
        self, tenant: TenantHandle
    ) -> None:
        job = make_tree(tenant.client, parts=3, ops=0)
        ok(tenant.client.delete("/api-parts", params={"id": job["parts"][1]["id"]}))
        for data in (
            ok(tenant.client.get("/api-jobs", params={"id": job["id"]}))["job"],
            ok(tenant.client.get("/api-jobs"))["jobs"][0],
        ):
            assert data["parts"] == [
                {
                    "id": p["id"],
                    "part_number": p["part_number"],
                    "material": None,
                    "quantity": 1,
                    "status": "not_started",
                    "external_id": None,
                }
                for p in (job["parts"][0], job["parts"][2])
            ]

    def test_a_part_embeds_its_job_and_on_single_get_its_live_operations_by_sequence(
        self, tenant: TenantHandle
    ) -> None:
        job = make_job(tenant.client, customer="Acme")
        part = make_part(tenant.client, job["id"])
        cell = make_cell(tenant.client)
        second = make_operation(tenant.client, part["id"], sequence=2, cell_id=cell["id"])
        first = make_operation(tenant.client, part["id"], sequence=1)
        gone = make_operation(tenant.client, part["id"], sequence=3)
        ok(tenant.client.delete("/api-operations", params={"id": gone["id"]}))
        single = ok(tenant.client.get("/api-parts", params={"id": part["id"]}))["part"]
        assert single["job"] == {
            "id": job["id"],
            "job_number": job["job_number"],
            "customer": "Acme",
        }
        assert single["operations"] == [
            {
                "id": first["id"],
                "operation_name": first["operation_name"],
                "sequence": 1,
                "status": "not_started",
                "cell_id": None,
            },
            {
                "id": second["id"],
                "operation_name": second["operation_name"],
                "sequence": 2,
                "status": "not_started",
                "cell_id": cell["id"],
            },
        ]
        assert "operations" not in ok(tenant.client.get("/api-parts"))["parts"][0]

    def test_an_operation_embeds_its_cell_and_its_part_with_the_job(
        self, tenant: TenantHandle
    ) -> None:
        job = make_job(tenant.client, customer="Acme")
        part = make_part(tenant.client, job["id"], material="S235")
        cell = make_cell(tenant.client, color="#fff")
        op = make_operation(tenant.client, part["id"], cell_id=cell["id"])
        assert op["cell"] == {"id": cell["id"], "name": cell["name"], "color": "#fff"}
        assert op["part"] == {
            "id": part["id"],
            "part_number": part["part_number"],
            "material": "S235",
            "job": {"id": job["id"], "job_number": job["job_number"], "customer": "Acme"},
        }
        assert make_operation(tenant.client, part["id"])["cell"] is None

    def test_a_soft_deleted_cell_still_shows_in_the_embed_of_operations_that_use_it(
        self, tenant: TenantHandle
    ) -> None:
        cell = make_cell(tenant.client)
        op = make_operation(tenant.client, cell_id=cell["id"])
        ok(tenant.client.delete("/api-cells", params={"id": cell["id"]}))
        again = ok(tenant.client.get("/api-operations", params={"id": op["id"]}))["operation"]
        assert again["cell_id"] == cell["id"]
        assert again["cell"]["id"] == cell["id"]


class TestNestedJobCreate:
    @pytest.mark.parametrize("prefix", PREFIXES, ids=["short", "hosted"])
    def test_the_job_first_part_and_first_operation_ids_are_the_first_three_id_keys(
        self, tenant: TenantHandle, prefix: str
    ) -> None:
        body = {
            "job_number": "J-1001",
            "customer_name": "Acme BV",
            "due_date": "2026-12-31",
            "current_cell_id": make_cell(tenant.client)["id"],
            "parts": [
                {
                    "part_number": "P-10",
                    "quantity": 10,
                    "material": "S235",
                    "operations": [
                        {"operation_name": "Laser", "estimated_time": 60, "cell_name": None},
                        {"operation_name": "Bend"},
                    ],
                },
                {"part_number": "P-20", "operations": []},
                {"part_number": "P-30"},
            ],
        }
        resp = tenant.client.post(f"{prefix}/api-jobs", json=body)
        job = ok(resp, 201)["job"]
        assert first_ids(resp.content) == [
            job["id"],
            job["parts"][0]["id"],
            job["parts"][0]["operations"][0]["id"],
        ]
        assert [p["part_number"] for p in job["parts"]] == ["P-10", "P-20", "P-30"]
        assert [o["operation_name"] for o in job["parts"][0]["operations"]] == ["Laser", "Bend"]
        assert job["parts"][0]["job_id"] == job["id"]
        assert job["parts"][0]["operations"][0]["part_id"] == job["parts"][0]["id"]
        assert [p["operations"] for p in job["parts"][1:]] == [[], []]

    def test_the_response_is_compact_json_with_raw_utf8(self, tenant: TenantHandle) -> None:
        resp = tenant.client.post("/api-jobs", json={"job_number": "J-✗ Größe", "notes": "a\nb"})
        assert resp.headers["content-type"] == "application/json"
        raw = resp.content
        assert raw.startswith(b'{"success":true,"data":{"job":{"id":"')
        assert "J-✗ Größe".encode() in raw
        assert b"\\u" not in raw
        assert b": " not in raw
        assert b", " not in raw
        assert not raw.endswith(b"\n")

    def test_parts_may_be_absent_or_empty(self, tenant: TenantHandle) -> None:
        assert make_job(tenant.client)["parts"] == []
        assert make_job(tenant.client, parts=[])["parts"] == []

    def test_an_error_anywhere_in_the_tree_creates_nothing(
        self, tenant: TenantHandle, sessions
    ) -> None:
        body = {
            "job_number": "J-atomic",
            "parts": [
                {"part_number": "P-1", "operations": [{"operation_name": "ok"}]},
                {
                    "part_number": "P-2",
                    "operations": [
                        {"operation_name": "ok"},
                        {"operation_name": "bad", "cell_name": "No such cell"},
                    ],
                },
            ],
        }
        invalid(
            tenant.client.post("/api-jobs", json=body),
            "parts[1].operations[1].cell_name",
            "REFERENCE_NOT_FOUND",
        )
        assert (
            count_rows(sessions, tenant.id, Job),
            count_rows(sessions, tenant.id, Part),
            count_rows(sessions, tenant.id, Operation),
        ) == (0, 0, 0)

    def test_nested_errors_carry_their_paths_and_the_job_as_entity(
        self, tenant: TenantHandle
    ) -> None:
        body = {
            "parts": [
                {
                    "part_number": "P",
                    "quantity": 0,
                    "operations": [{"operation_name": "a"}, {"operation_name": "b", "sequence": 0}],
                },
                {"quantity": "x", "operations": [{}]},
            ]
        }
        error = fails(
            tenant.client.post("/api-jobs", json=body),
            422,
            "VALIDATION_ERROR",
            "✗ 6 validation error(s) in job",
        )
        assert {(d["field"], d["constraint"]) for d in error["details"]} == {
            ("job_number", "NOT_NULL"),
            ("parts[0].quantity", "MIN_VALUE"),
            ("parts[0].operations[1].sequence", "MIN_VALUE"),
            ("parts[1].quantity", "TYPE_MISMATCH"),
            ("parts[1].part_number", "NOT_NULL"),
            ("parts[1].operations[0].operation_name", "NOT_NULL"),
        }

    def test_duplicate_part_numbers_or_sequences_in_one_body_are_unique_constraint_422(
        self, tenant: TenantHandle
    ) -> None:
        body = {
            "job_number": "J-dups",
            "parts": [
                {
                    "part_number": "P",
                    "operations": [
                        {"operation_name": "a", "sequence": 2},
                        {"operation_name": "b", "sequence": 2},
                    ],
                },
                {"part_number": " P "},
            ],
        }
        error = fails(tenant.client.post("/api-jobs", json=body), 422, "VALIDATION_ERROR")
        assert {(d["field"], d["constraint"]) for d in error["details"]} == {
            ("parts[0].operations[1].sequence", "UNIQUE_CONSTRAINT"),
            ("parts[1].part_number", "UNIQUE_CONSTRAINT"),
        }

    def test_a_nested_part_or_operation_cannot_name_its_parent(self, tenant: TenantHandle) -> None:
        other = make_job(tenant.client)
        body = {
            "job_number": "J-par",
            "parts": [
                {
                    "part_number": "P",
                    "job_id": other["id"],
                    "operations": [{"operation_name": "a", "part_external_id": "x"}],
                }
            ],
        }
        error = fails(tenant.client.post("/api-jobs", json=body), 422, "VALIDATION_ERROR")
        assert {(d["field"], d["constraint"]) for d in error["details"]} == {
            ("parts[0].job_id", "UNKNOWN_FIELD"),
            ("parts[0].operations[0].part_external_id", "UNKNOWN_FIELD"),
        }

    def test_a_nested_part_can_not_have_a_parent_outside_the_new_job(
        self, tenant: TenantHandle
    ) -> None:
        elsewhere = make_part(tenant.client)
        body = {
            "job_number": "J-parent",
            "parts": [{"part_number": "P", "parent_part_id": elsewhere["id"]}],
        }
        invalid(
            tenant.client.post("/api-jobs", json=body),
            "parts[0].parent_part_id",
            "REFERENCE_MISMATCH",
        )

    def test_nested_records_inherit_the_jobs_external_source(self, tenant: TenantHandle) -> None:
        body = {
            "job_number": "J-src",
            "external_id": "SO-1",
            "external_source": "SAP",
            "parts": [
                {
                    "part_number": "P",
                    "external_id": "SO-1/10",
                    "operations": [{"operation_name": "a", "external_id": "SO-1/10/1"}],
                }
            ],
        }
        job = create(tenant.client, "jobs", body)
        assert job["parts"][0]["external_source"] == "SAP"
        assert job["parts"][0]["operations"][0]["external_source"] == "SAP"

    def test_a_part_post_accepts_nested_operations(self, tenant: TenantHandle) -> None:
        job = make_job(tenant.client, external_id="SO-9", external_source="SAP")
        part = create(
            tenant.client,
            "parts",
            {
                "job_external_id": "SO-9",
                "part_number": "P",
                "operations": [
                    {"operation_name": "a"},
                    {"operation_name": "b", "sequence": 5},
                    {"operation_name": "c"},
                ],
            },
        )
        assert part["job_id"] == job["id"]
        assert [o["sequence"] for o in part["operations"]] == [1, 5, 6]


class TestOperationSequences:
    def test_an_omitted_sequence_is_the_parts_highest_live_sequence_plus_one(
        self, tenant: TenantHandle
    ) -> None:
        part = make_part(tenant.client)
        assert make_operation(tenant.client, part["id"])["sequence"] == 1
        assert make_operation(tenant.client, part["id"], sequence=10)["sequence"] == 10
        gone = make_operation(tenant.client, part["id"], sequence=20)
        ok(tenant.client.delete("/api-operations", params={"id": gone["id"]}))
        assert make_operation(tenant.client, part["id"])["sequence"] == 11
        assert make_operation(tenant.client, make_part(tenant.client)["id"])["sequence"] == 1

    def test_sequences_may_repeat_across_requests(self, tenant: TenantHandle) -> None:
        part = make_part(tenant.client)
        make_operation(tenant.client, part["id"], sequence=1)
        assert make_operation(tenant.client, part["id"], sequence=1)["sequence"] == 1

    def test_patch_without_sequence_keeps_it(self, tenant: TenantHandle) -> None:
        op = make_operation(tenant.client, sequence=4)
        assert (
            ok(
                tenant.client.patch(
                    "/api-operations", params={"id": op["id"]}, json={"operation_name": "x"}
                )
            )["operation"]["sequence"]
            == 4
        )

    def test_cell_id_is_optional_and_sequences_auto_assign_in_cells_too(
        self, tenant: TenantHandle
    ) -> None:
        first, second = make_cell(tenant.client), make_cell(tenant.client)
        assert (first["sequence"], second["sequence"]) == (0, 1)
        assert make_cell(tenant.client, sequence=7)["sequence"] == 7
        assert make_cell(tenant.client)["sequence"] == 8


def test_records_never_contain_tenant_id(tenant: TenantHandle) -> None:
    raw = tenant.client.post(
        "/api-jobs",
        json={
            "job_number": f"J-{uuid.uuid4().hex[:6]}",
            "parts": [{"part_number": "P", "operations": [{"operation_name": "a"}]}],
        },
    ).content
    assert b"tenant_id" not in raw
    assert str(tenant.id).encode() not in raw
