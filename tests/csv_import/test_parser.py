"""Rows → sync records (CSV import §5, §6, §8): the item shape the engine's bulk sync takes,
checked against the API's own record validation; references, derived ids, empty cells, and
every row-level code the parser produces, all collected per row."""

import json

import pytest

import floorsync.entities.cells
import floorsync.entities.jobs
import floorsync.entities.materials
import floorsync.entities.operations
import floorsync.entities.parts
import floorsync.entities.resources  # noqa: F401  (registers the specs)
from floorsync.csv_import.analysis import FileChoices
from floorsync.csv_import.decoding import decode
from floorsync.csv_import.headers import match_columns
from floorsync.csv_import.issues import Code
from floorsync.csv_import.parser import (
    BlockedMapping,
    FileSettings,
    ImportOptions,
    UploadKeys,
    derive_external_id,
    finish_derived_id,
    parse_file,
)
from floorsync.entities.spec import get_spec
from floorsync.entities.validation import validate_record
from floorsync.sync.hashing import sync_hash
from tests.csv_import.helpers import analyse, codes, fixture, lines, parse


def validated(entity: str, item: dict[str, object]) -> dict[str, object]:
    record = validate_record(get_spec(entity), item, "sync")
    assert record.errors == [], record.errors
    return record.values


class TestItemShape:
    def test_a_dutch_windows_1252_export_becomes_jobs_the_api_accepts(self) -> None:
        result = analyse("orders_nl.csv")
        assert result.entity is not None
        assert result.entity.entity == "jobs"
        assert result.decoded is not None
        assert result.mapping is not None
        parsed = parse_file(
            result.decoded.lines(),
            "jobs",
            settings=result.settings(FileChoices()),
            options=ImportOptions(source="exact"),
            mapping=result.mapping,
        )
        rows = list(parsed)
        assert [r.item for r in rows] == [
            {
                "job_number": "SO-1001",
                "customer": "Café Dürüm",
                "due_date": "2026-07-15",
                "priority": 2,
                "total_weight_kg": 1234.5,
                "notes": "Cañón ë €",
                "external_source": "exact",
                "external_id": "SO-1001",
            },
            {
                "job_number": "SO-1002",
                "customer": "Bäckerei Müller",
                "due_date": "2026-08-01",
                "priority": 1,
                "total_weight_kg": 12.75,
                "external_source": "exact",
                "external_id": "SO-1002",
            },
        ]
        assert [w.code for w in parsed.warnings] == [Code.DERIVED_ID]
        for row in rows:
            validated("jobs", row.item)

    def test_a_german_routing_names_its_part_through_job_and_part_number(self) -> None:
        text = decode(fixture("arbeitsgaenge.csv")).text()
        _, rows = parse(text, "operations", delimiter=";", time_zone="Europe/Berlin")
        assert rows[0].item == {
            "sequence": 10,
            "operation_name": "Laserschneiden",
            "cell_name": "Laser",
            "setup_time": 30,
            "estimated_time": 45,
            "planned_start": "2026-07-01T05:00:00.000Z",
            "external_source": "csv",
            "external_id": "SO-1001/BRK-100/10",
        }
        assert rows[0].lookups == {"job_number": "SO-1001", "part_number": "BRK-100"}
        assert rows[1].item["estimated_time"] == 31  # 30,5 rounds half up
        assert (
            rows[1].item["planned_start"] == "2026-07-01T22:00:00.000Z"
        )  # a bare date: local midnight
        for row in rows:
            assert row.ok
            validated("operations", {**row.item, "part_id": "00000000-0000-4000-8000-000000000001"})

    def test_a_row_from_csv_hashes_like_the_same_record_sent_as_json(self) -> None:
        _, rows = parse(
            "job_number;priority;total_weight_kg\nSO-1;4;12,50\n", "jobs", delimiter=";"
        )
        sent = json.loads(
            '{"external_id":"SO-1","external_source":"csv","job_number":"SO-1","priority":"4","total_weight_kg":12.5}'
        )
        assert sync_hash(validated("jobs", rows[0].item)) == sync_hash(validated("jobs", sent))

    @pytest.mark.parametrize(
        "fixture_name",
        [
            "arbeitsplaetze.tsv",
            "werkplekken.csv",
            "materials_pipe.txt",
            "resources_utf16.txt",
            "jobs_bom.csv",
        ],
    )
    def test_every_fixture_parses_into_records_the_api_accepts(self, fixture_name: str) -> None:
        result = analyse(fixture_name)
        assert result.error is None
        assert result.entity is not None
        assert result.entity.entity
        assert result.decoded is not None
        assert result.mapping is not None
        parsed = parse_file(
            result.decoded.lines(),
            result.entity.entity,
            settings=result.settings(FileChoices()),
            options=ImportOptions(),
            mapping=result.mapping,
        )
        for row in parsed:
            assert row.ok, row.issues
            validated(result.entity.entity, row.item)

    def test_units_in_headers_convert(self) -> None:
        _, rows = parse(decode(fixture("materials_pipe.txt")).text(), "materials", delimiter="|")
        assert rows[0].item["thickness"] == 4  # 0.4 cm
        _, rows = parse(decode(fixture("arbeitsplaetze.tsv")).text(), "cells", delimiter="\t")
        assert [r.item["active"] for r in rows] == [True, False]
        assert [r.item["external_id"] for r in rows] == ["AP-10", "AP-20"]
        assert rows[1].item["capacity_hours_per_day"] == 7.5


class TestReferences:
    def test_engine_forms_go_on_the_item_and_name_forms_to_lookups(self) -> None:
        text = "external_id,job_external_id,job_external_source,job_number,part_number,material_code,material_external_id\nP1,SO-1,SAP,J-1,BRK,S235,MAT-1\n"
        _, rows = parse(text, "parts")
        assert rows[0].item == {
            "external_id": "P1",
            "job_external_id": "SO-1",
            "job_external_source": "SAP",
            "part_number": "BRK",
            "material_external_id": "MAT-1",
            "external_source": "csv",
        }
        assert rows[0].lookups == {"job_number": "J-1", "material_code": "S235"}
        validated("parts", rows[0].item)

    def test_a_required_reference_with_every_form_empty_is_required(self) -> None:
        _, rows = parse("external_id,job_external_id,job_number,part_number\nP1,,,BRK\n", "parts")
        assert codes(rows[0]) == ["REQUIRED"]
        assert (rows[0].issues[0].field, rows[0].issues[0].column_number) == ("job_external_id", 2)

    def test_an_operation_naming_its_part_by_number_needs_the_job_too(self) -> None:
        text = "external_id,operation_name,job_number,part_number,part_external_id\nO1,Cut,,BRK,\n"
        _, rows = parse(text, "operations")
        assert codes(rows[0]) == ["REQUIRED"]
        assert rows[0].issues[0].field == "job_number"

    def test_empty_clears_sends_null_for_optional_fields_and_references(self) -> None:
        text = (
            "external_id,part_external_id,operation_name,cell_name,notes,sequence\nO1,P1,Cut,,,\n"
        )
        _, kept = parse(text, "operations")
        _, cleared = parse(text, "operations", empty_clears=True)
        assert kept[0].item == {
            "external_id": "O1",
            "part_external_id": "P1",
            "operation_name": "Cut",
            "external_source": "csv",
        }
        assert cleared[0].item == {**kept[0].item, "notes": None, "sequence": None, "cell_id": None}
        validated("operations", cleared[0].item)

    def test_an_external_source_cell_overrides_the_import_source_and_reserved_sources_warn(
        self,
    ) -> None:
        text = "job_number,external_source\nSO-1,\nSO-2,frepple\n"
        _, rows = parse(text, "jobs", source="csv", reserved_sources=frozenset({"frepple"}))
        assert [r.item["external_source"] for r in rows] == ["csv", "frepple"]
        assert codes(rows[1]) == ["SOURCE_RESERVED"]
        assert rows[1].ok

    def test_metadata_columns_replace_the_metadata_object(self) -> None:
        _, rows = parse("job_number,metadata.plant,metadata.Line\nSO-1,Eindhoven,\n", "jobs")
        assert rows[0].item["metadata"] == {"plant": "Eindhoven"}
        validated("jobs", rows[0].item)


class TestDerivedIds:
    def test_components_are_trimmed_and_percent_encoded_so_keys_never_collide(self) -> None:
        assert derive_external_id("A/B", "C") == "A%2FB/C"
        assert derive_external_id("A", "B/C") == "A/B%2FC"
        assert derive_external_id(" 100% ", "x") == "100%25/x"

    def test_each_entity_derives_from_its_natural_key(self) -> None:
        assert parse("name\nLaser\n", "cells")[1][0].item["external_id"] == "Laser"
        assert parse("name,type\nPB 1,machine\n", "resources")[1][0].item["external_id"] == "PB 1"
        assert (
            parse("code,name\nS235/4,Steel\n", "materials")[1][0].item["external_id"] == "S235%2F4"
        )
        assert parse("job_number\nSO-1\n", "jobs")[1][0].item["external_id"] == "SO-1"
        assert (
            parse("job_number,part_number\nSO-1,BRK\n", "parts")[1][0].item["external_id"]
            == "SO-1/BRK"
        )

    def test_a_material_without_code_and_an_operation_without_sequence_cannot_get_one(self) -> None:
        _, rows = parse("code,name\n,Steel\n", "materials")
        assert codes(rows[0]) == ["CANNOT_DERIVE_ID"]
        _, rows = parse(
            "job_number,part_number,operation_name,sequence\nSO-1,BRK,Cut,\n", "operations"
        )
        assert codes(rows[0]) == ["CANNOT_DERIVE_ID"]
        assert rows[0].issues[0].field == "sequence"

    def test_a_part_referenced_by_external_id_finishes_its_id_once_the_job_is_known(self) -> None:
        _parsed, rows = parse("job_external_id,part_number\nERP-77,BRK\n", "parts")
        assert rows[0].id_pending
        assert "external_id" not in rows[0].item
        finish_derived_id(rows[0], "parts", job_number="SO-1", part_number="")
        assert rows[0].item["external_id"] == "SO-1/BRK"
        assert not rows[0].id_pending
        _, ops = parse("part_external_id,operation_name,sequence\nP-9,Cut,20\n", "operations")
        finish_derived_id(ops[0], "operations", job_number="SO-1", part_number="BRK")
        assert ops[0].item["external_id"] == "SO-1/BRK/20"

    def test_turning_derivation_off_makes_a_missing_key_a_blocking_mapping_error(self) -> None:
        with pytest.raises(BlockedMapping) as caught:
            parse("job_number\nSO-1\n", "jobs", derive_ids=False)
        assert [i.code for i in caught.value.issues] == [Code.REQUIRED_COLUMN_MISSING]


class TestRowErrors:
    def test_every_problem_of_a_row_is_reported_with_line_column_field_and_value(self) -> None:
        text = (
            "external_id;job_external_id;part_number;quantity;is_bullet_card;weight_kg\n"
            + "P1;SO-1;BRK;2,5;misschien;zwaar\n"
        )
        _, rows = parse(text, "parts", delimiter=";")
        assert [
            (str(i.code), i.line, i.column, i.column_number, i.field, i.value, i.external_id)
            for i in rows[0].issues
        ] == [
            ("TYPE_INTEGER", 2, "quantity", 4, "quantity", "2,5", "P1"),
            ("TYPE_BOOLEAN", 2, "is_bullet_card", 5, "is_bullet_card", "misschien", "P1"),
            ("TYPE_DECIMAL", 2, "weight_kg", 6, "weight_kg", "zwaar", "P1"),
        ]
        assert all(i.entity == "parts" and i.file == "parts.csv" for i in rows[0].issues)

    def test_dates_and_date_times_report_their_own_codes(self) -> None:
        text = "external_id,part_external_id,operation_name,planned_start\nO1,P1,Cut,2026-13-45 10:00\n"
        assert codes(parse(text, "operations")[1][0]) == ["TYPE_DATETIME"]
        assert codes(parse("job_number,due_date\nSO-1,45809\n", "jobs")[1][0]) == ["TYPE_DATE"]

    def test_an_empty_required_cell_and_an_empty_mapped_key_are_required(self) -> None:
        _, rows = parse("external_id,job_number,notes\n,,x\n", "jobs")
        assert [(str(i.code), i.field) for i in rows[0].issues] == [
            ("REQUIRED", "job_number"),
            ("REQUIRED", "external_id"),
        ]

    def test_a_key_seen_earlier_in_the_upload_is_a_duplicate_naming_the_first(self) -> None:
        keys = UploadKeys()
        first = parse_file(
            lines("job_number\nSO-1\nSO-2\n"),
            "jobs",
            settings=FileSettings(),
            options=ImportOptions(),
            file_name="a.csv",
            keys=keys,
        )
        second = parse_file(
            lines("job_number\nSO-2\nSO-2\n"),
            "jobs",
            settings=FileSettings(),
            options=ImportOptions(),
            file_name="b.csv",
            keys=keys,
        )
        list(first)
        rows = list(second)
        assert [codes(r) for r in rows] == [["DUPLICATE_IN_UPLOAD"], ["DUPLICATE_IN_UPLOAD"]]
        assert all("a.csv line 3" in r.issues[0].message for r in rows)

    def test_the_same_key_under_another_source_is_not_a_duplicate(self) -> None:
        keys = UploadKeys()
        parsed = parse_file(
            lines("job_number,external_source\nSO-1,A\nSO-1,B\n"),
            "jobs",
            settings=FileSettings(),
            options=ImportOptions(),
            keys=keys,
        )
        assert all(r.ok for r in parsed)

    def test_a_date_order_conflict_blocks_the_parse(self) -> None:
        with pytest.raises(BlockedMapping) as caught:
            parse("job_number,due_date\nSO-1,13/04/2026\nSO-2,04/13/2026\n", "jobs")
        assert [i.code for i in caught.value.issues] == [Code.DATE_ORDER_CONFLICT]

    def test_a_header_only_file_and_mapping_for_another_header_are_refused(self) -> None:
        with pytest.raises(ValueError, match="another header"):
            parse_file(
                lines("a,b\n1,2\n"),
                "jobs",
                settings=FileSettings(),
                options=ImportOptions(),
                mapping=match_columns("jobs", ["job_number"]),
            )


class TestStreaming:
    def test_skip_rows_resumes_after_the_rows_already_done_with_the_same_formats(self) -> None:
        text = "job_number;total_weight_kg\n" + "".join(f"SO-{n};{n},5\n" for n in range(20))
        whole = list(
            parse_file(lines(text), "jobs", settings=FileSettings(";"), options=ImportOptions())
        )
        resumed = list(
            parse_file(
                lines(text),
                "jobs",
                settings=FileSettings(";"),
                options=ImportOptions(),
                skip_rows=15,
            )
        )
        assert [r.line for r in resumed] == [r.line for r in whole[15:]]
        assert [r.item for r in resumed] == [r.item for r in whole[15:]]

    def test_a_large_file_is_parsed_row_by_row_without_reading_it_all(self) -> None:
        produced = 0

        def source():  # type: ignore[no-untyped-def]
            nonlocal produced
            yield "job_number,priority\n"
            for n in range(50_000):
                produced += 1
                yield f"SO-{n},{n % 9}\n"

        rows = iter(parse_file(source(), "jobs", settings=FileSettings(), options=ImportOptions()))
        first = next(rows)
        assert first.item["job_number"] == "SO-0"
        assert produced <= 10_001  # only the look-ahead for the number format was read
        assert sum(1 for _ in rows) == 49_999
