"""What a file is (CSV import §3.3, §4, §6.3, §6.4): delimiter, number format, date order and
entity, each with the reason the file card shows."""

import pytest

from floorsync.csv_import.detect import detect_delimiter, detect_entity, entity_from_name
from floorsync.csv_import.values import choose_separator, date_order_evidence
from tests.csv_import.helpers import analyse


class TestDelimiter:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("a,b,c\n1,2,3\n", ","),
            ("a;b;c\n1;2,5;3\n", ";"),
            ("a\tb\n1\t2\n", "\t"),
            ("a|b\n1|2\n", "|"),
            ('a,b\n"x;y;z",2\n', ","),
            ("sep=|\na,b|c\n", "|"),
        ],
    )
    def test_the_delimiter_is_the_one_that_splits_rows_like_the_header(
        self, text: str, expected: str
    ) -> None:
        assert detect_delimiter(text)[0] == expected

    def test_a_tie_goes_to_the_wider_header_then_to_tab_semicolon_comma_pipe(self) -> None:
        assert detect_delimiter("a;b,c;d\n1;2,3;4\n")[0] == ";"  # 3 fields vs 2
        assert detect_delimiter("a;b,c\n1;2,3\n")[0] == ";"  # 2 and 2: `;` before `,`

    def test_a_file_no_candidate_splits_has_one_column_and_comma(self) -> None:
        delimiter, reason = detect_delimiter("names\nAnn\nBob\n")
        assert delimiter == ","
        assert "one column" in reason

    def test_each_fixture_gets_its_delimiter(self) -> None:
        assert analyse("orders_nl.csv").delimiter == ";"
        assert analyse("arbeitsplaetze.tsv").delimiter == "\t"
        assert analyse("materials_pipe.txt").delimiter == "|"
        assert analyse("resources_utf16.txt").delimiter == "\t"


class TestNumberFormat:
    def test_decimal_commas_win_only_without_decimal_points_and_off_comma_files(self) -> None:
        assert choose_separator(";", ["1.234,5", "7"]) == "comma"
        assert choose_separator(";", ["12,5", "12.5"]) == "point"
        assert choose_separator(",", ["12,5"]) == "point"
        assert choose_separator(";", ["1.234", "01.07.2026", "abc"]) == "point"

    def test_the_dutch_export_is_read_with_decimal_commas(self) -> None:
        assert analyse("orders_nl.csv").decimal == "comma"


class TestDateOrder:
    def test_a_first_component_above_12_means_day_first(self) -> None:
        assert date_order_evidence(["03-04-2026", "13-04-2026"])[:3] == ("dmy", False, False)

    def test_a_second_component_above_12_means_month_first(self) -> None:
        assert date_order_evidence(["04/13/2026"])[:3] == ("mdy", False, False)

    def test_both_in_one_column_is_a_conflict(self) -> None:
        assert date_order_evidence(["13-04-2026", "04-13-2026"])[1] is True

    def test_neither_is_day_first_by_assumption_and_iso_says_nothing(self) -> None:
        assert date_order_evidence(["03/04/2026"]) == ("dmy", False, True, "03/04/2026")
        assert date_order_evidence(["2026-04-03"]) == ("dmy", False, False, None)

    def test_an_ambiguous_column_warns_on_the_card_and_a_conflict_blocks(self) -> None:
        assumed = analyse("jobs.csv", b"job_number,due_date\nSO-1,03/04/2026\n")
        assert [str(i.code) for i in assumed.issues] == ["DATE_ORDER_ASSUMED"]
        assert "3 April" not in assumed.issues[0].message  # it quotes the value instead
        conflict = analyse("jobs.csv", b"job_number,due_date\nSO-1,13/04/2026\nSO-2,04/13/2026\n")
        assert [str(i.code) for i in conflict.issues] == ["DATE_ORDER_CONFLICT"]
        assert conflict.blocked
        chosen = analyse(
            "jobs.csv", b"job_number,due_date\nSO-1,13/04/2026\nSO-2,04/13/2026\n", date_order="dmy"
        )
        assert chosen.issues == []
        assert not chosen.blocked


class TestEntity:
    @pytest.mark.parametrize(
        ("name", "entity"),
        [
            ("werkplekken.csv", "cells"),
            ("Work Centers.csv", "cells"),
            ("betriebsmittel.csv", "resources"),
            ("materialen.csv", "materials"),
            ("Aufträge 2026.csv", "jobs"),
            ("salesorders_export.csv", "jobs"),
            ("work_orders.csv", "parts"),
            ("onderdelen.csv", "parts"),
            ("arbeitsgaenge.csv", "operations"),
            ("routing.txt", "operations"),
            ("jobs_and_parts.csv", None),
            ("export.csv", None),
        ],
    )
    def test_the_file_name_names_an_entity_by_its_words(
        self, name: str, entity: str | None
    ) -> None:
        assert entity_from_name(name) == entity

    def test_headers_decide_with_a_count_in_the_reason(self) -> None:
        guess = detect_entity("export.csv", ["Ordernummer", "Klant", "Leverdatum", "Foo"])
        assert guess.entity == "jobs"
        assert guess.reason == "3 of 4 headers match jobs"

    def test_headers_beat_a_misleading_file_name(self) -> None:
        assert (
            detect_entity("orders.csv", ["part_number", "job_number", "quantity"]).entity == "parts"
        )

    def test_a_tie_between_qualifying_entities_is_decided_by_the_file_name(self) -> None:
        guess = detect_entity("werkplekken.csv", ["Naam", "Omschrijving"])
        assert guess.entity == "cells"
        assert guess.reason.startswith("file name `werkplekken.csv`")

    def test_without_qualifying_headers_the_file_name_decides_alone(self) -> None:
        assert detect_entity("orders.csv", ["a", "b"]).entity == "jobs"

    def test_with_neither_the_user_must_choose(self) -> None:
        result = analyse("export.csv", b"a,b\n1,2\n")
        assert result.entity is not None
        assert result.entity.entity is None
        assert [str(i.code) for i in result.issues] == ["ENTITY_UNKNOWN"]

    def test_the_fixtures_are_detected_with_a_reason(self) -> None:
        expected = {
            "orders_nl.csv": "jobs",
            "arbeitsplaetze.tsv": "cells",
            "materials_pipe.txt": "materials",
            "resources_utf16.txt": "resources",
            "werkplekken.csv": "cells",
            "arbeitsgaenge.csv": "operations",
        }
        for name, entity in expected.items():
            guess = analyse(name).entity
            assert guess is not None
            assert guess.entity == entity, name
            assert guess.reason
