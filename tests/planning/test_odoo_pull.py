"""Odoo pulls against the fake server, for every profile (spec §9.3, §9.6–§9.7, §9.11; matrix rows
8, 12, 13, 16, 18, 19)."""

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
from floorsync.planning.odoo.profiles import PROFILES
from tests.planning.conftest import Expect, MakeAdapter, MakeConfig
from tests.planning.fakes.odoo import FakeOdoo, seed_productions


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def calls(fake: FakeOdoo, model: str, method: str) -> list[dict[str, object]]:
    return [c.params for c in fake.calls if c.model == model and c.method == method]


class TestAFullPull:
    def test_an_order_arrives_complete_with_its_work_orders_product_and_components(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        laser = odoo.add_workcenter("Laser", code="L1")
        bend = odoo.add_workcenter("Bend")
        frame = odoo.add_product("Frame XL", "FRAME-XL")
        tube = odoo.add_product("Tube 40x40")
        bolt = odoo.add_product("Bolt M8", "BOLT-M8")
        mo = odoo.add_production(
            frame,
            24,
            name="WH/MO/00012",
            steps=[(laser, "Cutting", 45.5), (bend, "Bending", 30.0)],
            components=[(tube, 48), (bolt, 96), (tube, 2)],
            start="2026-06-01 06:00:00",
            end="2026-06-01 14:00:00",
            deadline="2026-06-05 16:00:00",
            priority="1",
            origin="SO/0042",
            lot="LOT-7",
        )

        [order] = make_adapter(odoo_config()).pull_work_orders()

        assert (order.external_id, order.number) == (str(mo), "WH/MO/00012")
        assert order.product == MaterialDefinition(str(frame), "FRAME-XL", "Frame XL", "Units")
        assert order.consumed_materials == (
            MaterialDefinition(str(tube), "Tube 40x40", "Tube 40x40", "Units"),
            MaterialDefinition(str(bolt), "BOLT-M8", "Bolt M8", "Units"),
        )
        assert order.operation_name is None
        assert order.quantity_planned == Decimal(24)
        assert order.quantity_completed == Decimal(0)
        assert order.unit == "Units"
        assert (order.planned_start, order.planned_end) == (utc(2026, 6, 1, 6), utc(2026, 6, 1, 14))
        assert (order.actual_start, order.actual_end) == (None, None)
        assert order.due_at == utc(2026, 6, 5, 16)
        assert (order.priority, order.origin) == (1, "SO/0042")
        assert order.lot == (None if odoo.version >= 19 else "LOT-7")
        assert order.work_center == EquipmentRef(str(laser), "Laser")
        assert (order.status, order.upstream_status) == (OrderStatus.RELEASED, "confirmed")
        assert order.modified_at == utc(2026, 5, 30, 10)
        cutting, bending = order.job_orders
        assert (cutting.sequence, cutting.name, cutting.work_order_id) == (10, "Cutting", str(mo))
        assert (bending.sequence, bending.name) == (20, "Bending")
        assert cutting.work_center == EquipmentRef(str(laser), "Laser")
        assert cutting.expected_minutes == Decimal("45.5")
        assert (cutting.planned_start, cutting.planned_end) == (
            utc(2026, 6, 1, 6),
            utc(2026, 6, 1, 6, 45, 30),
        )
        first_state = "blocked" if odoo.version >= 19 else "pending"
        assert (cutting.upstream_status, bending.upstream_status) == ("ready", first_state)
        assert cutting.status is bending.status is OrderStatus.RELEASED

    def test_the_requests_ask_exactly_the_profiles_fields_in_id_order(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        seed_productions(odoo, 3, steps=2, work_centres=2)
        profile = PROFILES[odoo.version]

        make_adapter(odoo_config()).pull_work_orders()

        [productions] = calls(odoo, "mrp.production", "search_read")
        assert productions == {
            "domain": [["state", "in", ["confirmed", "progress", "to_close"]]],
            "fields": list(profile.fields["mrp.production"]),
            "offset": 0,
            "limit": 500,
            "order": "id asc",
        }
        assert "workcenter_id" not in productions["fields"]  # type: ignore[operator]
        [workorders] = calls(odoo, "mrp.workorder", "search_read")
        assert workorders["fields"] == list(profile.fields["mrp.workorder"])
        assert workorders["domain"][0][:2] == ["production_id", "in"]  # type: ignore[index]
        [moves] = calls(odoo, "stock.move", "search_read")
        assert moves["fields"] == ["raw_material_production_id", "product_id", "product_uom_qty"]
        reads = calls(odoo, "product.product", "read")
        assert reads == [{"fields": ["default_code", "name", "uom_id"]}]
        assert all(
            "limit" not in p and "offset" not in p for p in calls(odoo, "product.product", "read")
        )

    @pytest.mark.parametrize("odoo_version", [17, 19])
    @pytest.mark.parametrize(
        ("count", "offsets"), [(500, [0, 500]), (1000, [0, 500, 1000]), (1001, [0, 500, 1000])]
    )
    def test_pages_of_500_are_read_until_a_short_page(
        self,
        count: int,
        offsets: list[int],
        odoo: FakeOdoo,
        odoo_config: MakeConfig,
        make_adapter: MakeAdapter,
    ) -> None:
        seed_productions(odoo, count, steps=0, work_centres=1)

        orders = make_adapter(odoo_config()).pull_work_orders()

        assert len(orders) == count
        pages = calls(odoo, "mrp.production", "search_read")
        assert [p["offset"] for p in pages] == offsets
        assert {p["order"] for p in pages} == {"id asc"}
        assert [int(o.external_id) for o in orders] == sorted(int(o.external_id) for o in orders)
        product_reads = [
            c for c in odoo.calls if c.model == "product.product" and c.method == "read"
        ]
        assert all(len(c.ids or []) <= 500 for c in product_reads)

    def test_an_order_without_work_orders_has_no_job_orders_and_no_work_centre(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        odoo.add_production(odoo.add_product("Kit"), 3, end=None)

        [order] = make_adapter(odoo_config()).pull_work_orders()

        assert (order.job_orders, order.work_center, order.planned_end) == ((), None, None)
        assert order.product is not None
        assert order.product.code == "Kit"  # no default_code: the name

    @pytest.mark.parametrize("odoo_version", [16])
    def test_on_16_the_actual_dates_are_read_apart_from_the_planned_ones(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        mo = odoo.add_production(odoo.add_product("Kit"), 3, state="progress")
        odoo.tables["mrp.production"][mo]["date_start"] = "2026-06-01 06:12:00"

        [order] = make_adapter(odoo_config()).pull_work_orders()

        assert order.planned_start == utc(2026, 6, 1, 6)
        assert order.actual_start == utc(2026, 6, 1, 6, 12)
        assert order.actual_end is None

    def test_floats_become_exact_decimals_rounded_to_six_places(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        mo = odoo.add_production(odoo.add_product("Paint"), 0.1)
        odoo.tables["mrp.production"][mo]["qty_produced"] = 1 / 3

        [order] = make_adapter(odoo_config()).pull_work_orders()

        assert order.quantity_planned == Decimal("0.1")
        assert order.quantity_completed == Decimal("0.333333")

    def test_more_orders_than_max_records_per_pull_is_a_protocol_error(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter, expect: Expect
    ) -> None:
        seed_productions(odoo, 60, steps=0, work_centres=1)
        adapter = make_adapter(odoo_config(max_records_per_pull=55, page_size=50))

        error = expect(PlanningProtocolError, adapter.pull_work_orders)

        assert "max_records_per_pull = 55" in error.message
        assert calls(odoo, "mrp.workorder", "search_read") == []


class TestStatuses:
    # The status tables do not depend on the profile; 17 (JSON-RPC) and 19 (JSON-2) cover both
    # transports.
    @pytest.mark.parametrize("odoo_version", [17, 19])
    @pytest.mark.parametrize(
        ("state", "expected"),
        [
            ("confirmed", OrderStatus.RELEASED),
            ("progress", OrderStatus.RUNNING),
            ("to_close", OrderStatus.COMPLETED),
            ("done", OrderStatus.CLOSED),
            ("cancel", OrderStatus.ABORTED),
            ("draft", OrderStatus.PLANNED),
            ("on_hold", OrderStatus.RELEASED),
        ],
    )
    def test_every_manufacturing_order_state_maps_to_its_order_status(
        self,
        state: str,
        expected: OrderStatus,
        odoo: FakeOdoo,
        odoo_config: MakeConfig,
        make_adapter: MakeAdapter,
    ) -> None:
        # Found through its changed work order, so no state filter hides it.
        mo = odoo.add_production(
            odoo.add_product("Kit"), 1, state=state, steps=[(odoo.add_workcenter("W"), "S", 1)]
        )
        [step] = odoo.tables["mrp.production"][mo]["workorder_ids"]
        odoo.tables["mrp.workorder"][step]["write_date"] = "2026-05-30 10:01:00"

        orders = make_adapter(odoo_config()).pull_work_orders(since=utc(2026, 5, 30, 10, 1))

        if expected is OrderStatus.PLANNED:
            assert orders == []  # drafts are never on the floor
        else:
            [order] = orders
            assert (order.status, order.upstream_status) == (expected, state)

    @pytest.mark.parametrize("odoo_version", [17, 19])
    @pytest.mark.parametrize(
        ("state", "expected"),
        [
            ("pending", OrderStatus.RELEASED),
            ("waiting", OrderStatus.RELEASED),
            ("blocked", OrderStatus.RELEASED),
            ("ready", OrderStatus.RELEASED),
            ("progress", OrderStatus.RUNNING),
            ("done", OrderStatus.COMPLETED),
            ("cancel", OrderStatus.ABORTED),
            ("paused", OrderStatus.RELEASED),
        ],
    )
    def test_every_work_order_state_maps_to_its_order_status(
        self,
        state: str,
        expected: OrderStatus,
        odoo: FakeOdoo,
        odoo_config: MakeConfig,
        make_adapter: MakeAdapter,
    ) -> None:
        odoo.add_production(odoo.add_product("Kit"), 1, steps=[(odoo.add_workcenter("W"), "S", 1)])
        next(iter(odoo.tables["mrp.workorder"].values()))["state"] = state

        [order] = make_adapter(odoo_config()).pull_work_orders()

        assert (order.job_orders[0].status, order.job_orders[0].upstream_status) == (
            expected,
            state,
        )


class TestIncrementalPulls:
    def test_only_a_changed_work_order_brings_in_its_whole_order_with_a_utc_window(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        centre = odoo.add_workcenter("Laser")
        other = odoo.add_workcenter("Saw")
        kit = odoo.add_product("Kit")
        first = odoo.add_production(kit, 2, steps=[(centre, "Cut", 10), (centre, "Drill", 5)])
        odoo.add_production(kit, 2, steps=[(centre, "Cut", 10)])
        odoo.tick(3600)
        step = odoo.tables["mrp.workorder"][
            odoo.tables["mrp.production"][first]["workorder_ids"][1]
        ]
        step["workcenter_id"] = [other, "Saw"]
        step["write_date"] = "2026-05-30 11:00:00"

        [order] = make_adapter(odoo_config()).pull_work_orders(since=utc(2026, 5, 30, 10, 30))

        assert order.external_id == str(first)
        assert [j.name for j in order.job_orders] == ["Cut", "Drill"]
        assert order.job_orders[1].work_center == EquipmentRef(str(other), "Saw")
        assert calls(odoo, "mrp.production", "search") == [
            {
                "domain": [
                    ["state", "in", ["confirmed", "progress", "to_close", "done", "cancel"]],
                    ["write_date", ">=", "2026-05-30 10:30:00"],
                ],
                "offset": 0,
                "limit": 500,
                "order": "id asc",
            }
        ]
        [changed_steps, _steps_of_order] = calls(odoo, "mrp.workorder", "search_read")
        assert changed_steps["domain"] == [["write_date", ">=", "2026-05-30 10:30:00"]]
        assert changed_steps["fields"] == ["production_id"]
        [read] = [c for c in odoo.calls if c.model == "mrp.production" and c.method == "read"]
        assert read.ids == [first]
        assert "limit" not in read.params

    def test_a_changed_order_in_draft_is_left_out(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        centre = odoo.add_workcenter("Laser")
        odoo.add_production(odoo.add_product("Kit"), 2, state="draft", steps=[(centre, "Cut", 10)])

        assert make_adapter(odoo_config()).pull_work_orders(since=utc(2026, 5, 30)) == []


class TestResources:
    def test_work_centres_including_archived_ones_become_work_centre_equipment(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        laser = odoo.add_workcenter("Laser", code="L1", capacity=2.0, efficiency=87.5)
        old = odoo.add_workcenter("Old press", active=False)

        by_id = {e.external_id: e for e in make_adapter(odoo_config()).pull_resources()}

        assert set(by_id) == {str(laser), str(old)}
        first = by_id[str(laser)]
        assert (first.name, first.code, first.role, first.active) == (
            "Laser",
            "L1",
            EquipmentRole.WORK_CENTER,
            True,
        )
        assert (first.capacity, first.efficiency_percent) == (Decimal(2), Decimal("87.5"))
        assert (first.description, first.category, first.location, first.parent_external_id) == (
            None,
            None,
            None,
            None,
        )
        assert by_id[str(old)].active is False
        [page] = calls(odoo, "mrp.workcenter", "search_read")
        assert page["domain"] == ["|", ["active", "=", True], ["active", "=", False]]
        assert page["fields"] == [
            "name",
            "code",
            "active",
            "default_capacity",
            "time_efficiency",
            "write_date",
        ]
