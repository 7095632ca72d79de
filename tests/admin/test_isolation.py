"""Tenant isolation of the admin UI, proven by walking the admin app's own route table (as
tests/http/test_isolation.py does for the API): tenant B, signed in with its own key, asks for
every page and action with tenant A's ids; it gets 404 pages, never sees A's ids or data, and
A's endpoint, deliveries and keys are exactly as they were.

Routes added later are walked too. A route with a path parameter this test doesn't know fails
the walk: add a record of tenant A for it to `ids_for` (tests/support/admin.py)."""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from floorsync.db.repository import TenantScope, scoped
from floorsync.models.tenancy import AdminSession, ApiKey
from floorsync.models.webhooks import Webhook, WebhookDelivery
from tests.support.admin import (
    AdminClient,
    OpsData,
    admin_routes,
    csrf_from,
    fill,
    ids_for,
    path_params,
    seed_ops_data,
    signed_in,
)
from tests.support.server import LiveServer
from tests.support.tenants import TenantHandle
from tests.support.webhook_receiver import WebhookReceiver

# Routes that are not about any tenant's records.
NOT_TENANT_DATA = {
    ("GET", "/admin/sign-in"),
    ("POST", "/admin/sign-in"),
    ("POST", "/admin/sign-out"),
}


def state_of(sessions: sessionmaker[Session], tenant: TenantHandle) -> Any:
    """Everything of A an admin action could change."""
    scope = TenantScope(tenant.id)
    with sessions() as s:
        hooks = [
            (h.active, h.consecutive_failures, h.updated_at)
            for h in s.scalars(scoped(Webhook, scope).order_by(Webhook.id))
        ]
        deliveries = [
            (d.replay_round, d.status, d.attempts, d.next_attempt_at)
            for d in s.scalars(scoped(WebhookDelivery, scope).order_by(WebhookDelivery.id))
        ]
        keys = [
            (k.active, k.revoked_at) for k in s.scalars(scoped(ApiKey, scope).order_by(ApiKey.id))
        ]
        sessions_ = len(list(s.scalars(scoped(AdminSession, scope))))
    return hooks, deliveries, keys, sessions_


@pytest.fixture
def a_and_b(
    server: LiveServer,
    tenant: TenantHandle,
    other_tenant: TenantHandle,
    receiver: WebhookReceiver,
) -> Iterator[tuple[OpsData, AdminClient, AdminClient]]:
    data = seed_ops_data(tenant, server.app.state.services, receiver)
    a = signed_in(server.base_url, tenant.admin_key)
    b = signed_in(server.base_url, other_tenant.admin_key)
    yield data, a, b
    a.close()
    b.close()


def a_ids(data: OpsData) -> set[str]:
    return {
        *data.run_ids,
        data.webhook_id,
        data.failed_event_id,
        *data.delivered_event_ids,
        data.integration_key_id,
        data.planning_connection_id,
    }


class TestTheAdminRouteWalk:
    def test_every_parameter_of_every_admin_route_has_a_record_to_try(
        self, server: LiveServer
    ) -> None:
        known = set(ids_for(OpsData()))
        unknown = {
            (method, path, p)
            for method, path in admin_routes(server.app)
            for p in path_params(path)
            if p not in known
        }
        assert unknown == set(), "give these parameters a record of tenant A in ids_for"

    def test_the_walk_covers_the_ops_console(self, server: LiveServer) -> None:
        paths = {p for _m, p in admin_routes(server.app)}
        assert {
            "/admin/sync-history",
            "/admin/sync-history/{run_id}",
            "/admin/webhooks",
            "/admin/webhooks/{webhook_id}",
            "/admin/webhooks/{webhook_id}/replay",
            "/admin/webhooks/{webhook_id}/enable",
            "/admin/events",
            "/admin/api-keys",
            "/admin/api-keys/{key_id}/revoke",
        } <= paths

    def test_tenant_b_gets_404_for_tenant_as_records_and_changes_nothing_of_a(
        self,
        server: LiveServer,
        tenant: TenantHandle,
        sessions: sessionmaker[Session],
        a_and_b: tuple[OpsData, AdminClient, AdminClient],
    ) -> None:
        data, _a, b = a_and_b
        before = state_of(sessions, tenant)
        ids = ids_for(data)
        problems = []
        walked = 0
        for method, template in admin_routes(server.app):
            if not path_params(template):
                continue
            path = fill(template, ids)
            if method == "GET":
                resp = b.get(path)
            else:
                # a valid token of B's own session and a form that names A's records
                form = {"event_id": data.failed_event_id}
                resp = b.post_form(path, form, csrf=b.csrf())
            walked += 1
            if resp.status_code != 404:
                problems.append(f"{method} {path}: {resp.status_code}")
            elif 'data-testid="error-page"' not in resp.text:
                problems.append(f"{method} {path}: 404 without the HTML error page")
            leaked = {i for i in a_ids(data) if i in resp.text} - set(path.split("/"))
            if leaked:
                problems.append(f"{method} {path}: shows {leaked}")
        assert walked >= 5
        assert problems == []
        assert state_of(sessions, tenant) == before

    def test_tenant_bs_pages_never_show_tenant_as_records(
        self, server: LiveServer, a_and_b: tuple[OpsData, AdminClient, AdminClient]
    ) -> None:
        data, a, b = a_and_b
        pages = [
            p
            for m, p in admin_routes(server.app)
            if m == "GET" and not path_params(p) and ("GET", p) not in NOT_TENANT_DATA
        ]
        assert len(pages) >= 4
        for path in pages:
            mine, theirs = a.get(path), b.get(path)
            assert mine.status_code == theirs.status_code == 200, path
            assert {i for i in a_ids(data) if i in theirs.text} == set(), path
            assert "ERP order status updates" not in theirs.text, path
        # A does see its own records there: the walk compares like with like
        assert data.webhook_id in a.get("/admin/webhooks").text

    def test_b_can_not_replay_as_events_to_its_own_endpoint(
        self,
        server: LiveServer,
        other_tenant: TenantHandle,
        receiver: WebhookReceiver,
        a_and_b: tuple[OpsData, AdminClient, AdminClient],
    ) -> None:
        data, _a, b = a_and_b
        own = other_tenant.client.post(
            "/api-webhooks", json={"url": receiver.url_for("/b"), "events": ["*"]}
        ).json()["data"]["webhook"]
        page = b.get(f"/admin/webhooks/{own['id']}")
        resp = b.post_form(
            f"/admin/webhooks/{own['id']}/replay",
            {"event_id": data.failed_event_id},
            csrf=csrf_from(page.text),
        )
        assert resp.status_code == 404
        assert "not found" in resp.text
