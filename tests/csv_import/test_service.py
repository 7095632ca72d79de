"""The import service and job through the real sync engine, on SQLite and PostgreSQL (CSV
import §16 service tests): several files in dependency order with references into earlier
files, derived ids, row errors with line and column, the counting invariant over several
batches, the preview (nothing written), re-import (all unchanged, zero writes, zero events),
snapshot deletions, cancel and resume."""

import pytest

from floorsync.bootstrap import Services
from floorsync.csv_import import service
from floorsync.csv_import.job import run_job
from floorsync.db.repository import TenantScope
from floorsync.models.bookkeeping import SyncRun
from floorsync.models.enums import CsvImportStatus, ImportPhase
from floorsync.models.master import Cell, Job, Operation, Part
from tests.csv_import.service_helpers import (
    count,
    events,
    import_files,
    invariant,
    issues,
    load,
    new_scope,
    run,
    upload,
)

CELLS = "name;description\nLaser;Fibre laser\nKantbank;Press brake\n"
JOBS = "Ordernummer;Klant;Leverdatum;Prioriteit\nSO-1;Acme BV;15-07-2026;2\nSO-2;Jörg GmbH;01-08-2026;1\n"
PARTS = "Ordernummer;Artikel;Aantal\nSO-1;BRK-100;25\nSO-1;BRK-200;5\nSO-2;HNG-1;3\n"
OPERATIONS = (
    "Ordernummer;Artikel;Bewerking;Volgorde;Werkplek;Bewerkingstijd\n"
    "SO-1;BRK-100;Laser cutting;10;Laser;45,5\n"
    "SO-1;BRK-100;Bending;20;Kantbank;12\n"
    "SO-2;HNG-1;Laser cutting;10;Laser;30\n"
)
# uploaded in the wrong order on purpose: the import sorts them (§10.1)
FILES: dict[str, str | bytes] = {
    "bewerkingen.csv": OPERATIONS,
    "regels.csv": PARTS,
    "orders.csv": JOBS,
    "werkplekken.csv": CELLS,
}


class TestMultipleFiles:
    def test_four_files_in_dependency_order_with_references_and_derived_ids(
        self, services: Services, scope: TenantScope
    ) -> None:
        imp = import_files(services, scope, FILES)
        assert imp.status is CsvImportStatus.completed, imp.failure_reason
        assert (imp.created_count, imp.failed_count, imp.processed_rows) == (10, 0, 10)
        invariant(imp)
        assert [count(services, scope, m) for m in (Cell, Job, Part, Operation)] == [2, 2, 3, 3]
        with services.sessions() as session:
            files = service.import_files(session, scope, imp.id)
            assert [f.entity_type.value for f in files if f.entity_type] == [
                "cells",
                "jobs",
                "parts",
                "operations",
            ]
            op = session.scalars(
                service.scoped(Operation, scope).where(Operation.external_id == "SO-1/BRK-100/10")
            ).one()
            assert op.estimated_time == 46  # whole minutes, rounded half up
        # one event per record, plus one sync summary per entity and the batch summary
        evts = events(services, scope)
        assert sum(e.endswith(".created") for e in evts) == 10
        assert evts.count("sync.batch.completed") == 1
        assert count(services, scope, SyncRun, group_id=imp.sync_group_id) == 4
        warnings = {i.code for i in issues(services, scope, imp.id)}
        assert "DERIVED_ID" in warnings

    def test_reimport_reports_every_row_unchanged_and_writes_nothing(
        self, services: Services, scope: TenantScope
    ) -> None:
        import_files(services, scope, FILES)
        before = events(services, scope)
        again = import_files(services, scope, FILES)
        assert again.status is CsvImportStatus.completed
        assert (again.skipped_count, again.created_count, again.updated_count) == (10, 0, 0)
        invariant(again)
        assert events(services, scope) == before  # zero events, not even summaries

    def test_changed_rows_are_updates(self, services: Services, scope: TenantScope) -> None:
        import_files(services, scope, FILES)
        changed = dict(FILES)
        changed["orders.csv"] = JOBS.replace("Acme BV", "Acme Metal BV")
        imp = import_files(services, scope, changed)
        assert (imp.updated_count, imp.skipped_count) == (1, 9)


class TestRowErrors:
    def test_bad_rows_fail_with_line_column_and_code_and_good_rows_import(
        self, services: Services, scope: TenantScope, unique: str
    ) -> None:
        jobs = (
            "external_id,job_number,priority,customer\n"
            f"A-{unique},J-{unique}-1,1,x\n"
            f"B-{unique},,2,y\n"  # blank required cell
            f"C-{unique},J-{unique}-3,high,z\n"  # not a number
            f"D-{unique},J-{unique}-4,3,w\n"
        )
        ops = (
            "external_id,part_external_id,operation_name,cell_name\n"
            f"O-{unique},NOPE,Cut,Laser\n"  # unknown part (engine)
        )
        parts = f"job_number,part_number\nJ-NOPE-{unique},P1\n"  # unknown job_number (importer)
        imp = import_files(
            services, scope, {"jobs.csv": jobs, "operations.csv": ops, "parts.csv": parts}
        )
        assert imp.status is CsvImportStatus.partial
        assert (imp.created_count, imp.failed_count) == (2, 4)
        invariant(imp)
        found = {(i.file, i.line, i.code, i.column) for i in issues(services, scope, imp.id)}
        assert ("jobs.csv", 3, "REQUIRED", "job_number") in found
        assert ("jobs.csv", 4, "TYPE_INTEGER", "priority") in found
        assert ("parts.csv", 2, "REFERENCE_NOT_FOUND", "job_number") in found
        assert any(f == "operations.csv" and c == "REFERENCE_NOT_FOUND" for f, _, c, _ in found)
        report = service.error_report(services, scope, imp.id).decode("utf-8")
        assert report.startswith("\ufefffile,line,column")
        failed = service.failed_rows(services, scope, imp.id)
        assert failed is not None
        assert failed[0] == "failed-rows.zip"

    def test_another_tenants_external_ids_never_resolve(
        self, services: Services, scope: TenantScope
    ) -> None:
        other = new_scope(services)
        import_files(services, other, {"jobs.csv": "external_id,job_number\nSO-X,J-X\n"})
        imp = import_files(
            services, scope, {"parts.csv": "external_id,job_external_id,part_number\nP-1,SO-X,P\n"}
        )
        assert imp.failed_count == 1
        assert {i.code for i in issues(services, scope, imp.id)} == {"REFERENCE_NOT_FOUND"}
        imp = import_files(services, scope, {"parts.csv": "job_number,part_number\nJ-X,P\n"})
        assert imp.failed_count == 1


class TestBatches:
    # §16: 2,500 and 25,000 rows (25 batches: also §12.1's "ten times the batch size")
    @pytest.mark.parametrize("rows", [2_500, 25_000])
    def test_totals_add_up_over_several_batches(
        self, services: Services, scope: TenantScope, rows: int
    ) -> None:
        lines = ["job_number;priority"] + [
            f"J-{n};{'x' if n % 997 == 0 else n % 5}" for n in range(rows)
        ]
        imp = import_files(services, scope, {"jobs.csv": "\n".join(lines) + "\n"})
        bad = len([n for n in range(rows) if n % 997 == 0])
        assert (imp.processed_rows, imp.failed_count, imp.created_count) == (rows, bad, rows - bad)
        invariant(imp)
        with services.sessions() as session:
            files = service.import_files(session, scope, imp.id)
            assert files[0].next_row == rows


class TestPreview:
    def test_preview_classifies_and_writes_nothing_and_sees_earlier_files(
        self, services: Services, scope: TenantScope
    ) -> None:
        import_id = upload(services, scope, FILES)
        status = run(services, scope, import_id, ImportPhase.preview)
        assert status is CsvImportStatus.previewed
        imp = load(services, scope, import_id)
        assert imp.preview is not None
        assert imp.preview["totals"] == {"create": 10}, imp.preview
        assert [count(services, scope, m) for m in (Cell, Job, Part, Operation)] == [0, 0, 0, 0]
        assert events(services, scope) == []
        # then the import does what the preview said
        service.request(services, scope, import_id, ImportPhase.import_, background=False)
        assert run_job(services, scope.tenant_id, import_id, owner="t") is CsvImportStatus.completed
        assert load(services, scope, import_id).created_count == 10

    def test_preview_of_a_change_lists_old_and_new(
        self, services: Services, scope: TenantScope
    ) -> None:
        import_files(services, scope, {"orders.csv": JOBS})
        import_id = upload(services, scope, {"orders.csv": JOBS.replace(";2\n", ";7\n", 1)})
        run(services, scope, import_id, ImportPhase.preview)
        preview = load(services, scope, import_id).preview
        assert preview is not None
        assert preview["totals"] == {"update": 1, "unchanged": 1}
        (row,) = preview["rows"]["0"]["update"]
        assert row["line"] == 2
        assert {"field": "priority", "old": 2, "new": 7} in row["changes"]


class TestSnapshot:
    def test_records_of_the_source_missing_from_the_files_are_deleted(
        self, services: Services, scope: TenantScope
    ) -> None:
        import_files(services, scope, {"jobs.csv": "job_number\nA\nB\nC\n"})
        imp = import_files(services, scope, {"jobs.csv": "job_number\nA\nC\n"}, snapshot=True)
        assert (imp.deleted_count, imp.skipped_count) == (1, 2)
        with services.sessions() as session:
            live = session.scalars(service.scoped(Job, scope).where(Job.deleted_at.is_(None))).all()
            assert sorted(j.job_number for j in live) == ["A", "C"]


class TestCancelAndResume:
    def test_a_stopped_import_resumes_where_it_stopped_with_the_same_totals(
        self, services: Services, scope: TenantScope
    ) -> None:
        rows = 3_500
        text = "job_number;priority\n" + "".join(f"J-{n};{n % 4}\n" for n in range(rows))
        import_id = upload(services, scope, {"jobs.csv": text})
        batches = []
        status = run(
            services,
            scope,
            import_id,
            stopping=lambda: len(batches) >= 2,
            on_batch=lambda: batches.append(1),
        )
        assert status is CsvImportStatus.cancelled
        half = load(services, scope, import_id)
        assert half.processed_rows == 2_000
        invariant(half)
        service.resume(services, scope, import_id, background=False)
        assert (
            run_job(services, scope.tenant_id, import_id, owner="t2") is CsvImportStatus.completed
        )
        done = load(services, scope, import_id)
        assert (done.processed_rows, done.created_count) == (rows, rows)
        invariant(done)
        assert count(services, scope, Job) == rows
        assert sum(e == "job.created" for e in events(services, scope)) == rows

    def test_cancel_request_stops_after_the_current_batch(
        self, services: Services, scope: TenantScope
    ) -> None:
        text = "job_number\n" + "".join(f"K-{n}\n" for n in range(2_500))
        import_id = upload(services, scope, {"jobs.csv": text})

        def cancel_once() -> None:
            service.cancel(services, scope, import_id)

        status = run(services, scope, import_id, on_batch=cancel_once)
        assert status is CsvImportStatus.cancelled
        assert load(services, scope, import_id).processed_rows == 1_000
