"""One contract suite for every adapter (FrePPLe; Odoo 16, 17, 18, 19): the Protocol-level
behaviour of spec §4.1 checked identically over real HTTP against the fakes (§10.1)."""

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from floorsync.planning.base import (
    ConnectionCheck,
    Equipment,
    ErrorKind,
    OrderStatus,
    PlanningAdapter,
    PlanningOrderNotFound,
    PlanningRejected,
    PushOutcome,
    WorkOrder,
)
from floorsync.planning.config import PlanningConnectionConfig
from floorsync.planning.factory import create_planning_adapter
from tests.planning.conftest import (
    FREPPLE_PASSWORD,
    FREPPLE_USER,
    ODOO_PASSWORD,
    Expect,
    MakeAdapter,
)
from tests.planning.fakes.frepple import FakeFrepple, oplan, resource
from tests.planning.fakes.harness import FakeServer
from tests.planning.fakes.odoo import FakeOdoo

STARTED = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)


@dataclass
class Backend:
    name: str
    fake: FakeServer
    config: PlanningConnectionConfig
    seed: Callable[[], str]  # one released order with two steps; returns its order id
    missing_order: str


def _frepple() -> Backend:
    fake = FakeFrepple()
    fake.data.add_resource(resource("Laser"))
    counter = iter(range(1, 1000))

    def seed() -> str:
        ref = f"MO-{next(counter)}"
        fake.data.add_mo(oplan(ref, resources=["Laser"], demand="  SO-1  "))
        for step in (10, 20):
            fake.data.add_wo(oplan(f"{ref}-{step}", owner=ref, resources=["Laser"]))
        return ref

    config = PlanningConnectionConfig.model_validate(
        {
            "system": "frepple",
            "base_url": fake.base_url,
            "auth_method": "basic",
            "username": FREPPLE_USER,
            "credential": FREPPLE_PASSWORD,
            "settings": {"time_zone": "Europe/Amsterdam"},
        }
    )
    return Backend("frepple", fake, config, seed, "MO-404")


def _odoo(version: int) -> Backend:
    fake = FakeOdoo(version)
    centre = fake.add_workcenter("Laser")
    product = fake.add_product("Frame", "FRAME")

    def seed() -> str:
        mo = fake.add_production(
            product, 5, steps=[(centre, "Cut", 10.0), (centre, "Weld", 10.0)], origin="  SO-1  "
        )
        return str(mo)

    api_key = version >= 19
    config = PlanningConnectionConfig.model_validate(
        {
            "system": "odoo",
            "base_url": fake.base_url,
            "auth_method": "api_key" if api_key else "basic",
            "username": "integration",
            "credential": fake.add_api_key() if api_key else ODOO_PASSWORD,
            "settings": {"database": fake.database},
        }
    )
    return Backend(f"odoo{version}", fake, config, seed, "987654")


@pytest.fixture(
    params=["frepple", 16, 17, 18, 19], ids=lambda p: p if isinstance(p, str) else f"odoo{p}"
)
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    built = _frepple() if request.param == "frepple" else _odoo(int(request.param))
    yield built
    built.fake.stop()


@pytest.fixture
def adapter(backend: Backend, make_adapter: MakeAdapter) -> PlanningAdapter:
    return make_adapter(backend.config)


def _assert_canonical(value: Any) -> None:
    """Every datetime aware UTC, every quantity a Decimal, every string stripped and non-empty."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            _assert_canonical(getattr(value, f.name))
    elif isinstance(value, tuple | list):
        for item in value:
            _assert_canonical(item)
    elif isinstance(value, datetime):
        assert value.tzinfo is UTC, value
    elif isinstance(value, float):
        raise AssertionError(f"a float crossed the Protocol: {value!r}")
    elif isinstance(value, str):
        assert value == value.strip(), repr(value)


class TestTheContract:
    def test_the_connection_check_succeeds_with_the_systems_name(
        self, backend: Backend, adapter: PlanningAdapter
    ) -> None:
        check = adapter.test_connection()

        assert isinstance(check, ConnectionCheck)
        assert (check.ok, check.system, check.error_kind) == (True, adapter.system, None)
        assert check.system.value == backend.config.system

    def test_a_check_against_a_server_that_is_gone_returns_unavailable_instead_of_raising(
        self, backend: Backend, adapter: PlanningAdapter
    ) -> None:
        backend.fake.stop()

        check = adapter.test_connection()

        assert (check.ok, check.error_kind) == (False, ErrorKind.UNAVAILABLE)

    def test_pulled_orders_are_canonical_complete_and_in_ascending_order(
        self, backend: Backend, adapter: PlanningAdapter
    ) -> None:
        ids = [backend.seed() for _ in range(3)]

        orders = adapter.pull_work_orders()

        assert all(isinstance(o, WorkOrder) for o in orders)
        assert [o.external_id for o in orders] == ids
        assert all(len(o.job_orders) == 2 for o in orders)
        assert all([j.sequence for j in o.job_orders] == [10, 20] for o in orders)
        assert all(o.status is OrderStatus.RELEASED for o in orders)
        assert all(isinstance(o.quantity_planned, Decimal) for o in orders)
        assert {o.origin for o in orders} == {"SO-1"}
        _assert_canonical(orders)

    def test_pulled_resources_are_canonical_equipment(
        self, backend: Backend, adapter: PlanningAdapter
    ) -> None:
        equipment = adapter.pull_resources()

        assert [e.name for e in equipment] == ["Laser"]
        assert all(isinstance(e, Equipment) for e in equipment)
        _assert_canonical(equipment)

    def test_a_start_is_applied_once_and_then_already_applied(
        self, backend: Backend, adapter: PlanningAdapter
    ) -> None:
        order_id = backend.seed()

        first = adapter.push_order_start(order_id, STARTED)
        second = adapter.push_order_start(order_id, STARTED)

        assert (first.order_id, first.action, first.outcome) == (
            order_id,
            "start",
            PushOutcome.APPLIED,
        )
        assert second.outcome is PushOutcome.ALREADY_APPLIED
        assert first.message

    def test_a_completion_is_applied_once_and_then_already_applied_and_a_start_never_goes_back(
        self, backend: Backend, adapter: PlanningAdapter
    ) -> None:
        order_id = backend.seed()
        adapter.push_order_start(order_id, STARTED)

        done = adapter.push_order_completion(order_id, Decimal(5), Decimal(0), completed_at=STARTED)
        again = adapter.push_order_completion(order_id, Decimal(5), Decimal(0))
        late_start = adapter.push_order_start(order_id, STARTED)

        assert (done.action, done.outcome) == ("completion", PushOutcome.APPLIED)
        assert again.outcome is PushOutcome.ALREADY_APPLIED
        assert late_start.outcome is PushOutcome.ALREADY_APPLIED

    def test_an_unknown_order_is_not_found(
        self, backend: Backend, adapter: PlanningAdapter, expect: Expect
    ) -> None:
        error = expect(
            PlanningOrderNotFound, adapter.push_order_start, backend.missing_order, STARTED
        )

        assert error.kind is ErrorKind.REJECTED

    def test_bad_arguments_are_refused_before_any_request(
        self, backend: Backend, adapter: PlanningAdapter, expect: Expect
    ) -> None:
        naive = datetime(2026, 6, 1)  # noqa: DTZ001

        expect(PlanningRejected, adapter.push_order_completion, "1", Decimal(-1), Decimal(0))
        expect(PlanningRejected, adapter.push_order_start, "", STARTED)
        with pytest.raises(ValueError, match="timezone-aware"):
            adapter.push_order_start("1", naive)
        with pytest.raises(ValueError, match="timezone-aware"):
            adapter.pull_work_orders(since=naive)

        assert backend.fake.requests == []

    def test_the_adapter_is_a_context_manager_and_closing_twice_is_fine(
        self, backend: Backend
    ) -> None:
        with create_planning_adapter(backend.config) as adapter:
            adapter.pull_resources()
        adapter.close()

        with pytest.raises(RuntimeError, match="closed"):
            adapter.pull_resources()
