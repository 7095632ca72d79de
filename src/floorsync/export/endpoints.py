"""`GET /api-export`: admin keys only; every parameter is checked before the first byte, so
errors use the normal envelope. At most FLOORSYNC_EXPORT_MAX_CONCURRENT exports stream per
process; more get 503 with Retry-After."""

import json
import threading
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from floorsync.entities.endpoints import example_record
from floorsync.entities.listing import parse_bool
from floorsync.entities.openapi import query, responses
from floorsync.entities.spec import get_spec
from floorsync.errors import BadRequest, Detail, ServiceUnavailable
from floorsync.export.sections import ALIASES, MERGED, sections
from floorsync.export.stream import ExportRequest, stream, tenant_info
from floorsync.http.context import AdminCtx

_SLOTS: dict[int, threading.BoundedSemaphore] = {}
_SLOTS_LOCK = threading.Lock()


def _slots(limit: int) -> threading.BoundedSemaphore:
    with _SLOTS_LOCK:
        return _SLOTS.setdefault(limit, threading.BoundedSemaphore(limit))


def _choose(raw: str | None) -> tuple[list[Any], list[str]]:
    every = sections()
    by_name = {s.name: s for s in every}
    if raw is None or raw.strip() in ("", "all"):
        return every, []
    wanted: set[str] = set()
    merged: list[str] = []
    unknown: list[str] = []
    for part in raw.split(","):
        name = part.strip()
        if not name:
            continue
        if name == "all":
            wanted.update(by_name)
        elif name in MERGED:
            if name not in merged:
                merged.append(name)
        elif ALIASES.get(name, name) in by_name:
            wanted.add(ALIASES.get(name, name))
        else:
            unknown.append(name)
    if unknown:
        valid = sorted([*by_name, *ALIASES, *MERGED, "all"])
        message = f"Unknown entities: {', '.join(unknown)}"
        raise BadRequest(
            message,
            [Detail("entities", message + ". Valid: " + ", ".join(valid), "ENUM_CONSTRAINT", raw)],
        )
    return [s for s in every if s.name in wanted], merged


_UTC = "UTC, RFC 3339 (`…Z`)"
_EXPORT_FILE = {
    "type": "object",
    "description": "`_tenant_info`, each section chosen as an array of API records, then "
    "`_metadata` (its `complete: true` comes last: a file cut short lacks it)",
    "required": ["_tenant_info", "_metadata"],
    "properties": {
        "_tenant_info": {
            "type": "object",
            "description": "the tenant's id, name and slug",
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "name": {"type": "string"},
                "slug": {"type": "string"},
                "created_at": {"type": "string", "format": "date-time", "description": _UTC},
            },
        },
        "_metadata": {
            "type": "object",
            "description": "counts, exported_at (UTC), complete",
            "properties": {
                "format": {"type": "string", "const": "json"},
                "version": {"type": "integer"},
                "exported_at": {"type": "string", "format": "date-time", "description": _UTC},
                "tenant_id": {"type": "string", "format": "uuid"},
                "include_deleted": {"type": "boolean"},
                "tables": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string"},
                            "count": {"type": "integer", "description": "records written"},
                        },
                    },
                },
                "merged": {"type": "array", "items": {"type": "string"}},
                "complete": {"type": "boolean", "const": True},
                "request_id": {"type": ["string", "null"]},
            },
        },
    },
    "additionalProperties": {"type": "array", "items": {"type": "object"}},
}
# An export of `?entities=cells` (the shape of a real run; one cell).
_TENANT_ID = "01a24ec8-6f10-7a2b-8c3d-4e5f60718293"
_TENANT_INFO = {
    "id": _TENANT_ID,
    "name": "Acme Metalworks Eindhoven",
    "slug": "acme-eindhoven",
    "created_at": "2026-11-02T08:00:00.000Z",
}
_EXPORTED_AT = "2026-12-07T06:00:00.000Z"
_REQUEST_ID = "01a24ec9-5a00-7c44-9d1e-2b3f4a5c6d7e"


def _export_examples() -> tuple[dict[str, Any], str]:
    cell = example_record(get_spec("cells"))
    as_json = {
        "_tenant_info": _TENANT_INFO,
        "cells": [cell],
        "_metadata": {
            "format": "json",
            "version": 1,
            "exported_at": _EXPORTED_AT,
            "tenant_id": _TENANT_ID,
            "include_deleted": False,
            "tables": [{"name": "cells", "count": 1}],
            "merged": [],
            "complete": True,
            "request_id": _REQUEST_ID,
        },
    }
    lines = [
        {
            "type": "header",
            "format": "floorsync-export",
            "version": 1,
            "exported_at": _EXPORTED_AT,
            "tenant": {k: _TENANT_INFO[k] for k in ("id", "name", "slug")},
            "entities": ["cells"],
            "include_deleted": False,
        },
        {"type": "record", "entity": "cells", "data": cell},
        {"type": "footer", "counts": {"cells": 1}, "complete": True},
    ]
    return as_json, "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)


def router() -> APIRouter:
    r = APIRouter(tags=["export"])
    json_example, ndjson_example = _export_examples()

    @r.get(
        "/api-export",
        summary="Export the tenant's data (admin keys only), streamed as one file",
        description="A file, not an envelope: `format=json` (one object: `_tenant_info`, each "
        "section as an array, `_metadata` with `complete: true` last) or `format=ndjson` "
        "(header, one record per line, footer). Streamed from one read-only snapshot. Records "
        "are API representations: no secret, key, hash or file bytes.",
        responses={
            **responses(200, {"type": "object"}, 400, 403, 503),
            200: {
                "description": "the export file",
                "content": {
                    "application/json": {"schema": _EXPORT_FILE, "example": json_example},
                    "application/x-ndjson": {
                        "schema": {
                            "type": "string",
                            "description": "a header line, one record per line, a footer line",
                        },
                        "example": ndjson_example,
                    },
                },
            },
        },
        openapi_extra={
            "parameters": query(
                ("entities", {"type": "string", "default": "all"}, "comma-separated sections"),
                ("format", {"type": "string", "enum": ["json", "ndjson"]}, "file format"),
                ("include_deleted", {"type": "boolean"}, "also soft-deleted ERP records"),
            )
        },
    )
    def export(request: Request, ctx: AdminCtx) -> Any:
        params = request.query_params
        chosen, merged = _choose(params.get("entities"))
        fmt = params.get("format", "json").strip().lower()
        if fmt not in ("json", "ndjson"):
            message = "format must be json or ndjson"
            raise BadRequest(message, [Detail("format", message, "ENUM_CONSTRAINT", fmt)])
        include_deleted = parse_bool(params, "include_deleted")
        services = ctx.services
        slots = _slots(services.settings.export_max_concurrent)
        if not slots.acquire(blocking=False):
            raise ServiceUnavailable(
                "Too many exports are running; try again later", headers={"Retry-After": "30"}
            )
        try:
            with ctx.read() as session:
                slug = tenant_info(session, ctx.scope)["slug"]
        except BaseException:
            slots.release()
            raise
        req = ExportRequest(
            scope=ctx.scope,
            sections=chosen,
            merged=merged,
            format=fmt,
            include_deleted=include_deleted,
            request_id=ctx.request_id,
            api_key_id=ctx.scope.api_key_id,
        )
        stamp = services.clock.now().strftime("%Y%m%dT%H%M%SZ")
        media = "application/json; charset=utf-8" if fmt == "json" else "application/x-ndjson"
        return StreamingResponse(
            stream(services.sessions, services.clock, req, slots.release),
            media_type=media,
            headers={
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
                "Content-Disposition": f'attachment; filename="floorsync-export-{slug}-{stamp}.{fmt}"',
            },
        )

    return r
