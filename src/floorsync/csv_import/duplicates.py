""" "Identical to an import of the last 24 hours" (CSV import §11.6): an upload whose files (by
SHA-256, in processing order), per-file choices (entity, encoding, delimiter, header line,
number format, date order, manual mapping) and import options (source, snapshot, empty cells
clear, time zone, derived ids) equal those of an import of the tenant that finished in the
last 24 hours gets a notice in the wizard and the CLI. It is not blocked: importing again
reports every row unchanged and writes nothing."""

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from floorsync.bootstrap import Services
from floorsync.csv_import.service import get_import
from floorsync.db.repository import TenantScope, scoped
from floorsync.models.enums import CsvImportStatus
from floorsync.models.imports import CsvImport, CsvImportFile

WINDOW = timedelta(hours=24)
DONE = (CsvImportStatus.completed, CsvImportStatus.partial)
OPTION_KEYS = ("source", "snapshot", "empty_clears", "time_zone", "derive_ids")


@dataclass(frozen=True)
class Identical:
    import_id: uuid.UUID
    finished_at: datetime

    def message(self) -> str:
        when = self.finished_at.strftime("%Y-%m-%d %H:%M UTC")
        return (
            f"This upload is identical to import {self.import_id} of {when}; importing again "
            "will report every row as unchanged."
        )


def _files(session: Session, scope: TenantScope, import_id: uuid.UUID) -> list[Any]:
    """Per file in processing order: SHA-256, entity, choices (without loading the bytes)."""
    rows = session.execute(
        scoped(CsvImportFile, scope)
        .with_only_columns(CsvImportFile.sha256, CsvImportFile.entity_type, CsvImportFile.mapping)
        .where(CsvImportFile.import_id == import_id)
        .order_by(CsvImportFile.position)
    ).all()
    return [
        [sha, entity.value if entity else None, (mapping or {}).get("choices")]
        for sha, entity, mapping in rows
    ]


def fingerprint(imp: CsvImport, per_file: Sequence[Any]) -> str:
    """SHA-256 over what makes two imports do the same: files, choices, options."""
    options = {k: (imp.options or {}).get(k) for k in OPTION_KEYS}
    body = json.dumps([options, per_file], sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def identical_import(
    services: Services, scope: TenantScope, import_id: uuid.UUID
) -> Identical | None:
    """The newest import of the tenant, finished in the last 24 hours, identical to this one."""
    with services.sessions() as session:
        imp = get_import(session, scope, import_id)
        mine = fingerprint(imp, _files(session, scope, import_id))
        return _newest_match(services, session, scope, imp, mine)


def _newest_match(
    services: Services, session: Session, scope: TenantScope, imp: CsvImport, mine: str
) -> Identical | None:
    since = services.clock.now() - WINDOW
    candidates: Sequence[CsvImport] = session.scalars(
        scoped(CsvImport, scope)
        .where(
            CsvImport.id != imp.id,
            CsvImport.status.in_(DONE),
            CsvImport.finished_at >= since,
            CsvImport.total_rows == imp.total_rows,
        )
        .order_by(CsvImport.finished_at.desc())
        .limit(20)
    ).all()
    for other in candidates:
        if other.finished_at is None:
            continue
        if fingerprint(other, _files(session, scope, other.id)) == mine:
            return Identical(other.id, other.finished_at)
    return None
