"""`api-parts-images` (api-catalogue-completion §5) through a real server on both storage
backends: multipart upload, list with fresh signed URLs, byte-exact download, delete, the
image-only allow-list, disguised files, the size cap and other tenants' parts."""

import uuid

import httpx
from sqlalchemy.orm import Session, sessionmaker

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
