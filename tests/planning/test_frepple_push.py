"""FrePPLe pushes against the fake server (spec §8.7, §8.8, §8.11; matrix rows 28–30, 37, 41)."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from floorsync.planning.base import (
    PlanningOrderNotFound,
    PlanningRejected,
    PlanningUnavailable,
    PushOutcome,
)
from tests.planning.conftest import Expect, MakeAdapter, MakeConfig
from tests.planning.fakes.frepple import FakeFrepple, oplan
from tests.planning.fakes.harness import method_is

STARTED = datetime(2026, 6, 1, 6, 5, 30, 999_000, tzinfo=UTC)  # 08:05:30 in Amsterdam


def patches(fake: FakeFrepple) -> list[dict[str, object]]:
    return [r.json for r in fake.requests if r.method == "PATCH"]


class TestStart:
    def test_a_start_reads_the_order_then_patches_confirmed_with_the_duration_kept(
        self, frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        frepple.data.add_mo(
            oplan("MO/2026/001", start="2026-06-02T07:30:00", end="2026-06-02T15:00:00")
        )

        result = make_adapter(frepple_config()).push_order_start("MO/2026/001", STARTED)

        assert (result.outcome, result.upstream_status, result.action) == (
            PushOutcome.APPLIED,
            "confirmed",
            "start",
        )
        get, patch = frepple.requests
        assert (get.method, get.raw_path) == (
            "GET",
            "/api/input/manufacturingorder/MO%2F2026%2F001/?format=json",
        )
        assert (patch.method, patch.raw_path) == ("PATCH", get.raw_path)
        assert patch.headers["content-type"] == "application/json; charset=UTF-8"
        assert patch.json == {
            "status": "confirmed",
            "startdate": "2026-06-01T08:05:30",
            "enddate": "2026-06-01T15:35:30",
        }
        stored = frepple.data.mos["MO/2026/001"]
        assert (stored["status"], stored["startdate"], stored["enddate"]) == (
            "confirmed",
            "2026-06-01T08:05:30",
            "2026-06-01T15:35:30",
        )

    def test_the_duration_is_real_time_across_a_clock_change(
        self, frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        # Planned 01:00 → 04:00 on the spring-forward night: two real hours.
        frepple.data.add_mo(oplan("MO-1", start="2026-03-29T01:00:00", end="2026-03-29T04:00:00"))

        make_adapter(frepple_config()).push_order_start(
            "MO-1", datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
        )

        assert patches(frepple) == [
            {
                "status": "confirmed",
                "startdate": "2026-03-29T00:00:00",
                "enddate": "2026-03-29T03:00:00",
            }
        ]

    def test_an_order_without_dates_gets_only_its_status_and_start(
        self, frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        frepple.data.add_mo(oplan("MO-1", start=None, end=None))

        make_adapter(frepple_config()).push_order_start("MO-1", STARTED)

        assert patches(frepple) == [{"status": "confirmed", "startdate": "2026-06-01T08:05:30"}]

    @pytest.mark.parametrize("status", ["completed", "closed"])
    def test_an_order_that_is_further_along_is_already_applied_without_a_write(
        self,
        status: str,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
    ) -> None:
        frepple.data.add_mo(oplan("MO-1", status=status))

        result = make_adapter(frepple_config()).push_order_start("MO-1", STARTED)

        assert (result.outcome, result.upstream_status) == (PushOutcome.ALREADY_APPLIED, status)
        assert [r.method for r in frepple.requests] == ["GET"]

    def test_a_confirmed_order_with_the_same_start_to_the_second_is_already_applied(
        self, frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        frepple.data.add_mo(oplan("MO-1", status="confirmed", start="2026-06-01T08:05:30"))
        frepple.data.add_mo(oplan("MO-2", status="confirmed", start="2026-06-01T08:05:00"))
        adapter = make_adapter(frepple_config())

        same = adapter.push_order_start("MO-1", STARTED)
        other = adapter.push_order_start("MO-2", STARTED)

        assert (same.outcome, other.outcome) == (PushOutcome.ALREADY_APPLIED, PushOutcome.APPLIED)
        assert [r.label for r in frepple.requests] == [
            "GET manufacturingorder/<key>",
            "GET manufacturingorder/<key>",
            "PATCH manufacturingorder/<key>",
        ]

    def test_a_start_whose_answer_was_lost_is_already_applied_when_retried(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        expect: Expect,
        sleeps: list[float],
    ) -> None:
        frepple.data.add_mo(oplan("MO-1"))
        frepple.fault("reset", match=method_is("PATCH"), after=True)
        adapter = make_adapter(frepple_config())

        expect(PlanningUnavailable, adapter.push_order_start, "MO-1", STARTED)
        retried = adapter.push_order_start("MO-1", STARTED)

        assert retried.outcome is PushOutcome.ALREADY_APPLIED
        assert len(patches(frepple)) == 1
        assert sleeps == []  # writes are never retried inside the adapter


class TestCompletion:
    def test_a_completion_writes_the_status_and_the_good_quantity_and_the_server_clamps_dates(
        self, frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        frepple.now = datetime(2026, 6, 1, 14, 0)  # noqa: DTZ001 (the server's wall clock)
        frepple.data.add_mo(
            oplan(
                "MO-1",
                status="confirmed",
                quantity=10,
                start="2026-06-01T08:00:00",
                end="2026-06-03T16:00:00",
                resources=["Laser"],
            )
        )
        frepple.data.add_wo(
            oplan(
                "MO-1-10",
                owner="MO-1",
                status="confirmed",
                start="2026-06-02T08:00:00",
                end="2026-06-02T09:00:00",
            )
        )

        result = make_adapter(frepple_config()).push_order_completion(
            "MO-1", Decimal("8.000"), Decimal("2")
        )

        assert (result.outcome, result.upstream_status) == (PushOutcome.APPLIED, "completed")
        assert patches(frepple) == [{"status": "completed", "quantity": "8"}]
        order = frepple.data.mos["MO-1"]
        assert (order["status"], order["quantity"], order["quantity_completed"]) == (
            "completed",
            "8.00000000",
            None,
        )
        assert (order["startdate"], order["enddate"], order["resources"]) == (
            "2026-06-01T08:00:00",
            "2026-06-01T14:00:00",
            [],
        )
        step = frepple.data.wos["MO-1-10"]
        assert (step["status"], step["startdate"]) == ("completed", "2026-06-01T14:00:00")

    def test_the_actual_end_is_written_when_given_and_not_before_the_start(
        self, frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        frepple.data.add_mo(oplan("MO-1", start="2026-05-20T08:00:00", end="2026-05-20T09:00:00"))
        frepple.data.add_mo(oplan("MO-2", start="2026-05-20T08:00:00", end="2026-05-20T09:00:00"))
        adapter = make_adapter(frepple_config(completion_status="closed"))

        adapter.push_order_completion(
            "MO-1", Decimal(5), Decimal(0), completed_at=datetime(2026, 5, 20, 8, 30, tzinfo=UTC)
        )
        adapter.push_order_completion(
            "MO-2", Decimal("4.5"), Decimal(0), completed_at=datetime(2026, 5, 20, 5, 0, tzinfo=UTC)
        )

        assert patches(frepple) == [
            {"status": "closed", "quantity": "5", "enddate": "2026-05-20T10:30:00"},
            {"status": "closed", "quantity": "4.5"},
        ]

    def test_an_order_already_completed_is_already_applied_without_a_write(
        self, frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        frepple.data.add_mo(oplan("MO-1", status="completed"))

        result = make_adapter(frepple_config()).push_order_completion(
            "MO-1", Decimal(1), Decimal(0)
        )

        assert result.outcome is PushOutcome.ALREADY_APPLIED
        assert patches(frepple) == []

    def test_a_completion_whose_answer_was_lost_is_not_written_twice(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        expect: Expect,
    ) -> None:
        frepple.data.add_mo(oplan("MO-1"))
        frepple.fault("truncate", match=method_is("PATCH"))
        adapter = make_adapter(frepple_config())

        expect(PlanningUnavailable, adapter.push_order_completion, "MO-1", Decimal(3), Decimal(0))
        again = adapter.push_order_completion("MO-1", Decimal(3), Decimal(0))

        assert again.outcome is PushOutcome.ALREADY_APPLIED
        assert len(patches(frepple)) == 1

    def test_the_development_lines_summary_answer_counts_as_success(
        self, frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        frepple.line = "dev"
        frepple.data.add_mo(oplan("MO-1"))

        result = make_adapter(frepple_config()).push_order_completion(
            "MO-1", Decimal(1), Decimal(0)
        )

        assert result.outcome is PushOutcome.APPLIED
        assert json.loads(frepple.requests[-1].body) == {"status": "completed", "quantity": "1"}


class TestRefusals:
    def test_an_unknown_order_is_not_found_and_nothing_is_written(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        expect: Expect,
    ) -> None:
        frepple.not_found_text = "No ManufacturingOrder matches the given query."

        error = expect(
            PlanningOrderNotFound,
            make_adapter(frepple_config()).push_order_start,
            "MO-404",
            STARTED,
        )

        assert error.message == "order not found in FrePPLe"
        assert error.details == {"detail": "No ManufacturingOrder matches the given query."}
        assert [r.method for r in frepple.requests] == ["GET"]

    def test_a_validation_error_is_rejected_with_the_field_messages(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        expect: Expect,
    ) -> None:
        frepple.data.add_mo(oplan("MO-1"))
        frepple.fault(
            "status",
            status=400,
            body=b'{"status": ["\\"confirmed\\" is not a valid choice."]}',
            match=method_is("PATCH"),
        )

        error = expect(
            PlanningRejected, make_adapter(frepple_config()).push_order_start, "MO-1", STARTED
        )

        assert type(error) is PlanningRejected
        assert error.details == {"status": ['"confirmed" is not a valid choice.']}
        assert "is not a valid choice" in error.message

    def test_the_development_lines_500_on_writes_is_unavailable_and_keeps_the_body(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        expect: Expect,
    ) -> None:
        frepple.writes_fail = True
        frepple.data.add_mo(oplan("MO-1"))

        error = expect(
            PlanningUnavailable, make_adapter(frepple_config()).push_order_start, "MO-1", STARTED
        )

        assert "This field is required." in (error.excerpt or "")
        assert len(patches(frepple)) == 1

    @pytest.mark.parametrize(
        ("good", "scrap"),
        [(Decimal(-1), Decimal(0)), (Decimal(1), Decimal("-0.5")), (Decimal("NaN"), Decimal(0))],
    )
    def test_a_negative_or_invalid_quantity_is_rejected_before_any_request(
        self,
        good: Decimal,
        scrap: Decimal,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        expect: Expect,
    ) -> None:
        adapter = make_adapter(frepple_config())

        expect(PlanningRejected, adapter.push_order_completion, "MO-1", good, scrap)

        assert frepple.requests == []

    @pytest.mark.parametrize("order_id", ["", "   ", "MO\n1"])
    def test_an_empty_or_malformed_order_id_is_rejected_before_any_request(
        self,
        order_id: str,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        expect: Expect,
    ) -> None:
        expect(PlanningRejected, make_adapter(frepple_config()).push_order_start, order_id, STARTED)

        assert frepple.requests == []

    def test_a_naive_start_time_is_a_programming_error(
        self, frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            make_adapter(frepple_config()).push_order_start(
                "MO-1",
                datetime(2026, 6, 1, 8, 0),  # noqa: DTZ001
            )
        assert frepple.requests == []
