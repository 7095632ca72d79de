"""End to end (issue 13): pull from the fake planning server into floorsync, start and complete
the job through the lifecycle API of a real floorsync server, let the dispatcher turn the
committed events into push rows and the push queue execute them, and see the order upstream
`confirmed` then `completed` with the good quantity (FrePPLe), `progress` then `done` (each Odoo
profile). Also §7.1–§7.2 on the way: one push row per event, none for another source or a
connection with pushes off, whose cursor still moves."""

import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest

from floorsync.bootstrap import Services, build_services
from floorsync.config import Settings
from floorsync.db.repository import TenantScope, scoped
from floorsync.models.enums import DeliveryStatus, PlanningPushKind, PlanningTrigger
from floorsync.models.master import Job, Operation, Part
from floorsync.models.planning import PlanningConnection, PlanningPush
from floorsync.planning.connections import tenant_head
from floorsync.planning.dispatch import dispatch_all
from floorsync.planning.pushes import push_due
from floorsync.planning.service import pull
from tests.planning.app_support import add_frepple, add_odoo, deps_of
from tests.planning.conftest import ODOO_VERSIONS
from tests.planning.fakes.frepple import FakeFrepple, seed_orders
from tests.planning.fakes.odoo import FakeOdoo, seed_productions
from tests.support.api import ok
from tests.support.tenants import TenantHandle

LEASE = timedelta(minutes=5)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = build_services(settings)
    yield built
    built.close()


def job_and_ops(services: Services, scope: TenantScope, external_id: str) -> tuple[str, list[str]]:
    """The job pulled for this order and its operations in routing order."""
    with services.sessions() as s:
        job = s.scalars(scoped(Job, scope).where(Job.external_id == external_id)).one()
        part = s.scalars(scoped(Part, scope).where(Part.job_id == job.id)).one()
        ops = s.scalars(
            scoped(Operation, scope, include_deleted=False)
            .where(Operation.part_id == part.id)
            .order_by(Operation.sequence)
        ).all()
        return str(job.id), [str(o.id) for o in ops]


def pushes(services: Services, scope: TenantScope) -> list[PlanningPush]:
    with services.sessions() as s:
        rows = list(s.scalars(scoped(PlanningPush, scope).order_by(PlanningPush.seq)))
        s.expunge_all()
        return rows


def start_and_complete(
    tenant: TenantHandle, job_id: str, ops: list[str], good: int, scrap: int
) -> None:
    c = tenant.client
    ok(c.post("/api-job-lifecycle/start", params={"id": job_id}))
    ok(
        c.post(
            "/api-operation-quantities",
            json={
                "operation_id": ops[-1],
                "quantity_good": good,
                "quantity_scrap": scrap,
                "quantity_produced": good + scrap,
            },
        ),
        201,
    )


def test_frepple_order_is_confirmed_then_completed_with_the_good_quantity(
    tenant: TenantHandle, services: Services
) -> None:
    scope = TenantScope(tenant.id)
    fake = FakeFrepple()
    try:
        seed_orders(fake.data, 2, steps=2, work_centres=2)
        cid = add_frepple(services, scope, fake.base_url)
        deps = deps_of(services)
        pull(deps, scope, cid, trigger=PlanningTrigger.cli)
        job_id, ops = job_and_ops(services, scope, "MO-000001")
        assert len(ops) == 2

        start_and_complete(tenant, job_id, ops, good=9, scrap=2)
        assert dispatch_all(deps) == 1
        assert push_due(deps, "test-worker", LEASE, services.webhooks.config.schedule) == [
            "applied"
        ]

        assert fake.data.mos["MO-000001"]["status"] == "confirmed"
        assert fake.data.mos["MO-000000"]["status"] == "approved"  # untouched
        ok(tenant.client.post("/api-job-lifecycle/complete", params={"id": job_id}))
        assert dispatch_all(deps) == 1
        done = push_due(deps, "test-worker", LEASE, services.webhooks.config.schedule)

        assert done == ["applied"]
        order = fake.data.mos["MO-000001"]
        assert order["status"] == "completed"
        assert Decimal(order["quantity"]) == Decimal(9)
        rows = pushes(services, scope)
        assert [r.kind for r in rows] == [
            PlanningPushKind.order_start,
            PlanningPushKind.order_completion,
        ]
        assert rows[1].payload["quantity_good"] == "9"
        assert rows[1].payload["quantity_scrap"] == "2"
        assert {r.status for r in rows} == {DeliveryStatus.succeeded}
        # a repeated dispatch creates nothing more
        assert dispatch_all(deps) == 0
    finally:
        fake.stop()


@pytest.mark.parametrize("version", ODOO_VERSIONS)
def test_odoo_order_is_started_then_done_for_each_profile(
    tenant: TenantHandle, services: Services, version: int
) -> None:
    scope = TenantScope(tenant.id)
    fake = FakeOdoo(version)
    try:
        ids = seed_productions(fake, 1, steps=2, work_centres=2)
        key = fake.add_api_key() if version >= 19 else None
        cid = add_odoo(services, scope, fake.base_url, fake.database, api_key=key)
        deps = deps_of(services)
        pull(deps, scope, cid, trigger=PlanningTrigger.cli)
        job_id, ops = job_and_ops(services, scope, str(ids[0]))
        quantity = int(fake.tables["mrp.production"][ids[0]]["product_qty"])

        start_and_complete(tenant, job_id, ops, good=quantity, scrap=1)
        dispatch_all(deps)
        schedule = services.webhooks.config.schedule
        assert push_due(deps, "test-worker", LEASE, schedule) == ["applied"]
        assert fake.tables["mrp.production"][ids[0]]["state"] == "progress"

        ok(tenant.client.post("/api-job-lifecycle/complete", params={"id": job_id}))
        dispatch_all(deps)
        assert push_due(deps, "test-worker", LEASE, schedule) == ["applied"]

        order = fake.tables["mrp.production"][ids[0]]
        assert order["state"] == "done"
        assert Decimal(str(order["qty_produced"])) == Decimal(quantity)
    finally:
        fake.stop()


def test_no_rows_for_another_source_or_a_connection_with_pushes_off(
    tenant: TenantHandle, services: Services
) -> None:
    scope = TenantScope(tenant.id)
    fake = FakeFrepple()
    try:
        seed_orders(fake.data, 1, steps=1, work_centres=1)
        cid = add_frepple(services, scope, fake.base_url)
        deps = deps_of(services)
        pull(deps, scope, cid, trigger=PlanningTrigger.cli)
        with services.sessions.begin() as s:
            row = s.scalars(scoped(PlanningConnection, scope)).one()
            row.push_enabled = False
        other = ok(
            tenant.client.post(
                "/api-jobs",
                json={
                    "job_number": f"ERP-{uuid.uuid4().hex[:6]}",
                    "external_id": "X1",
                    "external_source": "erp",
                    "parts": [
                        {
                            "part_number": "P",
                            "quantity": 1,
                            "operations": [{"operation_name": "Cut"}],
                        }
                    ],
                },
            ),
            201,
        )
        job_id, _ops = job_and_ops(services, scope, "MO-000000")
        ok(tenant.client.post("/api-job-lifecycle/start", params={"id": job_id}))
        ok(tenant.client.post("/api-job-lifecycle/start", params={"id": other["job"]["id"]}))

        dispatch_all(deps)

        assert pushes(services, scope) == []
        with services.sessions() as s:
            row = s.scalars(scoped(PlanningConnection, scope)).one()
            assert row.dispatch_cursor == tenant_head(s, scope)
    finally:
        fake.stop()
