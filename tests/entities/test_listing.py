"""List features (API §1.15): pagination, sort and order, escaped search, exact and fuzzy
filters, date ranges and include_deleted, for every entity's options."""

from typing import Any

import pytest

from tests.support.api import (
    create,
    make_cell,
    make_job,
    make_material,
    make_operation,
    make_part,
    make_resource,
    ok,
)
from tests.support.tenants import TenantHandle


def listed(tenant: TenantHandle, entity: str, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = ok(tenant.client.get(f"/api-{entity}", params=params))[entity]
    return rows


def numbers(tenant: TenantHandle, **params: Any) -> list[str]:
    return [j["job_number"] for j in listed(tenant, "jobs", **params)]


class TestPagination:
    def test_limit_and_offset_page_through_an_exact_total(self, tenant: TenantHandle) -> None:
        for i in range(5):
            make_cell(tenant.client, name=f"C{i}")
        page = ok(tenant.client.get("/api-cells", params={"limit": 2, "offset": 1}))
        assert [c["name"] for c in page["cells"]] == ["C1", "C2"]
        assert page["pagination"] == {"total": 5, "offset": 1, "limit": 2}
        beyond = ok(tenant.client.get("/api-cells", params={"offset": 10}))
        assert (beyond["cells"], beyond["pagination"]["total"]) == ([], 5)

    @pytest.mark.parametrize(
        ("given", "effective"), [("0", 1), ("-5", 1), ("5000", 1000), (" 3 ", 3), ("+2", 2)]
    )
    def test_limit_is_clamped_to_1_1000(
        self, tenant: TenantHandle, given: str, effective: int
    ) -> None:
        assert (
            ok(tenant.client.get("/api-jobs", params={"limit": given}))["pagination"]["limit"]
            == effective
        )

    def test_paging_is_stable_when_sort_keys_tie(self, tenant: TenantHandle) -> None:
        ids = {make_job(tenant.client, priority=1)["id"] for _ in range(6)}
        for order in ("asc", "desc"):
            seen = [
                j["id"]
                for offset in range(6)
                for j in listed(
                    tenant, "jobs", sort="priority", order=order, limit=1, offset=offset
                )
            ]
            assert sorted(seen) == sorted(ids)


class TestSorting:
    def test_default_orders(self, tenant: TenantHandle) -> None:
        first, second = make_job(tenant.client), make_job(tenant.client)
        assert [j["id"] for j in listed(tenant, "jobs")] == [
            second["id"],
            first["id"],
        ]  # created_at desc
        part = make_part(tenant.client)
        b = make_operation(tenant.client, part["id"], sequence=2)
        a = make_operation(tenant.client, part["id"], sequence=1)
        assert [o["id"] for o in listed(tenant, "operations", part_id=part["id"])] == [
            a["id"],
            b["id"],
        ]
        for name in ("b", "a", "c"):
            make_resource(tenant.client, name=name)
            make_material(tenant.client, name=name)
        assert [r["name"] for r in listed(tenant, "resources")] == ["a", "b", "c"]
        assert [m["name"] for m in listed(tenant, "materials")] == ["a", "b", "c"]
        make_cell(tenant.client, name="z", sequence=1)
        make_cell(tenant.client, name="y", sequence=1)
        make_cell(tenant.client, name="x", sequence=2)
        assert [c["name"] for c in listed(tenant, "cells")] == [
            "y",
            "z",
            "x",
        ]  # sequence, then name

    def test_sort_and_order_are_applied_and_order_is_case_insensitive(
        self, tenant: TenantHandle
    ) -> None:
        for n in ("J-b", "J-a", "J-c"):
            make_job(tenant.client, job_number=n)
        assert numbers(tenant, sort="job_number") == [
            "J-c",
            "J-b",
            "J-a",
        ]  # the entity's default order (desc)
        assert numbers(tenant, sort="job_number", order="ASC") == ["J-a", "J-b", "J-c"]
        assert numbers(tenant, sort=" job_number ", order=" Desc ") == ["J-c", "J-b", "J-a"]

    def test_decimals_sort_numerically_on_every_database(self, tenant: TenantHandle) -> None:
        for thickness in ("10", "9.5", "100", "0.75"):
            make_material(tenant.client, thickness=thickness)
        assert [
            m["thickness"] for m in listed(tenant, "materials", sort="thickness", order="asc")
        ] == [0.75, 9.5, 10, 100]

    @pytest.mark.parametrize(
        ("entity", "fields"),
        [
            (
                "jobs",
                [
                    "job_number",
                    "customer",
                    "due_date",
                    "priority",
                    "status",
                    "created_at",
                    "updated_at",
                ],
            ),
            (
                "parts",
                ["part_number", "material", "quantity", "status", "created_at", "updated_at"],
            ),
            (
                "operations",
                [
                    "sequence",
                    "operation_name",
                    "status",
                    "estimated_time",
                    "actual_time",
                    "planned_start",
                    "created_at",
                    "updated_at",
                ],
            ),
            ("cells", ["name", "sequence", "created_at", "updated_at"]),
            ("resources", ["name", "type", "status", "created_at", "updated_at"]),
            ("materials", ["code", "name", "grade", "thickness", "created_at", "updated_at"]),
        ],
    )
    def test_every_sortable_field_sorts(
        self, tenant: TenantHandle, entity: str, fields: list[str]
    ) -> None:
        make_operation(tenant.client)
        make_cell(tenant.client)
        make_resource(tenant.client)
        make_material(tenant.client)
        for field in fields:
            for order in ("asc", "desc"):
                assert listed(tenant, entity, sort=field, order=order)


class TestSearch:
    def test_search_is_a_case_insensitive_substring_over_the_search_fields(
        self, tenant: TenantHandle
    ) -> None:
        make_job(tenant.client, job_number="SO-1001", customer="ACME Corp")
        make_job(
            tenant.client,
            job_number="SO-2002",
            customer="Globex",
            external_id="ERP-acme-7",
            external_source="SAP",
        )
        make_job(tenant.client, job_number="SO-3003", notes="acme in notes is not searched")
        assert sorted(numbers(tenant, search="acme")) == ["SO-1001", "SO-2002"]
        assert numbers(tenant, search="o-100") == ["SO-1001"]

    @pytest.mark.parametrize(
        ("term", "expected"),
        [
            ("%", ["A%B"]),
            ("_", ["A_B"]),
            ("\\", ["A\\B"]),
            ("A%", ["A%B"]),
            ("'", ["A'B"]),
            ("*", []),
            ("A_", ["A_B"]),
        ],
    )
    def test_like_wildcards_and_quotes_match_themselves(
        self, tenant: TenantHandle, term: str, expected: list[str]
    ) -> None:
        for n in ("A%B", "A_B", "AxB", "A\\B", "A'B"):
            make_job(tenant.client, job_number=n)
        assert numbers(tenant, search=term) == expected
        assert numbers(tenant, job_number=term) == expected

    def test_search_is_and_ed_with_filters_and_200_characters_are_allowed(
        self, tenant: TenantHandle
    ) -> None:
        make_job(tenant.client, job_number="X-1", status="on_hold")
        make_job(tenant.client, job_number="X-2")
        assert numbers(tenant, search="X-", status="on_hold") == ["X-1"]
        assert numbers(tenant, search="x" * 200) == []

    @pytest.mark.parametrize(
        ("entity", "factory_field", "term"),
        [
            ("parts", "drawing_no", "dwg-77"),
            ("parts", "material", "s235"),
            ("operations", "notes", "deburr"),
            ("cells", "description", "corner"),
            ("resources", "identifier", "sn-9"),
            ("materials", "grade", "aisi"),
        ],
    )
    def test_each_entity_searches_its_own_fields(
        self, tenant: TenantHandle, entity: str, factory_field: str, term: str
    ) -> None:
        factories = {
            "parts": make_part,
            "operations": make_operation,
            "cells": make_cell,
            "resources": make_resource,
            "materials": make_material,
        }
        hit = factories[entity](tenant.client, **{factory_field: f"xx {term.upper()} yy"})
        factories[entity](tenant.client)
        assert [r["id"] for r in listed(tenant, entity, search=term)] == [hit["id"]]


class TestFilters:
    def test_job_filters(self, tenant: TenantHandle) -> None:
        cell = make_cell(tenant.client)
        a = make_job(
            tenant.client,
            job_number="F-a",
            customer="Acme BV",
            status="in_progress",
            priority=5,
            current_cell_id=cell["id"],
            external_id="SO-1",
            external_source="SAP",
            due_date="2026-06-15T10:00:00Z",
        )
        make_job(tenant.client, job_number="F-b", customer="Globex", due_date="2026-06-16")
        for params in (
            {"status": "in_progress"},
            {"priority": "5"},
            {"current_cell_id": cell["id"].upper()},
            {"external_source": "SAP"},
            {"external_id": "SO-1"},
            {"job_number": "f-A"},
            {"customer": "cme b"},
            {"due_date_from": "2026-06-15", "due_date_to": "2026-06-15"},
            {"due_date_to": "2026-06-15T10:00:00Z"},
            {"due_date_from": "2026-06-15T10:00:00Z", "due_date_to": "2026-06-15T23:00:00+05:00"},
        ):
            assert [j["id"] for j in listed(tenant, "jobs", **params)] == [a["id"]], params
        assert numbers(tenant, due_date_from="2026-06-16") == ["F-b"]
        assert numbers(tenant, external_id="SO") == []  # exact, not substring

    def test_part_filters(self, tenant: TenantHandle) -> None:
        material = make_material(tenant.client, code="M1")
        job = make_job(tenant.client)
        parent = make_part(tenant.client, job["id"], part_number="PARENT")
        child = make_part(
            tenant.client,
            job["id"],
            part_number="Child-1",
            parent_part_id=parent["id"],
            material_id=material["id"],
            status="on_hold",
            drawing_no="DWG-1",
            external_id="L-1",
            external_source="SAP",
        )
        make_part(tenant.client)
        assert {p["id"] for p in listed(tenant, "parts", job_id=job["id"])} == {
            parent["id"],
            child["id"],
        }
        for params in (
            {"status": "on_hold"},
            {"material_id": material["id"]},
            {"parent_part_id": parent["id"]},
            {"external_id": "L-1"},
            {"external_source": "SAP"},
            {"part_number": "child"},
            {"material": "m1"},
            {"drawing_no": "dwg"},
        ):
            assert [p["id"] for p in listed(tenant, "parts", **params)] == [child["id"]], params

    def test_operation_filters(self, tenant: TenantHandle) -> None:
        cell = make_cell(tenant.client)
        job = make_job(tenant.client)
        part = make_part(tenant.client, job["id"])
        op = make_operation(
            tenant.client,
            part["id"],
            operation_name="Laser cut",
            cell_id=cell["id"],
            status="completed",
            assigned_operator_id="badge-1",
            external_id="R-1",
            external_source="SAP",
        )
        make_operation(tenant.client, part["id"], operation_name="Bend")
        make_operation(tenant.client)
        assert len(listed(tenant, "operations", job_id=job["id"])) == 2
        assert len(listed(tenant, "operations", part_id=part["id"])) == 2
        for params in (
            {"cell_id": cell["id"]},
            {"status": "completed"},
            {"assigned_operator_id": "badge-1"},
            {"external_id": "R-1"},
            {"external_source": "SAP"},
            {"operation_name": "LASER"},
            {"job_id": job["id"], "status": "completed"},
        ):
            assert [o["id"] for o in listed(tenant, "operations", **params)] == [op["id"]], params

    def test_cell_resource_and_material_filters(self, tenant: TenantHandle) -> None:
        off = make_cell(tenant.client, name="Saw hall", active=False)
        make_cell(tenant.client, name="Laser")
        assert [c["id"] for c in listed(tenant, "cells", active="false")] == [off["id"]]
        assert [c["id"] for c in listed(tenant, "cells", name="saw")] == [off["id"]]
        tool = make_resource(
            tenant.client,
            name="Die 7",
            type="tooling",
            status="maintenance",
            location="Rack B",
            active=False,
        )
        make_resource(tenant.client, name="Press", type="machine", location="Hall A")
        for params in (
            {"type": "tooling"},
            {"status": "maintenance"},
            {"active": "false"},
            {"name": "die"},
            {"location": "rack"},
        ):
            assert [r["id"] for r in listed(tenant, "resources", **params)] == [tool["id"]], params
        steel = make_material(
            tenant.client,
            code="S235",
            name="Steel sheet",
            grade="S235JR",
            unit="sheet",
            external_id="MAT-1",
            external_source="SAP",
        )
        make_material(tenant.client, code="AL", name="Alu", active=False)
        for params in (
            {"code": "S235"},
            {"grade": "S235JR"},
            {"unit": "sheet"},
            {"active": "true"},
            {"name": "steel"},
            {"external_id": "MAT-1"},
        ):
            assert [m["id"] for m in listed(tenant, "materials", **params)] == [steel["id"]], params

    def test_include_deleted_lists_soft_deleted_rows_with_deleted_at(
        self, tenant: TenantHandle
    ) -> None:
        kept, gone = make_job(tenant.client), make_job(tenant.client)
        ok(tenant.client.delete("/api-jobs", params={"id": gone["id"]}))
        assert [j["id"] for j in listed(tenant, "jobs")] == [kept["id"]]
        rows = listed(tenant, "jobs", include_deleted="true")
        assert {j["id"]: j["deleted_at"] is not None for j in rows} == {
            kept["id"]: False,
            gone["id"]: True,
        }
        assert (
            ok(tenant.client.get("/api-jobs", params={"include_deleted": "false"}))["pagination"][
                "total"
            ]
            == 1
        )

    def test_a_filter_value_can_not_change_the_query(self, tenant: TenantHandle) -> None:
        make_job(tenant.client, job_number="safe", customer="x")
        for value in ("' OR '1'='1", '" OR 1=1 --', "x') OR ('1'='1", "%' --"):
            assert listed(tenant, "jobs", customer=value) == []
            assert listed(tenant, "jobs", external_id=value) == []


def test_records_created_in_one_body_list_in_input_order_by_sequence(tenant: TenantHandle) -> None:
    part = create(
        tenant.client,
        "parts",
        {
            "job_id": make_job(tenant.client)["id"],
            "part_number": "P",
            "operations": [{"operation_name": n} for n in "abc"],
        },
    )
    assert [o["operation_name"] for o in listed(tenant, "operations", part_id=part["id"])] == [
        "a",
        "b",
        "c",
    ]


def test_records_without_the_sort_value_come_last_in_both_directions(tenant: TenantHandle) -> None:
    make_job(tenant.client, job_number="none")
    make_job(tenant.client, job_number="early", due_date="2026-01-01")
    make_job(tenant.client, job_number="late", due_date="2026-12-01")
    assert numbers(tenant, sort="due_date", order="asc") == ["early", "late", "none"]
    assert numbers(tenant, sort="due_date", order="desc") == ["late", "early", "none"]


@pytest.mark.parametrize(
    ("value", "constraint"), [("99999999999", "MAX_VALUE"), ("-99999999999", "MIN_VALUE")]
)
def test_an_integer_filter_out_of_range_names_the_bound_it_broke(
    tenant: TenantHandle, value: str, constraint: str
) -> None:
    response = tenant.client.get("/api-jobs", params={"priority": value})
    assert response.status_code == 400
    assert response.json()["error"]["details"][0] == {
        "field": "priority",
        "message": "priority is out of range",
        "constraint": constraint,
        "value": value,
    }
