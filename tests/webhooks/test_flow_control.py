"""Issue 11, failures step aside: a failed delivery waits for its own retry while the endpoint
keeps sending later events; the endpoint as a whole waits only for Retry-After (capped) or an
open circuit breaker, which half-opens with one probe and closes on a success. The state shows
in GET /api-webhooks."""

import logging
import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from floorsync.config import Settings
from floorsync.kit.durations import parse_duration
from floorsync.models.webhooks import Webhook
from floorsync.webhooks import service
from floorsync.webhooks.breaker import BreakerPolicy, open_time, should_open
from floorsync.webhooks.config import WebhookConfig
from floorsync.webhooks.tasks import DELIVERY
from floorsync.webhooks.worker import (
    REFILLS_PER_CLAIM,
    Claim,
    batch_limit,
    drain,
    rest_after,
    run_once,
)
from floorsync.worker.registry import WorkerRegistry
from floorsync.worker.runner import WorkerRunner
from tests.support.tenants import TenantHandle
from tests.support.webhook_receiver import Reply, WebhookReceiver
from tests.webhooks.conftest import Rig, make_job, register

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class TestTheBreakerRules:
    def test_a_run_of_failures_or_a_minute_of_failing_opens_it(self) -> None:
        policy = BreakerPolicy(failures=10, failing_for=timedelta(seconds=60))
        assert not should_open(policy, 9, T0, T0 + timedelta(seconds=59))
        assert should_open(policy, 10, T0, T0)
        assert should_open(policy, 2, T0, T0 + timedelta(seconds=60))
        assert not should_open(policy, 1, T0, T0 + timedelta(hours=1))  # one failure is no run

    def test_the_open_time_doubles_per_failed_probe_up_to_its_cap(self) -> None:
        policy = BreakerPolicy(open_for=timedelta(seconds=30), open_max=timedelta(minutes=5))
        got = [open_time(policy, trips).total_seconds() for trips in range(6)]
        assert got == [30, 60, 120, 240, 300, 300]
        assert open_time(policy, 10_000) == timedelta(minutes=5)

    def test_durations_read_units_and_refuse_anything_else(self) -> None:
        assert parse_duration("90s") == timedelta(seconds=90)
        assert parse_duration("15m") == timedelta(minutes=15)
        assert parse_duration("6h") == timedelta(hours=6)
        assert parse_duration("30d") == timedelta(days=30)
        assert parse_duration("3600") == timedelta(hours=1)
        for bad in ("", "h", "-1h", "soon", "nan"):
            with pytest.raises(ValueError, match="duration"):
                parse_duration(bad)


@pytest.fixture
def own(rig: Rig) -> Iterator[list[uuid.UUID]]:
    """Endpoints a test adds; deleted afterwards, since the worker claims across tenants and
    every rig's fake clock starts at the same time (nothing of ours may be due in other tests)."""
    ids: list[uuid.UUID] = []
    yield ids
    with rig.work() as work:
        for hook_id in ids:
            hook = work.session.get(Webhook, hook_id)
            if hook is not None:
                service.delete_webhook(work, hook)


class TestFailuresStepAside:
    def test_a_failed_delivery_waits_for_its_retry_while_later_events_keep_flowing(
        self, rig: Rig, receiver: WebhookReceiver, own: list[uuid.UUID]
    ) -> None:
        receiver.script(200, 503, 200, 200, 200, 503)  # 20 % of ten requests fail
        hook_id, _ = rig.add_webhook(receiver.url)
        own.append(hook_id)
        for n in range(10):
            rig.job(f"J-{n}")
        assert run_once(rig.deps)  # one batch: the failures don't end it
        assert len(receiver.requests) == 10
        got = [(d.status.value, d.attempts) for d in rig.deliveries(hook_id)]
        failed = [i for i, (status, _) in enumerate(got) if status == "pending"]
        assert failed == [1, 5]
        assert sum(1 for status, _ in got if status == "succeeded") == 8
        hook = rig.webhook(hook_id)
        assert hook.paused_until is None  # the endpoint as a whole does not wait
        assert hook.breaker_opened_at is None
        assert hook.consecutive_failures == 0  # later successes reset the run
        # later events arrived before the failed ones' retries
        seqs = [r.json()["sequence"] for r in receiver.requests]
        assert seqs == sorted(seqs)
        rig.job("J-late")
        rig.clock.advance(1)  # a released lease is free once the clock has moved past it
        assert run_once(rig.deps)  # the new event goes out at once; the failed two are not due
        assert len(receiver.requests) == 11
        assert receiver.requests[-1].json()["data"]["job"]["job_number"] == "J-late"
        rig.clock.advance(7)  # past the first retry (5 s ± 20 %)
        drain(rig.deps)
        assert [d.status.value for d in rig.deliveries(hook_id)] == ["succeeded"] * 11
        retried = {r.webhook_id for r in receiver.requests[11:]}
        assert retried == {receiver.requests[1].webhook_id, receiver.requests[5].webhook_id}

    def test_a_run_of_failures_opens_the_breaker_which_probes_once_then_closes(
        self, rig: Rig, receiver: WebhookReceiver, own: list[uuid.UUID]
    ) -> None:
        receiver.default = Reply(500)
        hook_id, _ = rig.add_webhook(receiver.url)
        own.append(hook_id)
        for n in range(14):
            rig.job(f"J-{n}")
        opened_at = rig.clock.now()
        assert run_once(rig.deps)
        assert len(receiver.requests) == 10  # the breaker's run; the other four wait
        hook = rig.webhook(hook_id)
        assert hook.breaker_opened_at == opened_at
        assert hook.paused_until == opened_at + timedelta(seconds=30)
        assert not run_once(rig.deps)  # open: nothing is claimed
        rig.clock.advance(30)
        assert run_once(rig.deps)  # half-open: one probe
        assert len(receiver.requests) == 11
        hook = rig.webhook(hook_id)
        assert hook.breaker_trips == 1
        assert hook.paused_until == rig.clock.now() + timedelta(seconds=60)  # twice as long
        receiver.default = Reply(200)
        rig.clock.advance(60)
        assert run_once(rig.deps)
        assert len(receiver.requests) == 12  # the probe alone
        hook = rig.webhook(hook_id)
        assert (hook.breaker_opened_at, hook.breaker_trips, hook.consecutive_failures) == (
            None,
            0,
            0,
        )
        rig.clock.advance(1)
        drain(rig.deps)  # closed: everything due goes out
        states = [d.status.value for d in rig.deliveries(hook_id)]
        assert states.count("succeeded") == 13  # all but the failed probe's, due in ~5 min
        rig.clock.advance(400)
        drain(rig.deps)
        assert [d.status.value for d in rig.deliveries(hook_id)] == ["succeeded"] * 14

    def test_retry_after_pauses_the_endpoint_capped_at_an_hour_and_ends_the_batch(
        self, rig: Rig, receiver: WebhookReceiver, own: list[uuid.UUID]
    ) -> None:
        receiver.script(Reply(503, retry_after="86400"))
        hook_id, _ = rig.add_webhook(receiver.url)
        own.append(hook_id)
        for n in range(3):
            rig.job(f"J-{n}")
        now = rig.clock.now()
        assert run_once(rig.deps)
        assert len(receiver.requests) == 1  # the receiver asked to wait: the batch ends
        hook = rig.webhook(hook_id)
        assert hook.paused_until == now + timedelta(hours=1)
        assert hook.breaker_opened_at is None
        first = rig.deliveries(hook_id)[0]
        assert first.next_attempt_at >= now + timedelta(hours=24)  # its own retry, capped at 24 h
        rig.clock.advance(3600)
        drain(rig.deps)
        assert [d.status.value for d in rig.deliveries(hook_id)] == [
            "pending",
            "succeeded",
            "succeeded",
        ]

    def test_a_503_without_retry_after_is_only_that_deliverys_failure(
        self, rig: Rig, receiver: WebhookReceiver, own: list[uuid.UUID]
    ) -> None:
        receiver.script(503)
        hook_id, _ = rig.add_webhook(receiver.url)
        own.append(hook_id)
        rig.job("J-1")
        rig.job("J-2")
        assert run_once(rig.deps)
        assert [d.status.value for d in rig.deliveries(hook_id)] == ["pending", "succeeded"]
        assert rig.webhook(hook_id).paused_until is None


class TestLinger:
    """An endpoint whose batch emptied its queue rests FLOORSYNC_WEBHOOK_LINGER_MS (200) before
    its next claim; one with a backlog (a full batch) is claimed again at once."""

    def test_an_endpoint_that_emptied_its_queue_rests_before_its_next_claim(
        self, rig: Rig, receiver: WebhookReceiver, own: list[uuid.UUID]
    ) -> None:
        assert rig.deps.kit.config.linger == timedelta(milliseconds=200)  # the default
        hook_id, _ = rig.add_webhook(receiver.url, max_in_flight=1)
        own.append(hook_id)
        rig.job("J-1")
        assert run_once(rig.deps)
        released = rig.clock.now()
        assert rig.webhook(hook_id).lease_until == released + timedelta(milliseconds=200)
        rig.job("J-2")
        rig.job("J-3")
        rig.clock.advance(0.199)
        assert not run_once(rig.deps)  # resting: its two due events wait
        assert len(receiver.requests) == 1
        rig.clock.advance(0.002)
        assert run_once(rig.deps)  # then both go out in one batch
        assert [r.json()["data"]["job"]["job_number"] for r in receiver.requests] == [
            "J-1",
            "J-2",
            "J-3",
        ]

    def test_an_endpoint_with_a_backlog_is_claimed_again_at_once(
        self, rig: Rig, receiver: WebhookReceiver, own: list[uuid.UUID]
    ) -> None:
        hook_id, _ = rig.add_webhook(receiver.url, max_in_flight=1)
        own.append(hook_id)
        batch = rig.deps.kit.config.batch_size  # max_in_flight 1: a batch is the batch size
        for n in range(batch + 3):
            rig.job(f"J-{n}")
        assert run_once(rig.deps)
        assert len(receiver.requests) == batch
        assert rig.webhook(hook_id).lease_until == rig.clock.now()  # a full batch: no rest
        rig.clock.advance(0.001)  # a released lease is free once the clock has moved past it
        assert run_once(rig.deps)
        assert len(receiver.requests) == batch + 3
        assert rig.webhook(hook_id).lease_until == rig.clock.now() + timedelta(milliseconds=200)

    def test_drain_and_worker_once_deliver_what_is_due_on_a_resting_endpoint_too(
        self, rig: Rig, receiver: WebhookReceiver, own: list[uuid.UUID]
    ) -> None:
        hook_id, _ = rig.add_webhook(receiver.url, max_in_flight=1)
        own.append(hook_id)
        rig.job("J-1")
        assert run_once(rig.deps)
        rig.job("J-2")
        assert not run_once(rig.deps)  # resting
        assert drain(rig.deps) == 1  # `drain` doesn't wait for the linger to pass
        assert len(receiver.requests) == 2
        rig.job("J-3")
        assert not run_once(rig.deps)  # resting again after drain's batch
        once = WorkerRunner(rig.services, registry=WorkerRegistry(kinds=(DELIVERY,), periodic=()))
        assert once.run_once() == {DELIVERY.name: 1}  # `floorsync worker --once` neither
        assert [r.json()["data"]["job"]["job_number"] for r in receiver.requests] == [
            "J-1",
            "J-2",
            "J-3",
        ]

    def test_a_linger_of_0_does_not_rest(self, settings: Settings) -> None:
        assert WebhookConfig.from_settings(settings).linger == timedelta(milliseconds=200)
        off = settings.model_copy(update={"webhook_linger_ms": 0})
        assert WebhookConfig.from_settings(off).linger == timedelta(0)
        claim = Claim(uuid.uuid4(), uuid.uuid4(), "http://127.0.0.1:9/hook", [], T0, [])
        assert rest_after(WebhookConfig.from_settings(off), claim) == timedelta(0)
        assert rest_after(WebhookConfig.from_settings(settings), claim) == timedelta(
            milliseconds=200
        )


class TestRefill:
    """A concurrent endpoint with a backlog: the thread holding its lease reads the next batch
    while the last requests of one are in flight, up to REFILLS_PER_CLAIM times a claim, and
    records them all in one transaction."""

    def test_a_backlog_goes_out_in_one_claim_refilled_up_to_its_cap(
        self, rig: Rig, receiver: WebhookReceiver, own: list[uuid.UUID]
    ) -> None:
        hook_id, _ = rig.add_webhook(receiver.url, max_in_flight=4)
        own.append(hook_id)
        batch = batch_limit(rig.deps.kit.config.batch_size, 4)
        cap = batch * (1 + REFILLS_PER_CLAIM)
        for n in range(cap + 7):
            rig.job(f"J-{n}")
        with ThreadPoolExecutor(4) as senders:
            deps = replace(rig.deps, senders=senders)
            assert run_once(deps)  # one claim, refilled three times
            assert len(receiver.requests) == cap >= 4 * batch
            done = [d.status.value for d in rig.deliveries(hook_id)]
            assert done == ["succeeded"] * cap + ["pending"] * 7  # recorded together
            assert rig.webhook(hook_id).lease_until == rig.clock.now()  # more due: no rest
            rig.clock.advance(0.001)
            assert run_once(deps)  # the rest, then the queue is drained: it rests
            assert rig.webhook(hook_id).lease_until == rig.clock.now() + timedelta(milliseconds=200)
        assert len(receiver.requests) == cap + 7
        assert {r.json()["data"]["job"]["job_number"] for r in receiver.requests} == {
            f"J-{n}" for n in range(cap + 7)
        }
        assert [d.status.value for d in rig.deliveries(hook_id)] == ["succeeded"] * (cap + 7)

    def test_one_at_a_time_an_endpoint_is_not_refilled(
        self, rig: Rig, receiver: WebhookReceiver, own: list[uuid.UUID]
    ) -> None:
        hook_id, _ = rig.add_webhook(receiver.url, max_in_flight=1)
        own.append(hook_id)
        batch = rig.deps.kit.config.batch_size
        for n in range(batch + 1):
            rig.job(f"J-{n}")
        with ThreadPoolExecutor(4) as senders:
            assert run_once(replace(rig.deps, senders=senders))
        assert len(receiver.requests) == batch


class TestQuietLogs:
    def test_one_info_line_per_batch_a_warning_per_failure_and_per_breaker_change(
        self,
        rig: Rig,
        receiver: WebhookReceiver,
        own: list[uuid.UUID],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        hook_id, _ = rig.add_webhook(receiver.url)
        own.append(hook_id)
        for n in range(12):
            rig.job(f"J-{n}")
        receiver.script(200, 503)  # then 500s: ten failures in a row open the breaker
        receiver.default = Reply(500)
        with caplog.at_level(logging.INFO, logger="floorsync.webhooks.worker"):
            assert run_once(rig.deps)
        records = [r for r in caplog.records if r.name == "floorsync.webhooks.worker"]
        infos = [r.getMessage() for r in records if r.levelno == logging.INFO]
        warnings = [r.getMessage() for r in records if r.levelno == logging.WARNING]
        assert len(infos) == 1  # the batch, not its eleven attempts
        assert str(hook_id) in infos[0]
        line = re.search(r": sent 1, failed 10 in \d+ ms; claim (\d+\.\d) ms$", infos[0])
        assert line
        assert float(line.group(1)) > 0  # the claim's own transaction, timed
        failures = [m for m in warnings if " failed: HTTP " in m]
        assert len(failures) == 10
        pending = {str(d.id) for d in rig.deliveries(hook_id) if d.status.value == "pending"}
        assert {next(p for p in pending if p in m) for m in failures} <= pending
        assert len({next(p for p in pending if p in m) for m in failures}) == 10
        assert sum("HTTP 503" in m for m in failures) == 1
        assert sum("HTTP 500" in m for m in failures) == 9
        opened = [m for m in warnings if "circuit breaker opened" in m]
        assert len(opened) == 1
        assert len(warnings) == 11  # nothing else at WARNING; per-attempt detail is in the log
        assert len(receiver.requests) == 11


class TestStateOnTheWire:
    def test_the_list_shows_healthy_then_backing_off_with_its_end(
        self, tenant: TenantHandle, receiver: WebhookReceiver, deps: object
    ) -> None:
        hook = register(tenant, receiver.url)
        assert (hook["state"], hook["backoff_until"], hook["max_in_flight"]) == (
            "healthy",
            None,
            16,
        )
        assert (hook["exclude_own_changes"], hook["exclude_sources"], hook["api_key_id"]) == (
            False,
            [],
            None,
        )
        receiver.script(Reply(429, retry_after="30"))
        make_job(tenant, "J-1")
        before = datetime.now(UTC)
        drain(deps)  # type: ignore[arg-type]
        got = tenant.client.get("/api-webhooks", params={"id": hook["id"]}).json()["data"]
        shown = got["webhook"]
        assert shown["state"] == "backing_off"
        until = datetime.fromisoformat(shown["backoff_until"].replace("Z", "+00:00"))
        assert before + timedelta(seconds=29) <= until <= before + timedelta(seconds=35)
        listed = tenant.client.get("/api-webhooks").json()["data"]["webhooks"]
        assert [w["state"] for w in listed if w["id"] == hook["id"]] == ["backing_off"]

    def test_max_in_flight_is_validated_and_patchable(self, tenant: TenantHandle) -> None:
        for bad in (0, 17, "4", True, 2.5):
            resp = tenant.client.post(
                "/api-webhooks",
                json={"url": "http://127.0.0.1:9/h", "events": ["*"], "max_in_flight": bad},
            )
            assert resp.status_code == 422, bad
            assert resp.json()["error"]["details"][0]["field"] == "max_in_flight"
        hook = register(tenant, "http://127.0.0.1:9/h", max_in_flight=1)
        assert hook["max_in_flight"] == 1
        patched = tenant.client.patch(
            "/api-webhooks", params={"id": hook["id"]}, json={"max_in_flight": 4}
        )
        assert patched.json()["data"]["webhook"]["max_in_flight"] == 4
