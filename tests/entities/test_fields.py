"""Every field constraint of the six entity tables (API §3.1–3.6) and the wire types of §1.3:
what is accepted and how it is written back, and what is refused with which constraint, on
POST and on PATCH alike."""

import re
from typing import Any

import pytest

from tests.support.api import (
    SINGULAR,
    create,
    fails,
    invalid,
    make_any,
    make_job,
    make_material,
    minimal_body,
    ok,
)
from tests.support.tenants import TenantHandle

INT32_MAX = 2_147_483_647

# (entity, field, input, value written back)
ACCEPTED: list[tuple[str, str, Any, Any]] = [
    ("jobs", "job_number", "  J-trim  ", "J-trim"),
    ("jobs", "job_number", "J" * 255, "J" * 255),
    ("jobs", "job_number", "Auftrag Größe ✗", "Auftrag Größe ✗"),
    ("jobs", "customer", " Acme ", "Acme"),
    ("jobs", "customer", None, None),
    ("jobs", "due_date", "2026-12-31", "2026-12-31T00:00:00.000Z"),
    ("jobs", "due_date", "2026-03-01T09:15:00+01:00", "2026-03-01T08:15:00.000Z"),
    ("jobs", "due_date", "2026-03-01T08:15:00", "2026-03-01T08:15:00.000Z"),
    ("jobs", "due_date", "2026-03-01T08:15:00.123456Z", "2026-03-01T08:15:00.123Z"),
    ("jobs", "due_date", "2026-03-01 08:15:00z", "2026-03-01T08:15:00.000Z"),
    ("jobs", "due_date", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z"),
    ("jobs", "due_date_override", "2027-01-15T12:00:00.5-05:00", "2027-01-15T17:00:00.500Z"),
    ("jobs", "status", "on_hold", "on_hold"),
    ("jobs", "priority", 0, 0),
    ("jobs", "priority", INT32_MAX, INT32_MAX),
    ("jobs", "priority", "5", 5),
    ("jobs", "priority", 5.0, 5),
    ("jobs", "priority", " 7 ", 7),
    ("jobs", "priority", "1e3", 1000),
    ("jobs", "notes", "n" * 10_000, "n" * 10_000),
    ("jobs", "delivery_country", "nl", "NL"),
    ("jobs", "delivery_country", " de ", "DE"),
    ("jobs", "delivery_city", "c" * 100, "c" * 100),
    ("jobs", "delivery_postal_code", "p" * 20, "p" * 20),
    ("jobs", "total_weight_kg", "1.50", 1.5),
    ("jobs", "total_weight_kg", 2.0, 2),
    ("jobs", "total_weight_kg", 0, 0),
    ("jobs", "total_weight_kg", 1.005, 1.01),
    ("jobs", "total_volume_m3", "0.1234", 0.123),
    ("jobs", "package_count", "3", 3),
    ("jobs", "metadata", {"erp": {"line": 1, "tags": ["a"]}}, {"erp": {"line": 1, "tags": ["a"]}}),
    ("parts", "part_number", " P-1 ", "P-1"),
    ("parts", "quantity", 1, 1),
    ("parts", "quantity", "12", 12),
    ("parts", "is_bullet_card", "true", True),
    ("parts", "is_bullet_card", False, False),
    ("parts", "file_paths", ["a.pdf", "b/c.step"], ["a.pdf", "b/c.step"]),
    ("parts", "file_paths", ["f" * 1024] * 100, ["f" * 1024] * 100),
    ("parts", "drawing_no", "d" * 100, "d" * 100),
    ("parts", "cnc_program_name", "c" * 255, "c" * 255),
    ("parts", "material_lot", "l" * 100, "l" * 100),
    ("parts", "weight_kg", "10.0", 10),
    ("parts", "length_mm", 1234.56, 1234.56),
    ("parts", "status", "completed", "completed"),
    ("operations", "operation_name", " Laser ", "Laser"),
    ("operations", "sequence", 3, 3),
    ("operations", "sequence", "4", 4),
    ("operations", "estimated_time", 90, 90),
    ("operations", "setup_time", "12.50", 12.5),
    ("operations", "run_time_per_unit", 0.25, 0.25),
    ("operations", "wait_time", 0, 0),
    ("operations", "changeover_time", 3, 3),
    ("operations", "completion_percentage", 100, 100),
    ("operations", "assigned_operator_id", " badge-17 ", "badge-17"),
    ("operations", "planned_start", "2026-05-01", "2026-05-01T00:00:00.000Z"),
    ("operations", "icon_name", "i" * 100, "i" * 100),
    ("operations", "status", "in_progress", "in_progress"),
    ("cells", "name", " Laser 1 ", "Laser 1"),
    ("cells", "name", "n" * 200, "n" * 200),
    ("cells", "color", "#1E88E5", "#1E88E5"),
    ("cells", "sequence", 0, 0),
    ("cells", "active", "false", False),
    ("cells", "wip_limit", 5, 5),
    ("cells", "wip_warning_threshold", 0, 0),
    ("cells", "enforce_wip_limit", True, True),
    ("cells", "show_capacity_warning", False, False),
    ("cells", "capacity_hours_per_day", 24, 24),
    ("cells", "capacity_hours_per_day", "7.5", 7.5),
    ("cells", "image_url", "https://x/" + "i" * 2038, "https://x/" + "i" * 2038),
    ("resources", "name", "r" * 200, "r" * 200),
    ("resources", "type", " tooling ", "tooling"),
    ("resources", "identifier", "SN-1", "SN-1"),
    ("resources", "location", "l" * 200, "l" * 200),
    ("resources", "status", "maintenance", "maintenance"),
    ("resources", "active", False, False),
    ("materials", "code", " MAT-1 ", "MAT-1"),
    ("materials", "code", None, None),
    ("materials", "name", "m" * 200, "m" * 200),
    ("materials", "grade", "AISI 304", "AISI 304"),
    ("materials", "thickness", "3.000", 3),
    ("materials", "thickness", 0.5, 0.5),
    ("materials", "unit", "sheet", "sheet"),
    ("materials", "color", "grey", "grey"),
]

# Defaults written when a field is omitted on create.
DEFAULTS: list[tuple[str, dict[str, Any]]] = [
    (
        "jobs",
        {
            "status": "not_started",
            "priority": 0,
            "customer": None,
            "due_date": None,
            "metadata": {},
            "total_weight_kg": None,
            "package_count": None,
            "started_at": None,
            "actual_duration": None,
            "external_id": None,
            "external_source": None,
            "synced_at": None,
            "sync_hash": None,
            "deleted_at": None,
            "deleted_by": None,
            "parts": [],
        },
    ),
    (
        "parts",
        {
            "quantity": 1,
            "status": "not_started",
            "is_bullet_card": False,
            "file_paths": [],
            "image_paths": [],
            "material": None,
            "material_id": None,
            "parent_part_id": None,
            "metadata": {},
        },
    ),
    (
        "operations",
        {
            "cell_id": None,
            "sequence": 1,
            "status": "not_started",
            "estimated_time": 0,
            "setup_time": 0,
            "run_time_per_unit": 0,
            "wait_time": 0,
            "changeover_time": 0,
            "actual_time": 0,
            "completion_percentage": 0,
            "assigned_operator_id": None,
            "cell": None,
            "resources": [],
        },
    ),
    (
        "cells",
        {
            "active": True,
            "enforce_wip_limit": False,
            "show_capacity_warning": True,
            "capacity_hours_per_day": 8,
            "wip_limit": None,
            "color": None,
        },
    ),
    ("resources", {"status": "available", "active": True, "identifier": None, "description": None}),
    ("materials", {"code": None, "active": True, "thickness": None, "unit": None}),
]

# (entity, field, input, constraint)
REFUSED: list[tuple[str, str, Any, str]] = [
    ("jobs", "job_number", None, "NOT_NULL"),
    ("jobs", "job_number", "", "NOT_NULL"),
    ("jobs", "job_number", "   ", "NOT_NULL"),
    ("jobs", "job_number", "J" * 256, "MAX_LENGTH"),
    ("jobs", "job_number", 1001, "TYPE_MISMATCH"),
    ("jobs", "job_number", ["J"], "TYPE_MISMATCH"),
    ("jobs", "job_number", "J\u0000", "TYPE_MISMATCH"),
    ("jobs", "customer", "c" * 256, "MAX_LENGTH"),
    ("jobs", "customer", {"name": "x"}, "TYPE_MISMATCH"),
    ("jobs", "due_date", "tomorrow", "DATE_FORMAT"),
    ("jobs", "due_date", "2026-02-30", "DATE_FORMAT"),
    ("jobs", "due_date", "2026-03-01T25:00:00Z", "DATE_FORMAT"),
    ("jobs", "due_date", 20260301, "DATE_FORMAT"),
    ("jobs", "due_date", "", "DATE_FORMAT"),
    ("jobs", "status", "done", "ENUM_CONSTRAINT"),
    ("jobs", "status", "IN_PROGRESS", "ENUM_CONSTRAINT"),
    ("jobs", "status", 1, "ENUM_CONSTRAINT"),
    ("jobs", "priority", -1, "MIN_VALUE"),
    ("jobs", "priority", INT32_MAX + 1, "MAX_VALUE"),
    ("jobs", "priority", "1e999999999", "MAX_VALUE"),
    ("jobs", "priority", 1.5, "TYPE_MISMATCH"),
    ("jobs", "priority", "high", "TYPE_MISMATCH"),
    ("jobs", "priority", True, "TYPE_MISMATCH"),
    ("jobs", "priority", "NaN", "TYPE_MISMATCH"),
    ("jobs", "priority", "Infinity", "TYPE_MISMATCH"),
    ("jobs", "priority", [1], "TYPE_MISMATCH"),
    ("jobs", "notes", "n" * 10_001, "MAX_LENGTH"),
    ("jobs", "current_cell_id", "cell-1", "UUID_FORMAT"),
    ("jobs", "current_cell_id", 12, "UUID_FORMAT"),
    ("jobs", "delivery_city", "c" * 101, "MAX_LENGTH"),
    ("jobs", "delivery_postal_code", "p" * 21, "MAX_LENGTH"),
    ("jobs", "delivery_country", "NLD", "INVALID_VALUE"),
    ("jobs", "delivery_country", "N1", "INVALID_VALUE"),
    ("jobs", "delivery_country", 31, "TYPE_MISMATCH"),
    ("jobs", "total_weight_kg", -0.01, "MIN_VALUE"),
    ("jobs", "total_weight_kg", "heavy", "TYPE_MISMATCH"),
    ("jobs", "total_weight_kg", "1e999999", "MAX_VALUE"),
    ("jobs", "total_weight_kg", 1e13, "MAX_VALUE"),
    ("jobs", "package_count", -1, "MIN_VALUE"),
    ("jobs", "metadata", [], "TYPE_MISMATCH"),
    ("jobs", "metadata", "x", "TYPE_MISMATCH"),
    ("jobs", "metadata", {"blob": "x" * 66_000}, "MAX_LENGTH"),
    ("jobs", "metadata", {"nul": "a\u0000b"}, "TYPE_MISMATCH"),
    ("parts", "part_number", None, "NOT_NULL"),
    ("parts", "part_number", "p" * 256, "MAX_LENGTH"),
    ("parts", "quantity", 0, "MIN_VALUE"),
    ("parts", "quantity", -3, "MIN_VALUE"),
    ("parts", "quantity", 2.5, "TYPE_MISMATCH"),
    ("parts", "is_bullet_card", "yes", "TYPE_MISMATCH"),
    ("parts", "is_bullet_card", 1, "TYPE_MISMATCH"),
    ("parts", "file_paths", "a.pdf", "TYPE_MISMATCH"),
    ("parts", "file_paths", ["a", 1], "TYPE_MISMATCH"),
    ("parts", "file_paths", ["f"] * 101, "MAX_LENGTH"),
    ("parts", "file_paths", ["f" * 1025], "MAX_LENGTH"),
    ("parts", "drawing_no", "d" * 101, "MAX_LENGTH"),
    ("parts", "cnc_program_name", "c" * 256, "MAX_LENGTH"),
    ("parts", "material_supplier", "s" * 101, "MAX_LENGTH"),
    ("parts", "material_cert_number", "s" * 101, "MAX_LENGTH"),
    ("parts", "weight_kg", -1, "MIN_VALUE"),
    ("parts", "height_mm", "tall", "TYPE_MISMATCH"),
    ("parts", "status", "started", "ENUM_CONSTRAINT"),
    ("parts", "material_id", "m-1", "UUID_FORMAT"),
    ("operations", "operation_name", None, "NOT_NULL"),
    ("operations", "operation_name", " ", "NOT_NULL"),
    ("operations", "operation_name", "o" * 256, "MAX_LENGTH"),
    ("operations", "sequence", 0, "MIN_VALUE"),
    ("operations", "sequence", 1.5, "TYPE_MISMATCH"),
    ("operations", "estimated_time", -1, "MIN_VALUE"),
    ("operations", "estimated_time", 1.5, "TYPE_MISMATCH"),
    ("operations", "setup_time", -0.5, "MIN_VALUE"),
    ("operations", "completion_percentage", 101, "MAX_VALUE"),
    ("operations", "completion_percentage", -1, "MIN_VALUE"),
    ("operations", "assigned_operator_id", "a" * 65, "MAX_LENGTH"),
    ("operations", "assigned_operator_id", "", "NOT_NULL"),
    ("operations", "icon_name", "i" * 101, "MAX_LENGTH"),
    ("operations", "planned_end", "never", "DATE_FORMAT"),
    ("operations", "cell_id", "c", "UUID_FORMAT"),
    ("operations", "status", "paused", "ENUM_CONSTRAINT"),
    ("cells", "name", None, "NOT_NULL"),
    ("cells", "name", "n" * 201, "MAX_LENGTH"),
    ("cells", "color", "c" * 17, "MAX_LENGTH"),
    ("cells", "sequence", -1, "MIN_VALUE"),
    ("cells", "active", "no", "TYPE_MISMATCH"),
    ("cells", "wip_limit", -1, "MIN_VALUE"),
    ("cells", "wip_warning_threshold", -1, "MIN_VALUE"),
    ("cells", "capacity_hours_per_day", 24.5, "MAX_VALUE"),
    ("cells", "capacity_hours_per_day", -1, "MIN_VALUE"),
    ("cells", "icon_name", "i" * 101, "MAX_LENGTH"),
    ("cells", "image_url", "u" * 2049, "MAX_LENGTH"),
    ("cells", "description", "d" * 10_001, "MAX_LENGTH"),
    ("resources", "name", "r" * 201, "MAX_LENGTH"),
    ("resources", "type", None, "NOT_NULL"),
    ("resources", "type", "t" * 65, "MAX_LENGTH"),
    ("resources", "identifier", "i" * 101, "MAX_LENGTH"),
    ("resources", "location", "l" * 201, "MAX_LENGTH"),
    ("resources", "status", "s" * 33, "MAX_LENGTH"),
    ("materials", "code", "c" * 101, "MAX_LENGTH"),
    ("materials", "code", "  ", "NOT_NULL"),
    ("materials", "name", None, "NOT_NULL"),
    ("materials", "name", "m" * 201, "MAX_LENGTH"),
    ("materials", "grade", "g" * 101, "MAX_LENGTH"),
    ("materials", "thickness", -1, "MIN_VALUE"),
    ("materials", "unit", "u" * 17, "MAX_LENGTH"),
    ("materials", "color", "c" * 17, "MAX_LENGTH"),
    ("materials", "active", "maybe", "TYPE_MISMATCH"),
    ("jobs", "external_id", "e" * 256, "MAX_LENGTH"),
    ("jobs", "external_source", "s" * 101, "MAX_LENGTH"),
]

# Fields that are required and so cannot be omitted on create (the 422 has no `value`).
REQUIRED = [
    ("jobs", "job_number"),
    ("parts", "job_id"),
    ("parts", "part_number"),
    ("operations", "part_id"),
    ("operations", "operation_name"),
    ("cells", "name"),
    ("resources", "name"),
    ("resources", "type"),
    ("materials", "name"),
]


def _echo(entity: str, field: str, record: dict[str, Any]) -> Any:
    return record[field]


class TestAcceptedValues:
    @pytest.mark.parametrize(
        ("entity", "field", "value", "written"),
        ACCEPTED,
        ids=[f"{e}.{f}={str(v)[:20]}" for e, f, v, _ in ACCEPTED],
    )
    def test_post_accepts_and_normalises_the_value(
        self, tenant: TenantHandle, entity: str, field: str, value: Any, written: Any
    ) -> None:
        body = {**minimal_body(tenant.client, entity), field: value}
        record = create(tenant.client, entity, body)
        assert _echo(entity, field, record) == written
        assert (
            ok(tenant.client.get(f"/api-{entity}", params={"id": record["id"]}))[SINGULAR[entity]][
                field
            ]
            == written
        )

    @pytest.mark.parametrize(
        ("entity", "field", "value", "written"),
        ACCEPTED[::3],
        ids=[f"{e}.{f}={str(v)[:20]}" for e, f, v, _ in ACCEPTED[::3]],
    )
    def test_patch_accepts_the_same_values(
        self, tenant: TenantHandle, entity: str, field: str, value: Any, written: Any
    ) -> None:
        record = make_any(tenant.client, entity)
        updated = ok(
            tenant.client.patch(f"/api-{entity}", params={"id": record["id"]}, json={field: value})
        )[SINGULAR[entity]]
        assert updated[field] == written

    def test_numbers_are_written_without_trailing_zeros_in_the_raw_bytes(
        self, tenant: TenantHandle
    ) -> None:
        body = {
            "job_number": "J-bytes",
            "total_weight_kg": "1.50",
            "total_volume_m3": 2.0,
            "priority": "5",
        }
        raw = tenant.client.post("/api-jobs", json=body).content
        assert b'"total_weight_kg":1.5,' in raw
        assert b'"total_volume_m3":2,' in raw
        assert b'"priority":5,' in raw

    def test_timestamps_have_exactly_three_fraction_digits_and_z(
        self, tenant: TenantHandle
    ) -> None:
        job = make_job(tenant.client, due_date="2026-03-01T08:15:00+00:00")
        for key in ("due_date", "created_at", "updated_at"):
            value = job[key]
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", value), value


class TestDefaults:
    @pytest.mark.parametrize(("entity", "expected"), DEFAULTS, ids=[e for e, _ in DEFAULTS])
    def test_omitted_fields_get_their_defaults(
        self, tenant: TenantHandle, entity: str, expected: dict[str, Any]
    ) -> None:
        record = create(tenant.client, entity, minimal_body(tenant.client, entity))
        assert {k: record[k] for k in expected} == expected

    def test_null_for_a_field_with_a_default_writes_the_default(self, tenant: TenantHandle) -> None:
        job = make_job(tenant.client, status=None, priority=None, metadata=None)
        assert (job["status"], job["priority"], job["metadata"]) == ("not_started", 0, {})


class TestRefusedValues:
    @pytest.mark.parametrize(
        ("entity", "field", "value", "constraint"),
        REFUSED,
        ids=[f"{e}.{f}={str(v)[:20]}" for e, f, v, _ in REFUSED],
    )
    def test_post_refuses_the_value_with_its_constraint(
        self, tenant: TenantHandle, entity: str, field: str, value: Any, constraint: str
    ) -> None:
        body = {**minimal_body(tenant.client, entity), field: value}
        if field == "external_id":
            body["external_source"] = "SAP"
        elif field == "external_source":
            body["external_id"] = "E-1"
        item = invalid(tenant.client.post(f"/api-{entity}", json=body), field, constraint)
        if value is None:
            assert "value" not in item  # null counts as missing
        else:
            assert item["value"] == value

    @pytest.mark.parametrize(
        ("entity", "field", "value", "constraint"),
        REFUSED[::2],
        ids=[f"{e}.{f}={str(v)[:20]}" for e, f, v, _ in REFUSED[::2]],
    )
    def test_patch_refuses_the_same_values_and_changes_nothing(
        self, tenant: TenantHandle, entity: str, field: str, value: Any, constraint: str
    ) -> None:
        record = make_any(tenant.client, entity)
        body = {field: value}
        if field == "external_id":
            body["external_source"] = "SAP"
        elif field == "external_source":
            body["external_id"] = "E-1"
        invalid(
            tenant.client.patch(f"/api-{entity}", params={"id": record["id"]}, json=body),
            field,
            constraint,
        )
        after = ok(tenant.client.get(f"/api-{entity}", params={"id": record["id"]}))[
            SINGULAR[entity]
        ]
        assert after["updated_at"] == record["updated_at"]

    @pytest.mark.parametrize(("entity", "field"), REQUIRED)
    def test_a_missing_required_field_is_not_null_without_a_value(
        self, tenant: TenantHandle, entity: str, field: str
    ) -> None:
        body = minimal_body(tenant.client, entity)
        body.pop(field)
        item = invalid(tenant.client.post(f"/api-{entity}", json=body), field, "NOT_NULL")
        assert "value" not in item

    @pytest.mark.parametrize(
        ("entity", "field"), [r for r in REQUIRED if r[1] not in ("job_id", "part_id")]
    )
    def test_patch_cannot_clear_a_required_field(
        self, tenant: TenantHandle, entity: str, field: str
    ) -> None:
        record = make_any(tenant.client, entity)
        invalid(
            tenant.client.patch(f"/api-{entity}", params={"id": record["id"]}, json={field: None}),
            field,
            "NOT_NULL",
        )

    def test_every_error_of_a_body_is_reported_with_a_summary_message(
        self, tenant: TenantHandle
    ) -> None:
        error = fails(
            tenant.client.post(
                "/api-jobs", json={"priority": -1, "status": "x", "due_date": "y", "colour": "red"}
            ),
            422,
            "VALIDATION_ERROR",
            "✗ 5 validation error(s) in job",
        )
        assert sorted(d["field"] for d in error["details"]) == [
            "colour",
            "due_date",
            "job_number",
            "priority",
            "status",
        ]
        assert detail_messages(error) == {
            "priority": "priority must be >= 0",
            "status": "Invalid value for status. Must be one of: not_started, in_progress, on_hold, completed",
            "job_number": "Missing required string field: job_number",
            "colour": "Unknown field: colour",
        } | {"due_date": detail_messages(error)["due_date"]}

    def test_external_id_and_external_source_must_come_together(self, tenant: TenantHandle) -> None:
        invalid(
            tenant.client.post("/api-jobs", json={"job_number": "J-e1", "external_id": "SO-1"}),
            "external_source",
            "NOT_NULL",
        )
        invalid(
            tenant.client.post("/api-jobs", json={"job_number": "J-e2", "external_source": "SAP"}),
            "external_id",
            "NOT_NULL",
        )
        job = ok(
            tenant.client.post(
                "/api-jobs",
                json={"job_number": "J-e3", "external_id": None, "external_source": None},
            ),
            201,
        )["job"]
        assert (job["external_id"], job["external_source"]) == (None, None)

    def test_planned_end_before_planned_start_is_invalid_value(self, tenant: TenantHandle) -> None:
        body = {
            **minimal_body(tenant.client, "operations"),
            "planned_start": "2026-05-02",
            "planned_end": "2026-05-01",
        }
        invalid(tenant.client.post("/api-operations", json=body), "planned_end", "INVALID_VALUE")
        op = create(tenant.client, "operations", {**body, "planned_end": "2026-05-03"})
        invalid(
            tenant.client.patch(
                "/api-operations", params={"id": op["id"]}, json={"planned_start": "2026-05-04"}
            ),
            "planned_end",
            "INVALID_VALUE",
        )


def detail_messages(error: dict[str, Any]) -> dict[str, str]:
    return {d["field"]: d["message"] for d in error["details"]}


class TestUnknownAndReadOnlyFields:
    @pytest.mark.parametrize("entity", list(SINGULAR))
    def test_unknown_fields_are_422_one_detail_each(
        self, tenant: TenantHandle, entity: str
    ) -> None:
        body = {**minimal_body(tenant.client, entity), "colour": "red", "Job_Number": 1}
        error = fails(
            tenant.client.post(f"/api-{entity}", json=body),
            422,
            "VALIDATION_ERROR",
            "✗ 2 validation error(s) in " + SINGULAR[entity],
        )
        assert {(d["field"], d["constraint"], d["value"]) for d in error["details"]} == {
            ("colour", "UNKNOWN_FIELD", "red"),
            ("Job_Number", "UNKNOWN_FIELD", 1),
        }

    @pytest.mark.parametrize("entity", list(SINGULAR))
    def test_a_record_read_back_can_be_sent_again_as_a_patch(
        self, tenant: TenantHandle, entity: str
    ) -> None:
        record = make_any(tenant.client, entity)
        read = ok(tenant.client.get(f"/api-{entity}", params={"id": record["id"]}))[
            SINGULAR[entity]
        ]
        again = ok(tenant.client.patch(f"/api-{entity}", params={"id": record["id"]}, json=read))[
            SINGULAR[entity]
        ]
        assert again == read  # nothing changed: updated_at included

    def test_read_only_fields_are_ignored_on_create(self, tenant: TenantHandle) -> None:
        body = {
            "job_number": "J-ro",
            "id": "0190f3a2-7c1e-7b6a-9d2e-5f4c3b2a1d00",
            "tenant_id": "x",
            "created_at": "2001-01-01",
            "updated_at": 5,
            "synced_at": "x",
            "sync_hash": "abc",
            "deleted_at": "2020-01-01",
            "deleted_by": "me",
            "started_at": "2020-01-01",
            "completed_at": "x",
            "actual_duration": 99,
        }
        job = create(tenant.client, "jobs", body)
        assert job["id"] != body["id"]
        assert (job["sync_hash"], job["deleted_at"], job["started_at"], job["actual_duration"]) == (
            None,
            None,
            None,
            None,
        )
        assert not job["created_at"].startswith("2001")

    def test_child_arrays_and_embeds_are_ignored_on_patch(self, tenant: TenantHandle) -> None:
        part = create(tenant.client, "parts", minimal_body(tenant.client, "parts"))
        patched = ok(
            tenant.client.patch(
                "/api-parts",
                params={"id": part["id"]},
                json={
                    "operations": [{"operation_name": "ignored"}],
                    "job": {"id": "x"},
                    "image_paths": ["x"],
                },
            )
        )["part"]
        assert patched["operations"] == []
        assert patched["image_paths"] == []


class TestAliases:
    @pytest.mark.parametrize(
        ("entity", "alias", "field", "value"),
        [
            ("jobs", "customer_name", "customer", "Acme BV"),
            ("jobs", "description", "notes", "rush"),
            ("operations", "estimated_time_minutes", "estimated_time", 30),
            ("operations", "setup_time_minutes", "setup_time", 5.5),
            ("operations", "instructions", "notes", "wear gloves"),
            ("operations", "description", "notes", "deburr"),
        ],
    )
    def test_an_alias_is_mapped_to_its_canonical_field_on_post_and_patch(
        self, tenant: TenantHandle, entity: str, alias: str, field: str, value: Any
    ) -> None:
        record = create(
            tenant.client, entity, {**minimal_body(tenant.client, entity), alias: value}
        )
        assert record[field] == value
        assert alias not in record or alias == field
        patched = ok(
            tenant.client.patch(
                f"/api-{entity}", params={"id": record["id"]}, json={alias: value * 2}
            )
        )[SINGULAR[entity]]
        assert patched[field] == value * 2

    def test_an_alias_and_its_field_with_the_same_value_are_accepted(
        self, tenant: TenantHandle
    ) -> None:
        job = create(
            tenant.client,
            "jobs",
            {"job_number": "J-al", "customer": "Acme", "customer_name": "Acme"},
        )
        assert job["customer"] == "Acme"

    def test_an_alias_and_its_field_with_different_values_are_alias_conflict(
        self, tenant: TenantHandle
    ) -> None:
        item = invalid(
            tenant.client.post(
                "/api-jobs", json={"job_number": "J-ac", "customer": "A", "customer_name": "B"}
            ),
            "customer_name",
            "ALIAS_CONFLICT",
        )
        assert item["value"] == "B"

    def test_two_aliases_of_one_field_that_disagree_are_alias_conflict(
        self, tenant: TenantHandle
    ) -> None:
        body = {
            **minimal_body(tenant.client, "operations"),
            "instructions": "a",
            "description": "b",
        }
        error = fails(tenant.client.post("/api-operations", json=body), 422, "VALIDATION_ERROR")
        assert [d["constraint"] for d in error["details"]] == ["ALIAS_CONFLICT"]

    def test_an_aliased_value_is_validated_under_the_canonical_rules(
        self, tenant: TenantHandle
    ) -> None:
        body = {**minimal_body(tenant.client, "operations"), "estimated_time_minutes": -5}
        fails(tenant.client.post("/api-operations", json=body), 422, "VALIDATION_ERROR")


class TestMaterialText:
    def test_a_part_takes_its_material_text_from_the_referenced_materials_code_else_name(
        self, tenant: TenantHandle
    ) -> None:
        coded = make_material(tenant.client, code="S235-3", name="Steel 3 mm")
        named = make_material(tenant.client, name="Alu 2 mm")
        job = make_job(tenant.client)
        assert (
            create(
                tenant.client,
                "parts",
                {"job_id": job["id"], "part_number": "A", "material_id": coded["id"]},
            )["material"]
            == "S235-3"
        )
        assert (
            create(
                tenant.client,
                "parts",
                {"job_id": job["id"], "part_number": "B", "material_id": named["id"]},
            )["material"]
            == "Alu 2 mm"
        )
        assert (
            create(
                tenant.client,
                "parts",
                {
                    "job_id": job["id"],
                    "part_number": "C",
                    "material_id": coded["id"],
                    "material": "own",
                },
            )["material"]
            == "own"
        )
