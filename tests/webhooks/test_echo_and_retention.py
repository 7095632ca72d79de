"""Issue 11: echo suppression at fan-out (an ERP's own bulk load creates no delivery rows for its
endpoint, shop-floor changes still do) and the purge of webhook history (succeeded deliveries
and attempt logs past their retention, set as a duration)."""

import uuid
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from floorsync.config import Settings
from floorsync.models.webhooks import Webhook, WebhookDelivery, WebhookLog
from floorsync.webhooks import service
from floorsync.webhooks.config import WebhookConfig
from floorsync.webhooks.tasks import LOGS
from floorsync.webhooks.worker import drain
from tests.support.tenants import TenantHandle
from tests.support.webhook_receiver import WebhookReceiver
from tests.webhooks.conftest import Rig, register


def deliveries_of(sessions: sessionmaker[Session], webhook_id: str) -> int:
    with sessions() as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(WebhookDelivery)
                .where(WebhookDelivery.webhook_id == uuid.UUID(webhook_id))
            )
            or 0
        )


def sap_jobs(tag: str, n: int) -> list[dict[str, object]]:
    return [
        {"external_id": f"SO-{tag}-{i}", "external_source": "SAP", "job_number": f"J-{tag}-{i}"}
        for i in range(n)
    ]


class TestEchoSuppression:
    def test_an_erps_own_bulk_load_creates_no_deliveries_for_it_while_shop_floor_events_flow(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        erp = tenant.client_for(tenant.integration_key)  # the ERP's key
        url = "http://127.0.0.1:9/erp"
        own = erp.post(
            "/api-webhooks", json={"url": url, "events": ["*"], "exclude_own_changes": True}
        ).json()["data"]["webhook"]
        by_source = register(tenant, url, exclude_sources=["SAP"])
        everything = register(tenant, url)
        assert own["exclude_own_changes"] is True
        assert own["api_key_id"] is not None  # bound to the key that registered it
        assert by_source["exclude_sources"] == ["SAP"]

        tag = uuid.uuid4().hex[:6]
        resp = erp.post("/api-jobs/bulk-sync", json={"items": sap_jobs(tag, 1000)})
        assert resp.json()["data"]["created"] == 1000
        assert deliveries_of(sessions, own["id"]) == 0
        assert deliveries_of(sessions, by_source["id"]) == 0
        assert deliveries_of(sessions, everything["id"]) == 1001  # + sync.jobs.completed

        # the shop floor (another key) starts one of those jobs: every endpoint hears of it
        job_id = resp.json()["data"]["records"][0]["id"]
        started = tenant.client.post("/api-job-lifecycle/start", params={"id": job_id})
        assert started.status_code == 200, started.text
        assert deliveries_of(sessions, own["id"]) >= 1
        assert deliveries_of(sessions, by_source["id"]) >= 1
        # a change the ERP makes through the plain API is its own, but not a sync from SAP
        before = [deliveries_of(sessions, h["id"]) for h in (own, by_source, everything)]
        patched = erp.patch("/api-jobs", params={"id": job_id}, json={"customer_name": "Acme"})
        assert patched.status_code == 200, patched.text
        after = [deliveries_of(sessions, h["id"]) for h in (own, by_source, everything)]
        assert [a - b for a, b in zip(after, before, strict=True)] == [0, 1, 1]
        for hook in (own, by_source, everything):  # nothing of ours left due for other tests
            tenant.client.delete("/api-webhooks", params={"id": hook["id"]})

    def test_the_settings_are_validated_and_a_key_must_be_the_tenants(
        self, tenant: TenantHandle, other_tenant: TenantHandle
    ) -> None:
        url = "http://127.0.0.1:9/erp"
        for body, field in (
            ({"exclude_sources": "SAP"}, "exclude_sources"),
            ({"exclude_sources": [""]}, "exclude_sources[0]"),
            ({"exclude_own_changes": "yes"}, "exclude_own_changes"),
            ({"api_key_id": "not-a-uuid"}, "api_key_id"),
        ):
            resp = tenant.client.post("/api-webhooks", json={"url": url, "events": ["*"], **body})
            assert resp.status_code == 422, body
            assert resp.json()["error"]["details"][0]["field"] == field
        others = other_tenant.client.get("/api-key-generate").json()["data"]["api_keys"][0]["id"]
        refused = tenant.client.post(
            "/api-webhooks",
            json={"url": url, "events": ["*"], "exclude_own_changes": True, "api_key_id": others},
        )
        assert refused.status_code == 422
        assert refused.json()["error"]["details"][0]["constraint"] == "REFERENCE_NOT_FOUND"
        hook = register(tenant, url)
        patched = tenant.client.patch(
            "/api-webhooks",
            params={"id": hook["id"]},
            json={"exclude_own_changes": True, "exclude_sources": ["SAP", "SAP", "Odoo"]},
        ).json()["data"]["webhook"]
        assert patched["exclude_own_changes"] is True
        assert patched["api_key_id"] is not None
        assert patched["exclude_sources"] == ["SAP", "Odoo"]
        tenant.client.delete("/api-webhooks", params={"id": hook["id"]})


class TestRetention:
    def test_retention_is_a_duration_setting(self, settings: Settings) -> None:
        cfg = WebhookConfig.from_settings(
            settings.model_copy(
                update={"webhook_delivery_retention": "6h", "webhook_log_retention": "90m"}
            )
        )
        assert (cfg.delivery_retention, cfg.log_retention) == (
            timedelta(hours=6),
            timedelta(minutes=90),
        )
        assert WebhookConfig.from_settings(settings).log_retention == timedelta(days=30)

    def test_the_upkeep_purges_succeeded_deliveries_then_old_logs_and_keeps_the_backlog(
        self, rig: Rig, receiver: WebhookReceiver
    ) -> None:
        receiver.script(200, 200, 500)
        hook_id, _ = rig.add_webhook(receiver.url)
        try:
            for n in range(3):
                rig.job(f"J-{n}")
            drain(rig.deps)
            assert [d.status.value for d in rig.deliveries(hook_id)] == [
                "succeeded",
                "succeeded",
                "pending",
            ]
            with rig.services.sessions.begin() as s:  # and one that failed for good
                s.get(WebhookDelivery, rig.deliveries(hook_id)[1].id).status = "failed"  # type: ignore[union-attr]
            rig.clock.advance(23 * 3600)
            LOGS.run(rig.services)
            assert len(rig.deliveries(hook_id)) == 3  # inside the 24 h retention
            rig.clock.advance(2 * 3600)
            LOGS.run(rig.services)
            assert [d.status.value for d in rig.deliveries(hook_id)] == ["failed", "pending"]
            with rig.services.sessions() as s:
                logs = s.scalar(
                    select(func.count())
                    .select_from(WebhookLog)
                    .where(WebhookLog.webhook_id == hook_id)
                )
            assert logs == 3  # attempt logs keep their own, longer retention
            rig.clock.advance(30 * 86400)
            LOGS.run(rig.services)
            with rig.services.sessions() as s:
                assert (
                    s.scalar(
                        select(func.count())
                        .select_from(WebhookLog)
                        .where(WebhookLog.webhook_id == hook_id)
                    )
                    == 0
                )
        finally:
            with rig.work() as work:
                hook = work.session.get(Webhook, hook_id)
                if hook is not None:
                    service.delete_webhook(work, hook)
