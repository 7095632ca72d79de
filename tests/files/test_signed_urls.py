"""Signed upload and download URLs (api-catalogue-completion §2–§4) through a real server and a
real HTTP client, once per storage backend (local directory; S3 on moto's server): Eryxon's
calls, byte-exact round trips with the §2.5 headers, single use, expiry under a fake clock,
tampering, the size cap while streaming, disguised executables, traversal names and other
tenants' files."""

import hashlib
import uuid
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from floorsync.models.catalogue import StoredFile
from tests.files.conftest import FileServer
from tests.shopfloor.helpers import constraint_of, events, fails, make_job, ok
from tests.support.tenants import TenantHandle

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


def issue(c: httpx.Client, filename: str, content_type: str, **extra: Any) -> dict[str, Any]:
    body = {"filename": filename, "content_type": content_type, **extra}
    out: dict[str, Any] = ok(c.post("/api-upload-url", json=body))
    return out


def put(url: str, data: bytes, content_type: str | None = None) -> httpx.Response:
    headers = {"Content-Type": content_type} if content_type else {}
    return httpx.put(url, content=data, headers=headers, timeout=60)


def rows(sessions: sessionmaker[Session], tenant: TenantHandle) -> list[StoredFile]:
    with sessions() as s:
        return list(s.scalars(select(StoredFile).where(StoredFile.tenant_id == tenant.id)))


class TestEryxonsCalls:
    def test_the_automated_suites_upload_url_calls(self, files_tenant: TenantHandle) -> None:
        c = files_tenant.client
        for name, ctype in (
            ("auto-test.pdf", "application/pdf"),
            ("auto-test.stp", "application/octet-stream"),
            ("auto-test.dxf", "application/dxf"),
            ("auto-test.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ):
            got = issue(c, name, ctype)
            assert list(got)[:3] == ["upload_url", "file_path", "expires_at"]
        text = issue(c, "upload-test-1.txt", "text/plain")
        resp = put(text["upload_url"], b"floorsync upload test\n", "text/plain")
        assert resp.status_code == 200, resp.text
        assert (
            "not allowed"
            in c.post(
                "/api-upload-url",
                json={"filename": "evil.exe", "content_type": "application/x-msdownload"},
            ).text
        )
        resp = c.post(
            "/api-upload-url",
            json={"filename": "../../../etc/passwd", "content_type": "text/plain"},
        )
        assert resp.status_code == 422
        assert "invalid characters" in resp.text


class TestRoundTrip:
    def test_upload_then_file_url_gives_the_same_bytes_and_headers(
        self,
        file_server: FileServer,
        files_tenant: TenantHandle,
        sessions: sessionmaker[Session],
    ) -> None:
        c = files_tenant.client
        tree = make_job(c, ops=0)
        part_id = tree.parts[0]
        got = issue(
            c, "Bracket drawing.pdf", "application/pdf", part_id=part_id, size_bytes=len(PDF)
        )
        assert got["file_path"].startswith("files/")
        assert got["file_path"].endswith("/Bracket_drawing.pdf")
        assert got["upload_url"].startswith(file_server.server.base_url + "/files/upload/")
        assert (got["method"], got["headers"], got["max_bytes"]) == (
            "PUT",
            {"Content-Type": "application/pdf"},
            1024 * 1024,
        )
        resp = put(got["upload_url"], PDF, "application/pdf")
        assert resp.status_code == 200, resp.text
        data = resp.json()["data"]
        assert data == {
            "file_path": got["file_path"],
            "size": len(PDF),
            "content_type": "application/pdf",
            "sha256": hashlib.sha256(PDF).hexdigest(),
            "attached": True,
        }
        part = ok(c.get("/api-parts", params={"id": part_id}))["part"]
        assert part["file_paths"] == [got["file_path"]]
        updated = events(sessions, files_tenant.id, "part.updated")
        assert updated[-1].data["changed_fields"] == ["file_paths"]
        signed = ok(c.get(f"/api-parts/{part_id}/file-url", params={"path": got["file_path"]}))
        assert list(signed)[:3] == ["path", "url", "expires_in"]
        assert (signed["content_type"], signed["size"]) == ("application/pdf", len(PDF))
        same = ok(c.get("/api-parts/file-url", params={"id": part_id, "path": got["file_path"]}))
        assert same["path"] == got["file_path"]
        download = httpx.get(signed["url"], timeout=60)
        assert download.status_code == 200
        assert download.content == PDF
        h = download.headers
        assert h["content-type"] == "application/pdf"
        assert h["etag"] == f'"{hashlib.sha256(PDF).hexdigest()}"'
        assert h["content-disposition"].startswith('inline; filename="Bracket_drawing.pdf"')
        assert h["x-content-type-options"] == "nosniff"
        assert h["content-security-policy"] == "default-src 'none'; sandbox"
        assert h["referrer-policy"] == "no-referrer"
        assert h["cache-control"] == "private, max-age=900"
        head = httpx.head(signed["url"], timeout=60)
        assert (head.status_code, head.headers["content-length"]) == (200, str(len(PDF)))
        [row] = rows(sessions, files_tenant)
        assert (row.state, row.backend) == ("stored", file_server.backend)
        if file_server.backend == "local":
            stored = list(file_server.root.rglob(str(row.id)))
            assert len(stored) == 1
            assert stored[0].read_bytes() == PDF

    def test_a_url_is_single_use_and_a_failed_put_can_be_retried(
        self, files_tenant: TenantHandle
    ) -> None:
        c = files_tenant.client
        got = issue(c, "a.pdf", "application/pdf")
        # an .exe renamed .pdf: refused by its signature, nothing stored, retry allowed
        exe = b"MZ\x90\x00" + b"\x00" * 500
        err = fails(put(got["upload_url"], exe, "application/pdf"), 422, "VALIDATION_ERROR")
        assert err["details"][0]["message"] == "File content does not match application/pdf"
        fails(
            put(got["upload_url"], PDF, "text/plain"),
            400,
            "BAD_REQUEST",
            "Content-Type must be application/pdf for this upload URL",
        )
        err = fails(put(got["upload_url"], b"", "application/pdf"), 422, "VALIDATION_ERROR")
        assert constraint_of(err, "file") == "MIN_LENGTH"
        assert put(got["upload_url"], PDF).status_code == 200  # no Content-Type: the row's type
        fails(
            put(got["upload_url"], PDF, "application/pdf"),
            409,
            "CONFLICT",
            "Upload URL has already been used",
        )

    def test_oversized_uploads_are_413_while_streaming_and_nothing_is_stored(
        self, file_server: FileServer, files_tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = files_tenant.client
        got = issue(c, "big.txt", "text/plain")
        big = b"x" * (1024 * 1024 + 1)

        def stream() -> Any:  # no Content-Length: the cap must hold while streaming
            for i in range(0, len(big), 65536):
                yield big[i : i + 65536]

        resp = httpx.put(
            got["upload_url"], content=stream(), headers={"Content-Type": "text/plain"}, timeout=60
        )
        fails(resp, 413, "PAYLOAD_TOO_LARGE")
        [row] = rows(sessions, files_tenant)
        assert (row.state, row.size_bytes) == ("pending", None)
        if file_server.backend == "local":
            assert [p for p in file_server.root.rglob("*") if p.is_file()] == [] or all(
                str(row.id) not in p.name for p in file_server.root.rglob("*") if p.is_file()
            )
        sized = issue(c, "s.txt", "text/plain", size_bytes=10)
        fails(put(sized["upload_url"], b"only five", "text/plain"), 422, "VALIDATION_ERROR")
        err = fails(
            c.post(
                "/api-upload-url",
                json={
                    "filename": "x.txt",
                    "content_type": "text/plain",
                    "size_bytes": 2 * 1024 * 1024,
                },
            ),
            422,
            "VALIDATION_ERROR",
        )
        assert constraint_of(err, "size_bytes") == "MAX_VALUE"

    def test_expired_and_tampered_tokens_are_403(
        self, file_server: FileServer, files_tenant: TenantHandle
    ) -> None:
        c = files_tenant.client
        got = issue(c, "late.txt", "text/plain")
        payload, _, sig = got["upload_url"].rpartition("/")[2].partition(".")
        tampered = got["upload_url"].replace(sig, sig[:-2] + ("AA" if sig[-2:] != "AA" else "BB"))
        fails(put(tampered, b"hi", "text/plain"), 403, "FORBIDDEN", "Invalid or expired file URL")
        fails(put(got["upload_url"] + "x", b"hi"), 403, "FORBIDDEN")
        file_server.clock.advance(901)
        fails(
            put(got["upload_url"], b"hi", "text/plain"),
            403,
            "FORBIDDEN",
            "Invalid or expired file URL",
        )
        assert payload

    def test_upload_url_validation(
        self, files_tenant: TenantHandle, other_files_tenant: TenantHandle
    ) -> None:
        c = files_tenant.client
        err = fails(
            c.post(
                "/api-upload-url",
                json={"filename": "model.exe", "content_type": "application/octet-stream"},
            ),
            422,
            "VALIDATION_ERROR",
        )
        assert (
            err["details"][0]["message"]
            == "File extension .exe is not allowed for application/octet-stream"
        )
        for name in ("..\\x.txt", "a/b.txt", "nul\x00.txt"):
            err = fails(
                c.post("/api-upload-url", json={"filename": name, "content_type": "text/plain"}),
                422,
                "VALIDATION_ERROR",
            )
            assert constraint_of(err, "filename") == "INVALID_VALUE"
        for ctype in ("text/html", "image/svg+xml", "application/x-msdownload"):
            err = fails(
                c.post("/api-upload-url", json={"filename": "x.html", "content_type": ctype}),
                422,
                "VALIDATION_ERROR",
            )
            assert constraint_of(err, "content_type") == "ENUM_CONSTRAINT"
        traversal = issue(c, "notes.txt", "text/plain", job_number="../../etc")
        assert traversal["file_path"].startswith("jobs/.._.._etc/")
        theirs = make_job(other_files_tenant.client, ops=0).parts[0]
        err = fails(
            c.post(
                "/api-upload-url",
                json={"filename": "a.txt", "content_type": "text/plain", "part_id": theirs},
            ),
            422,
            "VALIDATION_ERROR",
        )
        assert constraint_of(err, "part_id") == "REFERENCE_NOT_FOUND"
        fails(c.get("/api-upload-url"), 405, "METHOD_NOT_ALLOWED")


class TestFileUrls:
    def test_sub_routes_check_record_reference_and_tenant(
        self, files_tenant: TenantHandle, other_files_tenant: TenantHandle
    ) -> None:
        c = files_tenant.client
        part = make_job(c, ops=1)
        got = issue(c, "p.txt", "text/plain", part_id=part.parts[0])
        assert put(got["upload_url"], b"program\n").status_code == 200
        fails(c.get(f"/api-parts/{part.parts[0]}/file-url"), 400, "BAD_REQUEST", "path is required")
        fails(
            c.get("/api-parts/not-a-uuid/file-url", params={"path": "x"}),
            400,
            "BAD_REQUEST",
            "Invalid id: must be a UUID",
        )
        fails(
            c.get(f"/api-parts/{part.parts[0]}/file-url", params={"path": "files/x"}),
            404,
            "NOT_FOUND",
            "CAD file not found for this part",
        )
        missing = str(uuid.uuid4())
        fails(
            c.get(f"/api-parts/{missing}/file-url", params={"path": "x"}),
            404,
            "NOT_FOUND",
            f"parts with ID {missing} not found",
        )
        other = other_files_tenant.client
        fails(
            other.get(f"/api-parts/{part.parts[0]}/file-url", params={"path": got["file_path"]}),
            404,
            "NOT_FOUND",
        )
        # a path the record names but that is no stored file of the tenant
        ok(
            c.patch(
                "/api-parts",
                params={"id": part.parts[0]},
                json={"file_paths": [got["file_path"], "elsewhere/x.pdf"]},
            )
        )
        fails(
            c.get(f"/api-parts/{part.parts[0]}/file-url", params={"path": "elsewhere/x.pdf"}),
            404,
            "NOT_FOUND",
            "File not found in storage",
        )
        issue_rec = ok(
            c.post(
                "/api-issues",
                json={
                    "operation_id": part.ops[0],
                    "title": "t",
                    "description": "d",
                    "image_paths": [got["file_path"]],
                },
            ),
            201,
        )["issue"]
        signed = ok(
            c.get(f"/api-issues/{issue_rec['id']}/image-url", params={"path": got["file_path"]})
        )
        assert httpx.get(signed["url"], timeout=60).content == b"program\n"
        fails(
            c.get(f"/api-issues/{issue_rec['id']}/image-url", params={"path": "nope"}),
            404,
            "NOT_FOUND",
            "Issue attachment not found",
        )
        batch = ok(
            c.post(
                "/api-batches",
                json={
                    "batch_number": f"B-{uuid.uuid4().hex[:6]}",
                    "cell_id": ok(
                        c.post("/api-cells", json={"name": f"C{uuid.uuid4().hex[:6]}"}), 201
                    )["cell"]["id"],
                    "nesting_image_url": got["file_path"],
                },
            ),
            201,
        )["batch"]
        signed = ok(
            c.get("/api-batches/image-url", params={"id": batch["id"], "path": got["file_path"]})
        )
        assert httpx.get(signed["url"], timeout=60).content == b"program\n"
        fails(
            c.get(f"/api-batches/{batch['id']}/image-url", params={"path": "x"}),
            404,
            "NOT_FOUND",
            "Batch image not found",
        )
