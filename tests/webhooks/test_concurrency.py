"""Issue 11, per-endpoint concurrency with real workers and receivers on 127.0.0.1: up to
`max_in_flight` requests at once under one lease owner (1 keeps first attempts in order), a
50 ms receiver well past what one request at a time can reach, a receiver failing 20 % of
requests that keeps receiving later events, and a SIGKILL mid-window that loses nothing."""

import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

from floorsync.bootstrap import build_services
from floorsync.config import Settings
from floorsync.worker.runner import WorkerRunner
from tests.support.tenants import TenantHandle
from tests.support.webhook_receiver import Reply, WebhookReceiver
from tests.support.worker_process import kill, start_worker, stop
from tests.webhooks.conftest import register
from tests.webhooks.test_crash_and_workers import commit_events, event_ids, wait_until


@contextmanager
def running_worker(settings: Settings, threads: int = 2) -> Iterator[WorkerRunner]:
    """A worker (the generic runner, its delivery kind only) in this process."""
    services = build_services(settings)
    runner = WorkerRunner(
        services,
        threads={"webhooks.delivery": threads},
        worker_id=f"concurrency-{uuid.uuid4().hex[:6]}",
    )
    runner.start()
    try:
        yield runner
    finally:
        runner.stop()
        bind = services.sessions.kw.get("bind")
        if bind is not None:
            bind.dispose()


def received(receiver: WebhookReceiver, path: str) -> list[str]:
    return [r.webhook_id for r in receiver.requests if r.path == path]


class TestMaxInFlight:
    def test_an_endpoint_gets_up_to_its_max_in_flight_at_once_and_one_keeps_sequence_order(
        self,
        tenant: TenantHandle,
        receiver: WebhookReceiver,
        sessions: sessionmaker[Session],
        settings: Settings,
    ) -> None:
        tag = uuid.uuid4().hex[:8]
        wide, narrow = f"/{tag}-wide", f"/{tag}-narrow"
        register(tenant, receiver.url_for(wide), max_in_flight=4)
        register(tenant, receiver.url_for(narrow), max_in_flight=1)
        receiver.default = Reply(200, delay=0.1)
        commit_events(sessions, tenant.id, 40)
        committed = event_ids(sessions, tenant.id)
        # Two worker processes' worth of runners, two delivery threads each: whoever holds an
        # endpoint's lease is its only sender, so its limit holds across all of them.
        with running_worker(settings), running_worker(settings):
            assert wait_until(
                lambda: (
                    committed <= set(received(receiver, wide))
                    and committed <= set(received(receiver, narrow))
                ),
                60,
            )
        assert receiver.max_in_flight_by_path[wide] == 4
        assert receiver.max_in_flight_by_path[narrow] == 1
        seqs = [r.json()["sequence"] for r in receiver.requests if r.path == narrow]
        assert seqs == sorted(seqs)

    def test_a_receiver_50_ms_away_gets_well_over_what_one_request_at_a_time_allows(
        self,
        tenant: TenantHandle,
        receiver: WebhookReceiver,
        sessions: sessionmaker[Session],
        settings: Settings,
    ) -> None:
        path = f"/{uuid.uuid4().hex[:8]}-slow"
        hook = register(tenant, receiver.url_for(path))  # the default max_in_flight
        assert hook["max_in_flight"] == 16
        receiver.default = Reply(200, delay=0.05)
        commit_events(sessions, tenant.id, 600, per_txn=100)
        committed = event_ids(sessions, tenant.id)
        with running_worker(settings, threads=1):
            assert wait_until(lambda: committed <= set(received(receiver, path)), 60)
        arrivals = [r.at for r in receiver.requests if r.path == path]
        rate = len(arrivals) / (max(arrivals) - min(arrivals))
        print(f"50 ms receiver, default max_in_flight: {rate:.0f} events/s")
        # One at a time tops out at 20/s. The target (≥ 200/s) is bench/soak.py's to measure,
        # with the receiver in a process of its own; here the receiver, the worker and the API
        # share one interpreter on a machine other work loads, so three times the sequential
        # ceiling is what this asserts.
        assert rate > 60
        assert receiver.max_in_flight_by_path[path] <= 16


class TestAFlakyReceiver:
    def test_a_receiver_failing_20_percent_keeps_receiving_later_events_while_failed_ones_wait(
        self,
        tenant: TenantHandle,
        receiver: WebhookReceiver,
        sessions: sessionmaker[Session],
        settings: Settings,
    ) -> None:
        path = f"/{uuid.uuid4().hex[:8]}-flaky"
        register(tenant, receiver.url_for(path), max_in_flight=4)
        receiver.script(*([200, 200, 200, 200, 503] * 20))  # the first 100 answers: 20 % fail
        commit_events(sessions, tenant.id, 100)
        committed = event_ids(sessions, tenant.id)
        fast = settings.model_copy(update={"webhook_retry_delays": "1,2,4,8,16"})
        with running_worker(fast):
            assert wait_until(
                lambda: (
                    committed
                    <= {
                        r.webhook_id
                        for r in receiver.requests
                        if r.path == path and r.answered == 200
                    }
                ),
                60,
            )
        got = [r for r in receiver.requests if r.path == path]
        failed = [r for r in got if r.answered == 503]
        assert len(failed) >= 15
        # every failed event's retry came after events with higher sequence numbers were
        # delivered: it stepped aside instead of holding the endpoint up
        first_success = {}
        for n, r in enumerate(got):
            if r.answered == 200:
                first_success.setdefault(r.webhook_id, n)
        overtaken = 0
        for r in failed:
            retry_at = first_success[r.webhook_id]
            seq = r.json()["sequence"]
            if any(o.json()["sequence"] > seq for o in got[got.index(r) + 1 : retry_at]):
                overtaken += 1
        assert overtaken >= len(failed) / 2  # head-of-line blocking would make this ~0
        assert set(received(receiver, path)) == committed


class TestCrash:
    def test_sigkill_of_a_worker_with_requests_in_flight_loses_nothing(
        self,
        tenant: TenantHandle,
        receiver: WebhookReceiver,
        sessions: sessionmaker[Session],
        settings: Settings,
    ) -> None:
        path = f"/crash-wide-{uuid.uuid4().hex[:8]}"
        register(tenant, receiver.url_for(path), max_in_flight=8)
        commit_events(sessions, tenant.id, 120)
        committed = event_ids(sessions, tenant.id)
        receiver.default = Reply(200, delay=0.15)
        rng = random.Random(5)
        for _round in range(3):  # kill points while several requests are in flight
            proc = start_worker(settings, "--threads", "2")
            target = len(receiver.requests) + rng.randint(4, 20)
            assert wait_until(
                lambda t=target: (
                    len(receiver.requests) >= t and receiver.in_flight_by_path.get(path, 0) >= 2
                ),
                30,
            ), proc.stderr
            kill(proc)
        receiver.default = Reply(200)
        proc = start_worker(settings, "--threads", "2")
        try:
            assert wait_until(lambda: committed <= set(received(receiver, path)), 60)
        finally:
            assert stop(proc) == 0
        got = received(receiver, path)
        assert set(got) == committed
        assert len(got) > len(set(got))  # the killed windows were sent again
        assert receiver.max_in_flight_by_path[path] <= 8
