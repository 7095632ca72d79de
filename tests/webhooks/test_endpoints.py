"""`/api-webhooks` and its sub-routes over real HTTP: secrets shown once, validation, filters,
SSRF refusals on a server with private targets disallowed, tenant isolation."""

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from floorsync.config import Settings
from floorsync.kit.netguard import StaticResolver
from floorsync.models.webhooks import Webhook
from tests.support.server import LiveServer, start_server
from tests.support.tenants import TenantHandle, make_tenant
from tests.support.webhook_receiver import WebhookReceiver
from tests.webhooks.conftest import register


class TestCrud:
    def test_the_secret_is_returned_once_stored_encrypted_and_never_shown_again(
        self, tenant: TenantHandle, receiver: WebhookReceiver, sessions: sessionmaker[Session]
    ) -> None:
        resp = tenant.client.post(
            "/api-webhooks", json={"url": receiver.url, "events": ["job.*", "operation.completed"]}
        )
        assert resp.status_code == 201
        data = resp.json()["data"]
        hook = data["webhook"]
        assert list(hook)[:7] == [
            "id",
            "url",
            "events",
            "active",
            "description",
            "secret_key",
            "secret_prefix",
        ]
        assert hook["secret_key"].startswith("whsec_")
        assert hook["secret_prefix"] == hook["secret_key"][:12]
        assert data["warnings"][0] == "Store the secret now. It will not be shown again."
        for path in (f"/api-webhooks?id={hook['id']}", "/api-webhooks"):
            assert hook["secret_key"] not in tenant.client.get(path).text
        patched = tenant.client.patch(f"/api-webhooks?id={hook['id']}", json={"description": "ERP"})
        assert patched.status_code == 200
        assert "secret_key" not in patched.json()["data"]["webhook"]
        with sessions() as s:
            row = s.scalars(select(Webhook).where(Webhook.id == uuid.UUID(hook["id"]))).one()
            assert hook["secret_key"].encode() not in row.secret_ciphertext

    def test_patch_refuses_secret_key_and_unknown_event_types_list_the_valid_ones(
        self, tenant: TenantHandle, receiver: WebhookReceiver
    ) -> None:
        hook = register(tenant, receiver.url)
        resp = tenant.client.patch(f"/api-webhooks?id={hook['id']}", json={"secret_key": "x" * 30})
        assert resp.status_code == 422
        assert "rotate-secret" in resp.text
        bad = tenant.client.post(
            "/api-webhooks", json={"url": receiver.url, "events": ["job.exploded"]}
        )
        assert bad.status_code == 422
        detail = bad.json()["error"]["details"][0]
        assert detail["field"] == "events[0]"
        assert "job.created" in detail["message"]

    def test_wildcards_and_reserved_types_are_accepted_and_event_type_is_an_alias(
        self, tenant: TenantHandle, receiver: WebhookReceiver
    ) -> None:
        hook = register(tenant, receiver.url, ["*", "sync.*", "issue.created", "issue.updated"])
        assert hook["events"] == ["*", "sync.*", "issue.created", "issue.updated"]
        alias = tenant.client.post(
            "/api-webhooks", json={"url": receiver.url, "event_type": "job.updated"}
        )
        assert alias.json()["data"]["webhook"]["events"] == ["job.updated"]

    def test_list_filters_by_covered_type_and_active(
        self, tenant: TenantHandle, receiver: WebhookReceiver
    ) -> None:
        a = register(tenant, receiver.url, ["job.*"])
        register(tenant, receiver.url, ["part.created"])
        tenant.client.patch(f"/api-webhooks?id={a['id']}", json={"active": False})
        ids = [
            w["id"]
            for w in tenant.client.get("/api-webhooks?events=job.updated").json()["data"][
                "webhooks"
            ]
        ]
        assert ids == [a["id"]]
        inactive = tenant.client.get("/api-webhooks?active=false").json()["data"]["webhooks"]
        assert [(w["id"], w["disabled_reason"]) for w in inactive] == [(a["id"], "manual")]

    def test_replay_and_recover_need_an_active_endpoint_and_a_retained_event(
        self, tenant: TenantHandle, receiver: WebhookReceiver
    ) -> None:
        hook = register(tenant, receiver.url)
        tenant.client.post("/api-jobs", json={"job_number": "J-1"})
        event_id = tenant.client.get("/api-events").json()["data"]["events"][0]["id"]
        ok = tenant.client.post(
            f"/api-webhooks/replay?id={hook['id']}", json={"event_id": event_id}
        )
        assert ok.status_code == 202
        assert ok.json()["data"] == {"webhook_id": hook["id"], "event_id": event_id, "queued": 1}
        missing = tenant.client.post(
            f"/api-webhooks/replay?id={hook['id']}", json={"event_id": "evt_" + "0" * 32}
        )
        assert missing.status_code == 404
        tenant.client.patch(f"/api-webhooks?id={hook['id']}", json={"active": False})
        refused = tenant.client.post(
            f"/api-webhooks/recover?id={hook['id']}", json={"since": "2020-01-01"}
        )
        assert refused.status_code == 400
        assert "enable the webhook first" in refused.text
        enabled = tenant.client.post(f"/api-webhooks/enable?id={hook['id']}")
        assert enabled.status_code == 200
        assert enabled.json()["data"]["webhook"]["active"] is True

    def test_delete_is_hard_and_other_tenants_see_nothing(
        self, tenant: TenantHandle, other_tenant: TenantHandle, receiver: WebhookReceiver
    ) -> None:
        hook = register(tenant, receiver.url)
        assert other_tenant.client.get(f"/api-webhooks?id={hook['id']}").status_code == 404
        assert other_tenant.client.delete(f"/api-webhooks?id={hook['id']}").status_code == 404
        assert other_tenant.client.get("/api-webhooks").json()["data"]["webhooks"] == []
        assert tenant.client.delete(f"/api-webhooks?id={hook['id']}").status_code == 200
        assert tenant.client.get(f"/api-webhooks?id={hook['id']}").status_code == 404

    def test_both_url_forms_and_the_integration_key_work(
        self, tenant: TenantHandle, receiver: WebhookReceiver
    ) -> None:
        client = tenant.client_for(tenant.integration_key)
        resp = client.post(
            "/functions/v1/api-webhooks", json={"url": receiver.url, "events": ["*"]}
        )
        assert resp.status_code == 201
        assert client.get("/functions/v1/api-webhook-logs").status_code == 200


@pytest.fixture(scope="module")
def strict_server(settings: Settings) -> Iterator[LiveServer]:
    """A second app with private targets disallowed and a dict-backed resolver."""
    live = start_server(settings.model_copy(update={"webhook_allow_private": False}))
    live.app.state.services.webhooks.resolver = StaticResolver(
        {
            "erp.example.com": ["93.184.216.34"],
            "sneaky.example.com": ["127.0.0.1"],
        }
    )
    yield live
    live.stop()


class TestSsrfAtRegistration:
    @pytest.mark.parametrize(
        "url",
        [
            "https://127.0.0.1/hook",
            "https://10.0.0.1/hook",
            "https://169.254.169.254/latest",
            "https://[::1]/hook",
            "https://sneaky.example.com/hook",
            "https://localhost/hook",
            "http://127.0.0.1:9/hook",
        ],
    )
    def test_private_targets_are_refused_with_private_address(
        self, strict_server: LiveServer, sessions: sessionmaker[Session], url: str
    ) -> None:
        t = make_tenant(strict_server, sessions)
        try:
            resp = t.client.post("/api-webhooks", json={"url": url, "events": ["*"]})
            assert resp.status_code == 422
            detail = resp.json()["error"]["details"][0]
            assert (detail["field"], detail["constraint"]) == ("url", "PRIVATE_ADDRESS")
        finally:
            t.close()

    def test_https_public_passes_http_public_and_credentials_are_refused(
        self, strict_server: LiveServer, sessions: sessionmaker[Session]
    ) -> None:
        t = make_tenant(strict_server, sessions)
        try:
            assert (
                t.client.post(
                    "/api-webhooks", json={"url": "https://erp.example.com/h", "events": ["*"]}
                ).status_code
                == 201
            )
            for url, constraint in (
                ("http://erp.example.com/h", "HTTPS_REQUIRED"),
                ("https://u:p@erp.example.com/h", "CREDENTIALS_IN_URL"),
                ("https://erp.example.com/h#x", "URL_FORMAT"),
            ):
                resp = t.client.post("/api-webhooks", json={"url": url, "events": ["*"]})
                assert resp.json()["error"]["details"][0]["constraint"] == constraint
            unresolved = t.client.post(
                "/api-webhooks", json={"url": "https://not-yet.example.com/h", "events": ["*"]}
            )
            assert unresolved.status_code == 201
            assert len(unresolved.json()["data"]["warnings"]) == 2
        finally:
            t.close()
