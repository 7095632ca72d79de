"""Zip uploads (§3.5, §14, §15), the error report and failed-rows downloads (§12.2, §12.3,
§15), and the templates (§13)."""

import csv
import io
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from floorsync.csv_import.analysis import FileChoices, analyse_file
from floorsync.csv_import.archives import is_zip, read_archive
from floorsync.csv_import.columns import ENTITY_ORDER
from floorsync.csv_import.formulas import neutralise, restore
from floorsync.csv_import.issues import ArchiveRefused, Issue
from floorsync.csv_import.parser import FileSettings, ImportOptions, parse_file
from floorsync.csv_import.reports import (
    failed_rows_from_source,
    write_error_report,
    write_failed_rows,
)
from floorsync.csv_import.templates import readme, template, templates_zip
from tests.csv_import.helpers import fixture, lines


def zipped(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def refusal(data: bytes) -> str:
    with pytest.raises(ArchiveRefused) as caught:
        read_archive(data)
    return str(caught.value)


class TestArchives:
    def test_csv_entries_are_read_in_order_and_the_rest_is_skipped_and_listed(self) -> None:
        data = zipped(
            {
                "export/werkplekken.csv": fixture("werkplekken.csv"),
                "export/orders.txt": b"job_number\nSO-1\n",
                "__MACOSX/export/._orders.txt": b"junk",
                ".hidden.csv": b"a\n1\n",
                "report.pdf": b"%PDF",
                "export/": b"",
            }
        )
        assert is_zip(data)
        assert not is_zip(fixture("workbook.csv"))
        archive = read_archive(data)
        assert [(e.name, e.path) for e in archive.entries] == [
            ("werkplekken.csv", "export/werkplekken.csv"),
            ("orders.txt", "export/orders.txt"),
        ]
        assert [path for path, _ in archive.skipped] == [
            "__MACOSX/export/._orders.txt",
            ".hidden.csv",
            "report.pdf",
        ]

    def test_a_zip_bomb_is_refused_while_decompressing(self) -> None:
        bomb = zipped({"bomb.csv": b"a" * (20 * 1024 * 1024)})
        assert len(bomb) < 100_000
        assert "expands more than 100:1" in refusal(bomb)

    def test_an_entry_over_the_size_limit_is_refused_by_the_bytes_it_produces(self) -> None:
        data = zipped({"big.csv": b"x,y\n" * 1000}, zipfile.ZIP_STORED)
        with pytest.raises(ArchiveRefused, match="larger than"):
            read_archive(data, max_entry_bytes=1000)

    def test_a_small_regular_file_may_compress_beyond_100_to_1(self) -> None:
        data = zipped({"blank.csv": b"a;b\n" + b";;;;;;;;;;\n" * 50_000})
        assert len(read_archive(data).entries[0].data) > 500_000

    def test_nested_archives_are_refused_by_name_and_by_content(self) -> None:
        inner = zipped({"a.csv": b"a\n1\n"})
        assert "nested archives" in refusal(zipped({"inner.zip": inner}))
        assert "nested archives" in refusal(zipped({"sneaky.csv": inner}))

    @pytest.mark.parametrize(
        "name", ["../etc/passwd.csv", "a/../../b.csv", "/abs.csv", "C:/x.csv", "..\\win.csv"]
    )
    def test_entry_names_that_climb_or_are_absolute_are_refused(self, name: str) -> None:
        assert "unsafe name" in refusal(zipped({name: b"a\n1\n"}))

    def test_too_many_csv_entries_and_garbage_are_refused(self) -> None:
        many = zipped({f"f{n}.csv": b"a\n1\n" for n in range(51)})
        assert "at most 50" in refusal(many)
        assert "cannot be read" in refusal(b"PK\x03\x04 not really a zip")

    def test_an_excel_workbook_inside_a_zip_is_a_file_level_error_of_that_entry(self) -> None:
        archive = read_archive(
            zipped({"book.csv": fixture("workbook.csv"), "jobs.csv": b"job_number\nSO-1\n"})
        )
        cards = [analyse_file(e.name, e.data) for e in archive.entries]
        assert [c.error.code if c.error else None for c in cards] == ["FILE_EXCEL", None]


class TestFormulaInjection:
    @pytest.mark.parametrize("cell", ["=1+1", "+31 6", "-5", "@SUM(A1)", "\tx", "\rx", "'=x"])
    def test_dangerous_cells_get_a_leading_quote(self, cell: str) -> None:
        assert neutralise(cell) == "'" + cell

    @given(st.text())
    def test_restore_undoes_neutralise_for_every_value(self, value: str) -> None:
        assert restore(neutralise(value)) == value

    @given(st.lists(st.text(), min_size=1, max_size=5))
    def test_every_value_of_the_error_report_reads_back_with_csv_except_the_prefix(
        self, values: list[str]
    ) -> None:
        out = io.StringIO(newline="")
        issues = [
            Issue("TYPE_INTEGER", message=v, value=v, file=v, line=n + 2)
            for n, v in enumerate(values)
        ]
        write_error_report(out, issues, delimiter=";")
        text = out.getvalue()
        assert text.startswith("\ufeff")
        rows = list(csv.reader(io.StringIO(text[1:], newline=""), delimiter=";"))
        assert rows[0][0] == "file"
        assert len(rows) == len(values) + 1
        for row, v in zip(rows[1:], values, strict=True):
            assert row[0] == row[9] == row[10] == neutralise(v)
            assert not row[10].startswith(("=", "+", "-", "@", "\t", "\r"))


class TestFailedRows:
    def test_failed_rows_keep_header_and_cells_and_come_back_as_the_same_records(self) -> None:
        text = "external_id;job_number;notes;priority\nJ1;SO-1;=HYPERLINK(1);x\nJ2;SO-2;ok;1\nJ3;SO-3;-minus;y\n"
        parsed = parse_file(
            lines(text), "jobs", settings=FileSettings(";"), options=ImportOptions()
        )
        rows = list(parsed)
        failures = {r.line: [i.message for i in r.issues] for r in rows if not r.ok}
        assert sorted(failures) == [2, 4]
        out = io.StringIO(newline="")
        assert failed_rows_from_source(out, lines(text), failures, delimiter=";") == 2
        written = out.getvalue()
        assert written.startswith(
            "\ufeffexternal_id;job_number;notes;priority;floorsync_line;floorsync_errors\r\n"
        )
        assert "J1;SO-1;'=HYPERLINK(1);x;2;Expected a whole number" in written
        back = list(
            parse_file(
                lines(written[1:]), "jobs", settings=FileSettings(";"), options=ImportOptions()
            )
        )
        assert [(r.item.get("notes"), [str(i.code) for i in r.issues]) for r in back] == [
            ("=HYPERLINK(1)", ["TYPE_INTEGER"]),
            ("-minus", ["TYPE_INTEGER"]),
        ]

    def test_the_writer_neutralises_the_header_too(self) -> None:
        out = io.StringIO(newline="")
        write_failed_rows(out, ["=evil"], [(2, ["@x"], ["bad"])], delimiter=",")
        assert out.getvalue() == "\ufeff'=evil,floorsync_line,floorsync_errors\r\n'@x,2,bad\r\n"


class TestTemplates:
    @pytest.mark.parametrize("variant", [",", ";"])
    @pytest.mark.parametrize("entity", ENTITY_ORDER)
    def test_each_template_parses_back_with_zero_issues(self, entity: str, variant: str) -> None:
        data = template(entity, variant).encode()  # type: ignore[arg-type]
        card = analyse_file(f"{entity}.csv", data, FileChoices())
        assert card.error is None
        assert card.issues == []
        assert card.entity is not None
        assert card.entity.entity == entity
        assert card.delimiter == variant
        assert card.encoding == "UTF-8 (BOM)"
        assert card.decoded is not None
        rows = list(
            parse_file(
                card.decoded.lines(),
                entity,
                settings=card.settings(FileChoices()),
                options=ImportOptions(),
                mapping=card.mapping,
            )
        )
        assert len(rows) == 1
        assert rows[0].issues == []
        assert rows[0].item["external_source"] == "csv"

    def test_the_examples_fit_together(self) -> None:
        def item(entity: str) -> dict[str, object]:
            return next(
                iter(
                    parse_file(
                        lines(template(entity)[1:]),
                        entity,
                        settings=FileSettings(),
                        options=ImportOptions(),
                    )
                )
            ).item

        assert item("parts")["job_external_id"] == item("jobs")["external_id"]
        assert item("parts")["material_external_id"] == item("materials")["external_id"]
        assert item("operations")["part_external_id"] == item("parts")["external_id"]
        assert item("operations")["cell_name"] == item("cells")["name"]

    def test_the_semicolon_variant_writes_decimal_commas(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from floorsync.csv_import import columns

        cells = columns.ENTITIES["cells"]
        example = tuple(
            "7.5" if n == "capacity_hours_per_day" else v
            for n, v in zip(cells.template, cells.template_example, strict=True)
        )
        monkeypatch.setitem(
            columns.ENTITIES,
            "cells",
            columns.EntityColumns(
                cells.entity,
                cells.columns,
                cells.references,
                cells.derived_from,
                cells.template,
                example,
                cells.file_words,
            ),
        )
        assert ";7,5;" in template("cells", ";")
        assert ",7.5," in template("cells", ",")

    def test_templates_zip_holds_the_six_templates_and_a_readme(self) -> None:
        with zipfile.ZipFile(io.BytesIO(templates_zip())) as archive:
            names = archive.namelist()
        assert names == [f"{e}.csv" for e in ENTITY_ORDER] + ["README.md"]
        uploaded = read_archive(templates_zip(";"))  # as the importer reads it back
        assert [e.name for e in uploaded.entries] == [f"{e}.csv" for e in ENTITY_ORDER]
        assert uploaded.skipped == (("README.md", "not a .csv, .txt or .tsv file"),)
        cards = [analyse_file(e.name, e.data) for e in uploaded.entries]
        found = [(c.entity.entity if c.entity else None, c.issues) for c in cards]
        assert found == [(e, []) for e in ENTITY_ORDER]
        assert "cells -> resources -> materials -> jobs -> parts -> operations" in readme()
