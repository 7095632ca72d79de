"""Canonical data → sync-engine records, and the §6.6 decisions, as pure functions (spec §6.2–§6.6)."""

from datetime import UTC, datetime
from decimal import Decimal

from floorsync.planning.base import EquipmentRef, EquipmentRole, OrderStatus, WorkOrder
from floorsync.planning.records import (
    FloorJob,
    chunk_jobs,
    cursor_after,
    job_record,
    plan_equipment,
    plan_jobs,
    usable_cells,
)
from tests.planning.canonical import equipment, job_order, material, work_order


class TestEquipment:
    def test_work_centres_become_cells_tooling_resources_and_personnel_is_ignored(self) -> None:
        plan = plan_equipment(
            [
                equipment(
                    "Laser",
                    description="Trumpf",
                    category="machine",
                    capacity=Decimal("2.50"),
                    location="Hall A",
                    parent_external_id="Cutting",
                    code="L1",
                ),
                equipment(
                    "Die 40", role=EquipmentRole.TOOLING, category="mould", location="Rack 3"
                ),
                equipment("Welders", role=EquipmentRole.PERSONNEL),
            ],
            source="frepple",
        )

        assert plan.cells == (
            {
                "external_id": "Laser",
                "external_source": "frepple",
                "name": "Laser",
                "description": "Trumpf",
                "active": True,
                "metadata": {
                    "planning": {
                        "code": "L1",
                        "category": "machine",
                        "capacity": "2.5",
                        "efficiency_percent": None,
                        "location": "Hall A",
                        "parent": "Cutting",
                    }
                },
            },
        )
        assert plan.resources == (
            {
                "external_id": "Die 40",
                "external_source": "frepple",
                "name": "Die 40",
                "type": "tooling",
                "description": None,
                "location": "Rack 3",
                "active": True,
                "metadata": {"planning": {"category": "mould", "capacity": "1", "parent": None}},
            },
        )
        assert plan.ignored == 1
        assert plan.deactivate_cells == ()

    def test_cells_never_carry_the_fields_the_plant_owns(self) -> None:
        [cell] = plan_equipment([equipment("Laser")], source="odoo").cells

        assert not {"color", "sequence", "wip_limit", "status"} & set(cell)

    def test_a_reconcile_deactivates_live_cells_missing_upstream_and_inactive_cells_are_unusable(
        self,
    ) -> None:
        plan = plan_equipment(
            [equipment("1"), equipment("2", active=False)],
            source="odoo",
            live_cells={"1", "2", "3"},
            reconcile=True,
        )

        assert plan.deactivate_cells == ("3",)
        assert usable_cells(plan) == {"1"}
        assert plan_equipment([], source="odoo", live_cells={"3"}).deactivate_cells == ()


class TestJobRecords:
    def test_a_work_order_becomes_one_job_with_one_part_and_its_operations(self) -> None:
        order = work_order(
            "MO-7",
            quantity_planned=Decimal("12.5"),
            due_at=datetime(2026, 6, 3, 12, 0, tzinfo=UTC),
            priority=1,
            lot="B-7",
            unit="kg",
            job_orders=(
                job_order("MO-7-10", expected_minutes=Decimal("44.5")),
                job_order(
                    "MO-7-20",
                    sequence=20,
                    name="Weld",
                    work_center=EquipmentRef("W1", "Welder"),
                    expected_minutes=None,
                    planned_start=None,
                    planned_end=None,
                ),
            ),
        )

        record, warnings = job_record(
            order, source="frepple", job_number_prefix="FP-", active_cells={"Laser"}
        )

        assert record == {
            "external_id": "MO-7",
            "external_source": "frepple",
            "job_number": "FP-MO-7",
            "due_date": "2026-06-03T12:00:00.000Z",
            "priority": 1,
            "metadata": {
                "planning": {
                    "system": "frepple",
                    "status": "released",
                    "upstream_status": "approved",
                    "number": "MO-7",
                    "origin": "SO-1",
                    "lot": "B-7",
                    "operation": "Assemble",
                    "unit": "kg",
                    "quantity": "12.5",
                }
            },
            "parts": [
                {
                    "external_id": "MO-7",
                    "part_number": "FRAME",
                    "quantity": 13,
                    "material": "TUBE",
                    "metadata": {
                        "planning": {
                            "product": {"code": "FRAME", "name": "FRAME"},
                            "consumed": ["TUBE", "BOLT"],
                        }
                    },
                    "operations": [
                        {
                            "external_id": "MO-7-10",
                            "operation_name": "Cut",
                            "sequence": 10,
                            "estimated_time": 45,
                            "planned_start": "2026-06-01T06:00:00.000Z",
                            "planned_end": "2026-06-01T07:00:00.000Z",
                            "metadata": {
                                "planning": {
                                    "upstream_status": "approved",
                                    "quantity": "10",
                                    "work_center": {"external_id": "Laser", "name": "Laser"},
                                }
                            },
                            "cell_external_id": "Laser",
                        },
                        {
                            "external_id": "MO-7-20",
                            "operation_name": "Weld",
                            "sequence": 20,
                            "estimated_time": 0,
                            "planned_start": None,
                            "planned_end": None,
                            "metadata": {
                                "planning": {
                                    "upstream_status": "approved",
                                    "quantity": "10",
                                    "work_center": {"external_id": "W1", "name": "Welder"},
                                }
                            },
                        },
                    ],
                }
            ],
        }
        assert [(w.code, w.external_id) for w in warnings] == [("unknown_work_center", "MO-7-20")]

    def test_status_is_never_sent_and_no_volatile_value_enters_the_metadata(self) -> None:
        early = work_order(modified_at=datetime(2026, 1, 1, tzinfo=UTC))
        later = work_order(
            modified_at=datetime(2026, 5, 1, tzinfo=UTC),
            job_orders=(job_order("MO-1-10", modified_at=datetime(2026, 5, 1, tzinfo=UTC)),),
        )

        first, _ = job_record(early, source="odoo")
        second, _ = job_record(later, source="odoo")

        assert first == second
        assert "status" not in first
        assert "status" not in first["parts"][0]
        assert all("status" not in op for op in first["parts"][0]["operations"])

    def test_the_part_number_falls_back_to_the_operation_then_the_number_and_quantity_is_at_least_one(
        self,
    ) -> None:
        by_operation, _ = job_record(
            work_order(product=None, quantity_planned=Decimal("0.2")), source="frepple"
        )
        by_number, _ = job_record(
            work_order(product=None, operation_name=None, consumed_materials=()), source="odoo"
        )

        assert by_operation["parts"][0]["part_number"] == "Assemble"
        assert by_operation["parts"][0]["quantity"] == 1
        assert by_operation["parts"][0]["metadata"]["planning"]["product"] is None
        assert by_number["parts"][0]["part_number"] == "MO-1"
        assert "material" not in by_number["parts"][0]

    def test_the_due_date_falls_back_to_the_planned_end_and_minutes_round_half_up(self) -> None:
        record, _ = job_record(
            work_order(
                job_orders=(
                    job_order(expected_minutes=Decimal("2.5")),
                    job_order("x", expected_minutes=Decimal("-3")),
                )
            ),
            source="frepple",
        )

        assert record["due_date"] == "2026-06-01T14:00:00.000Z"
        assert [op["estimated_time"] for op in record["parts"][0]["operations"]] == [3, 0]

    def test_unknown_upstream_statuses_are_warned_about(self) -> None:
        order = work_order(
            upstream_status="on-hold", job_orders=(job_order(upstream_status="paused"),)
        )

        _, warnings = job_record(order, source="frepple", active_cells={"Laser"})
        _, odoo_warnings = job_record(
            work_order(
                upstream_status="progress", job_orders=(job_order(upstream_status="ready"),)
            ),
            source="odoo",
            active_cells={"Laser"},
        )

        assert [(w.code, w.external_id) for w in warnings] == [
            ("unknown_status", "MO-1"),
            ("unknown_status", "MO-1-10"),
        ]
        assert odoo_warnings == []


class TestWithdrawnFinishedAndMissing:
    def test_released_and_running_orders_are_created_but_finished_ones_only_updated(self) -> None:
        orders = [
            work_order("A"),
            work_order("B", status=OrderStatus.RUNNING),
            work_order("C", status=OrderStatus.COMPLETED),
            work_order("D", status=OrderStatus.CLOSED),
        ]

        plan = plan_jobs(orders, source="frepple", floor={"D": FloorJob("D", "completed")})

        assert [j["external_id"] for j in plan.jobs] == ["A", "B", "D"]
        assert plan.delete_jobs == ()

    def test_an_aborted_order_deletes_a_job_not_started_and_keeps_a_started_one_with_a_warning(
        self,
    ) -> None:
        def cancelled(key: str) -> WorkOrder:
            step = job_order(f"{key}-10", status=OrderStatus.ABORTED, upstream_status="cancel")
            return work_order(
                key, status=OrderStatus.ABORTED, upstream_status="cancel", job_orders=(step,)
            )

        orders = [cancelled("A"), cancelled("B"), cancelled("C")]
        floor = {"A": FloorJob("A", "not_started"), "B": FloorJob("B", "in_progress")}

        plan = plan_jobs(orders, source="odoo", floor=floor, active_cells={"Laser"})

        assert plan.delete_jobs == ("A",)
        assert [j["external_id"] for j in plan.jobs] == ["B"]
        assert plan.jobs[0]["metadata"]["planning"]["status"] == "aborted"
        assert [(w.code, w.external_id) for w in plan.warnings] == [("withdrawn_upstream", "B")]

    def test_a_reconcile_deletes_missing_jobs_not_started_and_warns_about_started_ones(
        self,
    ) -> None:
        floor = {
            "A": FloorJob("A", "not_started"),
            "B": FloorJob("B", "on_hold"),
            "C": FloorJob("C", "not_started"),
        }

        plan = plan_jobs([work_order("C")], source="frepple", floor=floor, reconcile=True)
        incremental = plan_jobs([work_order("C")], source="frepple", floor=floor)

        assert plan.delete_jobs == ("A",)
        assert [
            (w.code, w.external_id) for w in plan.warnings if w.code != "unknown_work_center"
        ] == [("missing_upstream", "B")]
        assert incremental.delete_jobs == ()

    def test_steps_gone_from_the_routing_are_deleted_when_not_started_and_kept_otherwise(
        self,
    ) -> None:
        order = work_order("A", job_orders=(job_order("A-10"),))
        floor = {
            "A": FloorJob(
                "A",
                "in_progress",
                {"A-10": "completed", "A-20": "not_started", "A-30": "in_progress"},
            )
        }

        plan = plan_jobs([order], source="frepple", floor=floor, active_cells={"Laser"})

        assert plan.delete_operations == ("A-20",)
        assert [(w.code, w.external_id) for w in plan.warnings] == [
            ("step_removed_upstream", "A-30")
        ]


class TestChunksAndCursor:
    def test_chunks_hold_at_most_200_orders_and_10000_nested_records(self) -> None:
        small = [{"external_id": str(n), "parts": [{"operations": [{}] * 3}]} for n in range(450)]
        big = [{"external_id": str(n), "parts": [{"operations": [{}] * 998}]} for n in range(25)]

        assert [len(c) for c in chunk_jobs(small)] == [200, 200, 50]
        assert [len(c) for c in chunk_jobs(big)] == [10, 10, 5]

    def test_the_cursor_is_the_latest_server_modification_of_orders_and_steps(self) -> None:
        t = [datetime(2026, 5, d, tzinfo=UTC) for d in (1, 2, 3, 4)]
        orders = [
            work_order("A", modified_at=t[0], job_orders=(job_order(modified_at=t[2]),)),
            work_order("B", modified_at=t[1], job_orders=(job_order(modified_at=None),)),
        ]

        assert cursor_after(orders) == t[2]
        assert cursor_after(orders, current=t[3]) == t[3]
        assert cursor_after([], current=None) is None


def test_a_consumed_material_code_becomes_the_parts_material() -> None:
    record, _ = job_record(
        work_order(consumed_materials=(material("STEEL-2", name="Steel sheet 2 mm"),)),
        source="odoo",
    )

    assert record["parts"][0]["material"] == "STEEL-2"
