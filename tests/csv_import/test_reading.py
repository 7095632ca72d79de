"""Delimiters, quoting, line endings, blank lines, header handling and the file-level limits
(CSV import §3.3, §3.4, §14), with physical line numbers."""

import pytest

from floorsync.csv_import import reading
from floorsync.csv_import.decoding import decode
from floorsync.csv_import.issues import Code, FileError
from floorsync.csv_import.reading import open_table
from tests.csv_import.helpers import analyse, fixture, lines, parse


def records(text: str, delimiter: str = ",", **kw: object) -> list[tuple[int, list[str]]]:
    table = open_table(lines(text), delimiter, **kw)  # type: ignore[arg-type]
    return [(table.header_line, table.header), *table.records]


def file_error(text: str, delimiter: str = ",") -> tuple[str, int | None]:
    with pytest.raises(FileError) as caught:
        records(text, delimiter)
    return str(caught.value.issue.code), caught.value.issue.line


class TestQuoting:
    def test_quoted_fields_hold_delimiters_doubled_quotes_and_line_breaks(self) -> None:
        text = 'a,b\n"x, y","say ""hi"""\n"two\nlines",  "spaced"\nback\\slash,z\n'
        assert records(text) == [
            (1, ["a", "b"]),
            (2, ["x, y", 'say "hi"']),
            (3, ["two\nlines", "spaced"]),
            (5, ["back\\slash", "z"]),
        ]

    def test_cr_lf_and_crlf_line_endings_are_accepted_mixed_and_counted_physically(
        self,
    ) -> None:
        text = decode(fixture("mixed_endings.csv")).text()
        assert records(text) == [
            (1, ["job_number", "notes"]),
            (2, ["SO-1", "a"]),
            (3, ["SO-2", "two\r\nlines"]),
            (5, ["SO-3", "c"]),
        ]

    def test_blank_lines_and_lines_of_only_delimiters_are_not_rows_but_count_for_line_numbers(
        self,
    ) -> None:
        assert records("a;b\n\n  \n;;\nx;y\n", ";") == [(1, ["a", "b"]), (5, ["x", "y"])]

    def test_an_excel_sep_line_is_skipped_and_still_counts(self) -> None:
        assert records(decode(fixture("sep_line.csv")).text(), ";") == [
            (2, ["job_number", "customer"]),
            (3, ["SO-1", "Acme, Inc"]),
        ]

    def test_a_header_line_below_title_lines_skips_them(self) -> None:
        text = 'Export of 2026-07-01\n"unbalanced title\n\njob_number\nSO-1\n'
        assert records(text, header_line=4) == [(4, ["job_number"]), (5, ["SO-1"])]


class TestFileLevelErrors:
    def test_a_quote_that_is_never_closed_names_the_line_where_its_record_starts(self) -> None:
        assert file_error(decode(fixture("unterminated.csv")).text()) == (
            "UNTERMINATED_QUOTE",
            2,
        )

    def test_an_unterminated_quote_swallowing_a_huge_tail_is_still_unterminated(self) -> None:
        text = 'a,b\nx,y\n1,"' + "filler line\n" * 20_000
        assert file_error(text) == ("UNTERMINATED_QUOTE", 3)

    def test_a_33000_character_field_is_field_too_long(self) -> None:
        assert file_error("a,b\n1,2\n3," + "x" * 33_000 + "\n") == ("FIELD_TOO_LONG", 3)

    def test_a_field_longer_than_the_csv_modules_own_limit_is_field_too_long(self) -> None:
        assert file_error("a,b\n1," + "x" * 200_000 + "\n2,3\n") == ("FIELD_TOO_LONG", 2)

    def test_a_field_of_exactly_32767_characters_is_accepted(self) -> None:
        assert records("a,b\n1," + "x" * 32_767 + "\n")[1][1][1] == "x" * 32_767

    def test_600_columns_are_too_many(self) -> None:
        header = ",".join(f"c{n}" for n in range(600))
        assert file_error(header + "\n" + ",".join("1" * 600) + "\n") == ("TOO_MANY_COLUMNS", 1)

    def test_more_rows_than_the_limit_are_too_many(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(reading, "MAX_ROWS", 3)
        assert file_error("a\n1\n2\n3\n4\n") == ("TOO_MANY_ROWS", 5)

    def test_a_file_with_only_a_header_is_file_empty_on_its_card(self) -> None:
        result = analyse("header_only.csv")
        assert result.error is not None
        assert result.error.code == Code.FILE_EMPTY

    def test_an_empty_file_is_file_empty_on_its_card(self) -> None:
        result = analyse("empty.csv")
        assert result.error is not None
        assert result.error.code == Code.FILE_EMPTY

    def test_an_unterminated_quote_deep_in_the_file_stops_a_parse_at_its_record(self) -> None:
        text = "job_number,notes\n" + "".join(f"SO-{n},x\n" for n in range(50)) + 'SO-X,"open\n'
        with pytest.raises(FileError) as caught:
            parse(text, "jobs")
        assert (caught.value.issue.code, caught.value.issue.line) == (Code.UNTERMINATED_QUOTE, 52)


class TestHeaders:
    def test_duplicate_and_empty_headers_are_numbered_and_named(self) -> None:
        result = analyse("duplicate_headers.csv")
        assert result.header == ["job_number", "Notes", "Notes (2)", "Column 4"]
        assert result.empty_columns == [3]
        assert result.mapping is not None
        notes = [c for c in result.mapping.columns if c.header.startswith("Notes")]
        assert [(c.field, c.kind.value) for c in notes] == [("notes", "exact"), (None, "ignored")]
        assert [str(i.code) for i in result.issues] == ["DUPLICATE_COLUMN"]

    def test_short_rows_are_padded_with_a_warning_and_long_rows_with_values_fail(self) -> None:
        text = "job_number,customer,notes\nSO-1,Acme\nSO-2,Acme,x,,\nSO-3,Acme,x,oops\n"
        _, rows = parse(text, "jobs")
        assert [[str(i.code) for i in r.issues] for r in rows] == [
            ["MISSING_TRAILING_FIELDS"],
            ["TRAILING_EMPTY_FIELDS"],
            ["FIELD_COUNT"],
        ]
        assert rows[2].issues[0].column_number == 4
        assert rows[2].issues[0].value == "oops"
        assert rows[0].ok
        assert rows[1].ok
        assert not rows[2].ok
