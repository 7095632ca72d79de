"""Header normalisation (§7.1), the alias table (§7.3), matching (§7.2), unit hints (§7.4), and
the column tables held against the entity definitions of the API."""

import pytest

import floorsync.entities.cells
import floorsync.entities.jobs
import floorsync.entities.materials
import floorsync.entities.operations
import floorsync.entities.parts
import floorsync.entities.resources  # noqa: F401  (registers the specs)
from floorsync.csv_import import headers
from floorsync.csv_import.columns import ENTITIES, ENTITY_ORDER, ValueType
from floorsync.csv_import.headers import match_columns, normalise, signature
from floorsync.entities.fields import Kind
from floorsync.entities.spec import get_spec


class TestNormalisation:
    @pytest.mark.parametrize(
        ("written", "normalised", "unit"),
        [
            ("Job Number", "job_number", None),
            ("job-number", "job_number", None),
            ("JOBNUMBER", "jobnumber", None),
            ("Order #", "order_no", None),
            ("Auftrags-Nr.", "auftrags_nr", None),
            ("Priorität", "prioritaet", None),
            ("Aantal (st)", "aantal", "st"),
            ("Rüstzeit [h]", "ruestzeit", "h"),
            ("\ufeffexternal_id", "external_id", None),
            ("  Café Größe % ", "cafe_groesse_pct", None),
        ],
    )
    def test_the_examples_of_the_specification(
        self, written: str, normalised: str, unit: str | None
    ) -> None:
        assert normalise(written) == (normalised, unit)

    def test_the_signature_depends_on_the_normalised_headers_in_order(self) -> None:
        assert signature(["Job Number", "Klant"]) == signature(["job-number", "KLANT"])
        assert signature(["Job Number", "Klant"]) != signature(["Klant", "Job Number"])


def every_alias() -> list[tuple[str, str, str]]:
    return [
        (entity, alias, column.name)
        for entity in ENTITY_ORDER
        for column in ENTITIES[entity].columns
        for alias in (*column.aliases, *column.api_aliases, column.name)
    ]


class TestAliases:
    @pytest.mark.parametrize(("entity", "alias", "field"), every_alias())
    def test_every_alias_maps_to_its_field_for_its_entity(
        self, entity: str, alias: str, field: str
    ) -> None:
        mapping = match_columns(entity, [alias])
        assert mapping.columns[0].field == field, mapping.columns[0]

    @pytest.mark.parametrize(
        ("entity", "header", "field"),
        [
            ("jobs", "Ordernummer", "job_number"),
            ("jobs", "Auftrags-Nr.", "job_number"),
            ("jobs", "Kundenname", "customer"),
            ("jobs", "Liefertermin", "due_date"),
            ("parts", "Teilenummer", "part_number"),
            ("parts", "Aantal (st)", "quantity"),
            ("parts", "Material", "material"),
            ("operations", "Vorgang", "sequence"),
            ("operations", "Vorgangskurztext", "operation_name"),
            ("operations", "Rüstzeit [h]", "setup_time"),
            ("operations", "Werkplek", "cell_name"),
            ("cells", "Arbeitsplatznummer", "external_id"),
            ("cells", "Kleur", "color"),
            ("materials", "Blechdicke (mm)", "thickness"),
            ("resources", "Seriennummer", "identifier"),
            ("resources", "notes", "description"),
        ],
    )
    def test_dutch_and_german_headers_as_written_in_exports(
        self, entity: str, header: str, field: str
    ) -> None:
        assert match_columns(entity, [header]).columns[0].field == field

    def test_match_kinds_are_exact_alias_loose_and_ignored(self) -> None:
        mapping = match_columns("jobs", ["job_number", "Klant", "DUE DATE x", "DueDate", "Foo"])
        assert [(c.field, c.kind.value) for c in mapping.columns] == [
            ("job_number", "exact"),
            ("customer", "alias"),
            (None, "ignored"),
            ("due_date", "loose"),
            (None, "ignored"),
        ]


class TestMatching:
    def test_of_two_columns_on_one_field_the_leftmost_wins_with_a_warning(self) -> None:
        mapping = match_columns("jobs", ["job_number", "customer_name", "Klant"])
        assert [c.field for c in mapping.columns] == ["job_number", "customer", None]
        assert [str(i.code) for i in mapping.issues] == ["DUPLICATE_COLUMN"]
        assert not mapping.blocking

    def test_two_columns_mapped_by_hand_to_one_field_block(self) -> None:
        mapping = match_columns("jobs", ["job_number", "A", "B"], manual={1: "notes", 2: "notes"})
        assert [str(i.code) for i in mapping.blocking] == ["DUPLICATE_MAPPING"]

    def test_a_manual_choice_displaces_an_automatic_match_and_dash_ignores(self) -> None:
        mapping = match_columns(
            "parts", ["job_number", "Material", "Artikel"], manual={1: "part_number", 2: "-"}
        )
        assert [(c.field, c.kind.value) for c in mapping.columns] == [
            ("job_number", "exact"),
            ("part_number", "manual"),
            (None, "ignored"),
        ]
        assert mapping.blocking == ()

    def test_a_saved_mapping_applies_first_and_unknown_fields_are_refused(self) -> None:
        mapping = match_columns("jobs", ["Nummer", "Wer"], saved={0: "job_number", 1: "customer"})
        assert [c.kind.value for c in mapping.columns] == ["saved", "saved"]
        with pytest.raises(ValueError, match="not a field"):
            match_columns("jobs", ["x"], manual={0: "colour"})

    def test_a_missing_required_field_blocks_with_a_message(self) -> None:
        mapping = match_columns("resources", ["name"])
        assert [(str(i.code), i.field) for i in mapping.blocking] == [
            ("REQUIRED_COLUMN_MISSING", "type")
        ]

    def test_a_part_needs_some_job_reference_and_an_operation_some_part_reference(self) -> None:
        assert [i.field for i in match_columns("parts", ["part_number"]).blocking] == ["job_id"]
        assert match_columns("parts", ["part_number", "Ordernummer"]).blocking == ()
        assert [
            i.field
            for i in match_columns(
                "operations", ["operation_name", "part_number", "sequence"]
            ).blocking
        ] == ["part_id"]
        assert (
            match_columns(
                "operations", ["operation_name", "job_number", "part_number", "sequence"]
            ).blocking
            == ()
        )

    def test_the_external_id_line_says_where_the_key_comes_from(self) -> None:
        assert (
            match_columns("jobs", ["Ordernummer", "ERP ID"]).external_id_line
            == "column `ERP ID` → `external_id`"
        )
        assert (
            match_columns("jobs", ["Ordernummer"]).external_id_line == "derived from `job_number`"
        )
        off = match_columns("jobs", ["Ordernummer"], derive_ids=False)
        assert off.external_id_line == "missing"
        assert [i.field for i in off.blocking] == ["external_id"]

    def test_ids_that_cannot_be_derived_block_when_their_source_column_is_missing(self) -> None:
        assert [i.field for i in match_columns("materials", ["name"]).blocking] == ["external_id"]
        assert [
            i.field
            for i in match_columns("operations", ["operation_name", "part_external_id"]).blocking
        ] == ["external_id"]

    def test_no_alias_of_the_table_matches_two_fields_of_one_entity(self) -> None:
        for entity, (_exact, alias, loose) in headers._TABLES.items():
            assert {k: v for k, v in alias.items() if len(v) > 1} == {}, entity
            assert {k: v for k, v in loose.items() if len(v) > 1} == {}, entity

    def test_a_header_matching_several_fields_by_one_rule_is_left_to_the_user(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        exact, alias, loose = headers._TABLES["jobs"]
        clashing = {**alias, "ref": {"notes", "customer"}}
        monkeypatch.setitem(headers._TABLES, "jobs", (exact, clashing, loose))
        mapping = match_columns("jobs", ["job_number", "Ref"])
        column = mapping.columns[1]
        assert (column.field, column.candidates) == (None, ("customer", "notes"))
        assert [str(i.code) for i in mapping.issues] == ["AMBIGUOUS_HEADER"]

    def test_metadata_columns_and_failed_rows_columns(self) -> None:
        mapping = match_columns(
            "jobs", ["job_number", "metadata.Plant", "floorsync_line", "floorsync_errors"]
        )
        assert [c.field for c in mapping.columns] == ["job_number", "metadata.Plant", None, None]
        assert mapping.failed_rows_file

    def test_an_unknown_unit_on_a_time_or_length_column_warns(self) -> None:
        mapping = match_columns(
            "operations",
            ["operation_name", "part_external_id", "sequence", "Time (days)", "Rüstzeit [h]"],
        )
        assert [(str(i.code), i.column) for i in mapping.issues] == [
            ("UNIT_UNKNOWN", "Time (days)")
        ]


# How a column's CSV type relates to the API field kind it feeds.
_KINDS = {
    ValueType.text: {Kind.string, Kind.text, Kind.uuid, Kind.country},
    ValueType.integer: {Kind.integer},
    ValueType.decimal: {Kind.number},
    ValueType.minutes: {Kind.number},
    ValueType.whole_minutes: {Kind.integer},
    ValueType.length_mm: {Kind.number},
    ValueType.date_or_datetime: {Kind.timestamp},
    ValueType.datetime: {Kind.timestamp},
    ValueType.boolean: {Kind.boolean},
    ValueType.status: {Kind.enum},
}
# Writable fields a CSV file cannot fill (§5.1: nested arrays; metadata comes as metadata.<key>).
_NOT_FROM_CSV = {"file_paths", "metadata"}


class TestColumnsFollowTheApi:
    @pytest.mark.parametrize("entity", ENTITY_ORDER)
    def test_every_column_is_a_field_or_reference_the_api_accepts_with_a_matching_type(
        self, entity: str
    ) -> None:
        api = get_spec(entity)
        columns = ENTITIES[entity]
        importer_names = {
            r.name_column for r in columns.references if r.name_column and not r.name_by_engine
        }
        if entity == "operations":
            importer_names |= {"job_id", "job_external_id", "job_external_source", "job_number"}
        for column in columns.columns:
            if column.name in importer_names:
                continue
            if column.name in api.ref_inputs:
                continue
            assert column.name in api.writable, f"{entity}.{column.name} is not an API field"
            assert api.writable[column.name].kind in _KINDS[column.type], f"{entity}.{column.name}"
            for alias in column.api_aliases:
                assert api.aliases[alias] == column.name

    @pytest.mark.parametrize("entity", ENTITY_ORDER)
    def test_every_writable_api_field_and_reference_has_a_column(self, entity: str) -> None:
        api = get_spec(entity)
        names = set(ENTITIES[entity].by_name)
        missing = (set(api.writable) | set(api.ref_inputs)) - names - _NOT_FROM_CSV
        assert missing == set()

    @pytest.mark.parametrize("entity", ENTITY_ORDER)
    def test_required_columns_are_the_apis_required_fields(self, entity: str) -> None:
        api = get_spec(entity)
        required_refs = {r.id_field for r in api.refs if r.required}
        api_required = {f.name for f in api.writable.values() if f.required} - required_refs
        assert set(ENTITIES[entity].required) == api_required
        assert {r.id_column for r in ENTITIES[entity].references if r.required} == required_refs
