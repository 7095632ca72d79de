"""Compare-and-set, deterministically: a transaction that read a status before another one
committed a transition loses, with a message based on the status the winner left."""

import uuid

import pytest
from sqlalchemy.orm import Session, sessionmaker

from floorsync.db.repository import TenantRepository, TenantScope
from floorsync.db.uow import unit_of_work
from floorsync.errors import InvalidStateTransition
from floorsync.events.outbox import Outbox
from floorsync.kit.clock import SystemClock
from floorsync.lifecycle.rollup import compare_and_set
from floorsync.lifecycle.rules import JOB_ACTIONS, OPERATION_ACTIONS
from floorsync.lifecycle.service import run_job_action, run_operation_action
from floorsync.models.master import Job, Operation
from tests.shopfloor.helpers import make_job, ok
from tests.support.tenants import TenantHandle

SKIP_SQLITE = "SQLite takes the write lock at BEGIN (BEGIN IMMEDIATE): a second writer cannot even read until the first commits"


@pytest.fixture
def outbox() -> Outbox:
    return Outbox(SystemClock())


def test_a_stale_operation_start_loses_to_a_committed_one(
    tenant: TenantHandle, sessions: sessionmaker[Session], outbox: Outbox, db_kind: str
) -> None:
    if db_kind != "postgresql":
        pytest.skip(SKIP_SQLITE)
    op_id = uuid.UUID(make_job(tenant.client, ops=1).ops[0])
    scope = TenantScope(tenant.id)
    with unit_of_work(sessions, outbox, scope) as slow:
        stale = TenantRepository(slow.session, scope, Operation).get(op_id)
        assert stale is not None
        assert stale.status == "not_started"
        with unit_of_work(sessions, outbox, scope) as fast:
            run_operation_action(fast, op_id, "start", None)
        with pytest.raises(InvalidStateTransition) as lost:
            compare_and_set(
                slow, Operation, stale, "operation", OPERATION_ACTIONS["start"], lambda _row: {}
            )
    assert (
        str(lost.value)
        == "Cannot start operation with status 'in_progress'. Operation must be 'not_started' or 'on_hold'."
    )
    assert (
        ok(tenant.client.get("/api-operations", params={"id": str(op_id)}))["operation"]["status"]
        == "in_progress"
    )


def test_a_stale_job_pause_after_a_committed_complete_is_refused(
    tenant: TenantHandle, sessions: sessionmaker[Session], outbox: Outbox, db_kind: str
) -> None:
    if db_kind != "postgresql":
        pytest.skip(SKIP_SQLITE)
    job_id = uuid.UUID(make_job(tenant.client, ops=1).job)
    ok(tenant.client.post("/api-job-lifecycle/start", params={"id": str(job_id)}))
    scope = TenantScope(tenant.id)
    with unit_of_work(sessions, outbox, scope) as slow:
        stale = TenantRepository(slow.session, scope, Job).get(job_id)
        assert stale is not None
        with unit_of_work(sessions, outbox, scope) as fast:
            run_job_action(fast, job_id, "complete")
        with pytest.raises(InvalidStateTransition) as lost:
            compare_and_set(slow, Job, stale, "job", JOB_ACTIONS["pause"], lambda _row: {})
    assert str(lost.value) == "Cannot pause job with status 'completed'. Job must be 'in_progress'."
