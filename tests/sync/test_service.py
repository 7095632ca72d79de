"""The sync application service with no transport (sync/service.py): what the CSV importer and
the planning pull will call. Dry runs, atomic roll-back, history and the caller's
`before_commit` behave as they do behind the HTTP endpoints, on SQLite and PostgreSQL."""

import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from floorsync.auth.tenants import create_tenant
from floorsync.bootstrap import Services, build_services
from floorsync.config import Settings
from floorsync.db.repository import TenantScope, scoped
from floorsync.db.uow import Work, unit_of_work
from floorsync.entities.registry import BY_NAME
from floorsync.errors import BadRequest
from floorsync.events.outbox import Origin
from floorsync.models.bookkeeping import SyncRun
from floorsync.models.enums import RunStatus, SyncTrigger
from floorsync.models.events import Event
from floorsync.models.master import Cell, Job, Operation, Part
from floorsync.sync.options import SyncOptions
from floorsync.sync.service import MAX_ITEMS, SyncOutcome, run_sync

JOBS, CELLS = BY_NAME["jobs"], BY_NAME["cells"]


@pytest.fixture(scope="module")
def services(settings: Settings) -> Iterator[Services]:
    built = build_services(settings)
    yield built
    built.close()


@pytest.fixture
def scope(services: Services) -> TenantScope:
    with services.sessions.begin() as session:
        tenant = create_tenant(session, f"svc-{uuid.uuid4().hex[:8]}", services.clock.now())
        return TenantScope(tenant.id)


def opener(services: Services, scope: TenantScope) -> Any:
    def open_work() -> AbstractContextManager[Work]:
        return unit_of_work(
            services.sessions, services.outbox, scope, origin=Origin(channel="csv_import")
        )

    return open_work


def job(n: int, *, bad: bool = False, cell: str | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {"external_id": f"SO-{n}-10-1", "operation_name": "Cut"}
    if cell is not None:
        operation["cell_name"] = cell
    return {
        "external_id": f"SO-{n}",
        "external_source": "CSV",
        "job_number": f"J-{n}",
        "priority": -1 if bad else 1,
        "parts": [
            {
                "external_id": f"SO-{n}-10",
                "part_number": f"P-{n}",
                "quantity": 2,
                "operations": [operation],
            }
        ],
    }


def count(sessions: sessionmaker[Session], scope: TenantScope, model: Any) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(scoped(model, scope).subquery())))


def run(
    services: Services,
    scope: TenantScope,
    sections: list[tuple[Any, list[Any]]],
    options: SyncOptions,
    **kw: Any,
) -> SyncOutcome:
    return run_sync(opener(services, scope), sections, options, trigger=SyncTrigger.erp_sync, **kw)


class TestRunSyncWithoutTransport:
    def test_a_multi_entity_run_commits_rows_events_and_history_together(
        self, services: Services, scope: TenantScope
    ) -> None:
        cells = [{"external_id": "C-1", "external_source": "CSV", "name": "Laser"}]
        outcome = run(
            services,
            scope,
            [(CELLS, cells), (JOBS, [job(1, cell="Laser"), job(2, cell="Laser")])],
            SyncOptions(),
        )
        assert (outcome.committed, outcome.dry_run, outcome.rolled_back) == (True, False, False)
        assert [r.entity for r in outcome.reports] == ["cells", "jobs"]
        assert [r.action for r in outcome.reports[1].results] == ["created", "created"]
        assert outcome.group_id is not None
        sessions = services.sessions
        assert [count(sessions, scope, m) for m in (Cell, Job, Part, Operation)] == [1, 2, 2, 2]
        with sessions() as s:
            runs = s.scalars(scoped(SyncRun, scope)).all()
            events = s.scalars(scoped(Event, scope)).all()
        assert {r.group_id for r in runs} == {outcome.group_id}
        assert sorted(r.entity_type.value for r in runs) == ["cells", "jobs"]
        # one event per written record, plus the sync summaries, all with the caller's origin
        assert sum(e.type.endswith(".created") for e in events) == 7
        assert {e.data["origin"]["channel"] for e in events} == {"csv_import"}

    def test_a_second_identical_run_writes_nothing_and_emits_only_summaries_of_nothing(
        self, services: Services, scope: TenantScope
    ) -> None:
        cells = [{"external_id": "C-1", "external_source": "CSV", "name": "Laser"}]
        run(services, scope, [(CELLS, cells), (JOBS, [job(1)])], SyncOptions())
        with services.sessions() as s:
            before = s.scalar(select(func.count()).select_from(scoped(Event, scope).subquery()))
        again = run(services, scope, [(CELLS, cells), (JOBS, [job(1)])], SyncOptions())
        assert [r.action for rep in again.reports for r in rep.results] == ["skipped", "skipped"]
        with services.sessions() as s:
            after = s.scalar(select(func.count()).select_from(scoped(Event, scope).subquery()))
        assert after == before  # a run that wrote nothing emits no sync.* summary either

    def test_a_dry_run_reports_changes_and_leaves_nothing_behind(
        self, services: Services, scope: TenantScope
    ) -> None:
        seen: list[tuple[bool, SyncOutcome]] = []
        outcome = run(
            services,
            scope,
            [(JOBS, [job(1)])],
            SyncOptions(dry_run=True),
            before_commit=lambda work, o: seen.append((work.discarded, o)),
        )
        assert (outcome.committed, outcome.dry_run, outcome.group_id) == (False, True, None)
        assert outcome.reports[0].results[0].action == "created"
        assert seen == [(True, outcome)]  # called in the discarded unit
        assert count(services.sessions, scope, Job) == 0
        assert count(services.sessions, scope, Event) == 0
        assert count(services.sessions, scope, SyncRun) == 0

    def test_an_atomic_run_with_one_bad_record_writes_only_its_failed_history(
        self, services: Services, scope: TenantScope
    ) -> None:
        outcome = run(
            services, scope, [(JOBS, [job(1), job(2, bad=True)])], SyncOptions(atomic=True)
        )
        assert (outcome.committed, outcome.rolled_back) == (False, True)
        assert [r.action for r in outcome.reports[0].results] == ["rolled_back", "error"]
        assert count(services.sessions, scope, Job) == 0
        assert count(services.sessions, scope, Event) == 0
        with services.sessions() as s:
            (history,) = s.scalars(scoped(SyncRun, scope)).all()
        assert (history.group_id, history.status) == (outcome.group_id, RunStatus.failed)

    def test_before_commit_runs_inside_the_runs_transaction(
        self, services: Services, scope: TenantScope
    ) -> None:
        cells = [{"external_id": "C-9", "external_source": "CSV", "name": "Bend"}]
        seen: list[list[str]] = []

        def look_then_fail(work: Work, _outcome: SyncOutcome) -> None:
            seen.append(
                list(work.session.scalars(scoped(Cell, scope).with_only_columns(Cell.name)))
            )
            raise RuntimeError("the caller failed")

        with pytest.raises(RuntimeError):
            run(services, scope, [(CELLS, cells)], SyncOptions(), before_commit=look_then_fail)
        assert seen == [["Bend"]]  # the caller saw the run's rows, uncommitted
        assert count(services.sessions, scope, Cell) == 0  # and its failure undid them
        assert count(services.sessions, scope, Event) == 0

    def test_limits_hold_for_every_caller(self, services: Services, scope: TenantScope) -> None:
        too_many = [{"external_id": f"C-{i}", "name": f"C{i}"} for i in range(MAX_ITEMS + 1)]
        with pytest.raises(BadRequest):
            run(services, scope, [(CELLS, too_many)], SyncOptions())
