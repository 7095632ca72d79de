"""The delivery worker survives its own faults: an unexpected error releases the endpoint's
lease at once (nothing lost), an answer that completes after the deadline is a timeout, and an
endpoint whose secret doesn't open is skipped without starving the others."""

import dataclasses
import logging
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from floorsync.kit.secretbox import SecretBox
from floorsync.models.webhooks import Webhook, WebhookLog
from floorsync.webhooks import delivery as delivery_mod
from floorsync.webhooks import worker as worker_mod
from floorsync.webhooks.config import secret_context
from floorsync.webhooks.delivery import AttemptResult
from floorsync.webhooks.worker import Claim, DeliveryDeps, drain
from tests.support.webhook_receiver import Reply, WebhookReceiver
from tests.webhooks.conftest import Rig


class TestUnexpectedErrors:
    """Other tests leave endpoints behind in the shared database, so these drain (as the worker
    loop would) and fail only the rounds of their own endpoint."""

    def test_an_error_while_sending_releases_the_lease_and_the_delivery_is_retried_promptly(
        self,
        rig: Rig,
        receiver: WebhookReceiver,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
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
        self,
        rig: Rig,
        receiver: WebhookReceiver,
        monkeypatch: pytest.MonkeyPatch,
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
        assert (
            len({r.webhook_id for r in reqs}) == 1
        )  # the same event again: a duplicate, not a loss
        assert rig.deliveries(hook_id)[0].status.value == "succeeded"


def with_timeout(rig: Rig, seconds: float) -> None:
    kit = rig.deps.kit
    rig.deps.kit = dataclasses.replace(
        kit, config=dataclasses.replace(kit.config, timeout_seconds=seconds)
    )


def send_once(rig: Rig, url: str, timeout: float) -> AttemptResult:
    return delivery_mod.send(
        rig.deps.http,
        url,
        b"{}",
        {},
        rig.deps.kit.resolver,
        allow_private=True,
        timeout_seconds=timeout,
        at=rig.clock.now(),
    )


class TestOneDeadlineForTheWholeAttempt:
    """Each read stays under the timeout, but the answer as a whole comes too late."""

    def test_headers_trickled_past_the_deadline_are_a_timeout_not_a_success(
        self, rig: Rig, receiver: WebhookReceiver
    ) -> None:
        receiver.script(
            Reply(200, header_gap=0.8)
        )  # two header lines after 0.8 s each: 1.6 s in all
        started = time.monotonic()
        result = send_once(rig, receiver.url, 1.0)
        took = time.monotonic() - started
        assert (result.outcome, result.status_code, result.error) == (
            "timeout",
            None,
            "timeout after 1 s",
        )
        assert took < 1.4  # the deadline cuts the exchange off; it doesn't just relabel it

    def test_a_body_that_arrives_after_the_deadline_is_a_timeout(
        self, rig: Rig, receiver: WebhookReceiver
    ) -> None:
        receiver.script(Reply(200, delay=0.6, body_delay=0.6))
        result = send_once(rig, receiver.url, 1.0)
        assert (result.outcome, result.error) == ("timeout", "timeout after 1 s")

    def test_an_answer_inside_the_deadline_still_succeeds(
        self, rig: Rig, receiver: WebhookReceiver
    ) -> None:
        receiver.script(Reply(200, header_gap=0.1, body_delay=0.1))
        result = send_once(rig, receiver.url, 1.0)
        assert (result.outcome, result.status_code, result.excerpt) == ("succeeded", 200, "ok")

    def test_the_worker_records_a_late_2xx_as_a_timeout_and_retries_it(
        self, rig: Rig, receiver: WebhookReceiver
    ) -> None:
        with_timeout(rig, 1.0)  # the deps' HTTP client itself was built with the 5 s default
        receiver.script(Reply(200, header_gap=0.8))
        hook_id, _ = rig.add_webhook(receiver.url)
        rig.job("J-1")
        drain(rig.deps)
        (d,) = rig.deliveries(hook_id)
        assert (d.status.value, d.attempts, d.last_error) == ("pending", 1, "timeout after 1 s")
        with rig.services.sessions() as s:
            (entry,) = s.scalars(select(WebhookLog).where(WebhookLog.webhook_id == hook_id))
            assert (entry.outcome.value, entry.success, entry.status_code) == (
                "timeout",
                False,
                None,
            )
        assert rig.webhook(hook_id).consecutive_failures == 1


class TestASecretThatDoesNotOpen:
    def test_the_endpoint_is_paused_and_the_claim_moves_on_to_other_due_endpoints(
        self,
        rig: Rig,
        receiver: WebhookReceiver,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        with WebhookReceiver() as other:
            bad_id, _ = rig.add_webhook(other.url)
            good_id, _ = rig.add_webhook(receiver.url)
            rig.job("J-1")
            now = rig.clock.now()
            with rig.services.sessions.begin() as s:
                bad = s.get(Webhook, bad_id)
                good = s.get(Webhook, good_id)
                assert bad is not None
                assert good is not None
                bad.secret_ciphertext = SecretBox("some-other-key").seal(
                    b"whsec_x", secret_context(bad_id)
                )
                bad.lease_until = None  # served first ...
                good.lease_until = now - timedelta(hours=1)  # ... and this one right after it
            with caplog.at_level(logging.ERROR, logger="floorsync.webhooks.worker"):
                drain(rig.deps)  # without the fix the claim of the bad endpoint ends the drain
            assert [r.json()["type"] for r in receiver.requests] == ["job.created"]
            assert rig.deliveries(good_id)[0].status.value == "succeeded"
            hook = rig.webhook(bad_id)
            assert hook.lease_owner is None
            assert hook.paused_until == now + timedelta(hours=1)
            (d,) = rig.deliveries(bad_id)
            assert (d.status.value, d.attempts) == ("pending", 0)
            assert other.requests == []
            assert any(
                str(bad_id) in r.getMessage() and "FLOORSYNC_SECRET_KEY" in r.getMessage()
                for r in caplog.records
            )


@pytest.mark.postgres_only
def test_only_the_lease_transactions_skip_the_wait_for_the_disk(
    db_kind: str, rig: Rig, receiver: WebhookReceiver
) -> None:
    """A claim's and a release's commits don't wait for the disk (worker.LEASE_ONLY_COMMIT):
    they write nothing but the lease. The record of a batch (its attempts, the deliveries'
    outcomes) does, and the setting lasts only for its own transaction."""
    if db_kind != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's")
    rig.add_webhook(receiver.url)
    rig.job("J-1")
    bind = rig.deps.sessions.kw["bind"]
    seen: list[str] = []
    claims_connection: list[Any] = []  # the DBAPI connection the claim's transaction ran on

    def grab(conn: Any, _cursor: object, statement: str, *_rest: object) -> None:
        seen.append(statement)
        if worker_mod.LEASE_ONLY_COMMIT in statement and not claims_connection:
            claims_connection.append(conn.connection.dbapi_connection)

    event.listen(bind, "before_cursor_execute", grab)
    try:
        claim = worker_mod.claim_endpoint(rig.deps)
        assert claim is not None
        assert claim.deliveries
        claimed, seen[:] = list(seen), []
        worker_mod.deliver(rig.deps, claim)  # sends, then records (and releases) in one go
        recorded, seen[:] = list(seen), []
        worker_mod.release(rig.deps, dataclasses.replace(claim, deliveries=[]))
        released = list(seen)
    finally:
        event.remove(bind, "before_cursor_execute", grab)

    def lease_only(statements: list[str]) -> bool:
        return any(worker_mod.LEASE_ONLY_COMMIT in s for s in statements)

    assert lease_only(claimed)
    assert lease_only(released)
    assert any(s.lstrip().upper().startswith("UPDATE WEBHOOK_DELIVERIES") for s in recorded)
    assert not lease_only(recorded)
    # The claim's own connection, back in the pool, is back to the default.
    (raw,) = claims_connection
    with raw.cursor() as cur:
        cur.execute("SHOW synchronous_commit")
        assert cur.fetchone()[0] == "on"
    raw.rollback()
