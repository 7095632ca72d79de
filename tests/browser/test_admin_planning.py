"""The admin page of planning connections in headless Chromium against the live server: a
connection pulled from the fake FrePPLe shows its last pull, cursor, pending and failed pushes
and its last error; "Test connection" runs the test and lifts an authentication block; "Pull now"
queues a pull for the worker. Screenshots under var/screenshots/ (50-…)."""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from floorsync.db.repository import TenantScope, scoped
from floorsync.kit.ids import new_id
from floorsync.models.bookkeeping import WorkerJob
from floorsync.models.enums import (
    DeliveryFailure,
    DeliveryStatus,
    PlanningPushKind,
    PlanningTrigger,
)
from floorsync.models.planning import PlanningConnection, PlanningPush
from floorsync.planning.service import pull
from floorsync.planning.tasks import PULL_NOW
from tests.browser.conftest import shoot
from tests.browser.test_admin import fits_the_window, sign_in
from tests.planning.app_support import add_frepple, deps_of
from tests.planning.fakes.frepple import FakeFrepple, seed_orders
from tests.support.server import LiveServer
from tests.support.tenants import TenantHandle


@pytest.fixture
def frepple() -> Iterator[FakeFrepple]:
    fake = FakeFrepple()
    seed_orders(fake.data, 4, steps=2, work_centres=2)
    yield fake
    fake.stop()


def test_the_planning_page_shows_state_and_its_two_buttons_work(
    page: Any, server: LiveServer, tenant: TenantHandle, frepple: FakeFrepple
) -> None:
    services = server.app.state.services
    scope = TenantScope(tenant.id)
    cid = add_frepple(services, scope, frepple.base_url)
    pull(deps_of(services), scope, cid, trigger=PlanningTrigger.cli)
    now = services.clock.now()
    with services.sessions.begin() as s:
        for n, status in enumerate((DeliveryStatus.pending, DeliveryStatus.failed)):
            s.add(
                PlanningPush(
                    id=new_id(),
                    tenant_id=tenant.id,
                    connection_id=cid,
                    event_id=new_id(),
                    seq=n + 1,
                    kind=PlanningPushKind.order_start,
                    order_external_id=f"MO-00000{n}",
                    payload={"started_at": "2026-06-01T05:30:00.000Z"},
                    status=status,
                    failure_reason=DeliveryFailure.rejected if n else None,
                    attempts=n,
                    window_started_at=now,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
        row = s.scalars(scoped(PlanningConnection, scope)).one()
        row.last_test_ok = False
        row.last_error = "auth: FrePPLe refused the credentials (401 Invalid username/password.)"

    sign_in(page, tenant.admin_key, "/admin/planning")
    table = page.get_by_test_id("planning-table")
    assert "frepple" in table.inner_text()
    assert page.get_by_test_id("planning-cursor").inner_text().startswith("2026-05-28T14:12:40")
    assert page.get_by_test_id("planning-pending").inner_text() == "1"
    assert page.get_by_test_id("planning-failed").inner_text() == "1"
    assert page.get_by_test_id("planning-test-state").inner_text() == "blocked"
    assert "refused the credentials" in page.get_by_test_id("planning-error").inner_text()
    assert page.get_by_test_id("planning-run-row").count() == 2
    assert fits_the_window(page)
    shoot(page, "50-planning")

    page.get_by_test_id("planning-test-button").click()
    page.wait_for_url(re.compile(r"/admin/planning\?done=tested"))
    assert "test succeeded" in page.get_by_test_id("notice").inner_text()
    assert page.get_by_test_id("planning-test-state").inner_text() == "ok"

    page.get_by_test_id("planning-pull-button").click()
    page.wait_for_url(re.compile(r"/admin/planning\?done=queued"))
    assert "queued" in page.get_by_test_id("notice").inner_text()
    shoot(page, "51-planning-pull-queued")
    with services.sessions() as s:
        jobs = s.scalars(select(WorkerJob).where(WorkerJob.kind == PULL_NOW)).all()
    assert any(j.payload["connection_id"] == str(cid) for j in jobs)
