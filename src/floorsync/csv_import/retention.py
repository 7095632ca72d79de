"""Retention of CSV imports (CSV import §11.1, data model §13), a periodic task of the generic
worker (`csv_import.retention`, csv_import/tasks.py):

* the uploaded bytes of a file (`csv_import_files.content`) are cleared once its import has
  been finished for `FLOORSYNC_IMPORT_FILE_RETENTION_DAYS` (7): the failed-rows download needs
  them until then, and afterwards says the file is gone;
* imports finished (or last touched) more than `FLOORSYNC_IMPORT_RETENTION_DAYS` (90) ago are
  deleted with their files, issues and error report (the sync history keeps its rows);
* imports never started (`uploaded`, `mapped`, `previewed`) and untouched for
  `FLOORSYNC_IMPORT_UNSTARTED_HOURS` (24) are deleted.

Queued and running imports are never touched. Each rule is one set-based statement per kind,
in one short transaction; the task returns how many rows it changed.
"""

from datetime import timedelta

from sqlalchemy import delete, or_, select, update

from floorsync.bootstrap import Services
from floorsync.models.enums import CsvImportStatus
from floorsync.models.imports import CsvImport, CsvImportFile, CsvImportIssue

FINISHED = (
    CsvImportStatus.completed,
    CsvImportStatus.partial,
    CsvImportStatus.failed,
    CsvImportStatus.cancelled,
)
UNSTARTED = (CsvImportStatus.uploaded, CsvImportStatus.mapped, CsvImportStatus.previewed)


def purge_imports(services: Services) -> int:
    """Apply the three retention rules once (every tenant); returns the rows changed."""
    settings = services.settings
    now = services.clock.now()
    files_before = now - timedelta(days=settings.import_file_retention_days)
    imports_before = now - timedelta(days=settings.import_retention_days)
    unstarted_before = now - timedelta(hours=settings.import_unstarted_hours)
    changed = 0
    with services.sessions.begin() as session:
        old_finished = select(CsvImport.id).where(
            CsvImport.status.in_(FINISHED),
            or_(
                CsvImport.finished_at < imports_before,
                CsvImport.finished_at.is_(None) & (CsvImport.updated_at < imports_before),
            ),
        )
        old_unstarted = select(CsvImport.id).where(
            CsvImport.status.in_(UNSTARTED), CsvImport.updated_at < unstarted_before
        )
        doomed = list(session.scalars(old_finished)) + list(session.scalars(old_unstarted))
        if doomed:  # children first: SQLite does not enforce ON DELETE CASCADE by default
            for start in range(0, len(doomed), 500):
                chunk = doomed[start : start + 500]
                session.execute(delete(CsvImportIssue).where(CsvImportIssue.import_id.in_(chunk)))
                session.execute(delete(CsvImportFile).where(CsvImportFile.import_id.in_(chunk)))
                gone = session.execute(delete(CsvImport).where(CsvImport.id.in_(chunk)))
                changed += gone.rowcount  # type: ignore[attr-defined]
        stale_content = select(CsvImport.id).where(
            CsvImport.status.in_(FINISHED), CsvImport.finished_at < files_before
        )
        cleared = session.execute(
            update(CsvImportFile)
            .where(
                CsvImportFile.content.is_not(None),
                CsvImportFile.import_id.in_(stale_content),
            )
            .values(content=None, updated_at=now)
        )
        changed += cleared.rowcount  # type: ignore[attr-defined]
    return int(changed)
