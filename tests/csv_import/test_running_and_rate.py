"""One import per tenant at a time (CSV import §11.3, §14 "Running imports per tenant: 1 →
queued") and the progress rate over the last 10 seconds (§11.4), on SQLite and PostgreSQL,
plus the pure rate arithmetic (csv_import/rate.py)."""

import signal
import subprocess
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from floorsync.bootstrap import Services
from floorsync.config import Settings
from floorsync.csv_import import service
from floorsync.csv_import.job import run_job
from floorsync.csv_import.rate import add_sample, eta_seconds, window_rate
from floorsync.db.repository import TenantScope
from floorsync.models.enums import CsvImportStatus, ImportPhase
from floorsync.models.imports import CsvImport
from floorsync.models.master import Job
from tests.csv_import.service_helpers import count, load, new_scope, upload
from tests.support.worker_process import FLOORSYNC, worker_env


def jobs_csv(prefix: str, rows: int) -> str:
    return "external_id,job_number,customer\n" + "".join(
        f"{prefix}-{n},{prefix}-J{n},Acme\n" for n in range(rows)
    )


def queue(
    services: Services, scope: TenantScope, prefix: str, rows: int, phase: ImportPhase
) -> uuid.UUID:
    import_id = upload(
        services, scope, {f"{prefix}-jobs.csv": jobs_csv(prefix, rows)}, chunk_size=2
    )
    service.confirm_mapping(services, scope, import_id)
    service.request(services, scope, import_id, phase, background=False)
    return import_id


class TestOneImportPerTenant:
    def test_a_second_import_waits_queued_while_the_first_runs_then_runs(
        self, services: Services
    ) -> None:
        scope = new_scope(services)
        other_tenant = new_scope(services)
        first = queue(services, scope, "A", 6, ImportPhase.import_)
        second = queue(services, scope, "B", 4, ImportPhase.import_)
        preview = queue(services, scope, "C", 2, ImportPhase.preview)
        elsewhere = queue(services, other_tenant, "D", 2, ImportPhase.import_)
        seen: dict[str, object] = {}

        def during_first() -> None:
            if seen:
                return
            # the first import is running (after its first batch): the second must wait …
            seen["second"] = run_job(services, scope.tenant_id, second, owner="w2")
            progress = service.progress(services, scope, second)
            seen["second_status"] = progress["status"]
            seen["waiting_for"] = progress["waiting_for"]
            # … while a preview of the same tenant and another tenant's import run at once
            seen["preview"] = run_job(services, scope.tenant_id, preview, owner="w3")
            seen["elsewhere"] = run_job(services, other_tenant.tenant_id, elsewhere, owner="w4")

        done = run_job(services, scope.tenant_id, first, owner="w1", on_batch=during_first)
        assert done is CsvImportStatus.completed
        assert seen["second"] is CsvImportStatus.queued
        assert seen["second_status"] == "queued"
        assert seen["waiting_for"] == str(first)
        assert seen["preview"] is CsvImportStatus.previewed
        assert seen["elsewhere"] is CsvImportStatus.completed
        assert count(services, scope, Job) == 6  # nothing of the second import yet
        # the first finished: the second now runs, and no longer says it waits
        assert run_job(services, scope.tenant_id, second, owner="w2") is (CsvImportStatus.completed)
        assert count(services, scope, Job) == 10
        assert service.progress(services, scope, second)["waiting_for"] is None
        assert "waiting_for" not in load(services, scope, second).options

    def test_an_abandoned_running_import_does_not_block_the_tenant(
        self, services: Services
    ) -> None:
        scope = new_scope(services)
        stale = queue(services, scope, "S", 2, ImportPhase.import_)
        fresh = queue(services, scope, "F", 2, ImportPhase.import_)
        old = services.clock.now() - timedelta(seconds=services.settings.import_abandon_seconds + 5)
        with services.sessions.begin() as session:
            session.execute(
                update(CsvImport)
                .where(CsvImport.id == stale)
                .values(
                    status=CsvImportStatus.running,
                    lease_owner="dead-worker",
                    heartbeat_at=old,
                    started_at=old,
                )
            )
        assert run_job(services, scope.tenant_id, fresh, owner="w1") is CsvImportStatus.completed

    def test_a_cancelled_waiting_import_is_cancelled_and_resumable(
        self, services: Services
    ) -> None:
        scope = new_scope(services)
        first = queue(services, scope, "G", 4, ImportPhase.import_)
        second = queue(services, scope, "H", 2, ImportPhase.import_)
        seen: list[object] = []

        def during_first() -> None:
            if not seen:
                seen.append(run_job(services, scope.tenant_id, second, owner="w2"))
                seen.append(service.cancel(services, scope, second))

        run_job(services, scope.tenant_id, first, owner="w1", on_batch=during_first)
        assert seen == [CsvImportStatus.queued, CsvImportStatus.cancelled]
        service.resume(services, scope, second, background=False)
        assert run_job(services, scope.tenant_id, second, owner="w2") is (CsvImportStatus.completed)


class TestRate:
    def test_progress_reports_the_rate_of_the_last_batches(self, services: Services) -> None:
        scope = new_scope(services)
        import_id = queue(services, scope, "R", 6, ImportPhase.import_)
        rates: list[dict[str, object]] = []

        def after_batch() -> None:
            rates.append(service.progress(services, scope, import_id))

        run_job(services, scope.tenant_id, import_id, owner="w1", on_batch=after_batch)
        samples = load(services, scope, import_id).options["rate_samples"]
        assert samples[-1][1] == 6  # the last sample is the last batch's rows done
        running = [r for r in rates if r["status"] == "running"]
        assert running
        assert all(float(str(r["rows_per_second"])) >= 0 for r in running)
        # an ETA while running (rows remain), none once finished
        assert any(r["eta_seconds"] is not None for r in running[:-1])
        assert service.progress(services, scope, import_id)["eta_seconds"] is None


class TestRateArithmetic:
    def test_a_steady_job_shows_its_rate(self) -> None:
        samples: list[list[float]] = []
        for second in range(0, 31):
            samples = add_sample(samples, 1000.0 + second, 100 * second)
        assert window_rate(samples, 1030.0) == pytest.approx(100.0)
        assert eta_seconds(5000, window_rate(samples, 1030.0)) == 50.0

    def test_the_rate_is_that_of_the_last_ten_seconds_not_the_average(self) -> None:
        samples: list[list[float]] = []
        for second in range(0, 21):  # 1,000 rows/s for 20 s …
            samples = add_sample(samples, float(second), 1000 * second)
        for second in range(21, 41):  # … then 10 rows/s
            samples = add_sample(samples, float(second), 20_000 + 10 * (second - 20))
        assert window_rate(samples, 40.0) == pytest.approx(10.0)

    def test_a_stalled_job_falls_to_zero(self) -> None:
        samples = add_sample(add_sample([], 0.0, 0), 5.0, 500)
        assert window_rate(samples, 6.0) == pytest.approx(500 / 6)
        assert window_rate(samples, 12.0) == pytest.approx(300 / 10)  # 200 → 500 in [2, 12]
        assert window_rate(samples, 15.0) == 0.0
        assert eta_seconds(100, 0.0) is None

    def test_pruning_keeps_the_window_and_one_sample_before_it(self) -> None:
        samples: list[list[float]] = []
        for second in range(0, 100):
            samples = add_sample(samples, float(second), second)
        assert samples[0] == [89.0, 89.0]
        assert samples[-1] == [99.0, 99.0]
        assert len(samples) == 11

    def test_no_samples_no_rate(self) -> None:
        assert window_rate([], 10.0) == 0.0
        assert window_rate([[10.0, 5.0]], 10.0) == 0.0


class TestTheCommandWaits:
    def test_floorsync_import_waits_for_the_running_import_and_ctrl_c_cancels_it(
        self, settings: Settings, services: Services, tmp_path: Path
    ) -> None:
        scope = new_scope(services)
        running = queue(services, scope, "L", 2, ImportPhase.import_)
        later = services.clock.now() + timedelta(minutes=10)  # a live worker's heartbeat
        with services.sessions.begin() as session:
            session.execute(
                update(CsvImport)
                .where(CsvImport.id == running)
                .values(
                    status=CsvImportStatus.running,
                    lease_owner="another-worker",
                    heartbeat_at=later,
                    started_at=later,
                )
            )
        (tmp_path / "orders.csv").write_text(jobs_csv("M", 3))
        proc = subprocess.Popen(
            [str(FLOORSYNC), "import", "orders.csv", "--tenant", str(scope.tenant_id)],
            env=worker_env(settings),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 300
            waiting = None
            while waiting is None and time.monotonic() < deadline and proc.poll() is None:
                for imp in service.list_imports(services, scope):
                    if imp.id != running and (imp.options or {}).get("waiting_for"):
                        waiting = imp
                time.sleep(0.2)
            assert waiting is not None, "the command never waited"
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=300)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 4, (out, err)
        assert f"waiting: import {running} of this tenant is running" in err
        assert f"floorsync imports resume {waiting.id}" in err
        assert load(services, scope, waiting.id).status is CsvImportStatus.cancelled
        assert count(services, scope, Job) == 0
