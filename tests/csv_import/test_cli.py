"""`floorsync import` and `floorsync imports …` as real commands (subprocesses on the test
database), CSV import §2.2 and §16: exit codes, --dry-run, --json, --errors, progress lines
without a terminal, and Ctrl-C followed by `imports resume`."""

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from floorsync.bootstrap import Services
from floorsync.config import Settings
from floorsync.db.repository import TenantScope
from floorsync.models.master import Job
from tests.csv_import.helpers import DATA
from tests.csv_import.service_helpers import count
from tests.support.worker_process import FLOORSYNC, worker_env


def floorsync(
    settings: Settings, *args: str, cwd: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(FLOORSYNC), *args],
        env=worker_env(settings, **env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


JOBS = "Ordernummer;Klant;Prioriteit\nSO-1;Acme BV;1\nSO-2;Jörg GmbH;2\n"
BAD_JOBS = "Ordernummer;Klant;Prioriteit\nSO-1;Acme BV;1\nSO-2;Jörg GmbH;hoog\n"


class TestImportCommand:
    def test_import_prints_a_summary_and_exits_0_then_reimport_is_unchanged(
        self, settings: Settings, services: Services, scope: TenantScope, tmp_path: Path
    ) -> None:
        (tmp_path / "orders.csv").write_text(JOBS, encoding="cp1252")
        tenant = str(scope.tenant_id)
        done = floorsync(settings, "import", "orders.csv", "--tenant", tenant, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "orders.csv" in done.stdout
        assert "Created" in done.stdout
        assert count(services, scope, Job) == 2
        again = floorsync(
            settings, "import", "orders.csv", "--tenant", tenant, "--json", cwd=tmp_path
        )
        assert again.returncode == 0, again.stderr
        summary = json.loads(again.stdout)
        assert summary["counts"] == {
            "created": 0,
            "updated": 0,
            "unchanged": 2,
            "failed": 0,
            "deleted": 0,
        }
        assert summary["files"][0]["entity"] == "jobs"

    def test_failed_rows_exit_1_with_error_report_and_failed_rows_file(
        self, settings: Settings, services: Services, scope: TenantScope, tmp_path: Path
    ) -> None:
        (tmp_path / "orders.csv").write_text(BAD_JOBS, encoding="utf-8")
        done = floorsync(
            settings,
            "import",
            "orders.csv",
            "--tenant",
            str(scope.tenant_id),
            "--errors",
            "errors.csv",
            "--failed-rows",
            "failed.csv",
            cwd=tmp_path,
        )
        assert done.returncode == 1, done.stderr
        report = (tmp_path / "errors.csv").read_text(encoding="utf-8-sig")
        assert report.splitlines()[0] == (
            "file;line;column;column_number;field;entity;external_id;severity;code;message;value"
        )
        assert "orders.csv;3;Prioriteit;3;priority;jobs;SO-2;error;TYPE_INTEGER" in report
        failed = (tmp_path / "failed.csv").read_text(encoding="utf-8-sig").splitlines()
        assert failed[0] == "Ordernummer;Klant;Prioriteit;floorsync_line;floorsync_errors"
        assert failed[1].startswith("SO-2;Jörg GmbH;hoog;3;")
        assert count(services, scope, Job) == 1

    def test_dry_run_writes_nothing(
        self, settings: Settings, services: Services, scope: TenantScope, tmp_path: Path
    ) -> None:
        (tmp_path / "orders.csv").write_text(BAD_JOBS)
        done = floorsync(
            settings,
            "import",
            "orders.csv",
            "--tenant",
            str(scope.tenant_id),
            "--dry-run",
            "--json",
            cwd=tmp_path,
        )
        assert done.returncode == 1, done.stderr
        assert json.loads(done.stdout)["preview"]["totals"] == {"create": 1, "error": 1}
        assert count(services, scope, Job) == 0
        (tmp_path / "good.csv").write_text(JOBS)
        ok = floorsync(
            settings,
            "import",
            "good.csv",
            "--entity",
            "good.csv=jobs",
            "--tenant",
            str(scope.tenant_id),
            "--dry-run",
            cwd=tmp_path,
        )
        assert ok.returncode == 0, ok.stderr
        assert count(services, scope, Job) == 0

    def test_no_skip_errors_blocks_with_exit_3(
        self, settings: Settings, services: Services, scope: TenantScope, tmp_path: Path
    ) -> None:
        (tmp_path / "orders.csv").write_text(BAD_JOBS)
        done = floorsync(
            settings,
            "import",
            "orders.csv",
            "--tenant",
            str(scope.tenant_id),
            "--no-skip-errors",
            cwd=tmp_path,
        )
        assert done.returncode == 3, done.stderr
        assert count(services, scope, Job) == 0

    @pytest.mark.parametrize(
        ("name", "content", "code"),
        [
            ("empty.csv", b"", "FILE_EMPTY"),
            ("book.csv", (DATA / "legacy.xls").read_bytes(), "FILE_EXCEL"),
            ("binary.csv", (DATA / "binary.csv").read_bytes(), "FILE_BINARY"),
            ("quote.csv", b'job_number,customer\nJ-1,"never closed\n', "UNTERMINATED_QUOTE"),
        ],
    )
    def test_an_unreadable_file_blocks_with_exit_3(
        self,
        settings: Settings,
        scope: TenantScope,
        tmp_path: Path,
        name: str,
        content: bytes,
        code: str,
    ) -> None:
        (tmp_path / name).write_bytes(content)
        done = floorsync(settings, "import", name, "--tenant", str(scope.tenant_id), cwd=tmp_path)
        assert done.returncode == 3, (done.stdout, done.stderr)
        assert code in done.stderr

    def test_usage_errors_exit_2(
        self, settings: Settings, scope: TenantScope, tmp_path: Path
    ) -> None:
        missing = floorsync(
            settings, "import", "nope.csv", "--tenant", str(scope.tenant_id), cwd=tmp_path
        )
        assert missing.returncode == 2
        (tmp_path / "orders.csv").write_text(JOBS)
        tenant = floorsync(settings, "import", "orders.csv", "--tenant", "no-such", cwd=tmp_path)
        assert tenant.returncode == 2
        option = floorsync(
            settings,
            "import",
            "orders.csv",
            "--tenant",
            str(scope.tenant_id),
            "--bogus",
            cwd=tmp_path,
        )
        assert option.returncode == 2

    def test_map_overrides_a_column_and_a_missing_required_field_blocks(
        self, settings: Settings, services: Services, scope: TenantScope, tmp_path: Path
    ) -> None:
        (tmp_path / "orders.csv").write_text("Code;Klant\nSO-9;Acme\n")
        blocked = floorsync(
            settings,
            "import",
            "orders.csv",
            "--entity",
            "orders.csv=jobs",
            "--tenant",
            str(scope.tenant_id),
            cwd=tmp_path,
        )
        assert blocked.returncode == 3
        assert "REQUIRED_COLUMN_MISSING" in blocked.stderr
        done = floorsync(
            settings,
            "import",
            "orders.csv",
            "--entity",
            "orders.csv=jobs",
            "--map",
            "orders.csv:Code=job_number",
            "--tenant",
            str(scope.tenant_id),
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        assert count(services, scope, Job) == 1


class TestProgressAndInterrupt:
    def test_progress_lines_then_ctrl_c_then_resume(
        self, settings: Settings, services: Services, scope: TenantScope, tmp_path: Path
    ) -> None:
        rows = 40_000
        (tmp_path / "orders.csv").write_text(
            "job_number;priority\n" + "".join(f"J-{n};{n % 3}\n" for n in range(rows))
        )
        tenant = str(scope.tenant_id)
        proc = subprocess.Popen(
            [str(FLOORSYNC), "import", "orders.csv", "--tenant", tenant],
            env=worker_env(settings, FLOORSYNC_IMPORT_PROGRESS_SECONDS="0.2"),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 300
        while count(services, scope, Job) < 2_000 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 4, (out, err)
        assert "preview: " in err  # non-terminal progress lines
        assert "rows/s" in err
        assert "floorsync imports resume" in err
        resume = err.split("resume it with: ")[1].split()
        assert resume[:3] == ["floorsync", "imports", "resume"]
        assert 0 < count(services, scope, Job) < rows
        again = floorsync(settings, *resume[1:], "--json", cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        summary = json.loads(again.stdout)
        assert summary["counts"]["created"] == rows
        assert count(services, scope, Job) == rows
        listed = floorsync(settings, "imports", "list", "--tenant", tenant, "--json", cwd=tmp_path)
        assert json.loads(listed.stdout)[0]["status"] == "completed"


class TestTemplates:
    def test_templates_zip_imports_cleanly_into_an_empty_tenant(
        self, settings: Settings, scope: TenantScope, tmp_path: Path
    ) -> None:
        made = floorsync(settings, "imports", "template", "all", "--delimiter", ";", cwd=tmp_path)
        assert made.returncode == 0, made.stderr
        done = floorsync(
            settings,
            "import",
            "templates.zip",
            "--tenant",
            str(scope.tenant_id),
            "--json",
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["counts"]["created"] == 6
        one = floorsync(settings, "imports", "template", "jobs", cwd=tmp_path)
        assert one.stdout.startswith("\ufeffexternal_id,external_source,job_number")
