"""Integers from outside never overflow a database integer (issue 8, item 5), on SQLite and
PostgreSQL alike: each is a precise 4xx naming where it came from, or is kept in range.

Were 500s: a change-feed cursor past 2^63 − 1 (`bigint out of range` / OverflowError), a huge
`offset` on `GET /api-erp-sync/status`, quantities whose sum left the 32-bit column, an
automatic `sequence` after 2147483647, time entries whose minutes or pause seconds left their
32-bit columns, and an operation's `actual_time` summed past it (PostgreSQL; SQLite stored
values PostgreSQL refuses).
"""

import base64
from typing import Any

import httpx
import pytest

from floorsync.entities.fields import INT32_MAX, Kind
from floorsync.entities.listing import MAX_OFFSET
from floorsync.entities.registry import BY_NAME
from tests.support.api import detail, fails, invalid, make_tree, ok, suffix
from tests.support.tenants import TenantHandle

HUGE = ["2147483648", "9223372036854775807", "9223372036854775808", "18446744073709551616"]
HUGE += ["100000000000000000000", "-9223372036854775809"]
LISTS = [
    "/api-jobs",
    "/api-parts",
    "/api-operations",
    "/api-cells",
    "/api-resources",
    "/api-materials",
    "/api-batches",
    "/api-time-entries",
    "/api-assignments",
    "/api-operation-quantities",
    "/api-operators",
    "/api-key-generate",
    "/api-webhooks",
    "/api-webhook-logs",
    "/api-erp-sync/status",
    "/api-events",
]


def cursor(position: str) -> str:
    return base64.urlsafe_b64encode(f"seq:{position}".encode()).decode().rstrip("=")


def one_op(client: httpx.Client) -> str:
    return str(make_tree(client, parts=1, ops=1)["parts"][0]["operations"][0]["id"])


class TestQueryIntegers:
    @pytest.mark.parametrize("position", ["9223372036854775808", "9999999999999999999"])
    def test_a_cursor_past_the_largest_sequence_is_400_malformed_cursor(
        self, tenant: TenantHandle, position: str
    ) -> None:
        error = fails(
            tenant.client.get("/api-events", params={"after": cursor(position)}), 400, "BAD_REQUEST"
        )
        assert error["message"].startswith("Malformed cursor")
        assert detail(error, "after")["constraint"] == "INVALID_VALUE"

    def test_the_largest_sequence_itself_is_a_cursor_with_nothing_after_it(
        self, tenant: TenantHandle
    ) -> None:
        page = ok(tenant.client.get("/api-events", params={"after": cursor(str(2**63 - 1))}))
        assert page["events"] == []

    @pytest.mark.parametrize("value", HUGE)
    def test_limit_and_offset_of_every_list_never_reach_the_database_out_of_range(
        self, tenant: TenantHandle, value: str
    ) -> None:
        for path in LISTS:
            for name in ("limit", "offset"):
                resp = tenant.client.get(path, params={name: value})
                assert resp.status_code in (200, 400), (path, name, resp.text)
                if resp.status_code == 400:
                    assert detail(resp.json()["error"], name)

    def test_an_offset_past_the_maximum_is_400_naming_it(self, tenant: TenantHandle) -> None:
        for path in ("/api-jobs", "/api-erp-sync/status", "/api-time-entries"):
            error = fails(
                tenant.client.get(path, params={"offset": str(MAX_OFFSET + 1)}), 400, "BAD_REQUEST"
            )
            assert detail(error, "offset")["constraint"] == "MAX_VALUE"
            assert ok(tenant.client.get(path, params={"offset": str(MAX_OFFSET)}))

    def test_a_negative_sync_history_offset_is_400_naming_it(self, tenant: TenantHandle) -> None:
        error = fails(
            tenant.client.get("/api-erp-sync/status", params={"offset": "-9223372036854775809"}),
            400,
            "BAD_REQUEST",
        )
        assert detail(error, "offset")["constraint"] == "MIN_VALUE"

    @pytest.mark.parametrize(
        ("path", "name"),
        [
            ("/api-jobs", "priority"),
            ("/api-cells", "sequence"),
            ("/api-webhook-logs", "status_code"),
        ],
    )
    def test_integer_filters_out_of_range_are_400_naming_the_filter(
        self, tenant: TenantHandle, path: str, name: str
    ) -> None:
        for value in HUGE:
            resp = tenant.client.get(path, params={name: value})
            if resp.status_code == 200:  # not a filter of this list: ignored
                continue
            assert detail(fails(resp, 400, "BAD_REQUEST"), name)


def _integer_fields() -> list[tuple[str, str]]:
    return [
        (entity, f.name)
        for entity, spec in sorted(BY_NAME.items())
        for f in spec.fields
        if f.kind is Kind.integer and not f.read_only
    ]


class TestBodyIntegers:
    @pytest.mark.parametrize(("entity", "name"), _integer_fields())
    def test_every_integer_field_refuses_values_its_column_can_not_hold(
        self, tenant: TenantHandle, entity: str, name: str
    ) -> None:
        path = "/api-" + entity.replace("_", "-")
        for value in (INT32_MAX + 1, 2**63, 2**64, 10**30, -(2**63) - 1):
            resp = tenant.client.post(path, json={name: value})
            item = detail(fails(resp, 422, "VALIDATION_ERROR"), name)
            assert item["constraint"] in ("MAX_VALUE", "MIN_VALUE"), item

    def test_quantities_whose_sum_leaves_the_integer_range_are_422(
        self, tenant: TenantHandle
    ) -> None:
        op = one_op(tenant.client)
        body = {"operation_id": op, "quantity_good": INT32_MAX, "quantity_scrap": 1}
        invalid(
            tenant.client.post("/api-operation-quantities", json=body),
            "quantity_produced",
            "MAX_VALUE",
        )
        rec = ok(
            tenant.client.post(
                "/api-operation-quantities", json={"operation_id": op, "quantity_good": INT32_MAX}
            ),
            201,
        )
        q = rec["operation_quantity"]
        assert q["quantity_produced"] == INT32_MAX
        invalid(
            tenant.client.patch(
                "/api-operation-quantities", params={"id": q["id"]}, json={"quantity_rework": 1}
            ),
            "quantity_produced",
            "MAX_VALUE",
        )


class TestDerivedIntegers:
    def test_an_automatic_cell_sequence_after_the_largest_one_stays_in_range(
        self, tenant: TenantHandle
    ) -> None:
        c = tenant.client
        ok(c.post("/api-cells", json={"name": f"C-{suffix()}", "sequence": INT32_MAX}), 201)
        assert (
            ok(c.post("/api-cells", json={"name": f"C-{suffix()}"}), 201)["cell"]["sequence"]
            == INT32_MAX
        )
        synced = ok(
            c.put(
                "/api-cells/sync",
                json={
                    "name": f"C-{suffix()}",
                    "external_id": f"E-{suffix()}",
                    "external_source": "ERP",
                },
            ),
            201,
        )
        assert synced["cell"]["sequence"] == INT32_MAX
        items = [
            {"name": f"C-{suffix()}", "external_id": f"E-{suffix()}", "external_source": "ERP"}
            for _ in range(3)
        ]
        data = ok(c.post("/api-cells/bulk-sync", json={"items": items}))
        assert data["created"] == 3, data["records"]
        listed = ok(c.get("/api-cells", params={"limit": 10}))["cells"]
        assert [cell["sequence"] for cell in listed] == [INT32_MAX] * 6

    def test_an_automatic_operation_sequence_after_the_largest_one_stays_in_range(
        self, tenant: TenantHandle
    ) -> None:
        c = tenant.client
        part = make_tree(c, parts=1, ops=0)["parts"][0]["id"]
        ok(
            c.post(
                "/api-operations",
                json={"part_id": part, "operation_name": "Last", "sequence": INT32_MAX},
            ),
            201,
        )
        op = ok(c.post("/api-operations", json={"part_id": part, "operation_name": "After"}), 201)
        assert op["operation"]["sequence"] == INT32_MAX

    def test_a_time_entry_longer_than_its_minutes_column_holds_is_422(
        self, tenant: TenantHandle
    ) -> None:
        c = tenant.client
        op = one_op(c)
        body = {
            "operation_id": op,
            "operator_id": "A",
            "start_time": "0001-01-01T00:00:00Z",
            "end_time": "9999-12-31T00:00:00Z",
        }
        invalid(c.post("/api-time-entries", json=body), "end_time", "MAX_VALUE")
        entry = ok(c.post("/api-time-entries", json={**body, "end_time": None}), 201)["time_entry"]
        invalid(
            c.patch(
                "/api-time-entries",
                params={"id": entry["id"]},
                json={"end_time": "9999-12-31T00:00:00Z"},
            ),
            "end_time",
            "MAX_VALUE",
        )

    def test_closing_a_pause_longer_than_its_seconds_column_holds_is_422(
        self, tenant: TenantHandle
    ) -> None:
        c = tenant.client
        entry = ok(
            c.post("/api-time-entries", json={"operation_id": one_op(c), "operator_id": "A"}), 201
        )["time_entry"]
        ok(c.patch("/api-time-entries", params={"id": entry["id"]}, json={"is_paused": True}))
        # 100 years of pause: fine as minutes of the entry, too many seconds for the pause.
        invalid(
            c.patch(
                "/api-time-entries",
                params={"id": entry["id"]},
                json={"end_time": "2126-01-01T00:00:00Z"},
            ),
            "end_time",
            "MAX_VALUE",
        )
        still = ok(c.get("/api-time-entries", params={"id": entry["id"]}))["time_entry"]
        assert (still["end_time"], still["is_paused"]) == (None, True)

    def test_an_operations_actual_time_saturates_at_its_columns_maximum(
        self, tenant: TenantHandle
    ) -> None:
        c = tenant.client
        op = one_op(c)
        for operator in ("A", "B"):  # two entries of about 2.1 billion minutes each
            body: dict[str, Any] = {
                "operation_id": op,
                "operator_id": operator,
                "start_time": "0001-01-01T00:00:00Z",
                "end_time": "4000-01-01T00:00:00Z",
            }
            ok(c.post("/api-time-entries", json=body), 201)
        assert (
            ok(c.get("/api-operations", params={"id": op}))["operation"]["actual_time"] == INT32_MAX
        )
