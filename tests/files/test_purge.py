"""`storage.purge` and `floorsync files` (api-catalogue-completion §2.7) on both storage
backends, under the server's fake clock: abandoned uploads go an hour after their URL expired
(bytes, then row), deleted files go, stored files stay; `prune --unreferenced` removes only
attachments nothing references; the CLI group checks, purges and prunes."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from floorsync.cli.app import app
from floorsync.config import Settings, get_settings
from floorsync.files.purge import prune_unreferenced, purge_files, remove_deleted
from floorsync.files.tasks import PURGE, storage_for
from floorsync.models.catalogue import StoredFile
from floorsync.models.enums import StorageBackendKind
from floorsync.storage.keys import StorageKey
from floorsync.worker.registry import PERIODIC_TASKS
from tests.files.conftest import FileServer
from tests.files.test_part_images import PNG, upload
from tests.files.test_signed_urls import issue, put
from tests.shopfloor.helpers import make_job, ok
from tests.support.tenants import TenantHandle


def states(sessions: sessionmaker[Session], tenant: TenantHandle) -> dict[str, str]:
    with sessions() as s:
        found = s.scalars(select(StoredFile).where(StoredFile.tenant_id == tenant.id))
        return {row.path: str(getattr(row.state, "value", row.state)) for row in found}


def mine(errors: list[str], tenant: TenantHandle) -> list[str]:
    """The purge runs for every tenant of the shared test database (other modules' files may
    sit on a backend this server isn't configured for): only this tenant's failures count."""
    return [e for e in errors if e.startswith(f"{tenant.id}/")]


def key_of(sessions: sessionmaker[Session], tenant: TenantHandle, path: str) -> StorageKey:
    with sessions() as s:
        row = s.scalars(
            select(StoredFile).where(StoredFile.tenant_id == tenant.id, StoredFile.path == path)
        ).one()
        return StorageKey.parse(row.storage_key)


class TestPurge:
    def test_abandoned_uploads_and_deleted_files_go_and_stored_files_stay(
        self, file_server: FileServer, files_tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = files_tenant.client
        services = file_server.server.app.state.services
        storage = services.storage
        abandoned = issue(c, "never.txt", "text/plain")["file_path"]
        orphan = issue(c, "orphan.txt", "text/plain")
        kept = issue(c, "kept.txt", "text/plain")
        assert put(kept["upload_url"], b"kept bytes", "text/plain").status_code == 200
        part = make_job(c, ops=0).parts[0]
        image = ok(upload(c, part, PNG, "image/png"), 201)["path"]
        ok(c.delete(f"/api-parts-images/{part}", params={"path": image}))
        # bytes written for a row that never became `stored` (a crash before the commit)
        orphan_key = key_of(sessions, files_tenant, orphan["file_path"])
        storage.put(orphan_key, [b"left behind"], content_type="text/plain", max_bytes=100)
        assert states(sessions, files_tenant) == {
            abandoned: "pending",
            orphan["file_path"]: "pending",
            kept["file_path"]: "stored",
            image: "deleted",
        }

        ttl = services.settings.storage_url_ttl
        file_server.clock.advance(ttl + 30 * 60)  # expired, but not an hour ago yet
        report = purge_files(services.sessions, file_server.clock, storage_for(services))
        assert mine(report.errors, files_tenant) == []
        assert states(sessions, files_tenant) == {
            abandoned: "pending",
            orphan["file_path"]: "pending",
            kept["file_path"]: "stored",
        }

        file_server.clock.advance(31 * 60)
        report = purge_files(services.sessions, file_server.clock, storage_for(services))
        assert report.expired >= 2
        assert report.removed >= 2
        assert states(sessions, files_tenant) == {kept["file_path"]: "stored"}
        assert storage.stat(orphan_key) is None
        kept_key = key_of(sessions, files_tenant, kept["file_path"])
        with storage.open(kept_key) as reader:
            assert reader.read_all() == b"kept bytes"
        # the expired URL of a purged upload is refused, not resurrected
        assert httpx.put(orphan["upload_url"], content=b"x", timeout=60).status_code == 403

    def test_prune_removes_only_unreferenced_attachments(
        self, file_server: FileServer, files_tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = files_tenant.client
        services = file_server.server.app.state.services
        part = make_job(c, ops=0).parts[0]
        attached = issue(c, "drawing.txt", "text/plain", part_id=part)
        assert put(attached["upload_url"], b"on the part", "text/plain").status_code == 200
        loose = issue(c, "loose.txt", "text/plain")
        assert put(loose["upload_url"], b"nobody's", "text/plain").status_code == 200
        loose_key = key_of(sessions, files_tenant, loose["file_path"])
        clock = file_server.clock
        young = prune_unreferenced(
            services.sessions, clock, timedelta(days=30), tenant_id=files_tenant.id
        )
        assert young == []
        clock.advance(31 * 86400)
        dry = prune_unreferenced(
            services.sessions, clock, timedelta(days=30), tenant_id=files_tenant.id, dry_run=True
        )
        assert [path for _t, path in dry] == [loose["file_path"]]
        assert states(sessions, files_tenant)[loose["file_path"]] == "stored"
        pruned = prune_unreferenced(
            services.sessions, clock, timedelta(days=30), tenant_id=files_tenant.id
        )
        assert [(t, path) for t, path in pruned] == [(files_tenant.id, loose["file_path"])]
        report = remove_deleted(services.sessions, storage_for(services))
        assert mine(report.errors, files_tenant) == []
        assert states(sessions, files_tenant) == {attached["file_path"]: "stored"}
        assert services.storage.stat(loose_key) is None
        url = ok(c.get(f"/api-parts/{part}/file-url", params={"path": attached["file_path"]}))
        assert httpx.get(url["url"], timeout=60).content == b"on the part"

    def test_files_on_a_backend_not_configured_here_are_left_alone_without_an_error(
        self,
        file_server: FileServer,
        files_tenant: TenantHandle,
        sessions: sessionmaker[Session],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Deleted files on S3 after switching back to local storage without a bucket: the task
        can't remove them, says so, and does not fail every run for a configuration matter."""
        c = files_tenant.client
        services = file_server.server.app.state.services
        if services.settings.s3_bucket is not None:
            pytest.skip("S3 is configured in this parametrization: no backend lacks its setup")
        part = make_job(c, ops=0).parts[0]
        image = ok(upload(c, part, PNG, "image/png"), 201)["path"]
        ok(c.delete(f"/api-parts-images/{part}", params={"path": image}))
        with sessions.begin() as s:
            s.execute(
                update(StoredFile)
                .where(StoredFile.tenant_id == files_tenant.id, StoredFile.path == image)
                .values(backend=StorageBackendKind.s3)
            )
        # a removable file after it (ids grow with time), one row per batch: the purge pages
        # past the rows it must leave instead of stopping at them
        later = ok(upload(c, part, PNG, "image/png"), 201)["path"]
        ok(c.delete(f"/api-parts-images/{part}", params={"path": later}))
        monkeypatch.setattr("floorsync.files.purge.BATCH", 1)

        report = PURGE.run(services)  # as the worker runs it: an exception is the run's error

        assert report.unconfigured >= 1
        assert mine(report.errors, files_tenant) == []
        assert states(sessions, files_tenant) == {image: "deleted"}

    def test_storage_purge_is_an_hourly_periodic_task(self, settings: Settings) -> None:
        assert PURGE in PERIODIC_TASKS
        assert PURGE.name == "storage.purge"
        assert PURGE.every(settings) == timedelta(hours=1)


@pytest.fixture
def cli_env(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("FLOORSYNC_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FLOORSYNC_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("FLOORSYNC_STORAGE_LOCAL_DIR", str(tmp_path / "files"))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


class TestFilesCommands:
    def test_check_purge_and_prune(self, cli_env: Path, tenant: TenantHandle) -> None:
        runner = CliRunner()
        checked = runner.invoke(app, ["files", "check"])
        assert checked.exit_code == 0, checked.output
        assert checked.output.strip() == f"file storage (local) ok: {cli_env / 'files'}"
        purged = runner.invoke(app, ["files", "purge"])
        # The shared test database may hold other modules' deleted files on a backend this
        # environment doesn't configure (S3 on moto): those are left alone, not a failure.
        assert purged.exit_code == 0, purged.output
        assert purged.output.startswith("expired ")
        assert " abandoned upload(s); removed " in purged.output
        refused = runner.invoke(app, ["files", "prune"])
        assert refused.exit_code == 2
        assert "--unreferenced" in refused.output
        bad_age = runner.invoke(app, ["files", "prune", "--unreferenced", "--older-than", "soon"])
        assert bad_age.exit_code == 2
        dry = runner.invoke(
            app,
            [
                *[
                    "files",
                    "prune",
                    "--unreferenced",
                    "--older-than",
                    "30d",
                    "--dry-run",
                    "--tenant",
                ],
                str(tenant.id),
            ],
        )
        assert dry.exit_code == 0, dry.output
        assert dry.output.strip() == "0 unreferenced file(s) would be removed (dry run)"

    def test_check_says_why_the_storage_is_unusable(
        self, cli_env: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        blocker = cli_env / "a-file"
        blocker.write_text("not a directory")
        monkeypatch.setenv("FLOORSYNC_STORAGE_LOCAL_DIR", str(blocker / "files"))
        get_settings.cache_clear()
        done = CliRunner().invoke(app, ["files", "check"])
        assert done.exit_code == 1
        assert "file storage (local) is unusable: " in done.output
        assert "is not writable" in done.output
