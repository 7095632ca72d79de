"""`floorsync files migrate --to s3|local` (api-catalogue-completion §2.2): copy the stored
files that live on the other backend to the configured one, so a switch to S3 (or back) leaves
nothing behind.

Per file, with no transaction open while bytes move: read from the source, write to the target
under the same storage key (the SHA-256 must match the row's), then one compare-and-set update
points the row at the target (`backend`, while the row is still `stored` on the source), then
the source bytes go. A crash in between leaves either a row still on the source (the copy is
overwritten by the next run) or target bytes with the row already moved and source bytes left
over (harmless; never served). Downloads read the row's backend, so files stay readable
throughout. Rows that are not `stored` are left to `storage.purge`.
"""

import logging
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from floorsync.db.repository import TenantScope, scoped, tenant_filter
from floorsync.models.catalogue import StoredFile
from floorsync.models.enums import FileState, StorageBackendKind
from floorsync.storage.base import Storage
from floorsync.storage.keys import StorageKey

log = logging.getLogger("floorsync.files.migrate")
BATCH = 100


@dataclass
class MigrateReport:
    copied: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def migrate_files(
    sessions: sessionmaker[Session],
    source: Storage,
    target: Storage,
    *,
    tenant_id: uuid.UUID | None = None,
) -> MigrateReport:
    """Move every stored file on `source.backend` to `target` (see the module docstring)."""
    report = MigrateReport()
    on_source = (
        StoredFile.backend == StorageBackendKind(source.backend),
        StoredFile.state == FileState.stored,
    )
    if tenant_id is not None:
        tenants = [tenant_id]
    else:
        with sessions() as session:
            tenants = list(
                session.scalars(select(StoredFile.tenant_id).where(*on_source).distinct())
            )
            session.rollback()
    for tid in tenants:
        scope = TenantScope(tid)
        failed: set[uuid.UUID] = set()
        while True:
            with sessions() as session:
                stmt = (
                    scoped(StoredFile, scope)
                    .with_only_columns(
                        StoredFile.id,
                        StoredFile.storage_key,
                        StoredFile.content_type,
                        StoredFile.size_bytes,
                        StoredFile.sha256,
                    )
                    .where(*on_source)
                    .order_by(StoredFile.id)
                    .limit(BATCH)
                )
                if failed:
                    stmt = stmt.where(StoredFile.id.not_in(failed))
                rows = list(session.execute(stmt))
                session.rollback()
            if not rows:
                break
            for file_id, key_text, content_type, size, sha256 in rows:
                key = StorageKey.parse(key_text)
                try:
                    with source.open(key) as reader:
                        copied = target.put(
                            key, reader, content_type=content_type, max_bytes=max(size or 0, 1)
                        )
                    if sha256 is not None and copied.sha256 != sha256:
                        raise ValueError(f"copy has SHA-256 {copied.sha256}, the row {sha256}")
                except Exception as exc:
                    failed.add(file_id)
                    report.failed += 1
                    report.errors.append(f"{key_text}: {type(exc).__name__}: {exc}"[:500])
                    log.warning("files migrate could not copy %s: %s", key_text, exc)
                    continue
                with sessions() as session, session.begin():
                    moved = session.execute(
                        update(StoredFile)
                        .where(
                            tenant_filter(StoredFile, scope), StoredFile.id == file_id, *on_source
                        )
                        .values(backend=StorageBackendKind(target.backend))
                        .execution_options(synchronize_session=False)
                    )
                if getattr(moved, "rowcount", 0) == 1:
                    source.delete(key)
                    report.copied += 1
                else:  # deleted meanwhile: the copy is nobody's
                    target.delete(key)
    return report
