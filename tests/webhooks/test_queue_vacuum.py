"""The pending queue's dead index entries (webhooks/queue_vacuum.py): after deliveries succeed,
an endpoint's claim steps over their old entries in the partial queue index until VACUUM
removes them; the periodic task `webhooks.vacuum` runs it once enough rows are dead. On SQLite
indexes are updated in place and the task does nothing."""

import time
import uuid
from typing import Any

from sqlalchemy import text, update
from sqlalchemy.orm import Session, sessionmaker

from floorsync.models.enums import DeliveryStatus
from floorsync.models.webhooks import WebhookDelivery
from floorsync.webhooks import queue_vacuum
from floorsync.worker.registry import PERIODIC_TASKS
from tests.support.tenants import TenantHandle
from tests.webhooks.conftest import register

DELIVERED = 3_000


def queue_scan_buffers(sessions: sessionmaker[Session], webhook_id: uuid.UUID) -> int:
    """Buffers the claim's batch query reads for this endpoint (EXPLAIN ANALYZE)."""
    with sessions() as session:
        plan = session.execute(
            text(
                "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT id FROM webhook_deliveries "
                "WHERE webhook_id = :w AND status = 'pending' AND next_attempt_at <= now() "
                "ORDER BY seq LIMIT 128"
            ),
            {"w": webhook_id},
        ).scalar_one()
        session.rollback()
    top: dict[str, Any] = plan[0]["Plan"]
    return int(top.get("Shared Hit Blocks", 0)) + int(top.get("Shared Read Blocks", 0))


def test_the_vacuum_task_is_built_in() -> None:
    assert "webhooks.vacuum" in [task.name for task in PERIODIC_TASKS]


def test_succeeded_deliveries_stop_costing_the_claim_once_vacuumed(
    db_kind: str, tenant: TenantHandle, sessions: sessionmaker[Session]
) -> None:
    if db_kind != "postgresql":
        assert queue_vacuum.vacuum_queue(sessions) == 0  # SQLite: nothing is left behind
        return
    hook = register(tenant, "http://127.0.0.1:9/vacuumed")
    webhook_id = uuid.UUID(hook["id"])
    for start in range(0, DELIVERED, 1000):
        items = [
            {"external_id": f"VAC-{n}", "external_source": "vac", "job_number": f"VAC-{n}"}
            for n in range(start, start + 1000)
        ]
        resp = tenant.client.post("/api-jobs/bulk-sync", json={"items": items})
        assert resp.status_code == 200, resp.text
    with sessions.begin() as session:  # as if delivered: each leaves a dead queue entry
        done = session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook_id)
            .values(status=DeliveryStatus.succeeded, completed_at=text("now()"))
        ).rowcount
    assert done >= DELIVERED  # the jobs, and each request's run summary
    stepped_over = queue_scan_buffers(sessions, webhook_id)
    deadline = time.monotonic() + 15  # the statistics reach the catalogue within a second or so
    while queue_vacuum.dead_rows(sessions.kw["bind"]) < queue_vacuum.MIN_DEAD_ROWS:
        assert time.monotonic() < deadline, "the dead rows never showed in pg_stat_user_tables"
        time.sleep(0.2)
    assert queue_vacuum.vacuum_queue(sessions) >= DELIVERED * 0.9
    cleaned = queue_scan_buffers(sessions, webhook_id)
    print(
        f"claim's queue scan for an endpoint with nothing pending: {stepped_over} buffers "
        f"with {DELIVERED} dead entries, {cleaned} after the vacuum"
    )
    assert stepped_over >= 10  # 3,000 dead entries: some index pages at least
    # Measured: 84-97 buffers before, 1-6 after (a few emptied pages stay until reused).
    assert cleaned * 5 <= stepped_over
    tenant.client.delete("/api-webhooks", params={"id": hook["id"]})
