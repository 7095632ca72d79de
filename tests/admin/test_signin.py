"""Signing in and out of /admin over real HTTP: the cookie's flags, what a wrong key or an
integration key gets, redirects, CSRF refusals, the end of a session (sign-out, revoked key,
idle and absolute expiry under the server's FakeClock) and sign-in throttling."""

import re
from collections.abc import Iterator
from http.cookies import SimpleCookie

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from floorsync.admin.sessions import hash_token
from floorsync.kit.clock import FakeClock
from floorsync.models.tenancy import AdminSession
from tests.support.admin import AdminClient, signed_in
from tests.support.server import LiveServer
from tests.support.tenants import TenantHandle, make_tenant


def cookie(resp: object, name: str) -> SimpleCookie:
    headers = [v for k, v in resp.headers.multi_items() if k == "set-cookie"]  # type: ignore[attr-defined]
    for header in headers:
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        if name in jar:
            return jar
    raise AssertionError(f"no {name} cookie in {headers}")


def is_html_page(resp: object, status: int) -> str:
    assert resp.status_code == status, resp.text[:1000]  # type: ignore[attr-defined]
    assert resp.headers["content-type"].startswith("text/html")  # type: ignore[attr-defined]
    text: str = resp.text  # type: ignore[attr-defined]
    assert text.lstrip().startswith("<!doctype html>")
    return text


class TestTheSessionCookie:
    def test_signing_in_sets_an_httponly_samesite_lax_cookie_for_the_admin_path(
        self, anonymous: AdminClient, tenant: TenantHandle
    ) -> None:
        resp = anonymous.sign_in(tenant.admin_key)
        assert resp.status_code == 303
        morsel = cookie(resp, "floorsync_admin")["floorsync_admin"]
        assert morsel["httponly"] is True
        assert morsel["samesite"].lower() == "lax"
        assert morsel["path"] == "/admin"
        assert not morsel["secure"]  # plain http on 127.0.0.1
        assert int(morsel["max-age"]) == 12 * 3600
        assert tenant.admin_key not in resp.headers["set-cookie"]

    def test_the_cookie_is_secure_when_the_browser_uses_https(
        self, anonymous: AdminClient, tenant: TenantHandle
    ) -> None:
        # uvicorn trusts X-Forwarded-Proto from 127.0.0.1 (a TLS-terminating proxy)
        resp = anonymous.sign_in(tenant.admin_key, **{"X-Forwarded-Proto": "https"})
        assert resp.status_code == 303
        assert cookie(resp, "floorsync_admin")["floorsync_admin"]["secure"] is True

    def test_the_cookie_holds_a_random_token_whose_hash_is_the_stored_session(
        self, anonymous: AdminClient, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        resp = anonymous.sign_in(tenant.admin_key)
        token = cookie(resp, "floorsync_admin")["floorsync_admin"].value
        with sessions() as s:
            row = s.scalars(
                select(AdminSession).where(AdminSession.token_hash == hash_token(token))
            ).one()
        assert row.tenant_id == tenant.id


class TestSigningIn:
    def test_an_anonymous_page_request_is_sent_to_sign_in_and_back(
        self, anonymous: AdminClient, tenant: TenantHandle
    ) -> None:
        resp = anonymous.get("/admin/webhooks?x=1")
        assert resp.status_code == 303
        assert resp.headers["location"] == "/admin/sign-in?next=%2Fadmin%2Fwebhooks%3Fx%3D1"
        form = anonymous.get(resp.headers["location"])
        assert 'name="next" value="/admin/webhooks?x=1"' in is_html_page(form, 200)
        done = anonymous.sign_in(tenant.admin_key, next_="/admin/webhooks?x=1")
        assert done.headers["location"] == "/admin/webhooks?x=1"

    @pytest.mark.parametrize(
        "target",
        [
            "https://evil.example/admin/",
            "//evil.example/admin",
            "/admin//evil.example",
            "/api-jobs",
            "/admin\\@evil.example",
            "javascript:alert(1)",
        ],
    )
    def test_sign_in_never_redirects_outside_the_admin_ui(
        self, anonymous: AdminClient, tenant: TenantHandle, target: str
    ) -> None:
        resp = anonymous.sign_in(tenant.admin_key, next_=target)
        assert resp.status_code == 303
        assert resp.headers["location"] == "/admin"

    def test_the_admin_root_opens_the_first_page(self, admin: AdminClient) -> None:
        for root in ("/admin", "/admin/"):
            resp = admin.get(root)
            assert (resp.status_code, resp.headers["location"]) == (303, "/admin/sync-history")

    def test_an_integration_key_is_refused_with_a_page_that_says_why(
        self, anonymous: AdminClient, tenant: TenantHandle
    ) -> None:
        resp = anonymous.sign_in(tenant.integration_key)
        text = is_html_page(resp, 403)
        assert "integration key" in text
        assert "floorsync_admin=" not in resp.headers.get("set-cookie", "")

    def test_a_sign_in_post_without_the_forms_token_is_refused(
        self, anonymous: AdminClient, tenant: TenantHandle
    ) -> None:
        resp = anonymous.http.post(
            "/admin/sign-in", data={"api_key": tenant.admin_key, "signin_token": "forged"}
        )
        assert "expired or did not come from this page" in is_html_page(resp, 403)
        assert "floorsync_admin=" not in resp.headers.get("set-cookie", "")

    def test_a_sign_in_form_open_in_another_tab_stays_valid(
        self, anonymous: AdminClient, tenant: TenantHandle
    ) -> None:
        first = anonymous.get("/admin/sign-in").text
        anonymous.get("/admin/sign-in")  # a second tab
        token = re.search(r'name="signin_token" value="([^"]+)"', first).group(1)  # type: ignore[union-attr]
        resp = anonymous.http.post(
            "/admin/sign-in", data={"signin_token": token, "api_key": tenant.admin_key}
        )
        assert resp.status_code == 303

    def test_a_signed_in_browser_visiting_sign_in_goes_straight_on(
        self, admin: AdminClient
    ) -> None:
        resp = admin.get("/admin/sign-in")
        assert resp.status_code == 303


class TestCsrf:
    @pytest.mark.parametrize("token", [None, "", "forged.token", "0" * 32 + "." + "0" * 64])
    def test_a_form_post_without_a_valid_token_is_refused_with_403_and_changes_nothing(
        self,
        admin: AdminClient,
        tenant: TenantHandle,
        sessions: sessionmaker[Session],
        token: str | None,
    ) -> None:
        data = {"name": "sneaky", "role": "admin"}
        if token is not None:
            data["csrf_token"] = token
        resp = admin.http.post("/admin/api-keys", data=data)
        text = is_html_page(resp, 403)
        assert "This form was not accepted" in text
        keys = tenant.client.get("/api-key-generate").json()["data"]["api_keys"]
        assert "sneaky" not in [k["name"] for k in keys]

    def test_a_token_of_another_session_is_refused(
        self, admin: AdminClient, server: LiveServer, tenant: TenantHandle
    ) -> None:
        second = signed_in(server.base_url, tenant.admin_key)
        try:
            theirs = second.csrf()
        finally:
            second.close()
        resp = admin.post_form("/admin/api-keys", {"name": "x"}, csrf=theirs)
        is_html_page(resp, 403)

    def test_the_sign_out_form_needs_the_token_too(self, admin: AdminClient) -> None:
        is_html_page(admin.post_form("/admin/sign-out", csrf=None), 403)
        assert admin.get("/admin/webhooks").status_code == 200  # still signed in

    def test_an_anonymous_post_is_sent_to_sign_in(self, anonymous: AdminClient) -> None:
        resp = anonymous.http.post("/admin/api-keys", data={"name": "x", "csrf_token": "a.b"})
        assert (resp.status_code, resp.headers["location"]) == (303, "/admin/sign-in")

    def test_an_oversized_form_is_refused_before_it_is_read(self, admin: AdminClient) -> None:
        resp = admin.post_form("/admin/api-keys", {"name": "x" * 70_000})
        is_html_page(resp, 413)


class TestEndingASession:
    def test_signing_out_ends_the_session_even_for_a_kept_cookie(
        self, admin: AdminClient, sessions: sessionmaker[Session]
    ) -> None:
        token = admin.http.cookies["floorsync_admin"]
        resp = admin.post_form("/admin/sign-out")
        assert (resp.status_code, resp.headers["location"]) == (
            303,
            "/admin/sign-in?signed_out=1",
        )
        assert 'floorsync_admin=""' in resp.headers["set-cookie"]
        with sessions() as s:
            assert (
                s.scalars(
                    select(AdminSession).where(AdminSession.token_hash == hash_token(token))
                ).first()
                is None
            )
        replayed = AdminClient(admin.http.base_url.__str__())
        replayed.http.cookies.set("floorsync_admin", token, path="/admin")
        assert replayed.get("/admin/webhooks").status_code == 303
        replayed.close()

    def test_revoking_the_key_through_the_api_signs_its_browsers_out(
        self, server: LiveServer, sessions: sessionmaker[Session]
    ) -> None:
        tenant = make_tenant(server, sessions)
        try:
            spare = tenant.client.post(
                "/api-key-generate", json={"name": "second admin", "role": "admin"}
            ).json()["data"]
            browser = signed_in(server.base_url, spare["api_key"])
            assert browser.get("/admin/events").status_code == 200
            assert tenant.client.delete("/api-key-generate", params={"id": spare["id"]}).is_success
            resp = browser.get("/admin/events")
            assert resp.headers["location"].startswith("/admin/sign-in")
            browser.close()
        finally:
            tenant.close()


@pytest.fixture
def clocked(
    clocked_admin_server: LiveServer, admin_clock: FakeClock, sessions: sessionmaker[Session]
) -> Iterator[tuple[LiveServer, FakeClock, TenantHandle]]:
    admin_clock.advance(3600)  # earlier tests' failed sign-ins are out of the window
    tenant = make_tenant(clocked_admin_server, sessions)
    yield clocked_admin_server, admin_clock, tenant
    tenant.close()


class TestExpiryUnderTheServersClock:
    def test_a_session_left_idle_for_30_minutes_is_signed_out(self, clocked) -> None:
        server, clock, tenant = clocked
        browser = signed_in(server.base_url, tenant.admin_key)
        clock.advance(29 * 60)
        assert browser.get("/admin/events").status_code == 200  # and this counts as activity
        clock.advance(29 * 60)
        assert browser.get("/admin/events").status_code == 200
        clock.advance(30 * 60)
        assert browser.get("/admin/events").headers["location"].startswith("/admin/sign-in")
        browser.close()

    def test_a_busy_session_still_ends_after_its_absolute_lifetime(self, clocked) -> None:
        server, clock, tenant = clocked
        browser = signed_in(server.base_url, tenant.admin_key)
        for _ in range(15):  # 7.5 hours of activity every half hour less a minute
            clock.advance(29 * 60)
            assert browser.get("/admin/events").status_code == 200
        clock.advance(30 * 60)
        assert browser.get("/admin/events").headers["location"].startswith("/admin/sign-in")
        browser.close()


class TestThrottling:
    def test_after_three_failed_sign_ins_the_address_waits_even_with_a_good_key(
        self, clocked
    ) -> None:
        server, clock, tenant = clocked
        browser = AdminClient(server.base_url)
        try:
            for _ in range(3):
                text = is_html_page(browser.sign_in("ery_live_" + "0" * 32), 401)
                assert "not accepted" in text
                assert "floorsync_admin" not in browser.http.cookies
            refused = browser.sign_in(tenant.admin_key)
            assert "Too many failed sign-ins" in is_html_page(refused, 429)
            assert int(refused.headers["retry-after"]) == 60
            clock.advance(61)
            assert browser.sign_in(tenant.admin_key).status_code == 303
        finally:
            browser.close()

    def test_wrong_keys_of_every_shape_get_the_same_answer(self, clocked) -> None:
        server, clock, _tenant = clocked
        browser = AdminClient(server.base_url)
        try:
            answers = set()
            for key in ("", "nonsense", "ery_live_" + "f" * 32):
                text = is_html_page(browser.sign_in(key), 401)
                answers.add(re.search(r'data-testid="sign-in-error">([^<]+)<', text).group(1))  # type: ignore[union-attr]
            assert len(answers) == 1
        finally:
            clock.advance(61)
            browser.close()
