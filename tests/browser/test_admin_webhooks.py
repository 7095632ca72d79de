"""The admin UI's webhooks page shows each endpoint's delivery state as `GET /api-webhooks` has
it (issue 11): healthy, backing off (the receiver's Retry-After) or open (the circuit breaker),
until when, and the backlog. Three endpoints are brought into those states by real attempts
against a receiver on 127.0.0.1, then the pages are read in Chromium (screenshots under
var/screenshots/)."""

import re
from collections.abc import Iterator
from typing import Any

import pytest

from floorsync.webhooks.worker import drain
from tests.browser.conftest import shoot
from tests.browser.test_admin import fits_the_window, sign_in
from tests.support.admin import delivery_deps
from tests.support.server import LiveServer
from tests.support.tenants import TenantHandle
from tests.support.webhook_receiver import Reply, WebhookReceiver
from tests.webhooks.conftest import register


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as rx:
        yield rx


def make_cells(tenant: TenantHandle, tag: str, n: int) -> None:
    for i in range(n):
        resp = tenant.client.post("/api-cells", json={"name": f"{tag}-{i}"})
        assert resp.status_code == 201, resp.text


class TestDeliveryState:
    def test_each_endpoint_shows_its_breaker_state_backoff_until_and_backlog(
        self,
        page: Any,
        server: LiveServer,
        tenant: TenantHandle,
        receiver: WebhookReceiver,
    ) -> None:
        deps = delivery_deps(server.app.state.services)
        try:
            # A receiver that is down: ten failed attempts in a row open the breaker.
            down = register(tenant, receiver.url_for("/down"), events=["cell.*"])
            receiver.default = Reply(500)
            make_cells(tenant, "down", 12)
            drain(deps)
            # One that asks to wait an hour: the endpoint backs off (capped at 1 h).
            busy = register(tenant, receiver.url_for("/busy"), events=["cell.*"])
            receiver.default = Reply(429, retry_after="3600")
            make_cells(tenant, "busy", 1)
            drain(deps)
            # A healthy one, four requests at a time, which never hears of syncs from SAP.
            healthy = register(
                tenant,
                receiver.url_for("/ok"),
                events=["cell.*"],
                max_in_flight=4,
                exclude_sources=["SAP"],
            )
            receiver.default = Reply(200)
            make_cells(tenant, "ok", 2)
            drain(deps)
        finally:
            deps.http.close()

        api = {h["id"]: h for h in tenant.client.get("/api-webhooks").json()["data"]["webhooks"]}
        assert api[down["id"]]["state"] == "open"
        assert api[busy["id"]]["state"] == "backing_off"
        assert api[busy["id"]]["backoff_until"] is not None
        assert api[healthy["id"]]["state"] == "healthy"
        assert api[healthy["id"]]["backoff_until"] is None

        sign_in(page, tenant.admin_key, "/admin/webhooks")
        rows = {
            hook_id: page.locator(f'[data-testid="webhook-row"][data-webhook-id="{hook_id}"]')
            for hook_id in (down["id"], busy["id"], healthy["id"])
        }

        def text(hook_id: str, testid: str) -> str:
            return str(rows[hook_id].get_by_test_id(testid).inner_text()).strip()

        assert text(down["id"], "webhook-flow") == "open"
        # open for 30 s, then half-open: either way the page says what happens next
        assert re.match(r"^(until |probing)", text(down["id"], "webhook-backoff-until"))
        assert text(busy["id"], "webhook-flow") == "backing off"
        assert text(busy["id"], "webhook-backoff-until").startswith("until ")
        assert text(healthy["id"], "webhook-flow") == "healthy"
        assert rows[healthy["id"]].get_by_test_id("webhook-backoff-until").count() == 0
        # the backlog: everything the down endpoint got (its 13 cells' events, none sent), the
        # busy one's two (its first attempt asked to wait), nothing for the healthy one
        assert text(down["id"], "webhook-backlog") == "15"
        assert text(busy["id"], "webhook-backlog") == "3"
        assert text(healthy["id"], "webhook-backlog") == "0"
        assert "up to 4 in flight" in rows[healthy["id"]].inner_text()
        assert fits_the_window(page)
        shoot(page, "17-webhooks-delivery-state")

        rows[busy["id"]].get_by_test_id("webhook-link").click()
        page.wait_for_url(re.compile(busy["id"]))
        assert page.get_by_test_id("webhook-flow").inner_text() == "backing off"
        assert page.get_by_test_id("webhook-backoff-until").inner_text().strip() != ""
        assert page.get_by_test_id("webhook-pending").inner_text() == "3"
        shoot(page, "18-webhook-backing-off")
        page.goto(f"/admin/webhooks/{healthy['id']}")
        assert page.get_by_test_id("webhook-flow").inner_text() == "healthy"
        assert page.get_by_test_id("webhook-max-in-flight").inner_text() == "4"
        assert "syncs from SAP" in page.get_by_test_id("webhook-health").inner_text()
        assert fits_the_window(page)
        for hook in (down, busy, healthy):
            tenant.client.delete("/api-webhooks", params={"id": hook["id"]})
