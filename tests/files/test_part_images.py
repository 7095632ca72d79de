"""`api-parts-images` (api-catalogue-completion §5) through a real server on both storage
backends: multipart upload, list with fresh signed URLs, byte-exact download, delete, the
image-only allow-list, disguised files, the size cap and other tenants' parts."""

import uuid
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.files.conftest import FileServer
from tests.shopfloor.helpers import constraint_of, events, fails, make_job, ok
from tests.support.tenants import TenantHandle

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64 + bytes(range(200))


def upload(
    c: httpx.Client, part_id: str, data: bytes, ctype: str, name: str = "photo.png"
) -> httpx.Response:
    return c.post(f"/api-parts-images/{part_id}/upload", files={"file": (name, data, ctype)})


class TestPartImages:
    def test_upload_list_download_and_delete(
        self, files_tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = files_tenant.client
        part = make_job(c, ops=0).parts[0]
        first = ok(upload(c, part, PNG, "image/png", "Front view.jpg"), 201)
        assert first["path"].startswith(f"parts/{part}/")
        assert first["path"].endswith(".png")  # from the verified type, not the filename
        assert (first["size"], first["content_type"]) == (len(PNG), "image/png")
        second = ok(upload(c, part, PNG, "image/png"), 201)
        listed = ok(c.get(f"/api-parts-images/{part}"))["images"]
        assert [i["path"] for i in listed] == [first["path"], second["path"]]
        assert httpx.get(listed[0]["url"], timeout=60).content == PNG
        assert ok(c.get("/api-parts", params={"id": part}))["part"]["image_paths"] == [
            first["path"],
            second["path"],
        ]
        one = ok(c.get(f"/api-parts-images/{part}/url", params={"path": second["path"]}))
        assert list(one) == ["url", "expires_in", "path", "expires_at"]
        gone = ok(c.delete(f"/api-parts-images/{part}", params={"path": first["path"]}))
        assert gone["deleted_path"] == first["path"]
        ok(c.request("DELETE", f"/api-parts-images/{part}", json={"path": second["path"]}))
        assert ok(c.get(f"/api-parts-images/{part}"))["images"] == []
        assert httpx.get(listed[0]["url"], timeout=60).status_code == 404
        changed = [
            e.data["changed_fields"] for e in events(sessions, files_tenant.id, "part.updated")
        ]
        assert changed == [["image_paths"]] * 4

    def test_bad_input(self, files_tenant: TenantHandle, other_files_tenant: TenantHandle) -> None:
        c = files_tenant.client
        part = make_job(c, ops=0).parts[0]
        err = fails(
            upload(c, part, b"%PDF-1.4 x", "application/pdf", "a.pdf"), 422, "VALIDATION_ERROR"
        )
        assert err["details"][0]["message"] == (
            "Invalid file type. Allowed types: image/jpeg, image/png, image/webp, image/gif"
        )
        err = fails(
            upload(c, part, b"MZ" + b"\x00" * 100, "image/png", "x.png"), 422, "VALIDATION_ERROR"
        )
        assert constraint_of(err, "file") == "INVALID_VALUE"
        fails(upload(c, part, PNG + b"\x00" * (1024 * 1024), "image/png"), 413, "PAYLOAD_TOO_LARGE")
        fails(
            c.post(f"/api-parts-images/{part}/upload", data={"x": "y"}),
            400,
            "BAD_REQUEST",
            "No file provided or invalid file",
        )
        fails(c.get(f"/api-parts-images/{part}/url"), 400, "BAD_REQUEST", "Image path is required")
        fails(
            c.get(f"/api-parts-images/{part}/url", params={"path": "parts/x.png"}),
            404,
            "NOT_FOUND",
            "Image not found for this part",
        )
        fails(c.delete(f"/api-parts-images/{part}"), 400, "BAD_REQUEST", "Image path is required")
        fails(
            c.get("/api-parts-images/not-a-uuid"), 400, "BAD_REQUEST", "Invalid id: must be a UUID"
        )
        fails(c.put(f"/api-parts-images/{part}"), 405, "METHOD_NOT_ALLOWED")
        missing = str(uuid.uuid4())
        fails(
            c.get(f"/api-parts-images/{missing}"),
            404,
            "NOT_FOUND",
            f"parts with ID {missing} not found",
        )
        theirs = make_job(other_files_tenant.client, ops=0).parts[0]
        fails(upload(c, theirs, PNG, "image/png"), 404, "NOT_FOUND")
        fails(c.get(f"/api-parts-images/{theirs}"), 404, "NOT_FOUND")
        assert ok(c.get(f"/api-parts-images/{part}"))["images"] == []


def stored_objects(
    file_server: FileServer, request: pytest.FixtureRequest, tenant: TenantHandle
) -> list[str]:
    """The tenant's objects in the store (local files under its directory, or S3 keys)."""
    if file_server.backend == "local":
        base = file_server.root / str(tenant.id)
        return sorted(str(p) for p in base.rglob("*") if p.is_file() and p.suffix != ".meta")
    s3 = request.getfixturevalue("s3_client")
    settings = file_server.server.app.state.services.settings
    listed = s3.list_objects_v2(Bucket=settings.s3_bucket, Prefix=f"{tenant.id}/")
    return sorted(o["Key"] for o in listed.get("Contents", []))


class TestBodyCap:
    """The image route's body limit is the image limit + 64 KiB (catalogue §5): a body over it
    is refused with 413 before it is read (Content-Length) or while it streams (chunked), and
    nothing is stored."""

    def test_a_declared_body_over_the_cap_is_413_before_reading(
        self, file_server: FileServer, files_tenant: TenantHandle, request: pytest.FixtureRequest
    ) -> None:
        c = files_tenant.client
        part = make_job(c, ops=0).parts[0]
        big = PNG + b"\x00" * (2 * 1024 * 1024)
        err = fails(upload(c, part, big, "image/png"), 413, "PAYLOAD_TOO_LARGE")
        limit = 1024 * 1024 + 64 * 1024
        assert err["message"] == (
            f"Request body too large: an image upload may send at most {limit} bytes "
            "(FLOORSYNC_STORAGE_MAX_IMAGE_MB plus 64 KiB of form data)"
        )
        assert ok(c.get(f"/api-parts-images/{part}"))["images"] == []
        assert stored_objects(file_server, request, files_tenant) == []

    def test_a_streamed_body_over_the_cap_is_413_while_streaming(
        self, file_server: FileServer, files_tenant: TenantHandle, request: pytest.FixtureRequest
    ) -> None:
        c = files_tenant.client
        part = make_job(c, ops=0).parts[0]
        boundary = "fsboundary0123456789"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="huge.png"\r\nContent-Type: image/png\r\n\r\n'
        ).encode()

        def body() -> Iterator[bytes]:  # no Content-Length: chunked transfer
            yield head + PNG
            for _ in range(40):  # 2.5 MiB in 64 KiB chunks
                yield b"\x00" * 65536
            yield f"\r\n--{boundary}--\r\n".encode()

        for extra in ({}, {"Idempotency-Key": f"big-{uuid.uuid4().hex}"}):
            # with an Idempotency-Key the body is read for its fingerprint first: capped too
            resp = c.post(
                f"/api-parts-images/{part}/upload",
                content=body(),
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}", **extra},
            )
            assert "content-length" not in resp.request.headers
            fails(resp, 413, "PAYLOAD_TOO_LARGE")
        assert ok(c.get(f"/api-parts-images/{part}"))["images"] == []
        assert ok(c.get("/api-parts", params={"id": part}))["part"]["image_paths"] == []
        assert stored_objects(file_server, request, files_tenant) == []
        # the route still works afterwards
        ok(upload(c, part, PNG, "image/png"), 201)
        assert len(stored_objects(file_server, request, files_tenant)) == 1


class TestIdempotentUpload:
    def test_a_retried_upload_with_the_same_key_is_replayed_not_stored_twice(
        self, files_tenant: TenantHandle
    ) -> None:
        """The Idempotency-Key fingerprint of a multipart upload hashes the raw body: the same
        request again replays the first reply; other bytes under the same key are refused."""
        c = files_tenant.client
        part = make_job(c, ops=0).parts[0]
        key = {"Idempotency-Key": f"img-{uuid.uuid4().hex}"}

        def send(data: bytes) -> httpx.Response:
            boundary = "fixedboundary42"
            body = (
                (
                    f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                    'filename="photo.png"\r\nContent-Type: image/png\r\n\r\n'
                ).encode()
                + data
                + f"\r\n--{boundary}--\r\n".encode()
            )
            return c.post(
                f"/api-parts-images/{part}/upload",
                content=body,
                headers={**key, "Content-Type": f"multipart/form-data; boundary={boundary}"},
            )

        first = send(PNG)
        assert first.status_code == 201, first.text
        again = send(PNG)
        assert again.status_code == 201
        assert again.headers.get("idempotency-replayed") == "true"
        assert again.json() == first.json()
        assert len(ok(c.get(f"/api-parts-images/{part}"))["images"]) == 1
        other = send(PNG + b"\x01")
        fails(other, 409, "CONFLICT", "Idempotency-Key was already used with a different request")
        assert len(ok(c.get(f"/api-parts-images/{part}"))["images"]) == 1
