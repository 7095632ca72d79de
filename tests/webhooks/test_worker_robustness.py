"""The delivery worker survives its own faults: an unexpected error releases the endpoint's
lease at once (nothing lost), a late answer is a timeout, and an endpoint whose secret doesn't
open is skipped without starving the others."""

import logging

import pytest

from floorsync.webhooks import worker as worker_mod
from floorsync.webhooks.worker import Claim, DeliveryDeps, drain
from tests.support.webhook_receiver import WebhookReceiver
from tests.webhooks.conftest import Rig


class TestUnexpectedErrors:
    """Other tests leave endpoints behind in the shared database, so these drain (as the worker
    loop would) and fail only the rounds of their own endpoint."""

    def test_an_error_while_sending_releases_the_lease_and_the_delivery_is_retried_promptly(
        self, rig: Rig, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    ) -> None:
        hook_id, _ = rig.add_webhook(receiver.url)
        rig.job("J-1")
        real_send = worker_mod.delivery_mod.send
        failed = []

        def broken_once(http: object, url: str, *args: object, **kwargs: object) -> object:
            if url == receiver.url and not failed:
                failed.append(url)
                raise RuntimeError("boom")
            return real_send(http, url, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(worker_mod.delivery_mod, "send", broken_once)
        now = rig.clock.now()
        with caplog.at_level(logging.ERROR, logger="floorsync.webhooks.worker"):
            drain(rig.deps)  # without the fix the error escapes from run_once
        assert failed
        assert any(str(hook_id) in r.getMessage() and r.exc_info for r in caplog.records)
        hook = rig.webhook(hook_id)
        assert hook.lease_owner is None
        assert hook.lease_until is not None
        assert hook.lease_until <= now  # not held for the 60 s lease
        (d,) = rig.deliveries(hook_id)
        assert (d.status.value, d.attempts) == ("pending", 0)
        assert receiver.requests == []

        rig.clock.advance(5)  # far inside the 60 s lease
        drain(rig.deps)
        assert [r.json()["type"] for r in receiver.wait_for(1)] == ["job.created"]
        assert rig.deliveries(hook_id)[0].status.value == "succeeded"

    def test_an_error_while_recording_loses_nothing_the_delivery_is_sent_again(
        self, rig: Rig, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        hook_id, _ = rig.add_webhook(receiver.url)
        rig.job("J-1")
        real_record = worker_mod.record_batch
        failed = []

        def broken_once(deps: DeliveryDeps, claim: Claim, *args: object) -> bool:
            if claim.webhook_id == hook_id and not failed:
                failed.append(claim.webhook_id)
                raise RuntimeError("database hiccup")
            return real_record(deps, claim, *args)  # type: ignore[arg-type]

        monkeypatch.setattr(worker_mod, "record_batch", broken_once)
        drain(rig.deps)
        assert failed
        assert len(receiver.requests) == 1  # paused briefly, not hammered in a tight loop
        hook = rig.webhook(hook_id)
        assert hook.lease_owner is None
        assert rig.deliveries(hook_id)[0].status.value == "pending"

        rig.clock.advance(5)
        drain(rig.deps)
        reqs = receiver.wait_for(2)
        assert len({r.webhook_id for r in reqs}) == 1  # the same event again: a duplicate, not a loss
        assert rig.deliveries(hook_id)[0].status.value == "succeeded"
