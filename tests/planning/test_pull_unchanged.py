"""Unchanged work orders are skipped before the sync engine (issue 13, pull performance): a pull
keeps the digest of every job record the engine took whole (`planning_fingerprints`), and the
next pull sends an order to the engine again only when its record changed, when floorsync's job,
part or an operation of it was edited (its `sync_hash` cleared) or deleted, or when the engine
refused it last time. What is skipped counts as `skipped`, as the engine would count it."""

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import func, update

from floorsync.auth.tenants import create_tenant
from floorsync.bootstrap import Services, build_services
from floorsync.config import Settings
from floorsync.db.repository import TenantScope, scoped
from floorsync.entities.spec import get_spec
from floorsync.kit.clock import FakeClock
from floorsync.models.enums import PlanningTrigger, RunStatus, SyncTrigger
from floorsync.models.master import Job, Operation
from floorsync.models.planning import PlanningFingerprint, PlanningRun
from floorsync.planning.service import pull
from floorsync.sync.options import SyncOptions
from floorsync.sync.service import run_sync
from tests.planning.app_support import add_frepple, deps_of, events, floor
from tests.planning.conftest import FREPPLE_PASSWORD, FREPPLE_USER, SecretWatch
from tests.planning.fakes.frepple import FakeFrepple, seed_orders


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = build_services(settings, FakeClock())
    yield built
    built.close()


@pytest.fixture
def scope(services: Services) -> TenantScope:
    with services.sessions.begin() as s:
        return TenantScope(create_tenant(s, f"fp-{uuid.uuid4().hex[:8]}", services.clock.now()).id)


@pytest.fixture
def frepple(secret_watch: SecretWatch) -> Iterator[FakeFrepple]:
    secret_watch.register(FREPPLE_PASSWORD, FREPPLE_USER)
    fake = FakeFrepple()
    seed_orders(fake.data, 5, steps=3, work_centres=2)
    yield fake
    fake.stop()


def fingerprints(services: Services, scope: TenantScope) -> int:
    with services.sessions() as s:
        stmt = scoped(PlanningFingerprint, scope).with_only_columns(func.count())
        return int(s.scalar(stmt) or 0)


def last_details(services: Services, scope: TenantScope) -> dict[str, object]:
    with services.sessions() as s:
        run = s.scalars(
            scoped(PlanningRun, scope)
            .where(PlanningRun.kind == "pull_work_orders")
            .order_by(PlanningRun.started_at.desc())
        ).first()
        assert run is not None
        return dict(run.details or {})


def test_a_repeated_pull_sends_no_unchanged_order_to_the_engine(
    services: Services, scope: TenantScope, frepple: FakeFrepple
) -> None:
    cid = add_frepple(services, scope, frepple.base_url)
    deps = deps_of(services)
    first = pull(deps, scope, cid, trigger=PlanningTrigger.cli)
    assert first.counts["jobs"]["created"] == 5
    assert fingerprints(services, scope) == 5
    written = events(services, scope)
    services.clock.advance(60)  # type: ignore[attr-defined]

    again = pull(deps, scope, cid, trigger=PlanningTrigger.cli, full=True)

    assert again.status is RunStatus.completed
    assert last_details(services, scope)["unchanged_before_engine"] == 5
    assert again.counts["jobs"]["skipped"] == 5
    assert again.counts["parts"]["skipped"] == 5
    assert again.counts["operations"]["skipped"] == 15
    assert again.counts["jobs"]["created"] == again.counts["jobs"]["updated"] == 0
    assert events(services, scope) == written

    frepple.data.mos["MO-000002"].update(quantity="77.00000000", lastmodified="2026-05-30T11:00:00")
    services.clock.advance(60)  # type: ignore[attr-defined]
    changed = pull(deps, scope, cid, trigger=PlanningTrigger.cli, full=True)

    assert last_details(services, scope)["unchanged_before_engine"] == 4
    assert changed.counts["jobs"]["updated"] == 1
    assert changed.counts["jobs"]["skipped"] == 4
    assert events(services, scope) > written


def test_a_floor_edit_or_deletion_sends_the_order_to_the_engine_again(
    services: Services, scope: TenantScope, frepple: FakeFrepple
) -> None:
    cid = add_frepple(services, scope, frepple.base_url)
    deps = deps_of(services)
    pull(deps, scope, cid, trigger=PlanningTrigger.cli)
    with services.sessions.begin() as s:
        # an edit through the API clears sync_hash (entities.service); a deletion soft-deletes
        s.execute(
            update(Job)
            .where(Job.tenant_id == scope.tenant_id, Job.external_id == "MO-000001")
            .values(priority=99, sync_hash=None)
        )
        s.execute(
            update(Operation)
            .where(Operation.tenant_id == scope.tenant_id, Operation.external_id == "MO-000003-20")
            .values(deleted_at=services.clock.now())
        )
    services.clock.advance(60)  # type: ignore[attr-defined]

    again = pull(deps, scope, cid, trigger=PlanningTrigger.cli, full=True)

    assert last_details(services, scope)["unchanged_before_engine"] == 3
    assert again.counts["jobs"]["updated"] == 1  # the priority is the planning system's again
    assert again.counts["operations"]["updated"] == 1  # revived
    with services.sessions() as s:
        job = s.scalars(scoped(Job, scope).where(Job.external_id == "MO-000001")).one()
        assert job.priority != 99
    assert floor(services, scope, "frepple") == (5, 15, 2)


def test_an_order_the_engine_refused_is_sent_again_until_it_is_taken(
    services: Services, scope: TenantScope, frepple: FakeFrepple
) -> None:
    cid = add_frepple(services, scope, frepple.base_url)
    deps = deps_of(services)
    # a job of another source holds the job number of MO-000004
    run_sync(
        lambda: deps.work(scope),
        [
            (
                get_spec("jobs"),
                [{"external_id": "E-1", "external_source": "erp", "job_number": "MO-000004"}],
            )
        ],
        SyncOptions(),
        trigger=SyncTrigger.bulk_sync,
    )

    first = pull(deps, scope, cid, trigger=PlanningTrigger.cli)

    assert first.status is RunStatus.partial
    assert first.counts["jobs"]["failed"] == 1
    assert fingerprints(services, scope) == 4
    services.clock.advance(60)  # type: ignore[attr-defined]
    again = pull(deps, scope, cid, trigger=PlanningTrigger.cli, full=True)
    assert last_details(services, scope)["unchanged_before_engine"] == 4
    assert again.counts["jobs"]["failed"] == 1  # tried again, refused again

    with services.sessions.begin() as s:  # the clash is resolved on the floor
        s.execute(
            update(Job)
            .where(Job.tenant_id == scope.tenant_id, Job.external_id == "E-1")
            .values(job_number="E-1")
        )
    services.clock.advance(60)  # type: ignore[attr-defined]
    third = pull(deps, scope, cid, trigger=PlanningTrigger.cli, full=True)

    assert third.status is RunStatus.completed
    assert third.counts["jobs"]["created"] == 1
    assert fingerprints(services, scope) == 5
