"""The admin UI in a real headless Chromium against the live server: signing in and out, a
forged form refused, another tenant's records out of reach, every ops page with data (and a
screenshot of each under var/screenshots/), creating and revoking a key, replaying a delivery.
"""

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from floorsync.webhooks.worker import drain
from tests.browser.conftest import new_page, shoot
from tests.support.admin import OpsData, delivery_deps, seed_ops_data
from tests.support.server import LiveServer
from tests.support.tenants import TenantHandle, make_tenant
from tests.support.webhook_receiver import WebhookReceiver


def sign_in(page: Any, key: str, path: str = "/admin/sync-history") -> None:
    page.goto(path)
    page.get_by_test_id("sign-in-key").fill(key)
    page.get_by_test_id("sign-in-submit").click()
    page.wait_for_url(re.compile(re.escape(path) + "$"))


def fits_the_window(page: Any) -> bool:
    """Nothing sticks out sideways: wide tables scroll inside their own box."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as rx:
        yield rx


@pytest.fixture
def ops(server: LiveServer, tenant: TenantHandle, receiver: WebhookReceiver) -> OpsData:
    return seed_ops_data(tenant, server.app.state.services, receiver, tag="demo")


class TestSigningIn:
    def test_an_admin_key_signs_in_and_lands_where_the_user_was_going(
        self, page: Any, tenant: TenantHandle
    ) -> None:
        page.goto("/admin/events")
        assert "/admin/sign-in?next=" in page.url
        shoot(page, "01-sign-in")
        page.get_by_test_id("sign-in-key").fill(tenant.admin_key)
        page.get_by_test_id("sign-in-submit").click()
        page.wait_for_url(re.compile(r"/admin/events$"))
        assert page.get_by_test_id("signed-in-tenant").inner_text().startswith("test-")
        cookies = {c["name"]: c for c in page.context.cookies()}
        assert cookies["floorsync_admin"]["httpOnly"] is True
        assert cookies["floorsync_admin"]["sameSite"] == "Lax"
        assert tenant.admin_key not in str(cookies)

    def test_a_wrong_key_gets_the_form_again_with_a_message(
        self, page: Any, server: LiveServer
    ) -> None:
        page.goto("/admin/sign-in")
        page.get_by_test_id("sign-in-key").fill("ery_live_" + "0" * 32)
        page.get_by_test_id("sign-in-submit").click()
        assert "not accepted" in page.get_by_test_id("sign-in-error").inner_text()
        shoot(page, "02-sign-in-refused")
        assert "floorsync_admin" not in {c["name"] for c in page.context.cookies()}

    def test_signing_out_ends_the_session(self, page: Any, tenant: TenantHandle) -> None:
        sign_in(page, tenant.admin_key)
        page.get_by_test_id("sign-out").click()
        page.wait_for_url(re.compile(r"/admin/sign-in\?signed_out=1$"))
        assert "signed out" in page.get_by_test_id("notice").inner_text()
        page.goto("/admin/webhooks")
        assert "/admin/sign-in" in page.url


class TestCsrf:
    def test_a_form_whose_token_was_tampered_with_is_refused(
        self, page: Any, tenant: TenantHandle
    ) -> None:
        sign_in(page, tenant.admin_key, "/admin/api-keys")
        form = page.get_by_test_id("key-create-form")
        form.locator("input[name=csrf_token]").evaluate("el => el.value = 'forged.token'")
        page.get_by_test_id("key-name-input").fill("forged")
        page.get_by_test_id("key-create-submit").click()
        assert "This form was not accepted" in page.get_by_test_id("error-message").inner_text()
        assert page.locator(".error-code").inner_text() == "403"
        shoot(page, "09-csrf-refused")
        names = [
            k["name"] for k in tenant.client.get("/api-key-generate").json()["data"]["api_keys"]
        ]
        assert "forged" not in names

    def test_a_form_without_a_token_is_refused(self, page: Any, tenant: TenantHandle) -> None:
        sign_in(page, tenant.admin_key, "/admin/api-keys")
        page.get_by_test_id("key-create-form").locator("input[name=csrf_token]").evaluate(
            "el => el.remove()"
        )
        page.get_by_test_id("key-name-input").fill("no token")
        page.get_by_test_id("key-create-submit").click()
        assert page.locator(".error-code").inner_text() == "403"


class TestTenantIsolation:
    def test_another_tenants_session_can_not_open_this_tenants_records(
        self,
        page: Any,
        ops: OpsData,
        other_tenant: TenantHandle,
    ) -> None:
        sign_in(page, other_tenant.admin_key)
        for path in (
            f"/admin/webhooks/{ops.webhook_id}",
            f"/admin/sync-history/{ops.failed_run_id}",
        ):
            response = page.goto(path)
            assert response.status == 404
            assert page.get_by_test_id("error-page").is_visible()
        shoot(page, "10-other-tenant-not-found")
        page.goto("/admin/webhooks")
        assert page.get_by_test_id("empty-state").is_visible()
        page.goto("/admin/sync-history")
        assert page.get_by_test_id("sync-run-row").count() == 0
        page.goto("/admin/api-keys")
        assert ops.integration_key_id not in page.content()


class TestTheOpsPages:
    def test_each_page_shows_the_tenants_data_and_fits_the_window(
        self, page: Any, tenant: TenantHandle, ops: OpsData
    ) -> None:
        sign_in(page, tenant.admin_key)
        rows = page.get_by_test_id("sync-run-row")
        assert rows.count() == 2
        assert page.get_by_test_id("nav-sync-history").get_attribute("aria-current") == "page"
        assert fits_the_window(page)
        shoot(page, "03-sync-history")

        page.get_by_test_id("filter-status").select_option("partial")
        page.get_by_test_id("filter-apply").click()
        page.wait_for_url(re.compile(r"status=partial"))
        assert rows.count() == 1
        page.get_by_test_id("sync-run-link").first.click()
        page.wait_for_url(re.compile(ops.failed_run_id))
        fields = page.get_by_test_id("run-error-field").all_inner_texts()
        assert sorted(fields) == ["job_number", "priority"]
        assert fits_the_window(page)
        shoot(page, "04-sync-run")

        page.get_by_test_id("nav-webhooks").click()
        page.wait_for_url(re.compile(r"/admin/webhooks$"))
        assert page.get_by_test_id("webhook-state").inner_text() == "failing"
        assert fits_the_window(page)
        shoot(page, "05-webhooks")

        page.get_by_test_id("webhook-link").click()
        page.wait_for_url(re.compile(ops.webhook_id))
        assert page.get_by_test_id("webhook-log-row").count() == 4
        assert page.get_by_test_id("webhook-pending").inner_text() == "4"
        assert fits_the_window(page)
        shoot(page, "06-webhook")

        page.get_by_test_id("nav-events").click()
        page.wait_for_url(re.compile(r"/admin/events$"))
        head = tenant.client.get("/api-events", params={"after": "now"}).json()["data"]
        assert page.get_by_test_id("feed-cursor").input_value() == head["next_cursor"]
        events = page.get_by_test_id("event-row")
        assert events.count() == int(page.get_by_test_id("feed-head").inner_text())
        page.get_by_test_id("event-data").first.locator("summary").click()
        assert '"origin"' in page.get_by_test_id("event-data").first.inner_text()
        assert fits_the_window(page)
        shoot(page, "07-events")

        page.get_by_test_id("filter-types").fill("cell.*")
        page.get_by_test_id("filter-apply").click()
        page.wait_for_url(re.compile(r"types=cell"))
        assert events.count() == 3

        page.get_by_test_id("nav-api-keys").click()
        page.wait_for_url(re.compile(r"/admin/api-keys$"))
        assert page.get_by_test_id("key-row").count() == 2
        assert fits_the_window(page)
        shoot(page, "08-api-keys")

    def test_the_pages_also_fit_a_small_laptop_screen(
        self, context: Any, tenant: TenantHandle, ops: OpsData
    ) -> None:
        page = new_page(context)
        page.set_viewport_size({"width": 1024, "height": 768})
        sign_in(page, tenant.admin_key)
        for path in (
            "/admin/sync-history",
            f"/admin/sync-history/{ops.failed_run_id}",
            "/admin/webhooks",
            f"/admin/webhooks/{ops.webhook_id}",
            "/admin/events",
            "/admin/api-keys",
        ):
            page.goto(path)
            assert fits_the_window(page), path
        shoot(page, "13-api-keys-1024px")

    def test_a_new_tenant_sees_empty_states_that_say_what_will_appear(
        self, page: Any, server: LiveServer, sessions: sessionmaker[Session]
    ) -> None:
        fresh = make_tenant(server, sessions, name="fresh")
        try:
            sign_in(page, fresh.admin_key)
            assert "No sync runs yet" in page.get_by_test_id("empty-state").inner_text()
            shoot(page, "14-empty-sync-history")
            page.get_by_test_id("nav-webhooks").click()
            assert "No webhook endpoints yet" in page.get_by_test_id("empty-state").inner_text()
            shoot(page, "15-empty-webhooks")
            page.get_by_test_id("nav-events").click()
            assert "No events yet" in page.get_by_test_id("empty-state").inner_text()
        finally:
            fresh.close()


class TestActions:
    def test_a_key_is_created_shown_once_and_revoked(
        self, page: Any, tenant: TenantHandle, server: LiveServer
    ) -> None:
        sign_in(page, tenant.admin_key, "/admin/api-keys")
        page.get_by_test_id("key-name-input").fill("MES line 2")
        page.get_by_test_id("key-role-select").select_option("integration")
        page.get_by_test_id("key-create-submit").click()
        key = page.get_by_test_id("new-key-value").input_value()
        assert re.fullmatch(r"ery_live_[0-9a-f]{32}", key)
        page.get_by_test_id("copy-new-key").click()
        shoot(page, "11-api-key-created")
        with httpx.Client(base_url=server.base_url) as api:
            assert api.get("/api-jobs", headers={"Authorization": f"Bearer {key}"}).is_success

        page.goto("/admin/api-keys")
        assert key not in page.content()  # shown once
        row = page.get_by_test_id("key-row").filter(has_text="MES line 2")
        row.get_by_test_id("revoke-button").click()  # confirm() is accepted
        page.wait_for_url(re.compile(r"done=revoked"))
        assert "MES line 2" in page.get_by_test_id("notice").inner_text()
        assert row.get_by_test_id("key-state").inner_text() == "revoked"
        shoot(page, "12-api-key-revoked")
        with httpx.Client(base_url=server.base_url) as api:
            refused = api.get("/api-jobs", headers={"Authorization": f"Bearer {key}"})
            assert refused.status_code == 401

    def test_a_failed_delivery_is_replayed_and_arrives_with_the_same_webhook_id(
        self,
        page: Any,
        tenant: TenantHandle,
        ops: OpsData,
        server: LiveServer,
        receiver: WebhookReceiver,
    ) -> None:
        sign_in(page, tenant.admin_key, f"/admin/webhooks/{ops.webhook_id}")
        before = len(receiver.requests)
        row = page.get_by_test_id("webhook-log-row").filter(has_text=ops.failed_event_id)
        row.get_by_test_id("replay-button").click()
        page.wait_for_url(re.compile(r"done=replayed"))
        assert ops.failed_event_id in page.get_by_test_id("notice").inner_text()
        # the endpoint rests for a few seconds after a failed attempt; then the worker sends it
        deps = delivery_deps(server.app.state.services)
        deadline = time.monotonic() + 20
        try:
            while time.monotonic() < deadline and ops.failed_event_id not in {
                r.webhook_id for r in receiver.requests[before:]
            }:
                drain(deps)
                time.sleep(0.2)
        finally:
            deps.http.close()
        assert ops.failed_event_id in [r.webhook_id for r in receiver.requests[before:]]
        page.reload()
        assert page.get_by_test_id("webhook-state").inner_text() == "active"
        replayed = page.get_by_test_id("webhook-log-row").filter(has_text="replay 1")
        assert replayed.count() == 1
        shoot(page, "16-webhook-replayed")
