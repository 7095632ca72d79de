"""Retention of CSV imports (CSV import §11.1), the worker's periodic task
`csv_import.retention`, on SQLite and PostgreSQL: uploaded bytes cleared after 7 days (the
failed-rows download then says so), finished imports deleted after 90 days with their files
and issues, imports never started deleted after 24 hours; queued, running and recent imports
untouched; the sync history stays."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update

from floorsync.bootstrap import Services, build_services
from floorsync.config import Settings
from floorsync.csv_import import service
from floorsync.csv_import.retention import purge_imports
from floorsync.csv_import.tasks import RETENTION
from floorsync.errors import NotFound
from floorsync.models.bookkeeping import SyncRun
from floorsync.models.enums import CsvImportStatus, ImportPhase
from floorsync.models.imports import CsvImport, CsvImportFile, CsvImportIssue
from floorsync.worker.registry import PERIODIC_TASKS
from tests.csv_import.service_helpers import count, import_files, new_scope, upload

BAD = "job_number;priority\nR-1;1\nR-2;high\n"


def age(services: Services, import_id: uuid.UUID, **delta: float) -> None:
    then = services.clock.now() - timedelta(**delta)
    with services.sessions.begin() as session:
        session.execute(update(CsvImport).where(CsvImport.id == import_id).values(updated_at=then))


def age_finished(services: Services, import_id: uuid.UUID, **delta: float) -> None:
    then = services.clock.now() - timedelta(**delta)
    with services.sessions.begin() as session:
        session.execute(
            update(CsvImport)
            .where(CsvImport.id == import_id)
            .values(updated_at=then, finished_at=then)
        )


def content_of(services: Services, import_id: uuid.UUID) -> list[bytes | None]:
    with services.sessions() as session:
        return [
            f.content
            for f in session.query(CsvImportFile).filter(CsvImportFile.import_id == import_id)
        ]


def test_the_retention_task_is_a_periodic_task_of_the_worker() -> None:
    assert RETENTION in PERIODIC_TASKS
    assert RETENTION.name == "csv_import.retention"


def test_the_three_rules(services: Services) -> None:
    scope = new_scope(services)
    week_old = import_files(services, scope, {"orders.csv": BAD})
    fresh = import_files(services, scope, {"orders.csv": BAD.replace("R-", "F-")})
    ancient = import_files(services, scope, {"orders.csv": BAD.replace("R-", "A-")})
    unstarted = upload(services, scope, {"orders.csv": "job_number\nU-1\n"})
    young_unstarted = upload(services, scope, {"orders.csv": "job_number\nY-1\n"})
    queued = upload(services, scope, {"orders.csv": "job_number\nQ-1\n"})
    service.confirm_mapping(services, scope, queued)
    service.request(services, scope, queued, ImportPhase.import_, background=False)
    age_finished(services, week_old.id, days=8)
    age_finished(services, ancient.id, days=91)
    age(services, unstarted, hours=25)
    age(services, queued, days=200)  # queued: never purged, however old

    assert service.failed_rows(services, scope, week_old.id) is not None
    changed = purge_imports(services)
    assert changed >= 3

    assert content_of(services, week_old.id) == [None]
    with pytest.raises(NotFound, match="cleared after 7 days"):
        service.failed_rows(services, scope, week_old.id)
    assert service.error_report(services, scope, week_old.id).count(b"TYPE_INTEGER") == 1
    assert content_of(services, fresh.id) != [None]
    assert service.failed_rows(services, scope, fresh.id) is not None

    assert count(services, scope, CsvImport, id=ancient.id) == 0
    assert count(services, scope, CsvImportFile, import_id=ancient.id) == 0
    assert count(services, scope, CsvImportIssue, import_id=ancient.id) == 0
    assert count(services, scope, SyncRun, csv_import_id=ancient.id) == 1  # history stays

    assert count(services, scope, CsvImport, id=unstarted) == 0
    assert count(services, scope, CsvImport, id=young_unstarted) == 1
    with services.sessions() as session:
        still = session.get(CsvImport, queued)
        assert still is not None
        assert still.status is CsvImportStatus.queued

    assert purge_imports(services) == 0  # nothing left to do


def test_the_periods_are_settings(settings: Settings) -> None:
    built = build_services(settings.model_copy(update={"import_file_retention_days": 1}))
    try:
        scope = new_scope(built)
        imp = import_files(built, scope, {"orders.csv": BAD.replace("R-", "S-")})
        age_finished(built, imp.id, days=2)
        purge_imports(built)
        assert content_of(built, imp.id) == [None]
    finally:
        built.close()
