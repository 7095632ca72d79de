"""Bytes → text (CSV import §3.1, §3.2): BOMs, strict UTF-8, Windows-1252 as WHATWG defines it,
UTF-16, and the refusals (empty, binary, Excel, UTF-32) with their file-level codes."""

import codecs

import pytest

from floorsync.csv_import.decoding import decode
from floorsync.csv_import.issues import Code, FileError
from tests.csv_import.helpers import analyse, fixture, parse


def refused(data: bytes, **kw: object) -> str:
    with pytest.raises(FileError) as caught:
        decode(data, **kw)  # type: ignore[arg-type]
    return str(caught.value.issue.code)


class TestEncodings:
    def test_a_utf8_bom_is_detected_and_removed(self) -> None:
        decoded = decode(fixture("jobs_bom.csv"))
        assert decoded.encoding == "UTF-8 (BOM)"
        assert decoded.text().startswith("external_id,")
        assert "Jörg" in decoded.non_ascii_sample

    def test_a_windows_1252_export_keeps_its_accented_characters(self) -> None:
        decoded = decode(fixture("orders_nl.csv"))
        assert decoded.encoding == "Windows-1252"
        text = decoded.text()
        for word in ("Dürüm", "Cañón", "ë", "€", "Müller"):
            assert word in text
        assert {"Dürüm", "Cañón"} <= set(decoded.non_ascii_sample)

    def test_the_five_unassigned_windows_1252_bytes_become_c1_controls_and_warn_on_their_row(
        self,
    ) -> None:
        data = b"job_number,customer\nSO-1,Caf\xe9 \x81\n"
        assert decode(data).text().endswith("Café \x81\n")
        _, rows = parse(decode(data).text(), "jobs")
        assert [str(i.code) for i in rows[0].issues] == ["CONTROL_CHARACTERS"]
        assert rows[0].item["customer"] == "Café \x81"

    def test_utf16_le_with_bom_is_excels_unicode_text(self) -> None:
        decoded = decode(fixture("resources_utf16.txt"))
        assert decoded.encoding == "UTF-16 LE"
        assert decoded.text().splitlines()[2] == "Dürüm\ttooling\tHal 3"

    def test_utf16_be_with_bom_and_utf16_without_bom_are_read(self) -> None:
        text = "name\ttype\nPers\tmachine\n"
        assert decode(codecs.BOM_UTF16_BE + text.encode("utf-16-be")).text() == text
        assert decode(text.encode("utf-16-le")).encoding == "UTF-16 LE"

    def test_utf32_is_refused_as_unsupported(self) -> None:
        assert (
            refused(codecs.BOM_UTF32_LE + "a,b\n".encode("utf-32-le")) == Code.ENCODING_UNSUPPORTED
        )

    def test_a_bom_saved_twice_is_removed_from_the_first_header_cell(self) -> None:
        data = codecs.BOM_UTF8 + codecs.BOM_UTF8 + b"job_number\nSO-1\n"
        result = analyse("jobs.csv", data)
        assert result.header == ["job_number"]
        assert result.mapping is not None
        assert result.mapping.columns[0].field == "job_number"

    def test_double_encoded_utf8_is_flagged_as_mojibake(self) -> None:
        decoded = decode(fixture("mojibake.csv"))
        assert [str(w.code) for w in decoded.warnings] == ["MOJIBAKE_SUSPECTED"]
        assert decode(fixture("jobs_bom.csv")).warnings == ()

    def test_an_encoding_chosen_by_the_user_that_does_not_fit_names_the_line(self) -> None:
        with pytest.raises(FileError) as caught:
            decode(fixture("orders_nl.csv"), "utf-8")
        assert caught.value.issue.code == Code.ENCODING_ERROR
        assert caught.value.issue.line == 2

    def test_iso_8859_15_can_be_chosen_for_its_euro_sign(self) -> None:
        data = "code;name\nX;Œuvre €\n".encode("iso8859_15")
        assert decode(data).text() != "code;name\nX;Œuvre €\n"  # auto reads Windows-1252
        assert decode(data, "iso-8859-15").text() == "code;name\nX;Œuvre €\n"


class TestRefusals:
    def test_an_empty_file_is_file_empty(self) -> None:
        assert refused(fixture("empty.csv")) == Code.FILE_EMPTY
        assert refused(b"\xef\xbb\xbf\r\n") == Code.FILE_EMPTY

    def test_binary_content_is_file_binary(self) -> None:
        assert refused(fixture("binary.csv")) == Code.FILE_BINARY

    def test_an_xlsx_renamed_csv_is_recognised_as_excel_by_its_content(self) -> None:
        with pytest.raises(FileError) as caught:
            decode(fixture("workbook.csv"))
        assert caught.value.issue.code == Code.FILE_EXCEL
        assert "Save it as CSV UTF-8" in caught.value.issue.message

    def test_a_legacy_xls_is_recognised_by_its_ole_signature(self) -> None:
        assert refused(fixture("legacy.xls")) == Code.FILE_EXCEL

    def test_a_file_level_error_lands_on_the_file_card_with_the_file_name(self) -> None:
        result = analyse("workbook.csv")
        assert result.error is not None
        assert (result.error.code, result.error.file) == (Code.FILE_EXCEL, "workbook.csv")
        assert result.mapping is None
