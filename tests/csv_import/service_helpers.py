"""Helpers of the import-service tests: fresh tenants, running an import in the test process
(as the CLI does), and counting rows and events of a tenant."""

import uuid
from typing import Any

from sqlalchemy import func, select

from floorsync.auth.tenants import create_tenant
from floorsync.bootstrap import Services
from floorsync.csv_import import service
from floorsync.csv_import.job import run_job
from floorsync.csv_import.service import ImportSettings, StoredChoices, Upload
from floorsync.db.repository import TenantScope, scoped
from floorsync.models.enums import CsvImportStatus, ImportChannel, ImportPhase
from floorsync.models.events import Event
from floorsync.models.imports import CsvImport


def new_scope(services: Services) -> TenantScope:
    with services.sessions.begin() as session:
        tenant = create_tenant(session, f"csv-{uuid.uuid4().hex[:8]}", services.clock.now())
        return TenantScope(tenant.id)


def upload(
    services: Services,
    scope: TenantScope,
    files: dict[str, str | bytes],
    choices: dict[str, StoredChoices] | None = None,
    **settings: Any,
) -> uuid.UUID:
    uploads = [
        Upload(name, data.encode("utf-8") if isinstance(data, str) else data)
        for name, data in files.items()
    ]
    return service.create_import(
        services,
        scope,
        uploads,
        ImportSettings(**settings),
        channel=ImportChannel.cli,
        choices=choices,
    )


def run(
    services: Services,
    scope: TenantScope,
    import_id: uuid.UUID,
    phase: ImportPhase = ImportPhase.import_,
    **kw: Any,
) -> CsvImportStatus | None:
    service.confirm_mapping(services, scope, import_id)
    service.request(services, scope, import_id, phase, background=False)
    return run_job(services, scope.tenant_id, import_id, owner="test", **kw)


def import_files(
    services: Services, scope: TenantScope, files: dict[str, str | bytes], **settings: Any
) -> CsvImport:
    import_id = upload(services, scope, files, **settings)
    run(services, scope, import_id)
    return load(services, scope, import_id)


def load(services: Services, scope: TenantScope, import_id: uuid.UUID) -> CsvImport:
    with services.sessions() as session:
        imp = service.get_import(session, scope, import_id)
        session.expunge(imp)
        return imp


def count(services: Services, scope: TenantScope, model: Any, **where: Any) -> int:
    stmt = scoped(model, scope)
    for name, value in where.items():
        stmt = stmt.where(getattr(model, name) == value)
    with services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


def events(services: Services, scope: TenantScope) -> list[str]:
    with services.sessions() as session:
        return [e.type for e in session.scalars(scoped(Event, scope).order_by(Event.seq))]


def issues(services: Services, scope: TenantScope, import_id: uuid.UUID) -> list[Any]:
    with services.sessions() as session:
        imp = service.get_import(session, scope, import_id)
        return [
            i
            for _, i in service.stored_issues(session, scope, import_id, service.report_phase(imp))
        ]


def invariant(imp: CsvImport) -> None:
    """created + updated + unchanged + failed = rows read, overall and per file (§12.1)."""
    assert (
        imp.created_count + imp.updated_count + imp.skipped_count + imp.failed_count
        == imp.processed_rows
    )
    for counts in imp.file_counts.values():
        assert (
            counts["created"] + counts["updated"] + counts["unchanged"] + counts["failed"]
            == counts["rows"]
        )


__all__ = ["CsvImport"]
