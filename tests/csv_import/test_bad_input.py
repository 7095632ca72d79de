"""Hostile and broken uploads (issue 12 "Bad input"), through the import service and the live
admin server: each gets a precise file-level or row-level error, and nothing already imported
is lost (the other files of the upload import, earlier imports stay as they were)."""

import http.client
import io
import zipfile
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from floorsync.bootstrap import Services
from floorsync.config import Settings
from floorsync.csv_import import service
from floorsync.csv_import.service import ImportRefused
from floorsync.db.repository import TenantScope
from floorsync.models.enums import CsvImportStatus
from floorsync.models.imports import CsvImport
from floorsync.models.master import Job
from tests.csv_import.helpers import fixture
from tests.csv_import.service_helpers import (
    count,
    import_files,
    invariant,
    issues,
    upload,
)
from tests.support.admin import AdminClient, signed_in
from tests.support.server import LiveServer
from tests.support.tenants import TenantHandle


def zipped(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


GOOD = "job_number;customer\nJ-1;Acme\nJ-2;Jörg\n"
WIDE = ",".join(f"c{n}" for n in range(600)) + "\n" + ",".join("x" for _ in range(600)) + "\n"
LONG = "job_number,notes\nJ-9," + "x" * 33_000 + "\n"


class TestBrokenFilesNextToGoodOnes:
    @pytest.mark.parametrize(
        ("name", "data", "code", "line"),
        [
            ("binary.csv", fixture("binary.csv"), "FILE_BINARY", None),
            ("book.csv", fixture("workbook.csv"), "FILE_EXCEL", None),
            ("legacy.csv", fixture("legacy.xls"), "FILE_EXCEL", None),
            (
                "quote.csv",
                b'job_number,notes\nJ-7,ok\nJ-8,"never closed\nJ-9,x\n',
                "UNTERMINATED_QUOTE",
                3,
            ),
            ("wide.csv", WIDE.encode(), "TOO_MANY_COLUMNS", 1),
            ("long.csv", LONG.encode(), "FIELD_TOO_LONG", 2),
            ("empty.csv", b"", "FILE_EMPTY", None),
            ("header.csv", b"job_number,customer\n", "FILE_EMPTY", None),
        ],
    )
    def test_a_broken_file_gets_its_file_level_error_and_the_others_import(
        self,
        services: Services,
        scope: TenantScope,
        name: str,
        data: bytes,
        code: str,
        line: int | None,
    ) -> None:
        imp = import_files(services, scope, {"orders.csv": GOOD, name: data})
        assert imp.status is CsvImportStatus.completed, imp.failure_reason
        assert (imp.created_count, imp.processed_rows) == (2, 2)
        invariant(imp)
        found = [i for i in issues(services, scope, imp.id) if i.file == name]
        assert [(i.code, i.line) for i in found] == [(code, line)]
        assert count(services, scope, Job) == 2
        blocked = service.blocking_issues(services, scope, imp.id)
        assert [i.code for i in blocked] == [code]

    def test_mixed_line_endings_and_duplicate_headers_import(
        self, services: Services, scope: TenantScope
    ) -> None:
        data = b"job_number,notes,notes\r\nJ-1,a,b\nJ-2,c,d\rJ-3,e,f\r\n"
        imp = import_files(services, scope, {"orders.csv": data})
        assert (imp.created_count, imp.failed_count) == (3, 0)
        with services.sessions() as session:
            (f,) = service.import_files(session, scope, imp.id)
            analysis = service.analyse_stored(session, scope, f, service.settings_of(imp))
        assert analysis.header == ["job_number", "notes", "notes (2)"]

    def test_a_broken_reimport_loses_nothing_already_imported(
        self, services: Services, scope: TenantScope
    ) -> None:
        import_files(services, scope, {"orders.csv": GOOD})
        broken = import_files(services, scope, {"orders.csv": b'job_number,customer\nJ-1,"oops\n'})
        assert broken.processed_rows == 0
        assert count(services, scope, Job) == 2


class TestRefusedArchives:
    def test_a_zip_bomb_is_refused(self, services: Services, scope: TenantScope) -> None:
        with pytest.raises(ImportRefused, match="expands more than 100:1"):
            upload(services, scope, {"bomb.zip": zipped({"bomb.csv": b"a" * (20 * 1024 * 1024)})})

    def test_nested_zips_are_not_opened(self, services: Services, scope: TenantScope) -> None:
        inner = zipped({"orders.csv": GOOD.encode()})
        with pytest.raises(ImportRefused, match="nested archives"):
            upload(services, scope, {"outer.zip": zipped({"inner.zip": inner})})

    def test_entry_names_that_climb_are_refused(
        self, services: Services, scope: TenantScope
    ) -> None:
        with pytest.raises(ImportRefused, match="unsafe name"):
            upload(services, scope, {"x.zip": zipped({"../../etc/orders.csv": GOOD.encode()})})
        assert count(services, scope, CsvImport) == 0


class TestOverHttp:
    @pytest.fixture
    def admin(self, server: LiveServer, tenant: TenantHandle) -> Iterator[AdminClient]:
        client = signed_in(server.base_url, tenant.admin_key)
        yield client
        client.close()

    def test_a_60_mib_upload_is_refused_with_413_before_its_body_is_read(
        self, server: LiveServer, admin: AdminClient, settings: Settings
    ) -> None:
        cookie = "; ".join(f"{k}={v}" for k, v in admin.http.cookies.items())
        host = urlsplit(server.base_url)
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
        conn.putrequest("POST", "/admin/imports")
        conn.putheader("Cookie", cookie)
        conn.putheader("Content-Type", "multipart/form-data; boundary=xyz")
        conn.putheader("Content-Length", str(260 * 1024 * 1024))
        conn.endheaders()  # and not one byte of the body
        resp = conn.getresponse()
        assert resp.status == 413
        assert b"nothing was stored" in resp.read()
        conn.close()

    def test_a_60_mib_file_is_refused_while_streaming(
        self, server: LiveServer, admin: AdminClient, services: Services, tenant: TenantHandle
    ) -> None:
        csrf = admin.csrf("/admin/imports/new")
        chunk = b"job_number\n" + b"J-123456789\n" * 87_000  # about 1 MiB

        def body() -> Iterator[bytes]:
            yield (
                b'--xyz\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
                + csrf.encode()
                + b'\r\n--xyz\r\nContent-Disposition: form-data; name="files"; '
                b'filename="big.csv"\r\nContent-Type: text/csv\r\n\r\n'
            )
            for _ in range(60):
                yield chunk
            yield b"\r\n--xyz--\r\n"

        try:
            resp = admin.http.post(
                "/admin/imports",
                content=body(),
                headers={"content-type": "multipart/form-data; boundary=xyz"},
            )
            status = resp.status_code
        except Exception:  # the server may close the connection while we are still sending
            status = 413
        assert status == 413
        assert count(services, TenantScope(tenant.id), CsvImport) == 0

    def test_a_form_post_without_csrf_token_is_403(
        self, admin: AdminClient, services: Services, tenant: TenantHandle
    ) -> None:
        resp = admin.http.post(
            "/admin/imports", files={"files": ("orders.csv", GOOD.encode(), "text/csv")}
        )
        assert resp.status_code == 403
        assert count(services, TenantScope(tenant.id), CsvImport) == 0

    def test_a_session_of_another_tenant_cannot_see_or_touch_an_import(
        self,
        server: LiveServer,
        admin: AdminClient,
        tenant: TenantHandle,
        other_tenant: TenantHandle,
        services: Services,
    ) -> None:
        csrf = admin.csrf("/admin/imports/new")
        resp = admin.http.post(
            "/admin/imports",
            data={"csrf_token": csrf, "source": "csv"},
            files={"files": ("orders.csv", GOOD.encode(), "text/csv")},
        )
        assert resp.status_code == 303
        path = resp.headers["location"]
        assert admin.get(path).status_code == 200
        other = signed_in(server.base_url, other_tenant.admin_key)
        try:
            for suffix in ("", "/progress.json", "/errors.csv"):
                assert other.get(path + suffix).status_code == 404
            started = other.post_form(path + "/start", csrf=other.csrf("/admin/imports"))
            assert started.status_code == 404
        finally:
            other.close()
