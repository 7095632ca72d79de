"""CSV import benchmark (CSV import spec §14): preview, import and re-import of a 100,000-row
jobs file and a 100,000-row operations file, through the import service and the job code the
worker runs (csv_import.job.run_job).

    .venv/bin/python bench/csv_import.py --db sqlite [--json]
    .venv/bin/python bench/csv_import.py --db postgres [--json]   # FLOORSYNC_BENCH_PG=postgresql+psycopg://postgres@127.0.0.1:5432/fs_x

The files are written the European way: `;`, decimal commas with thousands dots, day-first
dates, Windows-1252 (`Café`, `Jörg`, `Größe`). The operations reference 20,000 existing parts
by external id and 12 cells by name (seeded first through the sync service). Targets on a
2-core machine: import under 30 s, preview under 20 s, re-import no slower than the import,
resident memory under 512 MiB. The collector's thresholds are floorsync's (kit/gc_tuning.py),
as in the worker and the CLI that run imports (`--default-gc` keeps CPython's). Prints a
table, or with --json one object per file with `import_seconds`, `preview_seconds`,
`reimport_seconds`, `rows_per_s`, `peak_rss_mib`.
"""

import argparse
import json
import os
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from floorsync.auth.tenants import create_tenant
from floorsync.bootstrap import Services, build_services
from floorsync.config import Settings
from floorsync.csv_import import service
from floorsync.csv_import.job import run_job
from floorsync.csv_import.service import ImportSettings, Upload
from floorsync.db.migrate import upgrade
from floorsync.db.repository import TenantScope
from floorsync.db.uow import unit_of_work
from floorsync.entities.registry import BY_NAME
from floorsync.events.outbox import Origin
from floorsync.kit.gc_tuning import tune_gc
from floorsync.models.enums import CsvImportStatus, ImportChannel, ImportPhase, SyncTrigger
from floorsync.sync.options import SyncOptions
from floorsync.sync.service import run_sync

ROWS = 100_000  # --rows changes it (the targets are for 100,000)
PARTS = 20_000
# This process's CPU seconds per phase (on SQLite the database works in this process too): a
# measure that a loaded machine distorts far less than wall-clock time.
CPU: dict[str, float] = {}
CELLS = [f"Cel {n} – Größe" if n % 4 == 0 else f"Cell {n}" for n in range(12)]


@contextmanager
def fresh_database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="floorsync-bench-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    import psycopg

    admin = os.environ.get(
        "FLOORSYNC_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    base = admin.rsplit("/", 1)[-1].split("?", 1)[0]
    prefix = "floorsync_bench" if base in ("", "postgres") else base
    name = f"{prefix}_{os.getpid()}_{int(time.time())}"
    plain = admin.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def set_rows(rows: int) -> None:
    global ROWS, PARTS
    ROWS, PARTS = rows, max(rows // 5, 10)


def note(message: str) -> None:
    """Progress on stderr, so a long run under load shows where it is."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def jobs_file() -> bytes:
    lines = ["Ordernummer;Klant;Leverdatum;Prioriteit;Totaal gewicht kg;Opmerking"]
    for n in range(ROWS):
        lines.append(
            f"SO-{n:06d};Café Jörg {n % 500};{1 + n % 28:02d}-{1 + n % 12:02d}-2027;{n % 5};"
            f"{n % 9}.{n % 1000:03d},{n % 10};Größe {n % 7}"
        )
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def operations_file() -> bytes:
    lines = [
        "external_id;part_external_id;Bewerking;Volgorde;Werkplek;Bewerkingstijd;Insteltijd;"
        "Geplande start;Opmerking"
    ]
    for n in range(ROWS):
        part, step = n % PARTS, n // PARTS
        lines.append(
            f"OP-{part:05d}-{step};PART-{part:05d};Stap {step} – lassen;{10 * (step + 1)};"
            f"{CELLS[n % len(CELLS)]};{n % 90},5;1.{n % 100:03d};"
            f"{1 + n % 28:02d}-07-2027 07:{n % 60:02d};Let op: één keer"
        )
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def seed(services: Services, scope: TenantScope) -> None:
    """12 cells and 20,000 parts (under 2,000 jobs), through the sync service."""

    def open_work() -> Any:
        return unit_of_work(services.sessions, services.outbox, scope, origin=Origin("api"))

    cells = [
        {"external_id": f"C-{i}", "external_source": "csv", "name": c} for i, c in enumerate(CELLS)
    ]
    run_sync(open_work, [(BY_NAME["cells"], cells)], SyncOptions(), trigger=SyncTrigger.bulk_sync)
    per_job = 10
    jobs = [
        {
            "external_id": f"SEED-{j}",
            "external_source": "csv",
            "job_number": f"SEED-{j}",
            "parts": [
                {
                    "external_id": f"PART-{j * per_job + p:05d}",
                    "part_number": f"P-{p}",
                    "quantity": 1,
                }
                for p in range(per_job)
            ],
        }
        for j in range(max(PARTS // per_job, 1))
    ]
    for start in range(0, len(jobs), 500):
        run_sync(
            open_work,
            [(BY_NAME["jobs"], jobs[start : start + 500])],
            SyncOptions(),
            trigger=SyncTrigger.bulk_sync,
        )


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(
    services: Services, scope: TenantScope, import_id: uuid.UUID, phase: ImportPhase
) -> tuple[float, Any]:
    service.request(services, scope, import_id, phase, background=False)
    started, cpu = time.perf_counter(), time.process_time()
    status = run_job(services, scope.tenant_id, import_id, owner="bench")
    took = time.perf_counter() - started
    CPU[phase.value] = round(time.process_time() - cpu, 2)
    return took, status


def one_file(services: Services, scope: TenantScope, name: str, data: bytes) -> dict[str, Any]:
    settings = ImportSettings(source="csv")

    def new_import() -> uuid.UUID:
        import_id = service.create_import(
            services, scope, [Upload(name, data)], settings, channel=ImportChannel.cli
        )
        service.confirm_mapping(services, scope, import_id)
        return import_id

    analyse_started = time.perf_counter()
    first = new_import()
    analysis = time.perf_counter() - analyse_started
    note(f"{name}: analysed in {analysis:.1f} s")
    preview, status = timed(services, scope, first, ImportPhase.preview)
    note(f"{name}: preview {preview:.1f} s")
    assert status is CsvImportStatus.previewed, status
    with services.sessions() as session:
        imp = service.get_import(session, scope, first)
        totals = (imp.preview or {}).get("totals", {})
    cpu_preview = CPU["preview"]
    took, status = timed(services, scope, first, ImportPhase.import_)
    cpu_import = CPU["import"]
    note(f"{name}: import {took:.1f} s")
    with services.sessions() as session:
        imp = service.get_import(session, scope, first)
        counts = (imp.created_count, imp.updated_count, imp.skipped_count, imp.failed_count)
    second = new_import()
    again, status2 = timed(services, scope, second, ImportPhase.import_)
    note(f"{name}: re-import {again:.1f} s")
    with services.sessions() as session:
        imp2 = service.get_import(session, scope, second)
        unchanged = imp2.skipped_count
    return {
        "file": name,
        "rows": ROWS,
        "size_mib": round(len(data) / 1024 / 1024, 1),
        "analysis_seconds": round(analysis, 2),
        "preview_seconds": round(preview, 2),
        "preview_totals": totals,
        "import_seconds": round(took, 2),
        "import_status": status.value if status else None,
        "created_updated_unchanged_failed": counts,
        "reimport_seconds": round(again, 2),
        "cpu_seconds": {"preview": cpu_preview, "import": cpu_import, "reimport": CPU["import"]},
        "reimport_status": status2.value if status2 else None,
        "reimport_unchanged": unchanged,
        "rows_per_s": round(ROWS / took),
        "reimport_rows_per_s": round(ROWS / again),
        "ratio_to_30s_target": round(took / 30, 2),
        "peak_rss_mib": round(peak_rss_mib(), 1),
    }


def run(kind: str) -> dict[str, Any]:
    with fresh_database(kind) as url:
        upgrade(url)
        settings = Settings(database_url=url, environment="test", _env_file=None)
        services = build_services(settings)
        try:
            with services.sessions.begin() as session:
                tenant = create_tenant(
                    session, f"bench-{uuid.uuid4().hex[:6]}", services.clock.now()
                )
                scope = TenantScope(tenant.id)
            seed_started = time.perf_counter()
            seed(services, scope)
            seeded = time.perf_counter() - seed_started
            note(f"seeded 12 cells and {PARTS:,} parts in {seeded:.1f} s")
            files = [
                one_file(services, scope, "orders.csv", jobs_file()),
                one_file(services, scope, "bewerkingen.csv", operations_file()),
            ]
        finally:
            services.close()
    return {
        "db": kind,
        "load_average": os.getloadavg()[0],
        "seed_seconds": round(seeded, 1),
        "files": files,
        "peak_rss_mib": round(peak_rss_mib(), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--rows", type=int, default=ROWS, help="rows per file (default 100,000)")
    parser.add_argument(
        "--default-gc",
        action="store_true",
        help="keep CPython's collector thresholds instead of floorsync's (kit/gc_tuning.py)",
    )
    args = parser.parse_args()
    if not args.default_gc:
        tune_gc()  # the job runs in this process, as it runs in `floorsync worker`, which tunes
    set_rows(args.rows)
    result = run(args.db)
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"{args.db}: load average {result['load_average']:.1f}, seeding {result['seed_seconds']} s"
    )
    for f in result["files"]:
        print(
            f"  {f['file']:<16} {f['rows']:,} rows ({f['size_mib']} MiB): preview {f['preview_seconds']} s, "
            f"import {f['import_seconds']} s ({f['rows_per_s']:,} rows/s, {f['ratio_to_30s_target']} × target), "
            f"re-import {f['reimport_seconds']} s ({f['reimport_unchanged']:,} unchanged), peak RSS {f['peak_rss_mib']} MiB"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
