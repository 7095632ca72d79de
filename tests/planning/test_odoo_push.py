"""Odoo pushes against the fake server, for every profile (spec §9.8, §9.9, §9.12; matrix rows
31–37, 41)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from floorsync.planning.base import (
    AuthReason,
    PlanningAuthError,
    PlanningNotCompleted,
    PlanningOrderNotFound,
    PlanningRejected,
    PlanningUnavailable,
    PushOutcome,
)
from tests.planning.conftest import Expect, MakeAdapter, MakeConfig
from tests.planning.fakes.odoo import FakeOdoo

STARTED = datetime(2026, 6, 1, 6, 5, 30, tzinfo=UTC)


def buttons(fake: FakeOdoo) -> list[str]:
    """The model calls that change something, in order, as `model.method(ids)`."""
    reads = {"read", "search", "search_read", "search_count", "fields_get"}
    return [
        f"{c.model}.{c.method}({','.join(map(str, c.ids or []))})"
        for c in fake.calls
        if c.method not in reads
    ]


def order_with_steps(fake: FakeOdoo, quantity: float = 10, **kw: object) -> tuple[int, list[int]]:
    centre = fake.add_workcenter("Laser")
    components = kw.pop("components", None)
    if components is None:
        components = [(fake.add_product("Steel"), 20.0)]
    mo = fake.add_production(
        fake.add_product("Frame"),
        quantity,
        steps=[(centre, "Cut", 30.0), (centre, "Weld", 20.0)],
        components=components,  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )
    return mo, list(fake.tables["mrp.production"][mo]["workorder_ids"])


class TestStart:
    def test_a_start_starts_the_first_open_work_order_and_pauses_its_timer(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        mo, (first, _second) = order_with_steps(odoo)

        result = make_adapter(odoo_config()).push_order_start(str(mo), STARTED)

        assert (result.outcome, result.upstream_status) == (PushOutcome.APPLIED, "progress")
        assert buttons(odoo) == [
            f"mrp.workorder.button_start({first})",
            f"mrp.workorder.button_pending({first})",
        ]
        assert odoo.tables["mrp.workorder"][first]["_timers"] == 0
        assert odoo.tables["mrp.workorder"][first]["state"] == "progress"
        assert odoo.tables["mrp.production"][mo]["state"] == "progress"
        reads = [c for c in odoo.calls if c.method == "read"]
        assert [(c.model, c.params) for c in reads] == [
            ("mrp.production", {"fields": ["state", "workorder_ids"]}),
            ("mrp.workorder", {"fields": ["state"]}),
            ("mrp.production", {"fields": ["state"]}),
        ]

    def test_keep_timer_running_leaves_the_time_log_open(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        mo, (first, _) = order_with_steps(odoo)

        make_adapter(odoo_config(keep_timer_running=True)).push_order_start(str(mo), STARTED)

        assert buttons(odoo) == [f"mrp.workorder.button_start({first})"]
        assert odoo.tables["mrp.workorder"][first]["_timers"] == 1

    def test_a_draft_order_is_confirmed_first(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        mo, (first, _) = order_with_steps(odoo, state="draft")

        make_adapter(odoo_config()).push_order_start(str(mo), STARTED)

        assert buttons(odoo)[:2] == [
            f"mrp.production.action_confirm({mo})",
            f"mrp.workorder.button_start({first})",
        ]

    def test_an_order_without_work_orders_gets_its_start_date_written(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        mo = odoo.add_production(odoo.add_product("Kit"), 3)

        first = make_adapter(odoo_config()).push_order_start(str(mo), STARTED)
        again = make_adapter(odoo_config()).push_order_start(str(mo), STARTED)

        assert (first.outcome, first.upstream_status) == (PushOutcome.APPLIED, "confirmed")
        assert again.outcome is PushOutcome.APPLIED  # the same value written again: harmless
        [(model, ids, vals, context), _] = odoo.writes
        assert (model, ids, vals) == ("mrp.production", [mo], {"date_start": "2026-06-01 06:05:30"})
        if odoo.version >= 17:
            assert context == {"lang": "en_US", "tz": "UTC", "force_date": True}
        else:
            assert context == {"lang": "en_US", "tz": "UTC"}
        assert odoo.unplanned == []  # 17+: force_date kept the order planned
        assert odoo.tables["mrp.production"][mo]["date_start"] == "2026-06-01 06:05:30"

    @pytest.mark.parametrize("odoo_version", [17])
    def test_without_force_date_odoo_would_have_unplanned_the_order(self, odoo: FakeOdoo) -> None:
        """The fake's rule the adapter's flag avoids (checked on the fake itself)."""
        mo = odoo.add_production(odoo.add_product("Kit"), 3)

        odoo._m_write(
            "mrp.production", [mo], context={}, vals={"date_start": "2026-06-02 06:00:00"}
        )

        assert odoo.unplanned == [mo]

    @pytest.mark.parametrize("state", ["progress", "to_close", "done"])
    def test_an_order_in_progress_or_further_is_already_applied_without_a_write(
        self, state: str, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        mo, _ = order_with_steps(odoo, state=state)

        result = make_adapter(odoo_config()).push_order_start(str(mo), STARTED)

        assert (result.outcome, result.upstream_status) == (PushOutcome.ALREADY_APPLIED, state)
        assert buttons(odoo) == []

    def test_an_order_with_a_started_work_order_is_already_applied(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        mo, (first, _) = order_with_steps(odoo)
        odoo.tables["mrp.workorder"][first]["state"] = "done"

        result = make_adapter(odoo_config()).push_order_start(str(mo), STARTED)

        assert result.outcome is PushOutcome.ALREADY_APPLIED
        assert buttons(odoo) == []

    def test_a_start_whose_answer_was_lost_is_already_applied_when_retried(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter, expect: Expect
    ) -> None:
        mo, _ = order_with_steps(odoo)
        odoo.fault("reset", after=True, match=lambda r: r.label == "mrp.workorder.button_start")
        adapter = make_adapter(odoo_config())

        expect(PlanningUnavailable, adapter.push_order_start, str(mo), STARTED)
        retried = adapter.push_order_start(str(mo), STARTED)

        assert retried.outcome is PushOutcome.ALREADY_APPLIED
        assert [c.method for c in odoo.calls].count("button_start") == 1


class TestCompletion:
    def test_a_full_completion_finishes_the_work_orders_and_marks_the_order_done(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        mo, (first, second) = order_with_steps(odoo)

        result = make_adapter(odoo_config()).push_order_completion(str(mo), Decimal(10), Decimal(0))

        assert (result.outcome, result.upstream_status) == (PushOutcome.APPLIED, "done")
        order = odoo.tables["mrp.production"][mo]
        assert (order["state"], order["qty_produced"], order["product_qty"]) == ("done", 10.0, 10.0)
        finishes = [
            f"mrp.workorder.button_finish({first})",
            f"mrp.workorder.button_finish({second})",
        ]
        mark_done = [c for c in odoo.calls if c.method == "button_mark_done"]
        base = {"lang": "en_US", "tz": "UTC", "skip_consumption": True, "skip_backorder": True}
        if odoo.version == 16:
            # Nothing produced yet: the Immediate Production path (§9.9).
            [wizard] = odoo.tables["mrp.immediate.production"]
            assert buttons(odoo) == [
                *finishes,
                f"mrp.production.button_mark_done({mo})",
                "mrp.immediate.production.create()",
                f"mrp.immediate.production.process({wizard})",
            ]
            [mark] = mark_done
            assert mark.context == base
            [create] = [c for c in odoo.calls if c.method == "create"]
            assert create.params == {
                "vals_list": {
                    "mo_ids": [[6, 0, [mo]]],
                    "immediate_production_line_ids": [
                        [0, 0, {"production_id": mo, "to_immediate": True}]
                    ],
                }
            }
            assert create.context == base
        else:
            assert buttons(odoo) == [*finishes, f"mrp.production.button_mark_done({mo})"]
            [mark] = mark_done
            assert mark.context == {**base, "skip_redirection": True}
        assert not any(w[1] == [mo] and "qty_producing" in w[2] for w in odoo.writes)
        assert not any("state" in vals for _, _, vals, _ in odoo.writes)

    def test_a_completion_after_a_start_needs_no_wizard(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        mo, _ = order_with_steps(odoo)
        adapter = make_adapter(odoo_config())
        adapter.push_order_start(str(mo), STARTED)

        result = adapter.push_order_completion(str(mo), Decimal(10), Decimal(0))

        assert result.outcome is PushOutcome.APPLIED
        [mark] = [c for c in odoo.calls if c.method == "button_mark_done"]
        if odoo.version == 16:
            assert mark.context["skip_immediate"] is True
        assert not any(c.model == "mrp.immediate.production" for c in odoo.calls)

    def test_a_short_completion_writes_the_quantity_and_closes_without_a_backorder(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        mo, (_first, _) = order_with_steps(odoo)
        adapter = make_adapter(odoo_config())
        adapter.push_order_start(str(mo), STARTED)  # consumes components (16 needs that)

        result = adapter.push_order_completion(str(mo), Decimal(7), Decimal(3))

        assert result.outcome is PushOutcome.APPLIED
        assert ("mrp.production", [mo], {"qty_producing": 7}) in [w[:3] for w in odoo.writes]
        order = odoo.tables["mrp.production"][mo]
        assert (order["state"], order["qty_produced"]) == ("done", 7.0)
        assert len(odoo.tables["mrp.production"]) == 1  # no backorder
        assert order["_messages"] == ["floorsync: 7 good, 3 scrap"]

    def test_create_backorder_asks_odoo_to_split_off_the_remainder(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        mo, _ = order_with_steps(odoo)
        adapter = make_adapter(odoo_config(create_backorder=True, scrap_note=False))
        adapter.push_order_start(str(mo), STARTED)

        adapter.push_order_completion(str(mo), Decimal(6), Decimal(1))

        [mark] = [c for c in odoo.calls if c.method == "button_mark_done"]
        assert mark.context["mo_ids_to_backorder"] == [mo]
        [backorder] = [r for r in odoo.tables["mrp.production"].values() if r["id"] != mo]
        assert (backorder["product_qty"], backorder["origin"]) == (
            4.0,
            odoo.tables["mrp.production"][mo]["name"],
        )
        assert odoo.tables["mrp.production"][mo]["_messages"] == []  # scrap_note off

    def test_a_server_ignoring_the_skip_flags_leaves_the_order_not_completed_naming_the_wizard(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter, expect: Expect
    ) -> None:
        mo, _ = order_with_steps(odoo)
        adapter = make_adapter(odoo_config())
        adapter.push_order_start(str(mo), STARTED)
        odoo.ignore_skip_flags = True

        error = expect(
            PlanningNotCompleted, adapter.push_order_completion, str(mo), Decimal(4), Decimal(0)
        )

        assert error.details == {"wizard": "mrp.production.backorder"}
        assert "mrp.production.backorder" in error.message
        assert odoo.tables["mrp.production"][mo]["state"] != "done"

    @pytest.mark.parametrize("odoo_version", [16])
    def test_on_16_a_short_completion_without_consumption_is_rejected_with_odoos_message(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter, expect: Expect
    ) -> None:
        mo, _ = order_with_steps(odoo)

        error = expect(
            PlanningRejected,
            make_adapter(odoo_config()).push_order_completion,
            str(mo),
            Decimal(4),
            Decimal(0),
        )

        assert type(error) is PlanningRejected
        assert error.message == (
            "You must indicate a non-zero amount consumed for at least one of your components"
        )
        assert error.details["name"] == "odoo.exceptions.UserError"

    def test_an_order_already_done_is_already_applied_without_any_button(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        mo, _ = order_with_steps(odoo, state="done")

        result = make_adapter(odoo_config()).push_order_completion(str(mo), Decimal(1), Decimal(0))

        assert (result.outcome, result.upstream_status) == (PushOutcome.ALREADY_APPLIED, "done")
        assert buttons(odoo) == []

    def test_a_completion_whose_answer_was_lost_is_already_applied_and_marked_done_once(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter, expect: Expect
    ) -> None:
        mo, _ = order_with_steps(odoo)
        adapter = make_adapter(odoo_config())
        adapter.push_order_start(str(mo), STARTED)
        odoo.fault(
            "reset", after=True, match=lambda r: r.label == "mrp.production.button_mark_done"
        )

        expect(PlanningUnavailable, adapter.push_order_completion, str(mo), Decimal(10), Decimal(0))
        again = adapter.push_order_completion(str(mo), Decimal(10), Decimal(0))

        assert again.outcome is PushOutcome.ALREADY_APPLIED
        assert [c.method for c in odoo.calls].count("button_mark_done") == 1

    def test_a_retry_after_the_work_orders_were_finished_does_not_finish_them_again(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter, expect: Expect
    ) -> None:
        mo, (first, second) = order_with_steps(odoo)
        adapter = make_adapter(odoo_config())
        adapter.push_order_start(str(mo), STARTED)
        odoo.inject(
            "psycopg2.errors.SerializationFailure",
            "could not serialize access",
            call="mrp.production.button_mark_done",
        )

        expect(PlanningUnavailable, adapter.push_order_completion, str(mo), Decimal(10), Decimal(0))
        adapter.push_order_completion(str(mo), Decimal(10), Decimal(0))

        finishes = [b for b in buttons(odoo) if "button_finish" in b]
        assert finishes == [
            f"mrp.workorder.button_finish({first})",
            f"mrp.workorder.button_finish({second})",
        ]
        assert odoo.tables["mrp.production"][mo]["state"] == "done"


class TestRefusals:
    @pytest.mark.parametrize("push", ["start", "completion"])
    def test_a_cancelled_order_is_rejected(
        self,
        push: str,
        odoo: FakeOdoo,
        odoo_config: MakeConfig,
        make_adapter: MakeAdapter,
        expect: Expect,
    ) -> None:
        mo, _ = order_with_steps(odoo, state="cancel")
        adapter = make_adapter(odoo_config())

        if push == "start":
            error = expect(PlanningRejected, adapter.push_order_start, str(mo), STARTED)
        else:
            error = expect(
                PlanningRejected, adapter.push_order_completion, str(mo), Decimal(1), Decimal(0)
            )

        assert error.message == "order is cancelled in Odoo"
        assert buttons(odoo) == []

    def test_a_missing_order_is_not_found(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter, expect: Expect
    ) -> None:
        error = expect(
            PlanningOrderNotFound, make_adapter(odoo_config()).push_order_start, "999", STARTED
        )

        assert error.message == "order not found in Odoo"
        assert error.details["name"] == "odoo.exceptions.MissingError"

    @pytest.mark.parametrize("order_id", ["WH/MO/00012", "-3", "0", "12a", "", "١٢"])
    def test_an_order_id_that_is_not_a_positive_integer_is_rejected_before_any_request(
        self,
        order_id: str,
        odoo: FakeOdoo,
        odoo_config: MakeConfig,
        make_adapter: MakeAdapter,
        expect: Expect,
    ) -> None:
        expect(PlanningRejected, make_adapter(odoo_config()).push_order_start, order_id, STARTED)

        assert odoo.requests == []

    def test_a_negative_quantity_is_rejected_before_any_request(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter, expect: Expect
    ) -> None:
        expect(
            PlanningRejected,
            make_adapter(odoo_config()).push_order_completion,
            "5",
            Decimal(2),
            Decimal(-1),
        )

        assert odoo.requests == []

    def test_a_read_only_user_is_refused_on_permission_at_the_first_button(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter, expect: Expect
    ) -> None:
        mo, _ = order_with_steps(odoo)
        odoo.user.read_only = True

        error = expect(
            PlanningAuthError, make_adapter(odoo_config()).push_order_start, str(mo), STARTED
        )

        assert error.reason is AuthReason.PERMISSION
        assert "not allowed to modify" in error.message
