"""The error table of the contract (API §1.7), row by row, and the order of checks (§1.16).
Every case runs under both URL prefixes."""

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from floorsync.kit.ids import new_id
from floorsync.models.shopfloor import OperationQuantity, TimeEntry
from tests.http.conftest import SMALL_BODY_LIMIT
from tests.support.api import (
    ENTITIES,
    PREFIXES,
    detail,
    fails,
    make_cell,
    make_job,
    make_material,
    make_operation,
    make_part,
    make_resource,
    make_tree,
    ok,
    suffix,
)
from tests.support.server import LiveServer
from tests.support.tenants import TenantHandle

MISSING_ID = "ID parameter is required (?id=<uuid>)"
BAD_ID = "Invalid id: must be a UUID"
# Eryxon's functions that answered 501 before api-catalogue-completion; none does now.
FORMERLY_LATER = (
    "api-issues",
    "api-substeps",
    "api-scrap-reasons",
    "api-templates",
    "api-upload-url",
    "api-export",
    "api-parts-images",
)

pytestmark = pytest.mark.parametrize("prefix", PREFIXES, ids=["short", "hosted"])


class TestBadRequestBodies:
    @pytest.mark.parametrize("method", ["POST", "PATCH", "PUT"])
    @pytest.mark.parametrize(
        "raw", [b"{bad", b'{"job_number": "J"', b"", b"   ", b"\xff\xfe", b'{"a":1}{"b":2}', b"NaN"]
    )
    def test_malformed_json_is_400_invalid_json(
        self, tenant: TenantHandle, prefix: str, method: str, raw: bytes
    ) -> None:
        params = {"id": make_job(tenant.client)["id"]} if method != "POST" else {}
        fails(
            tenant.client.request(method, f"{prefix}/api-jobs", params=params, content=raw),
            400,
            "BAD_REQUEST",
            "Invalid JSON in request body",
        )

    @pytest.mark.parametrize(
        "raw", [b"[]", b'[{"job_number":"J"}]', b'"job"', b"42", b"null", b"true"]
    )
    @pytest.mark.parametrize("method", ["POST", "PATCH"])
    def test_a_body_that_is_not_an_object_is_400(
        self, tenant: TenantHandle, prefix: str, method: str, raw: bytes
    ) -> None:
        params = {"id": make_job(tenant.client)["id"]} if method != "POST" else {}
        fails(
            tenant.client.request(method, f"{prefix}/api-jobs", params=params, content=raw),
            400,
            "BAD_REQUEST",
            "Request body must be a JSON object",
        )

    def test_a_utf8_byte_order_mark_before_the_json_is_accepted(
        self, tenant: TenantHandle, prefix: str
    ) -> None:
        assert (
            ok(
                tenant.client.post(
                    f"{prefix}/api-cells", content='\ufeff{"name":"C-bom"}'.encode()
                ),
                201,
            )["cell"]["name"]
            == "C-bom"
        )

    def test_the_body_is_parsed_as_json_whatever_the_content_type_says(
        self, tenant: TenantHandle, prefix: str
    ) -> None:
        resp = tenant.client.post(
            f"{prefix}/api-cells",
            content=b'{"name":"C-text"}',
            headers={"content-type": "text/plain"},
        )
        assert ok(resp, 201)["cell"]["name"] == "C-text"


class TestTheIdParameter:
    @pytest.mark.parametrize("method", ["PATCH", "PUT", "DELETE"])
    @pytest.mark.parametrize("entity", ENTITIES)
    def test_a_write_without_id_is_400(
        self, tenant: TenantHandle, prefix: str, method: str, entity: str
    ) -> None:
        kw = {"json": {}} if method != "DELETE" else {}
        error = fails(
            tenant.client.request(method, f"{prefix}/api-{entity}", **kw),
            400,
            "BAD_REQUEST",
            MISSING_ID,
        )
        assert error["details"] == [
            {"field": "id", "message": MISSING_ID, "constraint": "NOT_NULL"}
        ]
        fails(
            tenant.client.request(method, f"{prefix}/api-{entity}?id=", **kw),
            400,
            "BAD_REQUEST",
            MISSING_ID,
        )

    @pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
    @pytest.mark.parametrize(
        "bad",
        [
            "xyz",
            "123",
            "0190f3a2-7c1e-7b6a-9d2e",
            "0190f3a2-7c1e-7b6a-9d2e-5f4c3b2a1d00-00",
            "'; drop table jobs;--",
            "%00",
        ],
    )
    def test_a_malformed_uuid_is_400(
        self, tenant: TenantHandle, prefix: str, method: str, bad: str
    ) -> None:
        kw = {"json": {"customer": "x"}} if method in ("PATCH", "PUT") else {}
        error = fails(
            tenant.client.request(method, f"{prefix}/api-jobs", params={"id": bad}, **kw),
            400,
            "BAD_REQUEST",
            BAD_ID,
        )
        assert error["details"] == [
            {
                "field": "id",
                "message": "id must be a UUID",
                "constraint": "UUID_FORMAT",
                "value": bad,
            }
        ]

    def test_an_upper_case_uuid_is_accepted_and_answered_in_lower_case(
        self, tenant: TenantHandle, prefix: str
    ) -> None:
        job = make_job(tenant.client)
        data = ok(tenant.client.get(f"{prefix}/api-jobs", params={"id": job["id"].upper()}))
        assert data["job"]["id"] == job["id"]

    @pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
    @pytest.mark.parametrize("entity", ENTITIES)
    def test_an_unknown_id_is_404_with_the_table_name(
        self, tenant: TenantHandle, prefix: str, method: str, entity: str
    ) -> None:
        missing = str(uuid.uuid4())
        kw = {"json": {}} if method in ("PATCH", "PUT") else {}
        fails(
            tenant.client.request(method, f"{prefix}/api-{entity}", params={"id": missing}, **kw),
            404,
            "NOT_FOUND",
            f"{entity} with ID {missing} not found",
        )

    def test_a_hard_delete_of_an_unknown_id_is_404(self, tenant: TenantHandle, prefix: str) -> None:
        missing = str(uuid.uuid4())
        fails(
            tenant.client.delete(f"{prefix}/api-jobs", params={"id": missing, "hard": "true"}),
            404,
            "NOT_FOUND",
        )


class TestBadQueryParameters:
    @pytest.mark.parametrize(
        ("entity", "param", "value"),
        [
            ("jobs", "limit", "abc"),
            ("jobs", "limit", "1.5"),
            ("jobs", "limit", "1_0"),
            ("jobs", "limit", ""),
            ("jobs", "offset", "-1"),
            ("jobs", "offset", "x"),
            ("jobs", "offset", "99999999999999999999"),
            ("jobs", "sort", "tenant_id"),
            ("jobs", "sort", "external_source"),
            ("operations", "sort", "part_id"),
            ("jobs", "order", "up"),
            ("jobs", "order", ""),
            ("jobs", "status", "done"),
            ("jobs", "priority", "high"),
            ("jobs", "priority", "1.5"),
            ("jobs", "current_cell_id", "not-a-uuid"),
            ("jobs", "due_date_from", "yesterday"),
            ("jobs", "due_date_to", "2026-13-01"),
            ("parts", "job_id", "nope"),
            ("parts", "status", "IN_PROGRESS"),
            ("parts", "material_id", "1"),
            ("operations", "part_id", "x"),
            ("operations", "job_id", "x"),
            ("operations", "cell_id", "x"),
            ("cells", "active", "yes"),
            ("resources", "active", "1"),
            ("materials", "active", "t"),
            ("jobs", "include_deleted", "yes"),
            ("jobs", "search", "x" * 201),
        ],
    )
    def test_an_invalid_list_parameter_is_400_naming_the_parameter(
        self, tenant: TenantHandle, prefix: str, entity: str, param: str, value: str
    ) -> None:
        error = fails(
            tenant.client.get(f"{prefix}/api-{entity}", params={param: value}), 400, "BAD_REQUEST"
        )
        item = detail(error, param)
        if param == "search":
            assert "value" not in item  # the over-long term is not echoed
        else:
            assert item["value"] == value

    def test_an_invalid_sort_lists_the_allowed_fields(
        self, tenant: TenantHandle, prefix: str
    ) -> None:
        error = fails(
            tenant.client.get(f"{prefix}/api-jobs", params={"sort": "nope"}), 400, "BAD_REQUEST"
        )
        assert (
            error["message"]
            == "Invalid sort field 'nope'. Allowed: job_number, customer, due_date, priority, status, created_at, updated_at"
        )
        assert detail(error, "sort")["constraint"] == "ENUM_CONSTRAINT"

    def test_hard_must_be_a_boolean(self, tenant: TenantHandle, prefix: str) -> None:
        job = make_job(tenant.client)
        fails(
            tenant.client.delete(f"{prefix}/api-jobs", params={"id": job["id"], "hard": "yes"}),
            400,
            "BAD_REQUEST",
        )
        assert (
            ok(tenant.client.get(f"{prefix}/api-jobs", params={"id": job["id"]}))["job"]["id"]
            == job["id"]
        )

    def test_unknown_query_parameters_are_ignored(self, tenant: TenantHandle, prefix: str) -> None:
        ok(tenant.client.get(f"{prefix}/api-jobs", params={"colour": "blue", "select": "*"}))


class TestRouting:
    @pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
    def test_an_unknown_function_is_404_unknown_endpoint(
        self, tenant: TenantHandle, prefix: str, method: str
    ) -> None:
        fails(
            tenant.client.request(method, f"{prefix}/api-widgets"),
            404,
            "NOT_FOUND",
            "Unknown endpoint",
        )

    @pytest.mark.parametrize("function", FORMERLY_LATER)
    @pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
    def test_no_function_of_the_catalogue_answers_501(
        self, tenant: TenantHandle, prefix: str, function: str, method: str
    ) -> None:
        for path in (f"{prefix}/{function}", f"{prefix}/{function}/anything"):
            resp = tenant.client.request(method, path)
            assert resp.status_code != 501, (method, path, resp.text)
            assert resp.status_code < 500, (method, path, resp.text)

    @pytest.mark.parametrize("entity", ENTITIES)
    def test_an_unknown_sub_route_is_400(
        self, tenant: TenantHandle, prefix: str, entity: str
    ) -> None:
        fails(tenant.client.get(f"{prefix}/api-{entity}/whatever"), 400, "BAD_REQUEST")
        fails(tenant.client.post(f"{prefix}/api-{entity}/sync/extra", json={}), 400, "BAD_REQUEST")

    @pytest.mark.parametrize("method", ["HEAD", "TRACE"])
    @pytest.mark.parametrize("entity", ENTITIES)
    def test_head_and_trace_are_405_with_an_allow_header(
        self, tenant: TenantHandle, prefix: str, method: str, entity: str
    ) -> None:
        resp = tenant.client.request(method, f"{prefix}/api-{entity}")
        assert resp.status_code == 405
        assert resp.headers["allow"] == "GET, POST, PUT, PATCH, DELETE, OPTIONS"
        if method != "HEAD":
            fails(
                resp,
                405,
                "METHOD_NOT_ALLOWED",
                f"Method {method} not allowed. Allowed: GET, POST, PUT, PATCH, DELETE, OPTIONS",
            )

    @pytest.mark.parametrize("method", ["PROPFIND", "MKCOL", "FOO"])
    def test_an_exotic_method_is_authenticated_then_405_with_the_routes_allow_list(
        self, tenant: TenantHandle, prefix: str, method: str
    ) -> None:
        fails(tenant.client_for(None).request(method, f"{prefix}/api-jobs"), 401, "UNAUTHORIZED")
        resp = tenant.client.request(method, f"{prefix}/api-jobs")
        fails(
            resp,
            405,
            "METHOD_NOT_ALLOWED",
            f"Method {method} not allowed. Allowed: GET, POST, PUT, PATCH, DELETE, OPTIONS",
        )
        assert resp.headers["allow"] == "GET, POST, PUT, PATCH, DELETE, OPTIONS"
        fails(tenant.client.request(method, f"{prefix}/api-widgets"), 404, "NOT_FOUND")
        fails(tenant.client.request(method, f"{prefix}/api-jobs/sync"), 405, "METHOD_NOT_ALLOWED")

    def test_a_known_sub_route_with_the_wrong_method_is_405(
        self, tenant: TenantHandle, prefix: str
    ) -> None:
        resp = tenant.client.post(f"{prefix}/api-jobs/sync", json={})
        fails(resp, 405, "METHOD_NOT_ALLOWED")
        assert "PUT" in resp.headers["allow"]
        assert "POST" not in resp.headers["allow"]
        resp = tenant.client.put(f"{prefix}/api-jobs/bulk-sync", json={})
        fails(resp, 405, "METHOD_NOT_ALLOWED")
        assert "POST" in resp.headers["allow"]


class TestConflicts:
    def test_a_second_live_job_number_is_409(self, tenant: TenantHandle, prefix: str) -> None:
        make_job(tenant.client, job_number="J-dup")
        error = fails(
            tenant.client.post(f"{prefix}/api-jobs", json={"job_number": "J-dup"}), 409, "CONFLICT"
        )
        assert detail(error, "job_number") == {
            "field": "job_number",
            "message": "job_number 'J-dup' already exists",
            "constraint": "UNIQUE_CONSTRAINT",
            "value": "J-dup",
        }

    def test_a_job_number_is_compared_after_trimming(
        self, tenant: TenantHandle, prefix: str
    ) -> None:
        make_job(tenant.client, job_number="J-trim")
        fails(
            tenant.client.post(f"{prefix}/api-jobs", json={"job_number": "  J-trim "}),
            409,
            "CONFLICT",
        )

    def test_patching_a_job_number_onto_another_jobs_is_409(
        self, tenant: TenantHandle, prefix: str
    ) -> None:
        make_job(tenant.client, job_number="J-taken")
        other = make_job(tenant.client)
        fails(
            tenant.client.patch(
                f"{prefix}/api-jobs", params={"id": other["id"]}, json={"job_number": "J-taken"}
            ),
            409,
            "CONFLICT",
        )

    def test_a_part_number_is_unique_within_its_job_only(
        self, tenant: TenantHandle, prefix: str
    ) -> None:
        job = make_job(tenant.client)
        make_part(tenant.client, job["id"], part_number="P-1")
        error = fails(
            tenant.client.post(
                f"{prefix}/api-parts", json={"job_id": job["id"], "part_number": "P-1"}
            ),
            409,
            "CONFLICT",
        )
        assert detail(error, "part_number")["constraint"] == "UNIQUE_CONSTRAINT"
        make_part(tenant.client, make_job(tenant.client)["id"], part_number="P-1")

    @pytest.mark.parametrize(
        ("entity", "field"), [("cells", "name"), ("resources", "name"), ("materials", "code")]
    )
    def test_cell_and_resource_names_and_material_codes_are_unique(
        self, tenant: TenantHandle, prefix: str, entity: str, field: str
    ) -> None:
        value = f"dup-{suffix()}"
        factory = {"cells": make_cell, "resources": make_resource, "materials": make_material}[
            entity
        ]
        factory(tenant.client, **{field: value})
        body = (
            {"name": f"x-{suffix()}", "type": "t", field: value}
            if entity == "resources"
            else {"name": f"x-{suffix()}", field: value}
        )
        error = fails(tenant.client.post(f"{prefix}/api-{entity}", json=body), 409, "CONFLICT")
        assert detail(error, field)["constraint"] == "UNIQUE_CONSTRAINT"

    def test_material_names_may_repeat(self, tenant: TenantHandle, prefix: str) -> None:
        make_material(tenant.client, name="S235")
        ok(tenant.client.post(f"{prefix}/api-materials", json={"name": "S235"}), 201)

    def test_an_external_key_used_by_another_record_is_409_on_post_and_patch(
        self, tenant: TenantHandle, prefix: str
    ) -> None:
        make_cell(tenant.client, external_id="C-1", external_source="SAP")
        error = fails(
            tenant.client.post(
                f"{prefix}/api-cells",
                json={"name": f"n-{suffix()}", "external_id": "C-1", "external_source": "SAP"},
            ),
            409,
            "CONFLICT",
        )
        assert detail(error, "external_id")["constraint"] == "UNIQUE_CONSTRAINT"
        other = make_cell(tenant.client)
        fails(
            tenant.client.patch(
                f"{prefix}/api-cells",
                params={"id": other["id"]},
                json={"external_id": "C-1", "external_source": "SAP"},
            ),
            409,
            "CONFLICT",
        )
        ok(
            tenant.client.patch(
                f"{prefix}/api-cells",
                params={"id": other["id"]},
                json={"external_id": "C-1", "external_source": "odoo"},
            )
        )

    def test_changing_only_the_source_onto_a_taken_key_is_409(
        self, tenant: TenantHandle, prefix: str
    ) -> None:
        make_cell(tenant.client, external_id="C-3", external_source="SAP")
        other = make_cell(tenant.client, external_id="C-3", external_source="odoo")
        error = fails(
            tenant.client.patch(
                f"{prefix}/api-cells",
                params={"id": other["id"]},
                json={"external_id": "C-3", "external_source": "SAP"},
            ),
            409,
            "CONFLICT",
        )
        assert detail(error, "external_id")["constraint"] == "UNIQUE_CONSTRAINT"

    def test_a_soft_deleted_records_external_key_stays_taken(
        self, tenant: TenantHandle, prefix: str
    ) -> None:
        cell = make_cell(tenant.client, external_id="C-2", external_source="SAP")
        ok(tenant.client.delete(f"{prefix}/api-cells", params={"id": cell["id"]}))
        fails(
            tenant.client.post(
                f"{prefix}/api-cells",
                json={"name": f"n-{suffix()}", "external_id": "C-2", "external_source": "SAP"},
            ),
            409,
            "CONFLICT",
        )

    def test_a_soft_delete_frees_the_job_number(self, tenant: TenantHandle, prefix: str) -> None:
        job = make_job(tenant.client, job_number="J-reuse")
        ok(tenant.client.delete(f"{prefix}/api-jobs", params={"id": job["id"]}))
        ok(tenant.client.post(f"{prefix}/api-jobs", json={"job_number": "J-reuse"}), 201)


def _record_work(
    sessions: sessionmaker[Session], tenant_id: uuid.UUID, operation_id: str, kind: str
) -> None:
    """Recorded work on an operation, inserted straight into the database."""
    now = datetime.now(UTC)
    with sessions.begin() as session:
        if kind == "time_entries":
            session.add(
                TimeEntry(
                    id=new_id(),
                    tenant_id=tenant_id,
                    operation_id=uuid.UUID(operation_id),
                    operator_id="op-1",
                    start_time=now,
                    end_time=now,
                    duration=0,
                    created_at=now,
                    updated_at=now,
                )
            )
        else:
            session.add(
                OperationQuantity(
                    id=new_id(),
                    tenant_id=tenant_id,
                    operation_id=uuid.UUID(operation_id),
                    quantity_good=1,
                    quantity_produced=1,
                    recorded_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )


class TestHardDeleteBlockedByRecordedWork:
    @pytest.mark.parametrize("kind", ["time_entries", "operation_quantities"])
    @pytest.mark.parametrize("target", ["jobs", "parts", "operations"])
    def test_recorded_work_below_the_row_refuses_a_hard_delete_with_409(
        self, tenant: TenantHandle, sessions, prefix: str, kind: str, target: str
    ) -> None:
        job = make_tree(tenant.client, parts=1, ops=2)
        op_id = job["parts"][0]["operations"][1]["id"]
        _record_work(sessions, tenant.id, op_id, kind)
        target_id = {"jobs": job["id"], "parts": job["parts"][0]["id"], "operations": op_id}[target]
        error = fails(
            tenant.client.delete(
                f"{prefix}/api-{target}", params={"id": target_id, "hard": "true"}
            ),
            409,
            "CONFLICT",
        )
        assert detail(error, kind) == {
            **detail(error, kind),
            "constraint": "REFERENCES_EXIST",
            "value": 1,
        }
        assert ok(
            tenant.client.get(f"{prefix}/api-{target}", params={"id": target_id})
        )  # still there
        ok(
            tenant.client.delete(f"{prefix}/api-{target}", params={"id": target_id})
        )  # a soft delete is fine

    def test_a_cell_used_by_a_batch_refuses_a_hard_delete(
        self, tenant: TenantHandle, prefix: str
    ) -> None:
        cell = make_cell(tenant.client)
        op = make_operation(tenant.client)
        ok(
            tenant.client.post(
                "/api-batches",
                json={
                    "batch_number": f"B-{suffix()}",
                    "cell_id": cell["id"],
                    "operation_ids": [op["id"]],
                },
            ),
            201,
        )
        error = fails(
            tenant.client.delete(f"{prefix}/api-cells", params={"id": cell["id"], "hard": "true"}),
            409,
            "CONFLICT",
        )
        assert detail(error, "batches")["constraint"] == "REFERENCES_EXIST"


class TestPayloadTooLarge:
    def test_a_body_over_the_limit_is_413(
        self, small_body_server: LiveServer, tenant: TenantHandle, prefix: str
    ) -> None:
        client = httpx.Client(
            base_url=small_body_server.base_url,
            headers={"Authorization": f"Bearer {tenant.admin_key}"},
        )
        with client:
            body = {"job_number": "J-big", "notes": "x" * (SMALL_BODY_LIMIT + 10)}
            fails(client.post(f"{prefix}/api-jobs", json=body), 413, "PAYLOAD_TOO_LARGE")
            job = ok(client.post(f"{prefix}/api-jobs", json={"job_number": f"J-{suffix()}"}), 201)[
                "job"
            ]
            fails(
                client.patch(f"{prefix}/api-jobs", params={"id": job["id"]}, json=body),
                413,
                "PAYLOAD_TOO_LARGE",
            )

    def test_a_chunked_body_over_the_limit_is_413(
        self, small_body_server: LiveServer, tenant: TenantHandle, prefix: str
    ) -> None:
        def chunks():  # no Content-Length: the server counts while it reads
            yield b'{"job_number":"J-chunked","notes":"'
            for _ in range(SMALL_BODY_LIMIT // 100 + 1):
                yield b"x" * 100
            yield b'"}'

        client = httpx.Client(
            base_url=small_body_server.base_url,
            headers={"Authorization": f"Bearer {tenant.admin_key}"},
        )
        with client:
            fails(client.post(f"{prefix}/api-jobs", content=chunks()), 413, "PAYLOAD_TOO_LARGE")

    def test_a_malformed_body_over_the_limit_is_413_not_400(
        self, small_body_server: LiveServer, tenant: TenantHandle, prefix: str
    ) -> None:
        client = httpx.Client(
            base_url=small_body_server.base_url,
            headers={"Authorization": f"Bearer {tenant.admin_key}"},
        )
        with client:
            fails(
                client.post(f"{prefix}/api-jobs", content=b"{" * (SMALL_BODY_LIMIT + 1)),
                413,
                "PAYLOAD_TOO_LARGE",
            )


class TestOrderOfChecks:
    def test_authentication_comes_before_routing(self, tenant: TenantHandle, prefix: str) -> None:
        anonymous = tenant.client_for(None)
        fails(anonymous.get(f"{prefix}/api-widgets"), 401, "UNAUTHORIZED")
        fails(anonymous.get(f"{prefix}/api-issues"), 401, "UNAUTHORIZED")
        fails(anonymous.request("TRACE", f"{prefix}/api-jobs"), 401, "UNAUTHORIZED")

    def test_the_id_syntax_comes_before_the_body(self, tenant: TenantHandle, prefix: str) -> None:
        fails(
            tenant.client.patch(f"{prefix}/api-jobs", params={"id": "bad"}, content=b"{bad"),
            400,
            "BAD_REQUEST",
            BAD_ID,
        )
        fails(
            tenant.client.patch(f"{prefix}/api-jobs", content=b"{bad"),
            400,
            "BAD_REQUEST",
            MISSING_ID,
        )

    def test_the_body_size_comes_before_json_syntax_and_query_syntax_before_size(
        self, small_body_server: LiveServer, tenant: TenantHandle, prefix: str
    ) -> None:
        client = httpx.Client(
            base_url=small_body_server.base_url,
            headers={"Authorization": f"Bearer {tenant.admin_key}"},
        )
        with client:
            fails(
                client.patch(
                    f"{prefix}/api-jobs",
                    params={"id": "bad"},
                    content=b"x" * (SMALL_BODY_LIMIT + 1),
                ),
                400,
                "BAD_REQUEST",
                BAD_ID,
            )

    def test_field_validation_comes_before_the_record_lookup(
        self, tenant: TenantHandle, prefix: str
    ) -> None:
        fails(
            tenant.client.patch(
                f"{prefix}/api-jobs", params={"id": str(uuid.uuid4())}, json={"priority": -1}
            ),
            422,
            "VALIDATION_ERROR",
        )
        fails(
            tenant.client.patch(
                f"{prefix}/api-jobs", params={"id": str(uuid.uuid4())}, json={"priority": 1}
            ),
            404,
            "NOT_FOUND",
        )

    def test_the_record_lookup_comes_before_references(
        self, tenant: TenantHandle, prefix: str
    ) -> None:
        fails(
            tenant.client.patch(
                f"{prefix}/api-jobs",
                params={"id": str(uuid.uuid4())},
                json={"current_cell_id": str(uuid.uuid4())},
            ),
            404,
            "NOT_FOUND",
        )

    def test_references_come_before_unique_conflicts(
        self, tenant: TenantHandle, prefix: str
    ) -> None:
        make_job(tenant.client, job_number="J-order")
        body = {"job_number": "J-order", "current_cell_id": str(uuid.uuid4())}
        fails(tenant.client.post(f"{prefix}/api-jobs", json=body), 422, "VALIDATION_ERROR")


class TestNeverA500:
    def test_errors_never_carry_sql_or_internal_names(
        self, tenant: TenantHandle, prefix: str
    ) -> None:
        make_job(tenant.client, job_number="J-sql")
        for resp in (
            tenant.client.post(f"{prefix}/api-jobs", json={"job_number": "J-sql"}),
            tenant.client.get(
                f"{prefix}/api-jobs", params={"search": "' OR 1=1 --", "job_number": "%'; select"}
            ),
            tenant.client.post(f"{prefix}/api-jobs", json={"job_number": "J-\u0000"}),
        ):
            assert resp.status_code < 500
            text = resp.text.lower()
            for leak in (
                "select ",
                "insert ",
                "sqlite",
                "psycopg",
                "uq_",
                "traceback",
                "constraint failed",
            ):
                assert leak not in text
