"""FrePPLe pulls against the fake server (spec §8.3–§8.6, §8.10; matrix rows 8–19)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from floorsync.planning.base import (
    EquipmentRef,
    EquipmentRole,
    MaterialDefinition,
    OrderStatus,
    PlanningProtocolError,
)
from tests.planning.conftest import Expect, MakeAdapter, MakeConfig
from tests.planning.fakes.frepple import FakeFrepple, operation, oplan, resource, seed_orders
from tests.planning.fakes.harness import FakeServer, Reply


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def queries(fake: FakeFrepple, label: str) -> list[dict[str, list[str]]]:
    return [r.query for r in fake.requests if r.label == label]


class TestAFullPull:
    def test_an_order_arrives_complete_with_exact_decimals_utc_times_and_its_steps_in_order(
        self, frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        data = frepple.data
        data.add_operation(operation("Cut", type="fixed_time", duration="00:45:00"))
        data.add_operation(
            operation("Weld", type="time_per", duration="00:10:00", duration_per="00:00:30")
        )
        data.add_mo(
            oplan(
                "MO-2026-0142",
                operation="Assemble frame",
                quantity="24.00000000",
                start="2026-06-01T07:30:00",
                end="2026-06-01T15:00:00",
                resources=["Assembly-2"],
                produces=("FRAME-XL", 24),
                consumes=[("TUBE-40x40", 48), ("BOLT-M8", 96)],
                demand="SO-88/1",
                batch="B-7",
                lastmodified="2026-05-28T16:12:40",
            )
        )
        data.add_wo(
            oplan(
                "MO-2026-0142-b",
                owner="MO-2026-0142",
                operation="Weld",
                quantity=24,
                start="2026-06-01T10:00:00",
                end="2026-06-01T14:00:00",
                resources=["Welder"],
            )
        )
        data.add_wo(
            oplan(
                "MO-2026-0142-a",
                owner="MO-2026-0142",
                operation="Cut",
                quantity=24,
                start="2026-06-01T07:30:00",
                end="2026-06-01T09:00:00",
                resources=["Laser"],
                lastmodified="2026-05-29T08:00:00",
            )
        )

        [order] = make_adapter(frepple_config()).pull_work_orders()

        assert order.external_id == order.number == "MO-2026-0142"
        assert order.product == MaterialDefinition("FRAME-XL", "FRAME-XL", "FRAME-XL", None)
        assert [m.code for m in order.consumed_materials] == ["TUBE-40x40", "BOLT-M8"]
        assert order.quantity_planned == Decimal("24")
        assert isinstance(order.quantity_planned, Decimal)
        assert order.quantity_completed is None
        assert order.planned_start == utc(2026, 6, 1, 5, 30)  # CEST is UTC+2
        assert order.planned_end == utc(2026, 6, 1, 13, 0)
        assert order.modified_at == utc(2026, 5, 28, 14, 12, 40)
        assert (order.due_at, order.priority, order.unit) == (None, 0, None)
        assert (order.lot, order.origin, order.operation_name) == (
            "B-7",
            "SO-88/1",
            "Assemble frame",
        )
        assert order.work_center == EquipmentRef("Assembly-2", "Assembly-2")
        assert (order.status, order.upstream_status) == (OrderStatus.RELEASED, "approved")
        first, second = order.job_orders
        assert (first.external_id, first.sequence, first.name) == ("MO-2026-0142-a", 10, "Cut")
        assert (second.external_id, second.sequence, second.name) == ("MO-2026-0142-b", 20, "Weld")
        assert first.work_order_id == "MO-2026-0142"
        assert first.work_center == EquipmentRef("Laser", "Laser")
        assert first.expected_minutes == Decimal(45)  # fixed_time: the duration
        assert second.expected_minutes == Decimal(10) + Decimal("0.5") * 24  # time_per
        assert first.modified_at == utc(2026, 5, 29, 6, 0)
        assert (first.actual_start, first.actual_end) == (None, None)

    def test_the_requests_are_the_status_list_the_steps_by_owner_and_the_operations_once(
        self, frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        seed_orders(frepple.data, 3, steps=2, work_centres=2)

        orders = make_adapter(frepple_config()).pull_work_orders()

        assert [o.external_id for o in orders] == ["MO-000000", "MO-000001", "MO-000002"]
        assert [len(o.job_orders) for o in orders] == [2, 2, 2]
        assert [(r.method, r.path, r.raw_query) for r in frepple.requests] == [
            ("GET", "/api/input/workorder/", "format=json&reference=__floorsync_probe__"),
            (
                "GET",
                "/api/input/manufacturingorder/",
                "format=json&status__in=approved,confirmed,completed",
            ),
            ("GET", "/api/input/workorder/", "format=json&owner__in=MO-000000,MO-000001,MO-000002"),
            ("GET", "/api/input/operation/", "format=json"),
        ]

    @pytest.mark.parametrize("count", [0, 1, 250])
    def test_every_order_is_pulled_with_owner_filters_in_chunks_of_a_hundred(
        self,
        count: int,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
    ) -> None:
        seed_orders(frepple.data, count, steps=1, work_centres=3)

        orders = make_adapter(frepple_config()).pull_work_orders()

        assert len(orders) == count
        chunks = [
            q["owner__in"][0].split(",")
            for q in queries(frepple, "GET workorder")
            if "owner__in" in q
        ]
        assert [len(c) for c in chunks] == {0: [], 1: [1], 250: [100, 100, 50]}[count]
        assert sorted(ref for chunk in chunks for ref in chunk) == [o.external_id for o in orders]

    def test_long_keys_make_smaller_chunks_so_no_query_passes_six_thousand_characters(
        self, frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        for n in range(90):
            frepple.data.add_mo(oplan(f"ORDER/{'x' * 90}/{n:03d}"))

        orders = make_adapter(frepple_config()).pull_work_orders()

        assert len(orders) == 90
        owner_queries = [r.raw_query for r in frepple.requests if "owner__in" in r.raw_query]
        assert len(owner_queries) > 1
        assert all(len(q) <= 6000 for q in owner_queries)

    def test_keys_with_slashes_and_spaces_are_percent_encoded_and_comma_keys_are_fetched_one_by_one(
        self, frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        for ref in ("MO/2026/001", "MO 2", "MO,3"):
            frepple.data.add_mo(oplan(ref))
            frepple.data.add_wo(oplan(f"{ref}-10", owner=ref))

        orders = make_adapter(frepple_config()).pull_work_orders()

        assert {o.external_id: [j.external_id for j in o.job_orders] for o in orders} == {
            "MO/2026/001": ["MO/2026/001-10"],
            "MO 2": ["MO 2-10"],
            "MO,3": ["MO,3-10"],
        }
        owner_queries = [r.raw_query for r in frepple.requests if "owner" in r.raw_query]
        assert sorted(owner_queries) == [
            "format=json&owner=MO%2C3",
            "format=json&owner__in=MO%2F2026%2F001,MO%202",
        ]

    def test_an_order_without_steps_becomes_its_own_single_step(
        self, frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        frepple.data.add_mo(
            oplan(
                "MO-9",
                operation="Paint",
                quantity=5,
                resources=["Booth"],
                start="2026-06-01T08:00:00",
                end="2026-06-01T09:30:00",
            )
        )

        [order] = make_adapter(frepple_config()).pull_work_orders()

        [step] = order.job_orders
        assert (step.external_id, step.work_order_id, step.sequence, step.name) == (
            "MO-9",
            "MO-9",
            10,
            "Paint",
        )
        assert step.work_center == EquipmentRef("Booth", "Booth")
        assert step.expected_minutes == Decimal(90)  # no operation record: end − start

    def test_a_record_without_optional_keys_takes_its_product_from_the_operation(
        self, frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        frepple.data.add_operation(operation("Make widget", item="WIDGET"))
        frepple.data.add_mo(
            {
                "reference": "MO-A",
                "status": "approved",
                "operation": "Make widget",
                "quantity": "3.00000000",
                "resources": [],
                "materials": [],
            }
        )
        frepple.data.add_mo(
            {
                "reference": "MO-B",
                "status": "confirmed",
                "operation": "Unknown op",
                "quantity": "1.00000000",
            }
        )

        a, b = make_adapter(frepple_config()).pull_work_orders()

        assert a.product == MaterialDefinition("WIDGET", "WIDGET", "WIDGET", None)
        assert (a.work_center, a.planned_start, a.modified_at) == (None, None, None)
        assert b.product is None
        assert b.consumed_materials == ()
        assert b.job_orders[0].expected_minutes is None

    def test_decimals_arrive_exact_whether_strings_numbers_or_null(
        self, frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        frepple.data.add_mo(oplan("MO-S", quantity="12.50000000", quantity_completed="0.10000000"))
        number = oplan("MO-N")
        number["quantity"] = 0.1  # a JSON number, which a float would not hold exactly
        number["quantity_completed"] = None
        frepple.data.add_mo(number)

        by_ref = {o.external_id: o for o in make_adapter(frepple_config()).pull_work_orders()}

        assert by_ref["MO-S"].quantity_planned == Decimal("12.5")
        assert by_ref["MO-S"].quantity_completed == Decimal("0.1")
        assert str(by_ref["MO-N"].quantity_planned) == "0.1"
        assert by_ref["MO-N"].quantity_completed is None

    def test_a_record_without_a_reference_or_with_an_unreadable_value_is_a_protocol_error(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        expect: Expect,
    ) -> None:
        frepple.data.add_mo(oplan("MO-1", start="yesterday"))

        error = expect(PlanningProtocolError, make_adapter(frepple_config()).pull_work_orders)

        assert "MO-1" in error.message
        assert "startdate" in error.message


class TestStatuses:
    @pytest.mark.parametrize(
        ("raw", "completed", "expected"),
        [
            ("proposed", None, OrderStatus.PLANNED),
            (None, None, OrderStatus.PLANNED),
            ("approved", None, OrderStatus.RELEASED),
            ("confirmed", "0", OrderStatus.RELEASED),
            ("approved", "2", OrderStatus.RUNNING),
            ("confirmed", "0.5", OrderStatus.RUNNING),
            ("completed", "10", OrderStatus.COMPLETED),
            ("closed", None, OrderStatus.CLOSED),
            ("on-hold", None, OrderStatus.RELEASED),  # unknown: released (the pull warns)
        ],
    )
    def test_every_upstream_status_of_a_step_maps_to_its_order_status(
        self,
        raw: str | None,
        completed: str | None,
        expected: OrderStatus,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
    ) -> None:
        frepple.data.add_mo(oplan("MO-1"))
        frepple.data.add_wo(
            oplan("MO-1-10", owner="MO-1", status=raw, quantity_completed=completed)
        )

        [order] = make_adapter(frepple_config()).pull_work_orders()

        [step] = order.job_orders
        assert (step.status, step.upstream_status) == (expected, raw or "null")

    def test_orders_of_every_configured_status_map_like_their_steps(
        self, frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        for n, status in enumerate(("proposed", "approved", "confirmed", "completed", "closed")):
            frepple.data.add_mo(oplan(f"MO-{n}", status=status))
        frepple.data.add_mo(oplan("MO-R", status="confirmed", quantity_completed="3"))
        every = ["proposed", "approved", "confirmed", "completed", "closed"]

        orders = make_adapter(frepple_config(statuses=every)).pull_work_orders()

        assert [o.status for o in orders] == [
            OrderStatus.PLANNED,
            OrderStatus.RELEASED,
            OrderStatus.RELEASED,
            OrderStatus.COMPLETED,
            OrderStatus.CLOSED,
            OrderStatus.RUNNING,
        ]
        assert frepple.requests[1].raw_query == (
            "format=json&status__in=proposed,approved,confirmed,completed,closed"
        )


class TestTimeZones:
    @pytest.mark.parametrize(
        ("local", "expected"),
        [
            ("2026-01-15T10:00:00", utc(2026, 1, 15, 9, 0)),  # winter, UTC+1
            ("2026-07-15T10:00:00", utc(2026, 7, 15, 8, 0)),  # summer, UTC+2
            ("2026-03-29T02:30:00", utc(2026, 3, 29, 1, 30)),  # spring gap: read as 03:30 CEST
            ("2026-10-25T02:30:00", utc(2026, 10, 25, 0, 30)),  # autumn overlap: first occurrence
            ("2026-10-25T02:30:00.250000", utc(2026, 10, 25, 0, 30, 0, 250000)),
            ("2026-07-15 10:00:00", utc(2026, 7, 15, 8, 0)),  # a space instead of T
            ("2026-07-15T10:00:00+00:00", utc(2026, 7, 15, 10, 0)),  # an offset is honoured
        ],
    )
    def test_naive_server_times_become_utc_by_the_dst_rules(
        self,
        local: str,
        expected: datetime,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
    ) -> None:
        frepple.data.add_mo(oplan("MO-1", start=local, end=None, lastmodified=local))

        [order] = make_adapter(frepple_config()).pull_work_orders()

        assert order.planned_start == expected
        assert order.modified_at == expected
        assert order.planned_start.tzinfo is UTC  # type: ignore[union-attr]


class TestIncrementalPulls:
    def test_only_a_changed_step_brings_in_its_whole_order_with_naive_local_filters(
        self, frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        old = "2026-05-01T08:00:00"
        frepple.data.add_mo(oplan("MO-1", lastmodified=old))
        frepple.data.add_wo(oplan("MO-1-10", owner="MO-1", lastmodified=old))
        frepple.data.add_wo(
            oplan(
                "MO-1-20",
                owner="MO-1",
                lastmodified="2026-05-30T10:15:00",
                start="2026-06-01T16:00:00",
                end="2026-06-01T17:00:00",
            )
        )
        frepple.data.add_mo(oplan("MO-2", lastmodified=old))
        adapter = make_adapter(frepple_config())

        [order] = adapter.pull_work_orders(since=utc(2026, 5, 30, 8, 0))  # 10:00 in Amsterdam

        assert order.external_id == "MO-1"
        assert [j.external_id for j in order.job_orders] == ["MO-1-10", "MO-1-20"]
        assert [r.raw_query for r in frepple.requests[1:]] == [
            "format=json&status__in=approved,confirmed,completed,closed"
            "&lastmodified__gte=2026-05-30T10%3A00%3A00",
            "format=json&lastmodified__gte=2026-05-30T10%3A00%3A00",
            "format=json&reference__in=MO-1",
            "format=json&owner__in=MO-1",
            "format=json",
        ]

    def test_closed_orders_come_in_but_proposals_do_not(
        self, frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        new = "2026-05-30T11:00:00"
        frepple.data.add_mo(oplan("MO-C", status="closed", lastmodified=new))
        frepple.data.add_mo(oplan("MO-P", status="proposed", lastmodified="2026-05-01T00:00:00"))
        frepple.data.add_wo(oplan("MO-P-10", owner="MO-P", status="proposed", lastmodified=new))

        orders = make_adapter(frepple_config()).pull_work_orders(since=utc(2026, 5, 30, 8, 0))

        assert [(o.external_id, o.status) for o in orders] == [("MO-C", OrderStatus.CLOSED)]

    def test_before_9_13_steps_come_from_the_order_endpoint_and_are_not_counted_as_orders(
        self, frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        frepple.workorder_endpoint = False
        seed_orders(frepple.data, 2, steps=3, work_centres=2, workorder_endpoint=False)

        full = make_adapter(frepple_config()).pull_work_orders()
        frepple.clear_log()
        changed = make_adapter(frepple_config()).pull_work_orders(since=utc(2026, 5, 1))

        for orders in (full, changed):
            assert [o.external_id for o in orders] == ["MO-000000", "MO-000001"]
            assert [len(o.job_orders) for o in orders] == [3, 3]
        assert all(r.path != "/api/input/workorder/" for r in frepple.requests[1:])
        assert any("owner__in=MO-000000,MO-000001" in r.raw_query for r in frepple.requests)

    def test_a_9_13_server_with_children_in_the_order_endpoint_does_not_count_them_as_orders(
        self, frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        frepple.data.add_mo(oplan("MO-1"))
        frepple.data.add_mo(oplan("MO-1.1", owner="MO-1"))
        frepple.data.add_wo(oplan("MO-1-10", owner="MO-1"))

        [order] = make_adapter(frepple_config()).pull_work_orders()

        assert order.external_id == "MO-1"
        assert {j.external_id for j in order.job_orders} == {"MO-1.1", "MO-1-10"}

    def test_a_naive_since_is_a_programming_error(
        self, frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            make_adapter(frepple_config()).pull_work_orders(since=datetime(2026, 5, 1))  # noqa: DTZ001
        assert frepple.requests == []


class TestPagination:
    def test_an_envelope_is_followed_to_the_end(
        self, frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        frepple.paginate, frepple.page_size = "envelope", 2
        seed_orders(frepple.data, 5, steps=1, work_centres=1)

        orders = make_adapter(frepple_config()).pull_work_orders()

        assert [o.external_id for o in orders] == [f"MO-00000{n}" for n in range(5)]
        pages = [
            r.query.get("page", ["1"])[0]
            for r in frepple.requests
            if r.label == "GET manufacturingorder"
        ]
        assert pages == ["1", "2", "3"]

    def test_a_next_link_that_loops_is_a_protocol_error(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        expect: Expect,
    ) -> None:
        frepple.paginate = "loop"
        seed_orders(frepple.data, 5, steps=1, work_centres=1)

        error = expect(PlanningProtocolError, make_adapter(frepple_config()).pull_work_orders)

        assert "loop" in error.message
        assert len([r for r in frepple.requests if r.label == "GET manufacturingorder"]) == 2

    def test_a_next_link_to_another_host_is_refused_and_gets_no_credentials(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        expect: Expect,
    ) -> None:
        with _Elsewhere() as elsewhere:
            frepple.paginate, frepple.foreign_base = "foreign", elsewhere.base_url
            seed_orders(frepple.data, 5, steps=1, work_centres=1)

            error = expect(PlanningProtocolError, make_adapter(frepple_config()).pull_work_orders)

            assert "leaves the base URL's host" in error.message
            assert elsewhere.requests == []

    def test_more_pages_than_the_cap_allows_is_a_protocol_error(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        expect: Expect,
    ) -> None:
        frepple.paginate, frepple.page_size = "envelope", 1
        seed_orders(frepple.data, 4, steps=1, work_centres=1)

        error = expect(
            PlanningProtocolError,
            make_adapter(frepple_config(max_records_per_pull=3)).pull_work_orders,
        )

        assert "max_records_per_pull = 3" in error.message

    def test_any_other_top_level_shape_is_a_protocol_error(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        expect: Expect,
    ) -> None:
        frepple.fault("status", status=200, body=b'{"detail": "odd"}')

        error = expect(PlanningProtocolError, make_adapter(frepple_config()).pull_resources)

        assert "unexpected list shape" in error.message


class TestCaps:
    def test_more_work_orders_than_max_records_per_pull_is_a_protocol_error(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        expect: Expect,
    ) -> None:
        seed_orders(frepple.data, 6, steps=2, work_centres=1)

        error = expect(
            PlanningProtocolError,
            make_adapter(frepple_config(max_records_per_pull=5)).pull_work_orders,
        )

        assert "max_records_per_pull = 5" in error.message

    def test_the_cap_counts_work_orders_not_their_steps(
        self, frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        seed_orders(frepple.data, 5, steps=3, work_centres=1)

        orders = make_adapter(frepple_config(max_records_per_pull=5)).pull_work_orders()

        assert sum(len(o.job_orders) for o in orders) == 15


class TestResources:
    def test_resources_become_work_centres_tooling_or_personnel_by_their_categories(
        self, frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        data = frepple.data
        data.add_resource(
            resource(
                "Laser 1",
                category="machine",
                maximum="2.5",
                location="Hall A",
                description="Trumpf",
                owner="Cutting",
            )
        )
        data.add_resource(resource("Die 40", category="Press", subcategory="Mould set"))
        data.add_resource(resource("Welders", category="Labour pool", subcategory="tooling"))
        data.add_resource(resource("Cutting"))

        by_name = {e.external_id: e for e in make_adapter(frepple_config()).pull_resources()}

        laser = by_name["Laser 1"]
        assert laser.role is EquipmentRole.WORK_CENTER
        assert (laser.name, laser.description, laser.category, laser.location) == (
            "Laser 1",
            "Trumpf",
            "machine",
            "Hall A",
        )
        assert laser.capacity == Decimal("2.5")
        assert (laser.parent_external_id, laser.active, laser.code) == ("Cutting", True, None)
        assert laser.modified_at == utc(2026, 5, 1, 7, 0)
        assert by_name["Die 40"].role is EquipmentRole.TOOLING
        assert by_name["Welders"].role is EquipmentRole.PERSONNEL  # personnel words win
        assert [r.raw_query for r in frepple.requests] == ["format=json"]

    def test_the_category_words_come_from_the_connection_settings(
        self, frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        frepple.data.add_resource(resource("Jig 7", category="Jig"))

        [jig] = make_adapter(frepple_config(tooling_categories=["JIG"])).pull_resources()

        assert jig.role is EquipmentRole.TOOLING


class _Elsewhere(FakeServer):
    """Another host: records what reaches it and answers an empty list."""

    def handle(self, request):  # type: ignore[no-untyped-def]
        return Reply(200, b"[]")
