"""Part images: `api-parts-images` (api-catalogue-completion §5). Photos of a live part of the
tenant (at most 100), stored files of purpose `part_image`; the part's read-only `image_paths`
lists them in upload order and is rewritten in each change's transaction, under a lock on the
part row, so concurrent uploads never lose a path. The extension of a path comes from the
verified content type, never from the client's filename."""

import uuid
from typing import Any

from floorsync.db.repository import scoped
from floorsync.db.uow import Work
from floorsync.entities.service import get_row, record_event
from floorsync.entities.spec import get_spec
from floorsync.errors import Detail, NotFound, ValidationFailed
from floorsync.models.catalogue import StoredFile
from floorsync.models.enums import FilePurpose, FileState, StorageBackendKind
from floorsync.models.master import Part
from floorsync.storage import paths
from floorsync.storage.keys import StorageKey

MAX_IMAGES = 100


def live_part(work_or_session: Any, scope: Any, part_id: uuid.UUID) -> Part:
    part: Part = get_row(work_or_session, scope, get_spec("parts"), part_id)
    return part


def _locked_part(work: Work, part_id: uuid.UUID) -> Part:
    part: Part = get_row(work.session, work.scope, get_spec("parts"), part_id, for_update=True)
    return part


def _changed(work: Work, part: Part, old: list[str]) -> None:
    now = work.clock.now()
    part.updated_at = now
    part.sync_hash = None
    work.session.flush()
    record_event(
        work, get_spec("parts"), part, "updated", changes={"image_paths": (old, part.image_paths)}
    )


def add_image(
    work: Work,
    part_id: uuid.UUID,
    file_id: uuid.UUID,
    *,
    filename: str,
    content_type: str,
    extension: str,
    size: int,
    sha256: str,
    max_bytes: int,
    backend: str,
) -> StoredFile:
    """Record an image whose bytes are already stored under `file_id` (one transaction)."""
    part = _locked_part(work, part_id)
    old = list(part.image_paths or [])
    if len(old) >= MAX_IMAGES:
        raise ValidationFailed(
            "image",
            [
                Detail(
                    "image_paths", f"a part has at most {MAX_IMAGES} images", "MAX_LENGTH", len(old)
                )
            ],
        )
    now = work.clock.now()
    row = StoredFile(
        id=file_id,
        tenant_id=work.scope.tenant_id,
        path=paths.part_image_path(part.id, file_id, now, extension),
        purpose=FilePurpose.part_image,
        state=FileState.stored,
        filename=paths.sanitize_segment(filename or f"image.{extension}")[:255],
        content_type=content_type,
        max_bytes=max_bytes,
        size_bytes=size,
        sha256=sha256,
        backend=StorageBackendKind(backend),
        storage_key=str(StorageKey(work.scope.tenant_id, file_id)),
        part_id=part.id,
        upload_expires_at=now,
        created_by=work.origin.api_key_id,
        stored_at=now,
        created_at=now,
        updated_at=now,
    )
    work.session.add(row)
    part.image_paths = [*old, row.path]
    _changed(work, part, old)
    return row


def part_images(work_or_session: Any, scope: Any, part: Part) -> list[StoredFile]:
    rows = {
        r.path: r
        for r in work_or_session.scalars(
            scoped(StoredFile, scope).where(
                StoredFile.part_id == part.id,
                StoredFile.purpose == FilePurpose.part_image,
                StoredFile.state == FileState.stored,
            )
        )
    }
    return [rows[p] for p in (part.image_paths or []) if p in rows]


def image_of(work_or_session: Any, scope: Any, part: Part, path: str) -> StoredFile:
    for row in part_images(work_or_session, scope, part):
        if row.path == path:
            return row
    raise NotFound("Image not found for this part")


def delete_image(work: Work, part_id: uuid.UUID, path: str) -> StoredFile:
    """The row turns `deleted` and leaves `image_paths` in the transaction; the caller removes
    the bytes after the commit."""
    part = _locked_part(work, part_id)
    row = image_of(work.session, work.scope, part, path)
    now = work.clock.now()
    row.state = FileState.deleted
    row.deleted_at = now
    row.updated_at = now
    old = list(part.image_paths or [])
    part.image_paths = [p for p in old if p != path]
    _changed(work, part, old)
    return row
