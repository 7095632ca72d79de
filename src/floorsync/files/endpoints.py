"""HTTP routes of files: `POST /api-upload-url`, the signed `PUT /files/upload/{token}` and
`GET|HEAD /files/download/{token}` (no API key: the token is the credential, and request logs
redact it), and the `file-url` / `image-url` sub-routes (path id or `?id=`)."""

import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from python_multipart.multipart import parse_options_header
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from floorsync.bootstrap import Services
from floorsync.db.repository import TenantScope
from floorsync.db.transient import retry_lock_conflicts
from floorsync.db.uow import unit_of_work
from floorsync.entities.openapi import ERROR_SCHEMA, json_body, query, responses
from floorsync.errors import BadRequest, NotFound, PayloadTooLarge, ValidationFailed
from floorsync.events.outbox import Origin
from floorsync.files import images
from floorsync.files.service import (
    claim_upload,
    expires_at_wire,
    file_row,
    finish_upload,
    issue_upload,
    release_upload,
    signed_download,
)
from floorsync.http.context import ApiCtx, BodyDep, Ctx, parse_uuid, services_of
from floorsync.http.responses import CompactJSONResponse, success_body
from floorsync.http.retry import MARK, retrying
from floorsync.kit.ids import new_id
from floorsync.kit.timefmt import format_ts
from floorsync.models.enums import FileState
from floorsync.storage import download
from floorsync.storage.base import put_async
from floorsync.storage.errors import Refusal
from floorsync.storage.filetypes import content_type_matches, file_type_for
from floorsync.storage.keys import StorageKey
from floorsync.storage.tokens import MESSAGE as TOKEN_REFUSED
from floorsync.storage.tokens import FileOp, download_url, upload_url

_OBJECT: dict[str, Any] = {"type": "object"}
_UPLOAD_BODY = {
    "type": "object",
    "required": ["filename", "content_type"],
    "properties": {
        "filename": {"type": "string", "minLength": 1, "maxLength": 255},
        "content_type": {"type": "string"},
        "job_number": {"type": ["string", "null"], "maxLength": 255},
        "part_id": {"type": ["string", "null"], "format": "uuid"},
        "size_bytes": {"type": ["integer", "null"], "minimum": 1, "description": "bytes"},
    },
}
_UPLOADED = {
    "type": "object",
    "required": ["file_path", "size", "content_type", "sha256", "attached"],
    "properties": {
        "file_path": {"type": "string"},
        "size": {"type": "integer", "description": "bytes"},
        "content_type": {"type": "string"},
        "sha256": {"type": "string", "description": "hex digest of the bytes stored"},
        "attached": {
            "anyOf": [{"type": "boolean"}, {"type": "null"}],
            "description": "linked to the part it was issued for (null: issued for no part)",
        },
    },
}
_IMAGE_DELETED = {
    "type": "object",
    "required": ["success", "deleted_path"],
    "properties": {"success": {"type": "boolean"}, "deleted_path": {"type": "string"}},
}
_UPLOAD_REPLY = {
    "type": "object",
    "required": ["upload_url", "file_path", "expires_at"],
    "properties": {
        "upload_url": {"type": "string"},
        "file_path": {"type": "string"},
        "expires_at": {
            "type": "string",
            "format": "date-time",
            "description": "UTC, RFC 3339 (`…Z`)",
        },
        "method": {"type": "string", "const": "PUT"},
        "headers": {
            "type": "object",
            "description": "the headers the PUT must carry",
            "properties": {"Content-Type": {"type": "string"}},
        },
        "max_bytes": {"type": "integer"},
    },
}
_URL_REPLY = {
    "type": "object",
    "required": ["path", "url", "expires_in"],
    "properties": {
        "path": {"type": "string"},
        "url": {"type": "string"},
        "expires_in": {"type": "integer"},
        "expires_at": {
            "type": "string",
            "format": "date-time",
            "description": "UTC, RFC 3339 (`…Z`)",
        },
        "content_type": {"type": "string"},
        "size": {"type": "integer", "description": "bytes"},
    },
}


def base_url(services: Services, request: Request) -> str:
    """FLOORSYNC_PUBLIC_URL, else the request's scheme and host."""
    return services.settings.public_url or str(request.base_url).rstrip("/")


# Example answers (the shape of a real run; tokens and digests are made-up ones).
_FILE_ID = "01a24ec9-4b10-7d3e-9f21-6a8c0e4d2b17"
_PART_ID = "8b2e4d10-3c5f-4a7e-b1d9-6f0a2c4e8d13"
_FILE_PATH = f"jobs/J-1001/{_FILE_ID}/drawing-4471.pdf"
_IMAGE_PATH = f"parts/{_PART_ID}/1796619600000_{_FILE_ID}.jpg"
_BASE = "https://floorsync.example.com"
_TOKEN = (
    "eyJleHAiOjE3OTY2MjA1MDAsImZpZCI6IjAxYTI0ZWM5LTRiMTAtN2QzZS05ZjIxLTZhOGMwZTRkMmIxNyIsIm9wIjoi"
    "Z2V0IiwidGlkIjoiMDFhMjRlYzgtNmY2Ny03ODY3LThmZjItNjYwYzk5Yzc1ODg4IiwidiI6MX0"
    ".q3Vb0mYHf7Jx8cW2dTk1sZr9nLpA4eGuQyKo6iXhB5M"
)
_EXPIRES_AT = "2026-12-07T07:15:00.000Z"
_UPLOAD_EXAMPLE = {
    "upload_url": f"{_BASE}/files/upload/{_TOKEN}",
    "file_path": _FILE_PATH,
    "expires_at": _EXPIRES_AT,
    "method": "PUT",
    "headers": {"Content-Type": "application/pdf"},
    "max_bytes": 104857600,
}
_UPLOADED_EXAMPLE = {
    "file_path": _FILE_PATH,
    "size": 482133,
    "content_type": "application/pdf",
    "sha256": "9f2c4e6a8b0d1f3e5a7c9e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f1a3c5e7b9d1f",
    "attached": True,
}
_FILE_URL_EXAMPLE = {
    "path": _FILE_PATH,
    "url": f"{_BASE}/files/download/{_TOKEN}",
    "expires_in": 900,
    "expires_at": _EXPIRES_AT,
    "content_type": "application/pdf",
    "size": 482133,
}
_IMAGE_EXAMPLE = {
    "path": _IMAGE_PATH,
    "url": f"{_BASE}/files/download/{_TOKEN}",
    "size": 215408,
    "created_at": "2026-12-07T07:00:00.000Z",
    "name": "burr-edge.jpg",
    "content_type": "image/jpeg",
    "expires_in": 900,
}
_IMAGE_URL_EXAMPLE = {
    "url": f"{_BASE}/files/download/{_TOKEN}",
    "expires_in": 900,
    "path": _IMAGE_PATH,
    "expires_at": _EXPIRES_AT,
}
# The signed routes take no API key: a token that is malformed, forged, for the other
# operation or expired is one 403 (storage/tokens.py), never a 401.
_TOKEN_REFUSED = {
    "description": "The token is malformed, forged, for the other operation, or expired "
    "(one answer for every cause); ask for a new URL",
    "content": {
        "application/json": {
            "schema": ERROR_SCHEMA,
            "example": {
                "success": False,
                "error": {"code": "FORBIDDEN", "message": TOKEN_REFUSED, "statusCode": 403},
            },
        }
    },
}


def upload_url_router() -> APIRouter:
    router = APIRouter(tags=["files"])

    @router.post(
        "/api-upload-url",
        summary="Issue a signed, single-use upload URL",
        description="PUT the raw file to `upload_url` (no API key) before `expires_at`. The "
        "filename's extension, the declared type and, at upload, the bytes must fit one row of "
        "the allow-list; the size is capped while streaming.",
        responses=responses(200, _UPLOAD_REPLY, 413, 422, example=_UPLOAD_EXAMPLE),
        openapi_extra=json_body(
            _UPLOAD_BODY,
            example={
                "filename": "drawing-4471.pdf",
                "content_type": "application/pdf",
                "part_id": "8b2e4d10-3c5f-4a7e-b1d9-6f0a2c4e8d13",
                "size_bytes": 482133,
            },
        ),
    )
    @retrying
    def issue(request: Request, ctx: ApiCtx, body: BodyDep) -> Any:
        data = body.json_object()
        settings = ctx.services.settings
        with ctx.work() as work:
            ticket = issue_upload(
                work,
                data,
                signer=ctx.services.file_signer,
                ttl=settings.storage_url_ttl,
                max_bytes=settings.max_upload_bytes,
                backend=ctx.services.storage.backend,
            )
            return ctx.respond(
                {
                    "upload_url": upload_url(base_url(ctx.services, request), ticket.token),
                    "file_path": ticket.row.path,
                    "expires_at": expires_at_wire(ticket.token),
                    "method": "PUT",
                    "headers": {"Content-Type": ticket.row.content_type},
                    "max_bytes": ticket.row.max_bytes,
                },
                200,
                work,
            )

    return router


def signed_file_router() -> APIRouter:
    router = APIRouter(tags=["files"])

    @router.put(
        "/files/upload/{token}",
        summary="Upload the file of a signed upload URL (no API key)",
        responses={
            **responses(
                200,
                _UPLOADED,
                400,
                404,
                409,
                413,
                422,
                503,
                example=_UPLOADED_EXAMPLE,
                api_key=False,
            ),
            403: _TOKEN_REFUSED,
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "description": "the raw file, with the Content-Type given to /api-upload-url",
                "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            }
        },
    )
    async def upload(token: str, request: Request) -> Any:
        services = services_of(request)
        grant = services.file_signer.verify(token, FileOp.put)
        scope = TenantScope(grant.tenant_id)
        now = services.clock.now()

        def claim() -> Any:
            with services.sessions.begin() as session:
                row = claim_upload(session, scope, grant.file_id, now)
                return (
                    row.content_type,
                    row.max_bytes,
                    row.expected_bytes,
                    row.storage_key,
                    row.filename,
                    row.created_by,
                )

        content_type, max_bytes, expected, key_text, filename, asked_by = retry_lock_conflicts(
            claim
        )
        try:
            if not content_type_matches(request.headers.get("content-type"), content_type):
                raise BadRequest(f"Content-Type must be {content_type} for this upload URL")
            length = request.headers.get("content-length")
            if length is not None and length.isdigit() and int(length) > max_bytes:
                raise PayloadTooLarge(f"File is larger than {max_bytes} bytes")
            stored = await put_async(
                services.storage,
                StorageKey.parse(key_text),
                request.stream(),
                content_type=content_type,
                max_bytes=max_bytes,
                expected_bytes=expected,
                check=file_type_for(content_type).content_check(filename),
            )
        except BaseException:
            with services.sessions.begin() as session:
                release_upload(session, scope, grant.file_id, services.clock.now())
            raise
        key = StorageKey.parse(key_text)
        try:
            # origin: the key that asked for the URL (its part.updated is that key's change)
            origin = Origin(channel="api", api_key_id=asked_by)

            def finish() -> dict[str, Any]:
                with unit_of_work(services.sessions, services.outbox, scope, origin=origin) as work:
                    done, attached = finish_upload(work, grant.file_id, stored.size, stored.sha256)
                    return {
                        "file_path": done.path,
                        "size": stored.size,
                        "content_type": done.content_type,
                        "sha256": stored.sha256,
                        "attached": attached,
                    }

            result = retry_lock_conflicts(finish)
        except BaseException:
            services.storage.delete(key)  # bytes without a stored row are never served
            raise
        return CompactJSONResponse(success_body(result), status_code=200)

    # The body stream can't be read twice, so the handler is not re-run as a whole: each of its
    # transactions (claim, finish) retries itself on a lock conflict instead (http.retry).
    setattr(upload, MARK, True)

    def download_file(token: str, request: Request) -> Any:
        services = services_of(request)
        grant = services.file_signer.verify(token, FileOp.get)
        scope = TenantScope(grant.tenant_id)
        with services.sessions() as session:
            row = file_row(session, scope, grant.file_id)
            if row.state != FileState.stored:
                raise NotFound("File not found")
            content_type, filename = row.content_type, row.filename
            size, sha256, key_text = row.size_bytes or 0, row.sha256, row.storage_key
            backend = row.backend
        seconds_left = int((grant.expires_at - services.clock.now()).total_seconds())
        headers = download.download_headers(
            content_type=content_type,
            filename=filename,
            size=size,
            sha256=sha256,
            seconds_left=seconds_left,
        )
        if request.method == "HEAD":
            return Response(status_code=200, headers=headers)
        # the row's backend: a file written before a switch to S3 stays where it was written
        reader = services.storage_of(backend).open(StorageKey.parse(key_text))

        def chunks() -> Any:
            try:
                yield from reader
            finally:
                reader.close()

        return StreamingResponse(chunks(), status_code=200, headers=headers)

    for method in ("GET", "HEAD"):
        router.add_api_route(
            "/files/download/{token}",
            download_file,
            methods=[method],
            operation_id=f"download_file_{method.lower()}",
            response_class=Response,  # bytes: no JSON media type beside */* in the document
            summary="Download the file of a signed download URL (no API key)",
            responses={
                **responses(200, _OBJECT, 404, 503, api_key=False),
                200: {
                    "description": "the file's bytes, with its Content-Type",
                    "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
                },
                403: _TOKEN_REFUSED,
            },
        )
    return router


def _sub_route(entity: str, function: str, sub: str) -> APIRouter:
    router = APIRouter(tags=[entity])
    params = query(("path", {"type": "string"}, "the file path the record references"))

    def handler(request: Request, ctx: ApiCtx, record_id: uuid.UUID) -> Any:
        path = request.query_params.get("path")
        if not path:
            raise BadRequest("path is required")
        ttl = ctx.services.settings.storage_url_ttl
        with ctx.read() as session:
            stored, token = signed_download(
                session,
                ctx.scope,
                entity,
                record_id,
                path,
                signer=ctx.services.file_signer,
                ttl=ttl,
            )
            direct = (
                ctx.services.storage_of(stored.backend).direct_download_url(
                    StorageKey.parse(stored.storage_key),
                    expires_in=ttl,
                    content_type=stored.content_type,
                    content_disposition=download.content_disposition(
                        stored.filename, stored.content_type
                    ),
                )
                if ctx.services.settings.s3_direct_downloads
                and str(getattr(stored.backend, "value", stored.backend)) == "s3"
                else None
            )  # FLOORSYNC_S3_DIRECT_DOWNLOADS: an S3 presigned GET; else floorsync serves it
            url = direct or download_url(base_url(ctx.services, request), token)
            return ctx.respond(
                {
                    "path": path,
                    "url": url,
                    "expires_in": ttl,
                    "expires_at": expires_at_wire(token),
                    "content_type": stored.content_type,
                    "size": stored.size_bytes,
                }
            )

    def by_path(id: str, request: Request, ctx: ApiCtx) -> Any:
        return handler(request, ctx, parse_uuid(id))

    def by_query(request: Request, ctx: ApiCtx) -> Any:
        raw = request.query_params.get("id")
        if not raw:
            raise BadRequest("ID parameter is required (?id=<uuid>)")
        return handler(request, ctx, parse_uuid(raw))

    summary = f"A signed download URL for a file the {entity[:-1]} references"
    router.add_api_route(
        f"/{function}/{{id}}/{sub}",
        by_path,
        methods=["GET"],
        summary=summary,
        responses=responses(200, _URL_REPLY, 400, 404, example=_FILE_URL_EXAMPLE),
        openapi_extra={"parameters": params},
    )
    router.add_api_route(
        f"/{function}/{sub}",
        by_query,
        methods=["GET"],
        summary=summary + " (?id= form)",
        responses=responses(200, _URL_REPLY, 400, 404, example=_FILE_URL_EXAMPLE),
        openapi_extra={
            "parameters": params
            + query(("id", {"type": "string", "format": "uuid"}, "the record's id"))
        },
    )
    return router


def file_routers() -> list[APIRouter]:
    return [
        upload_url_router(),
        _sub_route("parts", "api-parts", "file-url"),
        _sub_route("batches", "api-batches", "image-url"),
        _sub_route("issues", "api-issues", "image-url"),
        parts_images_router(),
    ]


# ---------------------------------------------------------------- api-parts-images

_IMAGE = {
    "type": "object",
    "properties": {
        "path": {"type": "string"},
        "url": {"type": "string"},
        "size": {"type": ["integer", "null"]},
        "created_at": {
            "type": "string",
            "format": "date-time",
            "description": "UTC, RFC 3339 (`…Z`)",
        },
        "name": {"type": "string"},
        "content_type": {"type": "string"},
        "expires_in": {"type": "integer"},
    },
}


def _signed(ctx: Ctx, request: Request, row: Any) -> tuple[str, Any]:
    ttl = ctx.services.settings.storage_url_ttl
    token = ctx.services.file_signer.issue(
        tenant_id=ctx.scope.tenant_id, file_id=row.id, op=FileOp.get, ttl_seconds=ttl
    )
    return download_url(base_url(ctx.services, request), token), token


def _image_record(ctx: Ctx, request: Request, row: Any) -> dict[str, Any]:
    url, _token = _signed(ctx, request, row)
    return {
        "path": row.path,
        "url": url,
        "size": row.size_bytes,
        "created_at": format_ts(row.created_at),
        "name": row.filename,
        "content_type": row.content_type,
        "expires_in": ctx.services.settings.storage_url_ttl,
    }


def parts_images_router() -> APIRouter:
    router = APIRouter(tags=["parts"])
    base = "/api-parts-images/{part_id}"

    @router.get(
        base,
        summary="A part's images, each with a fresh signed URL",
        responses=responses(
            200,
            {"type": "object", "properties": {"images": {"type": "array", "items": _IMAGE}}},
            400,
            404,
            example={"images": [_IMAGE_EXAMPLE]},
        ),
    )
    def list_images(part_id: str, request: Request, ctx: ApiCtx) -> Any:
        pid = parse_uuid(part_id)
        with ctx.read() as session:
            part = images.live_part(session, ctx.scope, pid)
            rows = images.part_images(session, ctx.scope, part)
            return ctx.respond({"images": [_image_record(ctx, request, r) for r in rows]})

    @router.get(
        base + "/url",
        summary="A signed URL for one of the part's images",
        responses=responses(200, _URL_REPLY, 400, 404, example=_IMAGE_URL_EXAMPLE),
        openapi_extra={"parameters": query(("path", {"type": "string"}, "the image path"))},
    )
    def image_url(part_id: str, request: Request, ctx: ApiCtx) -> Any:
        pid = parse_uuid(part_id)
        path = request.query_params.get("path")
        if not path:
            raise BadRequest("Image path is required")
        with ctx.read() as session:
            part = images.live_part(session, ctx.scope, pid)
            row = images.image_of(session, ctx.scope, part, path)
            url, token = _signed(ctx, request, row)
            return ctx.respond(
                {
                    "url": url,
                    "expires_in": ctx.services.settings.storage_url_ttl,
                    "path": path,
                    "expires_at": expires_at_wire(token),
                }
            )

    @router.post(
        base + "/upload",
        status_code=201,
        summary="Upload an image (multipart/form-data, one file part named `file`)",
        responses=responses(
            201,
            _IMAGE,
            400,
            404,
            413,
            422,
            example={k: v for k, v in _IMAGE_EXAMPLE.items() if k != "created_at"},
        ),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file"],
                            "properties": {"file": {"type": "string", "format": "binary"}},
                        }
                    }
                },
            }
        },
    )
    async def upload_image(part_id: str, request: Request, ctx: ApiCtx) -> Any:
        pid = parse_uuid(part_id)
        services = ctx.services
        await anyio.to_thread.run_sync(_check_part, ctx, pid)
        form = await _image_form(request, services.settings.max_image_bytes + FORM_OVERHEAD)
        upload = form.get("file")
        if not isinstance(upload, StarletteUploadFile):
            raise BadRequest("No file provided or invalid file")
        try:
            file_type = file_type_for(upload.content_type or "", images_only=True)
        except Refusal as err:
            raise ValidationFailed("image", [err.as_detail("file")]) from None
        file_id = new_id()
        key = StorageKey(ctx.scope.tenant_id, file_id)
        max_bytes = services.settings.max_image_bytes
        filename = upload.filename or ""

        def chunks() -> Any:
            while True:
                chunk = upload.file.read(65536)
                if not chunk:
                    return
                yield chunk

        stored = await anyio.to_thread.run_sync(
            lambda: services.storage.put(
                key,
                chunks(),
                content_type=file_type.content_type,
                max_bytes=max_bytes,
                check=file_type.content_check(f"x.{file_type.image_extension}"),
            )
        )

        def record() -> Any:
            with ctx.work() as work:
                row = images.add_image(
                    work,
                    pid,
                    file_id,
                    filename=filename,
                    content_type=file_type.content_type,
                    extension=str(file_type.image_extension),
                    size=stored.size,
                    sha256=stored.sha256,
                    max_bytes=max_bytes,
                    backend=services.storage.backend,
                )
                out = _image_record(ctx, request, row)
                out.pop("created_at")
                return ctx.respond(out, 201, work)

        try:
            return await anyio.to_thread.run_sync(lambda: retry_lock_conflicts(record))
        except BaseException:
            services.storage.delete(key)  # no row names these bytes
            raise

    # The multipart body is consumed once: its one transaction retries itself on a lock conflict
    # (above) instead of the whole handler running again (http.retry).
    setattr(upload_image, MARK, True)

    @router.delete(
        base,
        summary='Delete one of the part\'s images (`?path=` or body `{"path"}`)',
        responses=responses(
            200,
            _IMAGE_DELETED,
            400,
            404,
            413,
            example={"success": True, "deleted_path": _IMAGE_PATH},
        ),
        openapi_extra={"parameters": query(("path", {"type": "string"}, "the image path"))},
    )
    @retrying
    def delete_image(part_id: str, request: Request, ctx: ApiCtx, body: BodyDep) -> Any:
        pid = parse_uuid(part_id)
        data = body.json_object(optional=True)
        path = request.query_params.get("path") or data.get("path")
        if not isinstance(path, str) or not path:
            raise BadRequest("Image path is required")
        with ctx.work() as work:
            row = images.delete_image(work, pid, path)
            key, backend = StorageKey.parse(row.storage_key), row.backend
            reply = ctx.respond({"success": True, "deleted_path": path}, 200, work)
        ctx.services.storage_of(backend).delete(key)  # after the commit (purge retries a failure)
        return reply

    return router


# The body limit of a part image upload (catalogue §5): the image limit plus this much for the
# multipart framing and the other form fields, instead of the JSON routes' MAX_BODY_BYTES.
FORM_OVERHEAD = 64 * 1024


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"Request body too large: an image upload may send at most {limit} bytes "
        f"(FLOORSYNC_STORAGE_MAX_IMAGE_MB plus {FORM_OVERHEAD // 1024} KiB of form data)"
    )


async def _capped(chunks: AsyncIterator[bytes], limit: int) -> AsyncGenerator[bytes, None]:
    seen = 0
    async for chunk in chunks:
        seen += len(chunk)
        if seen > limit:
            raise _too_large(limit)
        yield chunk


async def _image_form(request: Request, limit: int) -> FormData:
    """The multipart form of an image upload, its body capped at `limit` bytes: a declared
    Content-Length over it is refused before a byte is read, a streamed body as soon as it
    passes it (413, and the spooled parts are closed: nothing is stored)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    content_type, _options = parse_options_header(request.headers.get("content-type"))
    if content_type != b"multipart/form-data":
        raise BadRequest("No file provided or invalid file")
    parser = MultiPartParser(
        request.headers, _capped(request.stream(), limit), max_files=1, max_fields=10
    )
    try:
        return await parser.parse()
    except MultiPartException as exc:
        raise BadRequest(f"No file provided or invalid file: {exc.message}") from None
    except PayloadTooLarge:
        for spooled in parser._files_to_close_on_error:  # what was spooled so far goes now
            spooled.close()
        raise


def _check_part(ctx: Ctx, part_id: uuid.UUID) -> None:
    with ctx.read() as session:
        images.live_part(session, ctx.scope, part_id)
