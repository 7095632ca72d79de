"""The whole-unit retry (db.transient): a unit of work the database rolled back for a lock
conflict runs again from the start, a bounded number of times, and leaves exactly one copy of
its rows and events; when the runs are used up, the error propagates and nothing was written."""

import logging
import threading
import uuid
from typing import Any

import psycopg
import pytest
from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from floorsync.db.repository import TenantScope, scoped, tenant_filter
from floorsync.db.transient import ATTEMPTS, retry_lock_conflicts
from floorsync.db.uow import unit_of_work
from floorsync.entities import service as entity_service
from floorsync.entities.cells import CELLS
from floorsync.events.outbox import Outbox
from floorsync.kit.clock import SystemClock
from floorsync.models.events import Event
from floorsync.models.master import Cell
from tests.support.tenants import TenantHandle


def aborted(exc: psycopg.Error) -> OperationalError:
    """What SQLAlchemy raises when PostgreSQL aborts a statement with this error."""
    return OperationalError("UPDATE cells …", None, exc)


def counts(sessions: sessionmaker[Session], tenant_id: uuid.UUID, name: str) -> tuple[int, int]:
    """(cells named `name`, events about them)."""
    scope = TenantScope(tenant_id)
    with sessions() as session:
        ids = list(
            session.scalars(scoped(Cell, scope).with_only_columns(Cell.id).where(Cell.name == name))
        )
        events = session.scalar(
            scoped(Event, scope).with_only_columns(func.count()).where(Event.entity_id.in_(ids))
        )
    return len(ids), int(events or 0)


def no_sleep(_seconds: float) -> None:
    pass


class TestRetryRunner:
    @pytest.mark.parametrize(
        "error",
        [
            psycopg.errors.DeadlockDetected("deadlock detected"),
            psycopg.errors.SerializationFailure("could not serialize access"),
            psycopg.errors.LockNotAvailable("canceling statement due to lock timeout"),
        ],
        ids=["deadlock", "serialization-failure", "lock-timeout"],
    )
    def test_a_unit_rolled_back_for_a_lock_conflict_runs_again_and_writes_once(
        self,
        tenant: TenantHandle,
        sessions: sessionmaker[Session],
        error: psycopg.Error,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        name = f"cell-{uuid.uuid4().hex[:8]}"
        runs: list[int] = []

        def attempt() -> str:
            with unit_of_work(sessions, Outbox(SystemClock()), TenantScope(tenant.id)) as work:
                entity_service.create(work, CELLS, {"name": name})  # a row and its event
                work.session.flush()
                runs.append(1)
                if len(runs) == 1:
                    raise aborted(error)  # the database aborts the first run after it wrote
                return "done"

        with caplog.at_level(logging.INFO, logger="floorsync.db"):
            assert retry_lock_conflicts(attempt, sleep=no_sleep) == "done"
        assert len(runs) == 2
        assert counts(sessions, tenant.id, name) == (1, 1)
        assert len([r for r in caplog.records if "rolled back by the database" in r.message]) == 1

    def test_when_every_run_hits_a_conflict_the_last_error_propagates_and_nothing_is_written(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        name = f"cell-{uuid.uuid4().hex[:8]}"
        runs: list[int] = []
        slept: list[float] = []

        def attempt() -> None:
            with unit_of_work(sessions, Outbox(SystemClock()), TenantScope(tenant.id)) as work:
                entity_service.create(work, CELLS, {"name": name})
                work.session.flush()
                runs.append(1)
                raise aborted(psycopg.errors.DeadlockDetected("deadlock detected"))

        with pytest.raises(OperationalError) as raised:
            retry_lock_conflicts(attempt, sleep=slept.append)
        assert raised.value.orig is not None
        assert getattr(raised.value.orig, "sqlstate", None) == "40P01"
        assert len(runs) == ATTEMPTS
        assert counts(sessions, tenant.id, name) == (0, 0)
        # Back-off grows between runs and is jittered within [½, 1] of its step.
        assert len(slept) == ATTEMPTS - 1
        assert all(0.025 * 2**i <= s <= 0.05 * 2**i for i, s in enumerate(slept))

    @pytest.mark.parametrize(
        "error",
        [
            IntegrityError("INSERT …", None, psycopg.errors.UniqueViolation("duplicate key")),
            aborted(psycopg.errors.QueryCanceled("canceling statement due to statement timeout")),
            ValueError("a bug"),
        ],
        ids=["integrity", "statement-timeout", "bug"],
    )
    def test_other_failures_are_not_run_again(self, error: Exception) -> None:
        runs: list[int] = []

        def attempt() -> None:
            runs.append(1)
            raise error

        with pytest.raises(type(error)):
            retry_lock_conflicts(attempt, sleep=no_sleep)
        assert runs == [1]


class TestRealDeadlock:
    def test_two_units_locking_two_rows_in_opposite_orders_both_commit_once(
        self,
        db_kind: str,
        tenant: TenantHandle,
        sessions: sessionmaker[Session],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        if db_kind != "postgresql":
            pytest.skip("SQLite has one writer at a time: two units cannot deadlock")
        scope = TenantScope(tenant.id)
        outbox = Outbox(SystemClock())
        names = [f"a-{uuid.uuid4().hex[:8]}", f"b-{uuid.uuid4().hex[:8]}"]
        with unit_of_work(sessions, outbox, scope) as work:
            ids = [entity_service.create(work, CELLS, {"name": n}).id for n in names]
        both_hold_one = threading.Barrier(2, timeout=10)
        runs: dict[str, int] = {"forward": 0, "backward": 0}
        errors: list[BaseException] = []

        def touch(work: Any, cell_id: uuid.UUID, note: str) -> None:
            work.session.execute(
                update(Cell)
                .where(tenant_filter(Cell, scope), Cell.id == cell_id)
                .values(description=note)
            )

        def unit(label: str, order: list[uuid.UUID]) -> None:
            def attempt() -> None:
                runs[label] += 1
                with unit_of_work(sessions, outbox, scope) as work:
                    touch(work, order[0], label)
                    if runs[label] == 1:
                        both_hold_one.wait()  # each holds one row and asks for the other
                    touch(work, order[1], label)
                    work.record("cell.updated", "cell", order[1], {"cell": {"id": str(order[1])}})

            try:
                retry_lock_conflicts(attempt)
            except BaseException as exc:
                errors.append(exc)

        with caplog.at_level(logging.INFO, logger="floorsync.db"):
            threads = [
                threading.Thread(target=unit, args=("forward", ids)),
                threading.Thread(target=unit, args=("backward", ids[::-1])),
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
        assert errors == []
        assert sorted(runs.values()) == [1, 2]  # the deadlock's victim ran again, once
        retried = [r for r in caplog.records if "rolled back by the database" in r.message]
        assert len(retried) == 1
        assert "40P01" in retried[0].getMessage()
        with sessions() as session:
            events = session.scalars(
                scoped(Event, scope)
                .with_only_columns(Event.type)
                .where(Event.entity_id.in_(ids), Event.type == "cell.updated")
            ).all()
        assert len(events) == 2  # one per unit: the rolled-back run's event was never written
