"""The last upsert of a bulk sync runs on a helper thread while its events are rendered
(db/write_behind.py, sync/engine.py `_write_level(defer=True)`): the same rows, events and
reports as written inline, errors and lost races handled as inline, and the connection never
used by two threads at once."""

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from floorsync.auth.tenants import create_tenant
from floorsync.bootstrap import Services, build_services
from floorsync.config import Settings
from floorsync.db import write_behind
from floorsync.db.repository import TenantScope, scoped
from floorsync.db.uow import unit_of_work
from floorsync.db.upsert import stage_upsert
from floorsync.entities.registry import BY_NAME
from floorsync.events.outbox import Origin
from floorsync.models.enums import SyncTrigger
from floorsync.models.events import Event
from floorsync.models.master import Job
from floorsync.sync import engine
from floorsync.sync.options import SyncOptions
from floorsync.sync.service import SyncOutcome, run_sync

JOBS = BY_NAME["jobs"]
N = 2 * engine.DEFER_MIN_ROWS + 2  # enough for a deferred write of the updated half too


@pytest.fixture(scope="module")
def services(settings: Settings) -> Iterator[Services]:
    built = build_services(settings)
    yield built
    built.close()


def new_scope(services: Services) -> TenantScope:
    with services.sessions.begin() as session:
        tenant = create_tenant(session, f"wb-{uuid.uuid4().hex[:8]}", services.clock.now())
        return TenantScope(tenant.id)


def job(n: int, version: int = 0) -> dict[str, Any]:
    return {
        "external_id": f"SO-{n:04d}",
        "external_source": "SAP",
        "job_number": f"J-{n:04d}",
        "customer": f"Customer {n} v{version}",
        "metadata": {"n": n, "version": version},
    }


def sync(services: Services, scope: TenantScope, items: list[Any]) -> SyncOutcome:
    return run_sync(
        lambda: unit_of_work(services.sessions, services.outbox, scope, origin=Origin("sync")),
        [(JOBS, items)],
        SyncOptions(),
        trigger=SyncTrigger.bulk_sync,
    )


def stored_events(sessions: sessionmaker[Session], scope: TenantScope) -> list[Any]:
    """The job events of the tenant (not the history's `sync.*` ones), in sequence order."""
    with sessions() as session:
        stmt = (
            select(Event)
            .where(Event.tenant_id == scope.tenant_id, Event.type.startswith("job."))
            .order_by(Event.seq)
        )
        return list(session.scalars(stmt))


def actions(outcome: SyncOutcome) -> list[str]:
    return [r.action for r in outcome.reports[0].results]


def comparable(events: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    """Event type and data without what differs between two tenants (ids, times, origin)."""
    out = []
    for ev in events:
        data = {k: v for k, v in ev.data.items() if k != "origin"}
        record = {
            k: v
            for k, v in data["job"].items()
            if k not in ("id", "created_at", "updated_at", "synced_at")
        }
        out.append((ev.type, {**data, "job": record}))
    return out


def test_deferred_and_inline_writes_store_the_same_rows_and_events(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: dict[str, tuple[list[str], list[str], list[Any]]] = {}
    started: list[Any] = []
    real_start = write_behind.start

    def spy(*args: Any) -> Any:
        started.append(args)
        return real_start(*args)

    monkeypatch.setattr(write_behind, "start", spy)
    for name, threshold in (("deferred", engine.DEFER_MIN_ROWS), ("inline", 10**9)):
        monkeypatch.setattr(engine, "DEFER_MIN_ROWS", threshold)
        started.clear()
        scope = new_scope(services)
        created = sync(services, scope, [job(n) for n in range(N)])
        # Half of them changed, half unchanged: updates go through the deferred write too.
        resent = sync(services, scope, [job(n, version=n % 2) for n in range(N)])
        assert len(started) == (2 if name == "deferred" else 0)
        runs[name] = (
            actions(created),
            actions(resent),
            comparable(stored_events(services.sessions, scope)),
        )
    assert runs["deferred"] == runs["inline"]
    first, second, events = runs["deferred"]
    assert first == ["created"] * N
    assert second == ["skipped" if n % 2 == 0 else "updated" for n in range(N)]
    assert len(events) == N + N // 2


def test_a_lost_race_in_the_deferred_write_is_planned_again_and_drops_its_events(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    scope = new_scope(services)
    real = stage_upsert
    calls = {"n": 0}

    def racing(*args: Any, **kwargs: Any) -> Callable[[], Any]:
        write = real(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] > 1:
            return write

        def lost() -> Any:
            write()  # written, then refused by a unique index, as a concurrent writer would
            raise IntegrityError("INSERT", None, Exception("duplicate key"))

        return lost

    monkeypatch.setattr(engine, "stage_upsert", racing)
    outcome = sync(services, scope, [job(n) for n in range(N)])
    assert calls["n"] == 2  # the chunk was planned and written again
    assert actions(outcome) == ["created"] * N
    events = stored_events(services.sessions, scope)
    assert [e.type for e in events] == ["job.created"] * N  # none from the failed attempt
    with services.sessions() as session:
        assert len(list(session.scalars(scoped(Job, TenantScope(scope.tenant_id))))) == N


def test_a_record_a_concurrent_sync_already_stored_is_skipped_without_its_event(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    scope = new_scope(services)
    sync(services, scope, [job(n) for n in range(N)])
    real = stage_upsert

    def concurrent_same_hash(*args: Any, **kwargs: Any) -> Callable[[], Any]:
        write = real(*args, **kwargs)
        # As if another sync had stored SO-0003's new hash first: the statement skips it.
        return lambda: [w for w in write() if w[2] != "SO-0003"]

    monkeypatch.setattr(engine, "stage_upsert", concurrent_same_hash)
    outcome = sync(services, scope, [job(n, version=1) for n in range(N)])
    assert actions(outcome) == ["skipped" if n == 3 else "updated" for n in range(N)]
    updated = [e for e in stored_events(services.sessions, scope) if e.type == "job.updated"]
    assert sorted(e.data["job"]["external_id"] for e in updated) == [
        f"SO-{n:04d}" for n in range(N) if n != 3
    ]


def test_a_database_error_of_the_deferred_write_redoes_the_chunk_record_by_record(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    scope = new_scope(services)
    real = stage_upsert
    calls = {"n": 0}

    def refused(*args: Any, **kwargs: Any) -> Callable[[], Any]:
        write = real(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] > 1:
            return write

        def fails() -> Any:
            write()
            raise DataError("INSERT", None, Exception("value too long"))

        return fails

    monkeypatch.setattr(engine, "stage_upsert", refused)
    outcome = sync(services, scope, [job(n) for n in range(N)])
    assert calls["n"] == 1 + N  # then one savepoint per record, written inline
    assert actions(outcome) == ["created"] * N
    events = stored_events(services.sessions, scope)
    assert sorted(e.data["job"]["external_id"] for e in events) == [f"SO-{n:04d}" for n in range(N)]


def test_the_connection_waits_for_the_write_in_flight(services: Services) -> None:
    order: list[str] = []
    with services.sessions() as session:
        session.execute(text("SELECT 1"))

        def slow() -> str:
            time.sleep(0.2)
            order.append("write")
            return "done"

        flight = write_behind.start(session, slow)
        session.execute(text("SELECT 1"))  # a query from the owner waits for the write
        order.append("query")
        assert flight.result() == "done"
        session.rollback()
    assert order == ["write", "query"]


def test_the_error_of_a_write_is_raised_by_result_once_joined(services: Services) -> None:
    with services.sessions() as session:
        session.execute(text("SELECT 1"))
        started = threading.Event()

        def failing() -> None:
            started.set()
            raise ValueError("refused")

        flight = write_behind.start(session, failing)
        started.wait(5)
        session.execute(text("SELECT 1"))  # the guard joins without raising
        with pytest.raises(ValueError, match="refused"):
            flight.result()
        session.rollback()


def test_parts_whose_events_read_their_job_store_the_same_events_deferred_or_inline(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A part's event embeds its job, read from the database while the parts' upsert is in
    flight (the connection waits for it): the same events either way, job included."""
    parts = BY_NAME["parts"]
    runs: dict[str, list[Any]] = {}
    for name, threshold in (("deferred", engine.DEFER_MIN_ROWS), ("inline", 10**9)):
        monkeypatch.setattr(engine, "DEFER_MIN_ROWS", threshold)
        scope = new_scope(services)
        sync(services, scope, [job(1)])
        items = [
            {
                "external_id": f"SO-0001-{n:03d}",
                "external_source": "SAP",
                "job_external_id": "SO-0001",
                "part_number": f"P-{n:03d}",
                "quantity": n + 1,
            }
            for n in range(N)
        ]
        outcome = run_sync(
            partial(unit_of_work, services.sessions, services.outbox, scope, origin=Origin("sync")),
            [(parts, items)],
            SyncOptions(),
            trigger=SyncTrigger.bulk_sync,
        )
        assert actions(outcome) == ["created"] * N
        with services.sessions() as session:
            stmt = (
                select(Event)
                .where(Event.tenant_id == scope.tenant_id, Event.type == "part.created")
                .order_by(Event.seq)
            )
            runs[name] = [
                (
                    {
                        k: v
                        for k, v in ev.data["part"].items()
                        if k not in ("job", "sync_hash") and not k.endswith(("id", "_at"))
                    },
                    ev.data["part"]["job"]["job_number"],
                )
                for ev in session.scalars(stmt)
            ]
    assert runs["deferred"] == runs["inline"]
    assert len(runs["deferred"]) == N
    assert {job_number for _part, job_number in runs["deferred"]} == {"J-0001"}
