"""Deliveries to a real receiver on 127.0.0.1: signatures checked by independent verifiers,
identical bytes, the retry schedule under a FakeClock, Retry-After, 410, auto-disable, max age,
enable/recover, redirects and connect-time SSRF refusals."""

import hashlib
import hmac
from datetime import timedelta

import orjson
import pytest
import standardwebhooks.webhooks as stdwh
import svix.webhooks as svixwh
from sqlalchemy import select

from floorsync.kit.netguard import StaticResolver
from floorsync.models.events import Event
from floorsync.models.webhooks import Webhook, WebhookLog
from floorsync.webhooks.worker import DeliveryDeps, drain, expire_deliveries, run_once
from tests.support.tenants import TenantHandle
from tests.support.webhook_receiver import Reply, WebhookReceiver
from tests.webhooks.conftest import Rig, make_job, register


def verify(secret: str | bytes, eryxon_secret: str, body: bytes, headers: dict[str, str]) -> None:
    stdwh.Webhook(secret).verify(body, headers)
    svixwh.Webhook(secret).verify(body, headers)
    expected = "sha256=" + hmac.new(eryxon_secret.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-eryxon-signature"], expected)


class TestLiveDelivery:
    def test_every_request_verifies_with_both_libraries_and_the_eryxon_hmac(
        self, tenant: TenantHandle, receiver: WebhookReceiver, deps: DeliveryDeps
    ) -> None:
        secret = register(tenant, receiver.url)["secret_key"]
        for n in range(3):
            make_job(tenant, f"J-{n}", customer="Zürich AG")
        drain(deps)
        reqs = receiver.wait_for(3)
        for r in reqs:
            verify(secret, secret, r.body, r.headers)
            assert r.headers["content-type"] == "application/json"
            assert r.headers["user-agent"].startswith("floorsync-webhooks/")
            assert r.headers["x-eryxon-event"] == "job.created"
            assert r.webhook_id == r.json()["id"]
        assert "Zürich".encode() in reqs[0].body
        assert b": " not in reqs[0].body
        assert [r.json()["sequence"] for r in reqs] == [1, 2, 3]

    def test_the_body_equals_the_feed_entry_without_its_cursor(
        self, tenant: TenantHandle, receiver: WebhookReceiver, deps: DeliveryDeps
    ) -> None:
        register(tenant, receiver.url)
        make_job(tenant, "J-1")
        drain(deps)
        body = receiver.wait_for(1)[0].body
        entry = tenant.client.get("/api-events").json()["data"]["events"][0]
        del entry["cursor"]
        assert orjson.dumps(entry) == body

    def test_a_client_secret_without_prefix_verifies_as_raw_bytes(
        self, tenant: TenantHandle, receiver: WebhookReceiver, deps: DeliveryDeps
    ) -> None:
        secret = "eryxon-style-secret-0123456789"
        register(tenant, receiver.url, secret_key=secret)
        make_job(tenant, "J-1")
        drain(deps)
        r = receiver.wait_for(1)[0]
        verify(secret.encode(), secret, r.body, r.headers)

    def test_rotation_signs_with_both_secrets_during_the_overlap_and_only_the_new_one_without(
        self, tenant: TenantHandle, receiver: WebhookReceiver, deps: DeliveryDeps
    ) -> None:
        hook = register(tenant, receiver.url)
        old = hook["secret_key"]
        rotated = tenant.client.post(
            f"/api-webhooks/rotate-secret?id={hook['id']}", json={"overlap_hours": 24}
        ).json()["data"]
        new = rotated["webhook"]["secret_key"]
        assert rotated["previous_secret_expires_at"]
        assert new != old
        make_job(tenant, "J-1")
        drain(deps)
        r = receiver.wait_for(1)[0]
        verify(new, new, r.body, r.headers)
        stdwh.Webhook(old).verify(r.body, r.headers)
        assert len(r.headers["webhook-signature"].split(" ")) == 2

        newest = tenant.client.post(
            f"/api-webhooks/rotate-secret?id={hook['id']}", json={"overlap_hours": 0}
        ).json()["data"]["webhook"]["secret_key"]
        make_job(tenant, "J-2")
        drain(deps)
        r = receiver.wait_for(2)[1]
        verify(newest, newest, r.body, r.headers)
        for stale in (old, new):
            try:
                stdwh.Webhook(stale).verify(r.body, r.headers)
                raise AssertionError("a retired secret still verifies")
            except stdwh.WebhookVerificationError:
                pass

    def test_each_attempt_writes_a_log_row_and_the_single_get_shows_the_payload(
        self, tenant: TenantHandle, receiver: WebhookReceiver, deps: DeliveryDeps
    ) -> None:
        register(tenant, receiver.url)
        make_job(tenant, "J-1")
        drain(deps)
        logs = tenant.client.get("/api-webhook-logs").json()["data"]["webhook_logs"]
        assert len(logs) == 1
        assert logs[0]["outcome"] == "succeeded"
        assert logs[0]["attempt"] == 1
        one = tenant.client.get(f"/api-webhook-logs?id={logs[0]['id']}").json()["data"][
            "webhook_log"
        ]
        assert orjson.dumps(one["payload"]) == receiver.requests[0].body
        assert tenant.client.post("/api-webhook-logs", json={}).status_code == 405

    def test_a_redirect_is_a_failed_attempt_and_is_not_followed(
        self, tenant: TenantHandle, receiver: WebhookReceiver, deps: DeliveryDeps
    ) -> None:
        receiver.script(Reply(302, location="http://169.254.169.254/latest/meta-data"))
        register(tenant, receiver.url)
        make_job(tenant, "J-1")
        drain(deps)
        assert len(receiver.requests) == 1
        log = tenant.client.get("/api-webhook-logs").json()["data"]["webhook_logs"][0]
        assert (log["outcome"], log["status_code"], log["success"]) == ("http_error", 302, False)
        assert log["next_attempt_at"] is not None


def advance_to_due(rig: Rig, webhook_id: object) -> None:
    """Move the fake clock to when the endpoint's next pending delivery may be attempted."""
    hook = rig.webhook(webhook_id)  # type: ignore[arg-type]
    pending = [d for d in rig.deliveries(webhook_id) if d.status.value == "pending"]  # type: ignore[arg-type]
    due = min(d.next_attempt_at for d in pending)
    if hook.paused_until is not None:
        due = max(due, hook.paused_until)
    if due > rig.clock.now():
        rig.clock.advance((due - rig.clock.now()).total_seconds())


class TestRetriesUnderAFakeClock:
    def test_ten_attempts_inside_the_jitter_windows_then_failed_exhausted(
        self, rig: Rig, receiver: WebhookReceiver
    ) -> None:
        receiver.default = Reply(500)
        hook_id, _ = rig.add_webhook(receiver.url)
        rig.job("J-1")
        start = rig.clock.now()
        times = []
        for _ in range(10):
            advance_to_due(rig, hook_id)
            times.append(rig.clock.now())
            assert run_once(rig.deps)
        nominal = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
        for k, wait in enumerate(nominal):
            gap = (times[k + 1] - times[k]).total_seconds()
            assert 0.8 * wait <= gap <= 1.2 * wait, (k, gap)
        (delivery,) = rig.deliveries(hook_id)
        assert (
            delivery.status.value,
            delivery.failure_reason.value if delivery.failure_reason else None,
            delivery.attempts,
        ) == ("failed", "exhausted", 10)
        assert len(receiver.requests) == 10
        assert len({r.webhook_id for r in receiver.requests}) == 1
        assert len({r.body for r in receiver.requests}) == 1
        assert times[0] == start
        hook = rig.webhook(hook_id)
        assert hook.active
        assert hook.consecutive_failures == 10

    def test_retry_after_on_429_delays_the_delivery_and_pauses_the_endpoint(
        self, rig: Rig, receiver: WebhookReceiver
    ) -> None:
        receiver.script(Reply(429, retry_after="120"))
        hook_id, _ = rig.add_webhook(receiver.url)
        rig.job("J-1")
        now = rig.clock.now()
        run_once(rig.deps)
        (d,) = rig.deliveries(hook_id)
        assert d.next_attempt_at >= now + timedelta(seconds=120)
        assert rig.webhook(hook_id).paused_until == now + timedelta(seconds=120)
        rig.clock.advance(60)
        assert not run_once(rig.deps)
        rig.clock.advance(61)
        assert run_once(rig.deps)
        assert rig.deliveries(hook_id)[0].status.value == "succeeded"

    def test_an_absurd_retry_after_is_capped_and_recorded_instead_of_failing_the_round(
        self, rig: Rig, receiver: WebhookReceiver
    ) -> None:
        receiver.script(Reply(503, retry_after="9" * 40))
        hook_id, _ = rig.add_webhook(receiver.url)
        rig.job("J-1")
        now = rig.clock.now()
        assert run_once(rig.deps)
        (d,) = rig.deliveries(hook_id)
        assert (d.attempts, d.status.value) == (1, "pending")
        assert (
            now + timedelta(hours=24) <= d.next_attempt_at <= now + timedelta(hours=24, seconds=1)
        )
        hook = rig.webhook(hook_id)
        assert (hook.consecutive_failures, hook.lease_owner, hook.paused_until) == (
            1,
            None,
            now + timedelta(hours=1),
        )

    def test_410_disables_at_once_emits_the_event_to_others_and_the_rest_waits(
        self, rig: Rig, receiver: WebhookReceiver
    ) -> None:
        with WebhookReceiver() as other:
            receiver.script(410)
            gone_id, _ = rig.add_webhook(receiver.url)
            other_id, _ = rig.add_webhook(other.url, ["webhook_endpoint.*"])
            rig.job("J-1")
            rig.job("J-2")
            drain(rig.deps)
            hook = rig.webhook(gone_id)
            assert (hook.active, hook.disabled_reason.value if hook.disabled_reason else None) == (
                False,
                "gone",
            )
            states = [
                (d.status.value, d.failure_reason.value if d.failure_reason else None)
                for d in rig.deliveries(gone_id)
            ]
            assert states == [("failed", "gone"), ("pending", None)]
            got = other.wait_for(1)[0].json()
            assert got["type"] == "webhook_endpoint.disabled"
            assert got["data"]["webhook_id"] == str(gone_id)
            assert got["data"]["disabled_reason"] == "gone"
            assert got["data"]["last_status_code"] == 410
            assert got["data"]["origin"]["channel"] == "system"
            assert len(receiver.requests) == 1
            assert len(rig.deliveries(other_id)) == 1

    def test_auto_disable_needs_five_days_and_ten_failures(
        self, rig: Rig, receiver: WebhookReceiver
    ) -> None:
        receiver.default = Reply(503)
        hook_id, _ = rig.add_webhook(receiver.url)
        for n in range(12):  # a burst: 12 failures within minutes
            rig.job(f"B-{n}")
        for _ in range(12):
            advance_to_due(rig, hook_id)
            run_once(rig.deps)
        hook = rig.webhook(hook_id)
        assert hook.consecutive_failures >= 10
        assert hook.active
        rig.clock.advance(5 * 86400)
        expire_deliveries(rig.services.sessions, rig.clock, rig.services.webhooks)
        rig.job("late")
        advance_to_due(rig, hook_id)
        run_once(rig.deps)
        hook = rig.webhook(hook_id)
        assert not hook.active
        assert hook.disabled_reason is not None
        assert hook.disabled_reason.value == "failing"
        with rig.services.sessions() as s:
            types = list(s.scalars(select(Event.type).where(Event.entity_id == hook_id)))
        assert types == ["webhook_endpoint.disabled"]

    def test_five_days_of_sparse_failures_do_not_disable(
        self, rig: Rig, receiver: WebhookReceiver
    ) -> None:
        receiver.default = Reply(500)
        hook_id, _ = rig.add_webhook(receiver.url)
        rig.job("J-1")
        run_once(rig.deps)
        rig.clock.advance(6 * 86400)
        expire_deliveries(rig.services.sessions, rig.clock, rig.services.webhooks)
        rig.job("J-2")
        advance_to_due(rig, hook_id)
        run_once(rig.deps)
        hook = rig.webhook(hook_id)
        assert hook.active
        assert hook.consecutive_failures == 2

    def test_a_waiting_delivery_expires_at_its_max_age(
        self, rig: Rig, receiver: WebhookReceiver
    ) -> None:
        hook_id, _ = rig.add_webhook(receiver.url)
        rig.job("J-1")
        with rig.work() as work:  # a client sets active: false before any worker ran
            work.session.get(Webhook, hook_id).active = False
        rig.clock.advance(4 * 86400 + 1)
        assert expire_deliveries(rig.services.sessions, rig.clock, rig.services.webhooks) >= 1
        (d,) = rig.deliveries(hook_id)
        assert (d.status.value, d.failure_reason.value if d.failure_reason else None) == (
            "failed",
            "expired",
        )

    def test_enable_resumes_in_sequence_order_and_recover_delivers_exactly_what_was_missed(
        self, rig: Rig, receiver: WebhookReceiver
    ) -> None:
        receiver.script(410)
        hook_id, _ = rig.add_webhook(receiver.url, ["job.*"])
        rig.job("J-1")
        run_once(rig.deps)  # 410: disabled; J-1's delivery failed (gone)
        rig.clock.advance(10)
        rig.job("J-2")  # committed while disabled: no delivery
        rig.job("J-3")
        assert len(rig.deliveries(hook_id)) == 1
        from floorsync.webhooks import service

        with rig.work() as work:
            hook = service.get_webhook(work.session, rig.scope, hook_id)
            service.enable_webhook(work, rig.services.webhooks, hook)
            since = rig.clock.now() - timedelta(minutes=1)
            out = service.recover(work, hook, {"since": since.isoformat(), "include_missing": True})
        assert out == {"webhook_id": str(hook_id), "queued": 3, "more": False}
        drain(rig.deps)
        got = [r.json()["data"]["job"]["job_number"] for r in receiver.requests[1:]]
        assert got == ["J-1", "J-2", "J-3"]
        rounds = [(d.replay_round, d.status.value) for d in rig.deliveries(hook_id)]
        assert rounds == [(1, "succeeded"), (1, "succeeded"), (1, "succeeded")]

    def test_recover_with_missing_events_stops_at_its_limit_in_sequence_order(
        self, rig: Rig, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from floorsync.webhooks import service

        monkeypatch.setattr(service, "RECOVER_LIMIT", 2)
        since = rig.clock.now() - timedelta(minutes=1)
        hook_id, _ = rig.add_webhook("http://127.0.0.1:9/hook", ["job.*"], active=False)
        for n in range(1, 5):
            rig.job(f"J-{n}")
        assert rig.deliveries(hook_id) == []
        with rig.work() as work:
            hook = service.get_webhook(work.session, rig.scope, hook_id)
            service.enable_webhook(work, rig.services.webhooks, hook)
            first = service.recover(
                work, hook, {"since": since.isoformat(), "include_missing": True}
            )
        assert first == {"webhook_id": str(hook_id), "queued": 2, "more": True}
        with rig.work() as work:
            again = service.recover(
                work,
                service.get_webhook(work.session, rig.scope, hook_id),
                {"since": since.isoformat(), "include_missing": True},
            )
        queued = rig.deliveries(hook_id)
        with rig.work() as work:  # the worker claims across tenants: leave nothing due behind
            service.delete_webhook(work, service.get_webhook(work.session, rig.scope, hook_id))
        assert again == {"webhook_id": str(hook_id), "queued": 2, "more": False}
        assert len({d.event_id for d in queued}) == 4

    def test_a_name_that_resolves_privately_at_send_time_is_refused_without_traffic(
        self, rig: Rig
    ) -> None:
        kit = rig.services.webhooks
        resolver = StaticResolver({"erp.example.com": ["93.184.216.34"]})
        kit.resolver = resolver
        kit.config = type(kit.config)(**{**kit.config.__dict__, "allow_private": False})
        hook_id, _ = rig.add_webhook("https://erp.example.com/hook")
        resolver.names["erp.example.com"] = ["127.0.0.1"]
        rig.job("J-1")
        run_once(rig.deps)
        with rig.services.sessions() as s:
            log = s.scalars(select(WebhookLog).where(WebhookLog.webhook_id == hook_id)).one()
        assert (log.outcome.value, log.error_message, log.status_code) == (
            "refused",
            "refused by SSRF guard",
            None,
        )
        assert rig.webhook(hook_id).consecutive_failures == 1

    def test_an_internationalised_host_name_is_delivered_under_its_a_label(
        self, rig: Rig, receiver: WebhookReceiver
    ) -> None:
        rig.services.webhooks.resolver = StaticResolver({"xn--bcher-kva.example": ["127.0.0.1"]})
        port = receiver.server.server_address[1]
        hook_id, _ = rig.add_webhook(f"http://Bücher.example:{port}/hook")
        rig.job("J-1")
        assert run_once(rig.deps)
        (r,) = receiver.wait_for(1)
        assert r.headers["host"] == f"xn--bcher-kva.example:{port}"
        assert rig.deliveries(hook_id)[0].status.value == "succeeded"
