"""Every admin page over real HTTP, with data: each renders, is an HTML page with the security
headers, loads nothing from another origin, escapes what it shows, and its forms do what the
API would (replay, enable, create and revoke keys) through the same services."""

from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from floorsync.db.repository import TenantScope, scoped
from floorsync.models.webhooks import WebhookDelivery
from tests.support.admin import (
    AdminClient,
    OpsData,
    admin_routes,
    fill,
    ids_for,
    is_download,
    seed_ops_data,
    signed_in,
)
from tests.support.server import LiveServer
from tests.support.tenants import TenantHandle
from tests.support.webhook_receiver import WebhookReceiver

URL_ATTRIBUTES = {"href", "src", "action", "srcset", "poster", "data", "formaction", "xlink:href"}


class Links(HTMLParser):
    """Every URL-bearing attribute and inline style of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []
        self.styles: list[str] = []
        self.scripts_inline = 0
        self._in_script = False
        self.untested: list[str] = []  # interactive elements without a data-testid

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        interactive = tag in ("a", "button", "select", "textarea", "summary") or (
            tag == "input" and named.get("type") != "hidden"
        )
        if interactive and "data-testid" not in named:
            self.untested.append(f"<{tag} {named}>")
        for name, value in attrs:
            if name in URL_ATTRIBUTES and value is not None:
                for part in value.split(","):
                    self.urls.append((tag, name, part.strip().split(" ")[0]))
            if name == "style" and value:
                self.styles.append(value)
        if tag == "script":
            self._in_script = not any(n == "src" for n, _ in attrs)

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.scripts_inline += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False


def is_local(url: str) -> bool:
    """Served by floorsync itself: a path on this origin, a fragment or a query."""
    return (
        url == ""
        or url.startswith(("#", "?"))
        or (url.startswith("/") and not url.startswith("//"))
    )


def external_urls_in_css(text: str) -> list[str]:
    """URLs in a stylesheet, script or SVG that point elsewhere (an SVG's xmlns is a name, not
    something loaded)."""
    import re

    text = re.sub(r'xmlns(:\w+)?="[^"]*"', "", text)
    found = re.findall(r"url\(\s*['\"]?([^'\")]+)", text) + re.findall(
        r"@import\s+['\"]([^'\"]+)", text
    )
    return [u for u in found if not is_local(u)] + re.findall(r"https?://[^\s'\")]+", text)


@pytest.fixture
def seeded(
    server: LiveServer, tenant: TenantHandle, receiver: WebhookReceiver
) -> Iterator[tuple[AdminClient, OpsData]]:
    data = seed_ops_data(tenant, server.app.state.services, receiver)
    client = signed_in(server.base_url, tenant.admin_key)
    yield client, data
    client.close()


def every_get_page(server: LiveServer, data: OpsData) -> list[str]:
    ids = ids_for(data)
    return [
        fill(path, ids)
        for method, path in admin_routes(server.app)
        if method == "GET" and not is_download(path)
    ]


class TestEveryPage:
    def test_every_get_route_renders_a_full_html_page_with_the_security_headers(
        self, server: LiveServer, seeded
    ) -> None:
        client, data = seeded
        pages = every_get_page(server, data)
        assert len(pages) >= 7
        for path in pages:
            resp = client.get(path)
            if path == "/admin/sign-in":  # signed in: straight on
                assert resp.status_code == 303
                continue
            assert resp.status_code == 200, (path, resp.text[:500])
            assert resp.headers["content-type"] == "text/html; charset=utf-8", path
            csp = resp.headers["content-security-policy"]
            assert "default-src 'none'" in csp, path
            assert "script-src 'self'" in csp, path
            assert resp.headers["x-frame-options"] == "DENY"
            assert resp.headers["cache-control"] == "no-store"
            assert 'data-testid="nav-sync-history"' in resp.text, path

    def test_no_page_or_asset_loads_anything_from_another_origin(
        self, server: LiveServer, seeded, anonymous: AdminClient
    ) -> None:
        client, data = seeded
        pages = [(client, p) for p in every_get_page(server, data)]
        pages += [(anonymous, "/admin/sign-in"), (client, "/admin/no-such-page")]
        assets: set[str] = set()
        problems = []
        for who, path in pages:
            resp = who.get(path)
            if resp.status_code == 303:
                continue
            parser = Links()
            parser.feed(resp.text)
            problems += [(path, u) for u in parser.urls if not is_local(u[2])]
            problems += [(path, s) for s in parser.styles if external_urls_in_css(s)]
            assert parser.scripts_inline == 0, f"{path}: inline script (the CSP refuses it)"
            assert parser.untested == [], f"{path}: interactive elements need a data-testid"
            assets |= {u[2] for u in parser.urls if u[2].startswith("/admin/static/")}
        assert {a.split("?")[0] for a in assets} == {
            "/admin/static/admin.css",
            "/admin/static/admin.js",
            "/admin/static/favicon.svg",
        }
        for asset in sorted(assets):
            resp = client.get(asset)
            assert resp.status_code == 200, asset
            problems += [(asset, u) for u in external_urls_in_css(resp.text)]
        assert problems == []

    def test_the_scanner_recognises_an_external_asset(self) -> None:
        parser = Links()
        parser.feed(
            '<link rel="stylesheet" href="https://cdn.example/x.css">'
            '<script src="//cdn.example/a.js"></script><img srcset="/a.png 1x, http://x/b.png 2x">'
        )
        assert [u for u in parser.urls if not is_local(u[2])] == [
            ("link", "href", "https://cdn.example/x.css"),
            ("script", "src", "//cdn.example/a.js"),
            ("img", "srcset", "http://x/b.png"),
        ]
        assert external_urls_in_css("a{background:url('https://x/y.png')}")

    def test_the_scanner_notices_interactive_elements_without_a_test_id(self) -> None:
        parser = Links()
        parser.feed(
            '<a href="/x" data-testid="ok">x</a><button>Go</button>'
            '<input type="hidden" name="csrf_token"><input name="q"><summary>More</summary>'
        )
        assert [u.split(" ")[0] for u in parser.untested] == ["<button", "<input", "<summary"]

    def test_unknown_pages_and_ids_get_html_error_pages_not_json(self, admin: AdminClient) -> None:
        for path in (
            "/admin/nope",
            "/admin/webhooks/not-a-uuid",
            "/admin/webhooks/00000000-0000-0000-0000-000000000000",
            "/admin/sync-history/00000000-0000-0000-0000-000000000000",
        ):
            resp = admin.get(path)
            assert resp.status_code == 404, path
            assert resp.headers["content-type"].startswith("text/html")
            assert 'data-testid="error-page"' in resp.text
            assert '"success"' not in resp.text

    def test_a_wrong_method_gets_an_html_405(self, admin: AdminClient) -> None:
        resp = admin.http.delete("/admin/api-keys")
        assert resp.status_code == 405
        assert resp.headers["content-type"].startswith("text/html")

    def test_a_hand_edited_filter_value_is_reported_on_the_page(self, seeded) -> None:
        client, _data = seeded
        resp = client.get("/admin/sync-history", params={"status": "exploded"})
        assert resp.status_code == 200
        assert 'data-testid="error">Invalid status: must be one of' in resp.text

    def test_what_a_page_shows_is_escaped(self, admin: AdminClient, tenant: TenantHandle) -> None:
        name = '<script>alert("x")</script><img src=https://evil.example/x>'
        assert tenant.client.post("/api-key-generate", json={"name": name}).status_code == 201
        text = admin.get("/admin/api-keys").text
        assert "<script>alert" not in text
        assert "<img src=https" not in text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in text


class TestSyncHistory:
    def test_the_history_lists_the_runs_and_filters_them(self, seeded) -> None:
        client, data = seeded
        text = client.get("/admin/sync-history").text
        assert all(f'data-run-id="{run}"' in text for run in data.run_ids)
        only_jobs = client.get("/admin/sync-history", params={"entity_type": "jobs"}).text
        assert only_jobs.count('data-testid="sync-run-row"') == 1
        assert 'data-run-id="' + data.failed_run_id + '"' in only_jobs
        none = client.get("/admin/sync-history", params={"source": "nobody"}).text
        assert "No runs match these filters." in none

    def test_a_runs_page_lists_its_record_errors_with_their_fields(self, seeded) -> None:
        client, data = seeded
        text = client.get(f"/admin/sync-history/{data.failed_run_id}").text
        assert text.count('data-testid="run-error-row"') == 2
        assert 'data-testid="run-error-field">job_number<' in text
        assert 'data-testid="run-error-field">priority<' in text
        assert "priority must be &gt;= 0" in text


class TestWebhooks:
    def test_the_endpoint_list_shows_health_and_waiting_deliveries(self, seeded) -> None:
        client, data = seeded
        text = client.get("/admin/webhooks").text
        assert f'data-webhook-id="{data.webhook_id}"' in text
        assert "ERP order status updates" in text
        assert 'data-testid="webhook-state">failing<' in text  # its last attempt failed
        # the failed job event waits for its retry, the three others behind it
        assert 'data-testid="webhook-backlog">4<' in text
        page = client.get(f"/admin/webhooks/{data.webhook_id}").text
        assert 'data-testid="webhook-pending">4<' in page
        assert 'data-testid="webhook-failures">1<' in page

    def test_the_delivery_log_shows_every_attempt_and_filters_failures(self, seeded) -> None:
        client, data = seeded
        text = client.get(f"/admin/webhooks/{data.webhook_id}").text
        rows = text.count('data-testid="webhook-log-row"')
        assert rows == 1 + len(data.delivered_event_ids)
        assert "upstream ERP unavailable" in text
        failed = client.get(f"/admin/webhooks/{data.webhook_id}", params={"success": "false"})
        assert failed.text.count('data-testid="webhook-log-row"') == 1
        assert f'data-event-id="{data.failed_event_id}"' in failed.text

    def test_replay_queues_the_event_again_through_the_webhook_service(
        self, seeded, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        client, data = seeded
        before = self._round(sessions, tenant, data)
        page = client.get(f"/admin/webhooks/{data.webhook_id}").text
        from tests.support.admin import csrf_from

        resp = client.post_form(
            f"/admin/webhooks/{data.webhook_id}/replay",
            {"event_id": data.failed_event_id},
            csrf=csrf_from(page),
        )
        assert resp.status_code == 303
        shown = client.get(resp.headers["location"]).text
        assert 'data-testid="notice"' in shown
        assert data.failed_event_id in shown
        after = self._round(sessions, tenant, data)
        assert (after[0], after[1]) == (before[0] + 1, "pending")

    def test_a_refused_replay_says_why_on_the_page(self, seeded) -> None:
        client, data = seeded
        resp = client.post_form(
            f"/admin/webhooks/{data.webhook_id}/replay", {"event_id": "evt_" + "0" * 32}
        )
        assert resp.status_code == 404
        assert "not found" in resp.text
        assert 'data-testid="webhook-health"' in resp.text
        bad = client.post_form(f"/admin/webhooks/{data.webhook_id}/replay", {"event_id": "x"})
        assert bad.status_code == 422
        assert "event_id must be an event id" in bad.text

    def test_a_disabled_endpoint_is_enabled_from_its_page(
        self, seeded, tenant: TenantHandle
    ) -> None:
        client, data = seeded
        assert tenant.client.patch(
            "/api-webhooks", params={"id": data.webhook_id}, json={"active": False}
        ).is_success
        page = client.get(f"/admin/webhooks/{data.webhook_id}").text
        assert 'data-testid="enable-button"' in page
        assert "Disabled by a user" in page
        refused = client.post_form(
            f"/admin/webhooks/{data.webhook_id}/replay", {"event_id": data.failed_event_id}
        )
        assert refused.status_code == 400
        assert "enable the webhook first" in refused.text
        resp = client.post_form(f"/admin/webhooks/{data.webhook_id}/enable")
        assert resp.status_code == 303
        hook = tenant.client.get("/api-webhooks", params={"id": data.webhook_id}).json()
        assert hook["data"]["webhook"]["active"] is True

    @staticmethod
    def _round(
        sessions: sessionmaker[Session], tenant: TenantHandle, data: OpsData
    ) -> tuple[int, str]:
        from floorsync.events.registry import parse_event_id

        with sessions() as s:
            row = s.scalars(
                scoped(WebhookDelivery, TenantScope(tenant.id)).where(
                    WebhookDelivery.event_id == parse_event_id(data.failed_event_id)
                )
            ).one()
            return row.replay_round, row.status.value


class TestEvents:
    def test_the_feed_position_and_recent_events_are_shown(
        self, seeded, tenant: TenantHandle
    ) -> None:
        client, _data = seeded
        feed = tenant.client.get("/api-events", params={"after": "now"}).json()["data"]
        head = tenant.client.get("/api-events", params={"limit": 1000}).json()["data"]["events"]
        text = client.get("/admin/events").text
        assert f'data-testid="feed-head">{head[-1]["sequence"]}<' in text
        assert f'data-testid="feed-oldest">{head[0]["sequence"]}<' in text
        assert f'value="{feed["next_cursor"]}" data-testid="feed-cursor"' in text
        assert text.count('data-testid="event-row"') == len(head)
        only = client.get("/admin/events", params={"types": "cell.*"}).text
        assert only.count('data-testid="event-row"') == 3

    def test_an_unknown_type_pattern_is_reported_and_ignored(self, seeded) -> None:
        client, _data = seeded
        text = client.get("/admin/events", params={"types": "nonsense.thing"}).text
        assert 'data-testid="error"' in text
        assert 'data-testid="event-row"' in text


class TestApiKeys:
    def test_a_key_created_on_the_page_is_shown_once_and_works(
        self, admin: AdminClient, tenant: TenantHandle, server: LiveServer
    ) -> None:
        resp = admin.post_form("/admin/api-keys", {"name": "MES line 2", "role": "integration"})
        assert resp.status_code == 201
        assert resp.headers["cache-control"] == "no-store"
        import re

        key = re.search(r'value="(ery_live_[0-9a-f]{32})" data-testid="new-key-value"', resp.text)
        assert key is not None
        api = tenant.client_for(key.group(1))
        assert api.get("/api-jobs").status_code == 200
        assert key.group(1) not in admin.get("/admin/api-keys").text
        keys = tenant.client.get("/api-key-generate").json()["data"]["api_keys"]
        made = next(k for k in keys if k["name"] == "MES line 2")
        assert made["created_by"] == str(
            next(k for k in keys if k["name"] == "admin")["id"]
        )  # the signed-in key

    def test_form_mistakes_are_shown_next_to_their_fields(self, admin: AdminClient) -> None:
        resp = admin.post_form(
            "/admin/api-keys",
            {"name": " ", "role": "integration", "expires_at": "2001-01-01T00:00"},
        )
        assert resp.status_code == 422
        assert 'data-testid="key-name-error"' in resp.text
        again = admin.post_form(
            "/admin/api-keys",
            {"name": "x", "role": "integration", "expires_at": "2001-01-01T00:00"},
        )
        assert again.status_code == 422
        assert "expires_at must be in the future" in again.text
        assert 'value="x"' in again.text  # what was typed is kept

    def test_a_key_revoked_on_the_page_is_refused_by_the_api(
        self, admin: AdminClient, tenant: TenantHandle
    ) -> None:
        keys = tenant.client.get("/api-key-generate", params={"role": "integration"}).json()
        key_id = keys["data"]["api_keys"][0]["id"]
        resp = admin.post_form(f"/admin/api-keys/{key_id}/revoke")
        assert resp.status_code == 303
        assert 'data-testid="notice"' in admin.get(resp.headers["location"]).text
        assert tenant.client_for(tenant.integration_key).get("/api-jobs").status_code == 401

    def test_the_last_admin_key_can_not_be_revoked(
        self, admin: AdminClient, tenant: TenantHandle
    ) -> None:
        admins = tenant.client.get("/api-key-generate", params={"role": "admin"}).json()
        key_id = admins["data"]["api_keys"][0]["id"]
        resp = admin.post_form(f"/admin/api-keys/{key_id}/revoke")
        assert resp.status_code == 409
        assert "last active admin key" in resp.text

    def test_revoking_the_sessions_own_key_signs_it_out(
        self, server: LiveServer, tenant: TenantHandle
    ) -> None:
        spare = tenant.client.post(
            "/api-key-generate", json={"name": "temp admin", "role": "admin"}
        ).json()["data"]
        browser = signed_in(server.base_url, spare["api_key"])
        try:
            resp = browser.post_form(f"/admin/api-keys/{spare['id']}/revoke")
            assert resp.headers["location"] == "/admin/sign-in?signed_out=revoked"
            assert browser.get("/admin/api-keys").status_code == 303
        finally:
            browser.close()


def test_admin_routes_are_not_in_the_api_description(server: LiveServer) -> None:
    import httpx

    spec: Any = httpx.get(server.base_url + "/openapi.json", timeout=60).json()
    assert not [p for p in spec["paths"] if p.startswith("/admin")]
