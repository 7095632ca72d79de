"""Batch start and stop are set-based (house style: no per-record round trips): the number of
SQL statements does not grow with the number of operations, parts or jobs in the batch."""

import uuid
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from floorsync.db.repository import TenantScope
from floorsync.db.uow import unit_of_work
from floorsync.events.outbox import Outbox
from floorsync.kit.clock import FakeClock, SystemClock
from floorsync.lifecycle.batches import start_batch, stop_batch
from floorsync.lifecycle.service import OperatorInput
from tests.shopfloor.helpers import make_batch, make_job, ok
from tests.support.sql import counted
from tests.support.tenants import TenantHandle


def _counts(tenant: TenantHandle, sessions: sessionmaker[Session], n: int) -> tuple[int, int, int]:
    """Start and stop a batch of `n` operations over the parts of two jobs (one operation
    already has an open entry of the operator); returns (start, stop) statements and parts."""
    c = tenant.client
    per_part = 2 if n < 6 else 3
    first = make_job(c, parts=(n - per_part) // per_part or 1, ops=per_part)
    second = make_job(c, parts=1, ops=n - len(first.ops))
    ops = first.ops + second.ops
    ok(c.post("/api-time-entries", json={"operation_id": ops[-1], "operator_id": "OP"}), 201)
    batch = uuid.UUID(make_batch(c, ops)["id"])
    parts = len(first.parts) + len(second.parts)
    scope = TenantScope(tenant.id)
    with unit_of_work(sessions, Outbox(SystemClock()), scope) as work:
        with counted(sessions) as started:
            out = start_batch(work, batch, OperatorInput("OP"))
        assert (out.operations_moved, len(out.entries_created)) == (n, n - 1)
        assert [r.entity_type for r in out.rolled_up] == ["part", "job"] + ["part"] * (
            parts - 2
        ) + ["part", "job"]
    later = FakeClock(
        SystemClock().now() + timedelta(minutes=90)
    )  # the entries get shares to add up
    with unit_of_work(sessions, Outbox(later), scope) as work:
        with counted(sessions) as stopped:
            out = stop_batch(work, batch, OperatorInput("BOSS"))
        assert (out.operations_moved, len(out.entries_ended), out.total_minutes) == (n, n, 90)
        assert [r.entity_type for r in out.rolled_up].count("job") == 2
        assert len([e for e in work.events if e.entity_type != "operator"]) == 1 + n + parts + 2 + n
    return len(started), len(stopped), parts


def test_start_and_stop_issue_the_same_number_of_statements_for_3_and_30_operations(
    tenant: TenantHandle, sessions: sessionmaker[Session]
) -> None:
    ok(
        tenant.client.post("/api-operators", json={"operator_id": "BOSS"}), 201
    )  # registering BOSS isn't counted
    small, large = _counts(tenant, sessions, 3), _counts(tenant, sessions, 30)
    assert (small[2], large[2]) == (2, 10)
    assert small[:2] == large[:2], (small, large)
    # 20 and 28 on SQLite (one more than PostgreSQL: BEGIN IMMEDIATE); every operation used to
    # take its own round trips. The stop's 28th is the one SELECT of the batch's open monitor
    # exceptions (api-catalogue-completion §11), whatever the number of operations.
    assert small[0] <= 20
    assert small[1] <= 28
