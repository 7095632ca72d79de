"""The SSRF guard unwraps IPv4 addresses written in IPv4-compatible (`::a.b.c.d`, `::/96`) and
IPv4-translated (`::ffff:0:a.b.c.d`, `::ffff:0:0:0/96`) IPv6 form (issue 8, item 8): they used
to pass as public addresses. Judged by the IPv4 address inside, at registration and at every
connection; cloud-metadata addresses are refused even while private targets are allowed.

The other forms (decimal, hex, short IPv4, IPv4-mapped, NAT64, 6to4, Teredo, localhost, DNS
rebinding) are covered in tests/webhooks/test_schedule_and_netguard.py and test_endpoints.py.
No test here connects anywhere: the guard refuses before any socket is opened.
"""

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from floorsync.config import Settings
from floorsync.kit.netguard import (
    NetguardRefusal,
    StaticResolver,
    check_url,
    resolve_for_connect,
    target_from_url,
)
from tests.support.api import invalid, suffix
from tests.support.server import LiveServer, start_server
from tests.support.tenants import TenantHandle, make_tenant

PRIVATE_FORMS = [
    "[::127.0.0.1]",
    "[::10.0.0.1]",
    "[::192.168.1.1]",
    "[::7f00:1]",
    "[::ffff:0:127.0.0.1]",
    "[::ffff:0:10.0.0.1]",
    "[::ffff:0:7f00:1]",
]
METADATA_FORMS = [
    "[::169.254.169.254]",
    "[::a9fe:a9fe]",
    "[::ffff:0:169.254.169.254]",
    "[::100.100.100.200]",
]
RESOLVER = StaticResolver({})


def refusal(url: str, *, allow_private: bool) -> str | None:
    try:
        check_url(url, RESOLVER, allow_private=allow_private)
    except NetguardRefusal as refused:
        return refused.constraint
    return None


class TestTheGuardItself:
    @pytest.mark.parametrize("host", PRIVATE_FORMS + METADATA_FORMS)
    def test_an_embedded_private_ipv4_is_refused_while_private_targets_are_not_allowed(
        self, host: str
    ) -> None:
        assert refusal(f"https://{host}/hook", allow_private=False) == "PRIVATE_ADDRESS"

    @pytest.mark.parametrize("host", METADATA_FORMS)
    def test_an_embedded_metadata_address_is_refused_even_while_private_targets_are_allowed(
        self, host: str
    ) -> None:
        assert refusal(f"https://{host}/latest", allow_private=True) == "PRIVATE_ADDRESS"

    @pytest.mark.parametrize("host", PRIVATE_FORMS)
    def test_allowing_private_targets_allows_their_embedded_forms_too(self, host: str) -> None:
        assert refusal(f"http://{host}/hook", allow_private=True) is None

    def test_a_name_resolving_to_such_a_form_is_refused_at_connect_time(self) -> None:
        resolver = StaticResolver({"erp.example.com": ["93.184.216.34"]})
        target = check_url("https://erp.example.com/hook", resolver, allow_private=False)
        for address in ("::10.0.0.1", "::ffff:0:127.0.0.1", "::169.254.169.254"):
            resolver.names["erp.example.com"] = [address]
            with pytest.raises(NetguardRefusal):
                resolve_for_connect(target, resolver, allow_private=False)
        resolver.names["erp.example.com"] = ["::169.254.169.254"]
        with pytest.raises(NetguardRefusal):
            resolve_for_connect(target, resolver, allow_private=True)

    def test_a_stored_url_in_such_a_form_is_refused_at_connect_time(self) -> None:
        for host in PRIVATE_FORMS:
            with pytest.raises(NetguardRefusal):
                resolve_for_connect(
                    target_from_url(f"https://{host}/hook"), RESOLVER, allow_private=False
                )


@pytest.fixture(scope="module")
def strict_server(settings: Settings) -> Iterator[LiveServer]:
    """An app with private webhook targets disallowed (the shared test server allows them) and a
    dict-backed resolver: nothing is looked up or connected to."""
    live = start_server(settings.model_copy(update={"webhook_allow_private": False}))
    live.app.state.services.webhooks.resolver = StaticResolver(
        {"erp.example.com": ["93.184.216.34"]}
    )
    yield live
    live.stop()


class TestRegistration:
    @pytest.mark.parametrize("host", PRIVATE_FORMS + METADATA_FORMS)
    def test_creating_or_moving_a_webhook_to_such_a_form_is_422_private_address(
        self, strict_server: LiveServer, sessions: sessionmaker[Session], host: str
    ) -> None:
        t = make_tenant(strict_server, sessions)
        try:
            url = f"https://{host}/hook"
            invalid(
                t.client.post("/api-webhooks", json={"url": url, "events": ["*"]}),
                "url",
                "PRIVATE_ADDRESS",
            )
            hook = t.client.post(
                "/api-webhooks",
                json={"url": f"https://erp.example.com/{suffix()}", "events": ["*"]},
            )
            assert hook.status_code == 201, hook.text
            hook_id = hook.json()["data"]["webhook"]["id"]
            invalid(
                t.client.patch("/api-webhooks", params={"id": hook_id}, json={"url": url}),
                "url",
                "PRIVATE_ADDRESS",
            )
        finally:
            t.close()

    @pytest.mark.parametrize("host", METADATA_FORMS)
    def test_metadata_forms_are_422_where_private_targets_are_allowed(
        self, tenant: TenantHandle, host: str
    ) -> None:
        body = {"url": f"http://{host}/latest/meta-data/", "events": ["*"]}
        invalid(tenant.client.post("/api-webhooks", json=body), "url", "PRIVATE_ADDRESS")
