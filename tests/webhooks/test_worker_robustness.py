"""The delivery worker survives its own faults: an unexpected error releases the endpoint's
lease at once (nothing lost), a late answer is a timeout, and an endpoint whose secret doesn't
open is skipped without starving the others."""

import logging

import pytest

from floorsync.webhooks import worker as worker_mod
from floorsync.webhooks.worker import run_once
from tests.support.webhook_receiver import WebhookReceiver
from tests.webhooks.conftest import Rig


class TestUnexpectedErrors:
    def test_an_error_while_sending_releases_the_lease_and_the_delivery_is_retried_promptly(
        self, rig: Rig, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    ) -> None:
        hook_id, _ = rig.add_webhook(receiver.url)
        rig.job("J-1")
        real_send = worker_mod.delivery_mod.send
        calls = []

        def broken_once(*args: object, **kwargs: object) -> object:
            calls.append(1)
            if len(calls) == 1:
                raise RuntimeError("boom")
            return real_send(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(worker_mod.delivery_mod, "send", broken_once)
        now = rig.clock.now()
        with caplog.at_level(logging.ERROR, logger="floorsync.webhooks.worker"):
            assert run_once(rig.deps)
        assert any(str(hook_id) in r.getMessage() and r.exc_info for r in caplog.records)
        hook = rig.webhook(hook_id)
        assert hook.lease_owner is None
        assert hook.lease_until is not None
        assert hook.lease_until <= now
        (d,) = rig.deliveries(hook_id)
        assert (d.status.value, d.attempts) == ("pending", 0)

        rig.clock.advance(5)  # far inside the 60 s lease
        assert run_once(rig.deps)
        assert [r.json()["type"] for r in receiver.wait_for(1)] == ["job.created"]
        assert rig.deliveries(hook_id)[0].status.value == "succeeded"

    def test_an_error_while_recording_loses_nothing_the_delivery_is_sent_again(
        self, rig: Rig, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        hook_id, _ = rig.add_webhook(receiver.url)
        rig.job("J-1")
        real_record = worker_mod.record_batch
        calls = []

        def broken_once(*args: object, **kwargs: object) -> bool:
            calls.append(1)
            if len(calls) == 1:
                raise RuntimeError("database hiccup")
            return real_record(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(worker_mod, "record_batch", broken_once)
        assert run_once(rig.deps)
        receiver.wait_for(1)
        hook = rig.webhook(hook_id)
        assert hook.lease_owner is None
        assert rig.deliveries(hook_id)[0].status.value == "pending"
        assert not run_once(rig.deps)  # paused briefly, not hammered in a tight loop

        rig.clock.advance(5)
        assert run_once(rig.deps)
        reqs = receiver.wait_for(2)
        assert len({r.webhook_id for r in reqs}) == 1  # the same event again: a duplicate, not a loss
        assert rig.deliveries(hook_id)[0].status.value == "succeeded"
