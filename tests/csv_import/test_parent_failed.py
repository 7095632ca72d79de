"""`PARENT_FAILED` (CSV import §5.3, §10.2) on SQLite and PostgreSQL: a row that refers to a row
of an earlier file that failed — by job number, by external id, by job + part number, by cell
name — fails with `PARENT_FAILED` naming that file and line; a reference into an earlier file
that could not be read names that file. The preview says the same, and so does an import
resumed after the parent's batch was committed."""

from floorsync.bootstrap import Services
from floorsync.csv_import import service
from floorsync.csv_import.issues import Code, Issue
from floorsync.csv_import.job import run_job
from floorsync.csv_import.parents import FailedParents
from floorsync.db.repository import TenantScope
from floorsync.models.enums import CsvImportStatus, ImportPhase
from tests.csv_import.service_helpers import (
    import_files,
    invariant,
    issues,
    load,
    upload,
)

JOBS = (
    "external_id;job_number;priority\n"
    "SO-1;J-1;1\n"
    "SO-2;J-2;high\n"  # line 3 fails: priority is not a number
)
PARTS = (
    "external_id;job_number;part_number;quantity\n"
    "SO-1/P;J-1;P-1;2\n"
    "SO-2/P;J-2;P-2;2\n"  # its job failed (by number)
)
PARTS_BY_KEY = "external_id;job_external_id;part_number\nK-1;SO-2;P-9\n"
OPERATIONS = (
    "external_id;part_external_id;operation_name;sequence\n"
    "OP-1;SO-1/P;Cut;10\n"
    "OP-2;SO-2/P;Cut;10\n"  # its part failed (by external id)
)
OPS_BY_NUMBER = "job_number;part_number;operation_name;sequence\nJ-1;P-1;Bend;20\nJ-2;P-2;Bend;20\n"


def by_line(
    services: Services, scope: TenantScope, import_id: object
) -> dict[tuple[str, int | None], Issue]:
    return {(i.file, i.line): i for i in issues(services, scope, import_id)}  # type: ignore[arg-type]


class TestParentFailed:
    def test_children_of_a_failed_row_fail_with_parent_failed_naming_its_file_and_line(
        self, services: Services, scope: TenantScope
    ) -> None:
        files: dict[str, str | bytes] = {
            "jobs.csv": JOBS,
            "parts.csv": PARTS,
            "more-parts.csv": PARTS_BY_KEY,
            "operations.csv": OPERATIONS,
            "steps.csv": OPS_BY_NUMBER,
        }
        choices = {
            "more-parts.csv": service.StoredChoices(entity="parts"),
            "steps.csv": service.StoredChoices(entity="operations"),
        }
        import_id = upload(services, scope, files, choices)
        service.confirm_mapping(services, scope, import_id)
        service.request(services, scope, import_id, ImportPhase.import_, background=False)
        assert run_job(services, scope.tenant_id, import_id, owner="t") is CsvImportStatus.partial
        imp = load(services, scope, import_id)
        invariant(imp)
        found = by_line(services, scope, import_id)
        assert found[("jobs.csv", 3)].code == "TYPE_INTEGER"
        child = found[("parts.csv", 3)]
        assert child.code == Code.PARENT_FAILED
        assert "jobs.csv line 3" in child.message
        assert child.field == "job_number"
        by_key = found[("more-parts.csv", 2)]
        assert by_key.code == Code.PARENT_FAILED
        assert "jobs.csv line 3" in by_key.message
        grandchild = found[("operations.csv", 3)]
        assert grandchild.code == Code.PARENT_FAILED
        assert "parts.csv line 3" in grandchild.message
        by_number = found[("steps.csv", 3)]  # job J-2 + part P-2: the job failed first
        assert by_number.code == Code.PARENT_FAILED
        assert "jobs.csv line 3" in by_number.message
        assert (imp.created_count, imp.failed_count) == (4, 5)
        report = service.error_report(services, scope, import_id).decode("utf-8-sig")
        assert report.count("PARENT_FAILED") == 4

    def test_an_unknown_reference_that_failed_nowhere_stays_reference_not_found(
        self, services: Services, scope: TenantScope
    ) -> None:
        imp = import_files(
            services, scope, {"jobs.csv": JOBS, "parts.csv": "job_number;part_number\nJ-404;P\n"}
        )
        codes = [i.code for i in issues(services, scope, imp.id) if i.file == "parts.csv"]
        assert "REFERENCE_NOT_FOUND" in codes
        assert "PARENT_FAILED" not in codes

    def test_a_reference_into_an_unreadable_file_names_that_file(
        self, services: Services, scope: TenantScope
    ) -> None:
        files: dict[str, str | bytes] = {
            "jobs.csv": b"\x00\x01\x02binary\x00",
            "parts.csv": "job_number;part_number\nJ-1;P-1\n",
        }
        import_id = upload(services, scope, files)
        service.confirm_mapping(services, scope, import_id)
        service.request(services, scope, import_id, ImportPhase.import_, background=False)
        run_job(services, scope.tenant_id, import_id, owner="t")
        found = [i for i in issues(services, scope, import_id) if i.file == "parts.csv"]
        parent = [i for i in found if i.code == Code.PARENT_FAILED]
        assert parent, found
        assert "jobs.csv" in parent[0].message

    def test_the_preview_says_parent_failed_too(
        self, services: Services, scope: TenantScope
    ) -> None:
        import_id = upload(services, scope, {"jobs.csv": JOBS, "parts.csv": PARTS})
        service.confirm_mapping(services, scope, import_id)
        service.request(services, scope, import_id, ImportPhase.preview, background=False)
        assert run_job(services, scope.tenant_id, import_id, owner="t") is (
            CsvImportStatus.previewed
        )
        found = by_line(services, scope, import_id)
        assert found[("parts.csv", 3)].code == Code.PARENT_FAILED
        assert "jobs.csv line 3" in found[("parts.csv", 3)].message

    def test_after_a_resume_the_parent_failed_in_an_earlier_run(
        self, services: Services, scope: TenantScope
    ) -> None:
        import_id = upload(services, scope, {"jobs.csv": JOBS, "parts.csv": PARTS}, chunk_size=1)
        service.confirm_mapping(services, scope, import_id)
        service.request(services, scope, import_id, ImportPhase.import_, background=False)
        batches: list[int] = []

        def stop_after_jobs() -> bool:
            return len(batches) >= 2  # both job rows are committed, no part yet

        status = run_job(
            services,
            scope.tenant_id,
            import_id,
            owner="t",
            stopping=stop_after_jobs,
            on_batch=lambda: batches.append(1),
        )
        assert status is CsvImportStatus.cancelled
        service.resume(services, scope, import_id, background=False)
        assert run_job(services, scope.tenant_id, import_id, owner="t2") is (
            CsvImportStatus.partial
        )
        found = by_line(services, scope, import_id)
        assert found[("parts.csv", 3)].code == Code.PARENT_FAILED
        assert "jobs.csv line 3" in found[("parts.csv", 3)].message
        invariant(load(services, scope, import_id))


def test_failed_parents_only_rewrite_reference_not_found() -> None:
    parents = FailedParents()
    parents.add_row("jobs", {"external_source": "csv", "job_number": "J-2"}, {}, "jobs.csv", 3)
    other = Issue("TYPE_INTEGER", "Expected a whole number", field="job_number")
    missing = Issue(Code.REFERENCE_NOT_FOUND, "No job", field="job_number")
    out = parents.rewrite([other, missing], {}, {"job_number": "J-2"})
    assert [i.code for i in out] == ["TYPE_INTEGER", "PARENT_FAILED"]
    assert parents.rewrite([missing], {}, {"job_number": "J-3"}) == [missing]
