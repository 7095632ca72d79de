"""Stored values that the JSON writer can't take must never stall reads, the change feed or
delivery (issue 8, item 2, defence in depth).

PostgreSQL's JSONB keeps `1e30` as the 31-digit integer 1000000000000000000000000000000, and
reading it back gives a Python int outside 64 bits, which orjson refuses. Such numbers are to be
refused at the door (issue 8, item 2), but rows written before (or by hand) still exist, so these
tests write them straight into the database. Responses, feed pages and webhook bodies render them as the exact
integer (JSON allows any length). A stored event that still can't be rendered (nested deeper
than the writer allows, or, on SQLite, text that isn't JSON at all) fails on its own: the feed
shows a placeholder entry for it and moves on, and its delivery is recorded as a failed attempt
while the rest of the batch, the endpoint and every other tenant keep flowing.
"""

import json
import logging
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from floorsync.app import build_services
from floorsync.config import Settings
from floorsync.db.repository import TenantScope
from floorsync.db.uow import unit_of_work
from floorsync.events.outbox import Origin
from floorsync.kit.clock import SystemClock
from floorsync.kit.json_bytes import dumps
from floorsync.models.events import Event
from floorsync.models.webhooks import Webhook, WebhookDelivery, WebhookLog
from floorsync.worker.runner import WorkerRunner
from tests.support.api import ok
from tests.support.server import LiveServer
from tests.support.tenants import TenantHandle
from tests.support.webhook_receiver import WebhookReceiver

BIG = 10**30  # what JSONB makes of 1e30
BIG_TEXT = str(BIG)
DEPTH = 300  # deeper than orjson writes (255), well inside what PostgreSQL and json.loads read


def deep(levels: int = DEPTH) -> Any:
    value: Any = "bottom"
    for _ in range(levels):
        value = {"d": value}
    return value


def store_metadata(sessions: sessionmaker[Session], db_kind: str, job_id: str, raw: str) -> None:
    """Write a job's metadata as JSON text, bypassing the API (and its checks)."""
    cast = "CAST(:raw AS JSONB)" if db_kind == "postgresql" else ":raw"
    with sessions.begin() as session:
        session.execute(
            text(f"UPDATE jobs SET metadata = {cast} WHERE id = :id"),
            {
                "raw": raw,
                "id": uuid.UUID(job_id) if db_kind == "postgresql" else uuid.UUID(job_id).hex,
            },
        )


def record_event(server: LiveServer, tenant_id: uuid.UUID, data: dict[str, Any]) -> uuid.UUID:
    """Record a `job.updated` event with `data` through the outbox (fanned out to the tenant's
    endpoints), bypassing the API."""
    services = server.app.state.services
    with unit_of_work(
        services.sessions, services.outbox, TenantScope(tenant_id), origin=Origin("api")
    ) as work:
        event = work.record("job.updated", "job", uuid.uuid4(), data)
    return event.id


def break_event_text(sessions: sessionmaker[Session], event_id: uuid.UUID) -> None:
    """SQLite keeps JSON as text: overwrite an event's data with text that isn't JSON."""
    with sessions.begin() as session:
        session.execute(
            text("UPDATE events SET data = :raw WHERE id = :id"),
            {"raw": '{"job": {"id": 1', "id": event_id.hex},
        )


def feed(tenant: TenantHandle, **params: Any) -> Any:
    resp = tenant.client.get("/api-events", params=params)
    assert resp.status_code == 200, resp.text[:500]
    return resp, json.loads(resp.content)["data"]  # json.loads keeps big integers exact


class TestTheJsonWriter:
    def test_writes_what_orjson_writes_and_integers_beyond_64_bits_exactly(self) -> None:
        ordinary = {"a": [1, 2.5, None, True, "é"], "lo": -(2**63), "hi": 2**64 - 1}
        assert dumps(ordinary) == orjson.dumps(ordinary)
        mixed = {"n": BIG, "list": [-BIG, (2**64, False)], "x": 1.5, "t": True}
        assert dumps(mixed) == (
            b'{"n":%s,"list":[-%s,[18446744073709551616,false]],"x":1.5,"t":true}'
            % (BIG_TEXT.encode(), BIG_TEXT.encode())
        )
        assert json.loads(dumps(mixed))["list"][0] == -BIG

    def test_a_value_nested_deeper_than_the_writer_goes_still_raises(self) -> None:
        with pytest.raises(TypeError):
            dumps(deep())


class TestReadsOfStoredHugeIntegers:
    def test_a_job_whose_metadata_holds_1e30_lists_and_reads_with_the_exact_integer(
        self, tenant: TenantHandle, sessions: sessionmaker[Session], db_kind: str
    ) -> None:
        job = ok(
            tenant.client.post("/api-jobs", json={"job_number": f"J-{uuid.uuid4().hex[:6]}"}), 201
        )["job"]
        store_metadata(
            sessions, db_kind, job["id"], f'{{"n": 1e30, "big": {BIG_TEXT}, "neg": [-{BIG_TEXT}]}}'
        )
        one = tenant.client.get("/api-jobs", params={"id": job["id"]})
        listed = tenant.client.get("/api-jobs", params={"job_number": job["job_number"]})
        for resp in (one, listed):
            assert resp.status_code == 200, resp.text[:300]
            assert f'"big":{BIG_TEXT}'.encode() in resp.content
            assert f'"neg":[-{BIG_TEXT}]'.encode() in resp.content
        metadata = json.loads(one.content)["data"]["job"]["metadata"]
        assert metadata["big"] == BIG
        assert metadata["neg"] == [-BIG]
        # JSONB turns 1e30 into the integer; SQLite keeps the text and reads a float.
        assert metadata["n"] == (BIG if db_kind == "postgresql" else 1e30)

    def test_the_update_event_carrying_the_huge_previous_value_renders_in_the_feed(
        self, tenant: TenantHandle, sessions: sessionmaker[Session], db_kind: str
    ) -> None:
        job = ok(
            tenant.client.post("/api-jobs", json={"job_number": f"J-{uuid.uuid4().hex[:6]}"}), 201
        )["job"]
        store_metadata(sessions, db_kind, job["id"], f'{{"n": {BIG_TEXT}}}')
        ok(tenant.client.patch("/api-jobs", params={"id": job["id"]}, json={"metadata": {"n": 2}}))
        _resp, page = feed(tenant, limit=1000)
        (updated,) = [e for e in page["events"] if e["type"] == "job.updated"]
        assert updated["data"]["previous"]["metadata"] == {"n": BIG}
        assert updated["data"]["job"]["metadata"] == {"n": 2}
        after, _ = feed(tenant, after=page["next_cursor"])
        assert after.status_code == 200


class TestAnEventThatCanNotBeRendered:
    def test_the_feed_shows_a_placeholder_for_it_and_moves_past_it(
        self,
        tenant: TenantHandle,
        server: LiveServer,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        before = record_event(server, tenant.id, {"job": {"n": 1}})
        poison = record_event(server, tenant.id, {"job": deep()})
        after = record_event(server, tenant.id, {"job": {"n": 2}})
        with caplog.at_level(logging.ERROR):
            _resp, page = feed(tenant)
        ids = [e["id"] for e in page["events"]]
        assert ids == ["evt_" + i.hex for i in (before, poison, after)]
        bad = page["events"][1]
        assert bad["data"] is None
        assert bad["error"]["code"] == "EVENT_UNRENDERABLE"
        assert (bad["type"], bad["sequence"]) == ("job.updated", page["events"][0]["sequence"] + 1)
        assert page["events"][2]["data"]["job"] == {"n": 2}
        assert page["has_more"] is False
        assert any("evt_" + poison.hex in r.getMessage() for r in caplog.records)

    def test_text_that_is_not_json_fails_alone_on_sqlite(
        self,
        tenant: TenantHandle,
        server: LiveServer,
        sessions: sessionmaker[Session],
        db_kind: str,
    ) -> None:
        if db_kind != "sqlite":
            pytest.skip("PostgreSQL's json type refuses text that isn't JSON")
        poison = record_event(server, tenant.id, {"job": {"n": 1}})
        after = record_event(server, tenant.id, {"job": {"n": 2}})
        break_event_text(sessions, poison)
        _resp, page = feed(tenant)
        assert [e["id"] for e in page["events"]] == ["evt_" + i.hex for i in (poison, after)]
        assert page["events"][0]["error"]["code"] == "EVENT_UNRENDERABLE"
        assert page["events"][1]["data"]["job"] == {"n": 2}


# ---------------------------------------------------------------- the worker


@pytest.fixture
def receivers() -> Iterator[tuple[WebhookReceiver, WebhookReceiver]]:
    with WebhookReceiver() as poisoned, WebhookReceiver() as healthy:
        yield poisoned, healthy


def register(tenant: TenantHandle, url: str, events: list[str]) -> uuid.UUID:
    data = ok(tenant.client.post("/api-webhooks", json={"url": url, "events": events}), 201)
    return uuid.UUID(data["webhook"]["id"])


@pytest.mark.parametrize("poison_kind", ["too_deep", "not_json"])
def test_an_unrenderable_delivery_fails_alone_while_another_tenants_300_events_all_arrive(
    poison_kind: str,
    tenant: TenantHandle,
    other_tenant: TenantHandle,
    server: LiveServer,
    settings: Settings,
    sessions: sessionmaker[Session],
    receivers: tuple[WebhookReceiver, WebhookReceiver],
    db_kind: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    if poison_kind == "not_json" and db_kind != "sqlite":
        pytest.skip("PostgreSQL's json type refuses text that isn't JSON")
    poisoned_rx, healthy_rx = receivers
    poisoned_hook = register(tenant, poisoned_rx.url, ["job.*"])
    healthy_hook = register(other_tenant, healthy_rx.url, ["job.created"])
    poison = record_event(server, tenant.id, {"job": deep() if poison_kind == "too_deep" else {}})
    if poison_kind == "not_json":
        break_event_text(sessions, poison)
    huge = record_event(server, tenant.id, {"job": {"n": BIG}})
    fine = record_event(server, tenant.id, {"job": {"n": 3}})
    items = [
        {"external_id": f"E-{i}", "external_source": "ERP", "job_number": f"J-{i}"}
        for i in range(300)
    ]
    bulk = ok(other_tenant.client.post("/api-jobs/bulk-sync", json={"items": items}))
    assert bulk["created"] == 300
    with sessions.begin() as session:  # the poisoned endpoint is the one claimed first
        session.execute(update(Webhook).where(Webhook.id == poisoned_hook).values(lease_until=None))
        session.execute(
            update(Webhook)
            .where(Webhook.id == healthy_hook)
            .values(lease_until=SystemClock().now() - timedelta(hours=1))
        )

    # The first retry an hour away: however slowly a loaded machine delivers the other tenant's
    # 300 events, the poisoned delivery is attempted exactly once within this test.
    services = build_services(settings.model_copy(update={"webhook_retry_delays": "3600"}))
    runner = WorkerRunner(
        services, threads={"webhooks.delivery": 1}, worker_id=f"poison-{uuid.uuid4().hex[:6]}"
    )
    with caplog.at_level(logging.ERROR, logger="floorsync.webhooks.worker"):
        runner.start()
        try:
            wanted = {"evt_" + e.id.hex for e in _events(sessions, other_tenant.id, "job.created")}
            assert len(wanted) == 300
            healthy_rx.wait_for_ids(wanted, timeout=30)
            poisoned_rx.wait_for_ids({"evt_" + huge.hex, "evt_" + fine.hex}, timeout=10)
            deadline = time.monotonic() + 10
            while _attempts(sessions, poisoned_hook, poison) == [] and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            runner.stop()
            bind = services.sessions.kw.get("bind")
            if bind is not None:
                bind.dispose()

    huge_body = next(r for r in poisoned_rx.requests if r.webhook_id == "evt_" + huge.hex).body
    assert f'"n":{BIG_TEXT}'.encode() in huge_body
    (sent,) = _attempts(sessions, poisoned_hook, huge)
    shown = tenant.client.get("/api-webhook-logs", params={"id": str(sent.id)})
    assert shown.status_code == 200
    assert b'"payload":' + huge_body in shown.content  # the body exactly as it was sent
    assert "evt_" + poison.hex not in {r.webhook_id for r in poisoned_rx.requests}
    (attempt,) = _attempts(sessions, poisoned_hook, poison)
    assert (attempt.outcome.value, attempt.success, attempt.status_code) == (
        "render_error",
        False,
        None,
    )
    assert attempt.error_message is not None
    assert "could not be rendered" in attempt.error_message
    logged = ok(tenant.client.get("/api-webhook-logs", params={"id": str(attempt.id)}))
    assert (logged["webhook_log"]["outcome"], logged["webhook_log"]["payload"]) == (
        "render_error",
        None,
    )
    with sessions() as session:
        delivery = session.scalars(
            select(WebhookDelivery).where(
                WebhookDelivery.webhook_id == poisoned_hook, WebhookDelivery.event_id == poison
            )
        ).one()
        hook = session.get(Webhook, poisoned_hook)
    assert (delivery.status.value, delivery.attempts) == ("pending", 1)
    assert delivery.next_attempt_at > delivery.first_attempt_due_at  # retried per schedule
    assert hook is not None
    assert (hook.lease_owner, hook.consecutive_failures) == (None, 0)  # not the receiver's fault
    assert any(
        "evt_" + poison.hex in r.getMessage() and str(poisoned_hook) in r.getMessage()
        for r in caplog.records
    )


def _events(sessions: sessionmaker[Session], tenant_id: uuid.UUID, type_: str) -> list[Event]:
    with sessions() as session:
        return list(
            session.scalars(
                select(Event)
                .where(Event.tenant_id == tenant_id, Event.type == type_)
                .order_by(Event.seq)
            )
        )


def _attempts(
    sessions: sessionmaker[Session], webhook_id: uuid.UUID, event_id: uuid.UUID
) -> list[WebhookLog]:
    with sessions() as session:
        return list(
            session.scalars(
                select(WebhookLog).where(
                    WebhookLog.webhook_id == webhook_id, WebhookLog.event_id == event_id
                )
            )
        )
