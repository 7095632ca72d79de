"""The allow-list (catalogue §2.6): declared type + extension + the file's own bytes must agree.

Samples are real file signatures built here (a PNG with its chunks, a ZIP written by zipfile, …);
every (type, extension) pair of the list is exercised with a good file, an executable, a script
and an HTML page."""

import io
import itertools
import struct
import zipfile
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from floorsync.storage.errors import ContentMismatch, Refusal
from floorsync.storage.filetypes import (
    FILE_TYPES,
    IMAGE_TYPES,
    FileType,
    canonical_type,
    check_bytes,
    check_extension,
    content_type_matches,
    file_type_for,
)


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def zip_with(*names: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name in names:
            z.writestr(name, "<x/>")
    return out.getvalue()


JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffdb004300") + bytes(64) + b"\xff\xd9"
GIF = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)
WEBP = b"RIFF" + struct.pack("<I", 26) + b"WEBPVP8L" + struct.pack("<I", 13) + bytes(14)
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
STEP = (
    b"ISO-10303-21;\nHEADER;\nFILE_DESCRIPTION(('bracket'),'2;1');\nENDSEC;\nDATA;\n"
    b"#1=CARTESIAN_POINT('',(0.,0.,0.));\nENDSEC;\nEND-ISO-10303-21;\n"
)
DXF = b"  0\nSECTION\n  2\nHEADER\n  9\n$ACADVER\n  1\nAC1015\n  0\nENDSEC\n  0\nEOF\n"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
XLSX = zip_with("[Content_Types].xml", "xl/workbook.xml")
THREE_MF = zip_with("[Content_Types].xml", "3D/3dmodel.model")
STL = b"solid bracket\n facet normal 0 0 1\n  outer loop\n   vertex 0 0 0\n  endloop\n endfacet\nendsolid\n"
GCODE = "; Fräskopf\nG21\nG90\nG0 X0 Y0\nM30\n".encode()
IGES = b"bracket".ljust(72) + b"S      1\n"
SAT = b"700 0 1 0\n@33 ACIS 7.0 NT\n"
X_T = b"**ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz**************************\n"
X_B = b"PS\x00\x00\x00\x1d: TRANSMIT FILE (neutral) created by modeller\x00\x01"
DWG = b"AC1032\x00\x00\x00\x00\x00\x00" + bytes(100)

GOOD_BY_EXTENSION = {
    ".pdf": PDF, ".jpg": JPEG, ".jpeg": JPEG, ".png": png(), ".gif": GIF, ".webp": WEBP,
    ".txt": "Prüfbericht ✓\n".encode(), ".log": b"08:00 started\n", ".nc": GCODE, ".cnc": GCODE,
    ".mpf": GCODE, ".gcode": GCODE, ".csv": "part;qty\nP-10;3\nStück;4\n".encode("latin-1"),
    ".json": '{"part": "P-10", "note": "Ø 12"}'.encode(), ".step": STEP, ".stp": STEP, ".dxf": DXF,
    ".xls": OLE, ".xlsx": XLSX, ".stl": STL, ".3mf": THREE_MF, ".igs": IGES, ".iges": IGES,
    ".sat": SAT, ".x_t": X_T, ".x_b": X_B, ".dwg": DWG,
}  # fmt: skip

PE_EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(48) + b"PE\x00\x00" + bytes(400)
)
ELF = b"\x7fELF\x02\x01\x01" + bytes(200)
MACH_O = b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + bytes(200)
SCRIPT = b"#!/bin/sh\nrm -rf /\n"
HTML = b"\xef\xbb\xbf\n  <!DOCTYPE html><html><script>alert(1)</script></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
XML = b'<?xml version="1.0"?><root/>'
HOSTILE = {
    "pe": PE_EXE,
    "elf": ELF,
    "mach-o": MACH_O,
    "script": SCRIPT,
    "html": HTML,
    "svg": SVG,
    "xml": XML,
}

PAIRS = [(t, ext) for t in FILE_TYPES for ext in t.extensions]


def pair_id(pair: tuple[FileType, str]) -> str:
    return f"{pair[0].content_type}{pair[1]}"


class TestEveryRowOfTheList:
    @pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
    def test_a_real_file_of_each_allowed_type_and_extension_passes(
        self, pair: tuple[FileType, str]
    ) -> None:
        file_type, ext = pair
        assert check_extension(file_type, f"part{ext.upper()}") == ext
        check_bytes(file_type, f"part{ext}", GOOD_BY_EXTENSION[ext])

    @pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
    @pytest.mark.parametrize("hostile", HOSTILE)
    def test_executables_scripts_and_markup_are_refused_under_every_allowed_name(
        self, pair: tuple[FileType, str], hostile: str
    ) -> None:
        file_type, ext = pair
        with pytest.raises(ContentMismatch) as raised:
            check_bytes(file_type, f"part{ext}", HOSTILE[hostile])
        assert raised.value.details_json() == [
            {
                "field": "file",
                "message": f"File content does not match {file_type.content_type}",
                "constraint": "INVALID_VALUE",
            }
        ]

    def test_html_svg_xml_scripts_and_executables_are_not_types_of_the_list(self) -> None:
        for declared in (
            "text/html", "image/svg+xml", "application/xml", "text/xml", "application/javascript",
            "application/x-msdownload", "application/x-sh", "application/zip", "",
        ):  # fmt: skip
            with pytest.raises(Refusal) as raised:
                file_type_for(declared)
            assert raised.value.constraint == "ENUM_CONSTRAINT"
        with pytest.raises(Refusal) as raised:
            file_type_for("application/x-msdownload")
        detail = raised.value.as_detail("content_type").as_dict()
        assert detail == {
            "field": "content_type",
            "message": "Content type not allowed: application/x-msdownload",
            "constraint": "ENUM_CONSTRAINT",
            "value": "application/x-msdownload",
        }


class TestSignatures:
    def test_an_exe_renamed_pdf_is_refused_by_its_signature(self) -> None:
        pdf = file_type_for("application/pdf")
        assert check_extension(pdf, "invoice.pdf") == ".pdf"  # the name and type look fine…
        with pytest.raises(ContentMismatch) as raised:
            check_bytes(pdf, "invoice.pdf", PE_EXE)  # …the bytes do not
        assert raised.value.status_code == 422

    @pytest.mark.parametrize(
        ("declared", "name", "data"),
        [
            ("application/pdf", "a.pdf", b"%PDF"),  # too short for `%PDF-`
            ("application/pdf", "a.pdf", b" %PDF-1.4"),
            ("image/png", "a.png", JPEG),
            ("image/jpeg", "a.jpg", png()),
            ("image/gif", "a.gif", b"GIF88a" + bytes(20)),
            ("image/webp", "a.webp", b"RIFF\x00\x00\x00\x00WAVEfmt "),
            ("application/vnd.ms-excel", "a.xls", XLSX),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "a.xlsx", OLE),
            ("model/3mf", "a.3mf", STL),
            ("application/step", "a.step", b"HEADER;\nISO-10303-21;\n"),
            ("application/octet-stream", "a.stp", DXF),  # octet-stream keeps the STEP check
            ("application/octet-stream", "a.3mf", STL),  # and the 3MF (ZIP) check
        ],
    )
    def test_bytes_of_another_format_are_refused(
        self, declared: str, name: str, data: bytes
    ) -> None:
        with pytest.raises(ContentMismatch):
            check_bytes(file_type_for(declared), name, data)

    def test_a_step_header_may_follow_a_bom_and_whitespace(self) -> None:
        check_bytes(file_type_for("model/step"), "a.step", b"\xef\xbb\xbf \r\n\tISO-10303-21;\n")

    def test_a_step_header_after_more_than_the_sniffed_kib_of_whitespace_is_refused(self) -> None:
        with pytest.raises(ContentMismatch):
            check_bytes(file_type_for("model/step"), "a.step", b" " * 1024 + STEP)

    def test_a_binary_dxf_passes_as_a_dxf(self) -> None:
        check_bytes(
            file_type_for("image/vnd.dxf"), "a.dxf", b"AutoCAD Binary DXF\r\n\x1a\x00" + bytes(50)
        )


class TestTextRules:
    def test_text_plain_must_be_utf8_without_nul_and_may_start_with_a_bom(self) -> None:
        text = file_type_for("text/plain")
        check_bytes(text, "a.txt", "\ufeffmaß\n".encode())
        with pytest.raises(ContentMismatch):
            check_bytes(text, "a.txt", "maß".encode("latin-1"))
        with pytest.raises(ContentMismatch):
            check_bytes(text, "a.txt", b"G0 X1\x00")
        with pytest.raises(ContentMismatch):
            check_bytes(text, "a.txt", "Ø".encode()[:1])  # a sequence cut off at the end

    def test_csv_may_be_any_encoding_but_not_binary(self) -> None:
        csv = file_type_for("text/csv")
        check_bytes(csv, "a.csv", "Stück;Maß\n".encode("cp1252"))
        with pytest.raises(ContentMismatch):
            check_bytes(csv, "a.csv", b"a;b\n\x00\x01")

    def test_json_must_be_utf8(self) -> None:
        json_type = file_type_for("application/json")
        check_bytes(json_type, "a.json", b'{"a": "\xc3\xb8"}')
        with pytest.raises(ContentMismatch):
            check_bytes(json_type, "a.json", b'{"a": "\xf8"}')

    def test_a_nul_far_into_a_text_upload_is_caught_in_the_chunk_that_holds_it(self) -> None:
        check = file_type_for("text/plain").content_check("prog.nc")
        for _ in range(100):
            check.feed(b"G1 X10 Y10 F300\n" * 64)
        with pytest.raises(ContentMismatch):
            check.feed(b"G1 X11\x00")


class TestStreaming:
    def test_a_signature_mismatch_stops_the_stream_within_the_first_kib(self) -> None:
        check = file_type_for("application/pdf").content_check("a.pdf")
        with pytest.raises(ContentMismatch):
            check.feed(PE_EXE + bytes(1024))  # one chunk of a much larger stream

    @settings(max_examples=60, deadline=None)
    @given(
        ext=st.sampled_from(sorted(GOOD_BY_EXTENSION)),
        hostile=st.sampled_from(sorted(HOSTILE)),
        cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=8),
    )
    def test_the_verdict_does_not_depend_on_how_the_stream_is_cut_into_chunks(
        self, ext: str, hostile: str, cuts: list[int]
    ) -> None:
        file_type = next(t for t in FILE_TYPES if ext in t.extensions)

        def verdict(data: bytes, points: list[int]) -> bool:
            check = file_type.content_check(f"a{ext}")
            edges = [0, *sorted(p for p in points if p < len(data)), len(data)]
            try:
                for start, end in itertools.pairwise(edges):
                    check.feed(data[start:end])
                check.finish()
            except ContentMismatch:
                return False
            return True

        good = GOOD_BY_EXTENSION[ext] * 30  # long enough to span the sniffed KiB
        assert verdict(good, cuts) is True
        assert verdict(HOSTILE[hostile], cuts) is False

    def test_a_multibyte_character_split_across_chunks_is_valid_utf8(self) -> None:
        check = file_type_for("text/plain").content_check("a.txt")
        data = "Ø".encode()
        check.feed(data[:1])
        check.feed(data[1:])
        check.finish()


class TestDeclarations:
    def test_types_match_case_insensitively_without_parameters_and_jpg_means_jpeg(self) -> None:
        assert file_type_for("Application/PDF; charset=binary").content_type == "application/pdf"
        assert file_type_for("image/JPG").content_type == "image/jpeg"
        assert canonical_type(" Text/Plain ;charset=utf-8") == "text/plain"

    def test_the_extension_must_fit_the_declared_type(self) -> None:
        octet = file_type_for("application/octet-stream")
        with pytest.raises(Refusal) as raised:
            check_extension(octet, "evil.exe")
        assert raised.value.as_detail("filename").as_dict() == {
            "field": "filename",
            "message": "File extension .exe is not allowed for application/octet-stream",
            "constraint": "INVALID_VALUE",
            "value": "evil.exe",
        }
        for declared, name in [
            ("application/pdf", "drawing.pdf.exe"),
            ("application/pdf", "drawing"),
            ("application/pdf", "drawing."),
            ("model/stl", "part.3mf"),
            ("application/octet-stream", "scan.pdf"),  # octet-stream is for CAD/CAM only
            ("text/plain", "notes.html"),
        ]:
            with pytest.raises(Refusal):
                check_extension(file_type_for(declared), name)
        with pytest.raises(Refusal, match=r"File extension \(none\) is not allowed"):
            check_extension(file_type_for("application/pdf"), "drawing")

    def test_part_images_accept_only_jpeg_png_gif_and_webp(self) -> None:
        assert {t.content_type for t in IMAGE_TYPES} == {
            "image/jpeg",
            "image/png",
            "image/gif",
            "image/webp",
        }
        assert file_type_for("image/jpg", images_only=True).image_extension == "jpg"
        for declared in ("application/pdf", "image/svg+xml", "text/plain"):
            with pytest.raises(Refusal) as raised:
                file_type_for(declared, images_only=True)
            assert raised.value.message == (
                "Invalid file type. Allowed types: image/jpeg, image/png, image/webp, image/gif"
            )

    def test_an_upload_content_type_header_must_name_the_rows_type(self) -> None:
        assert content_type_matches(None, "text/plain")
        assert content_type_matches("", "text/plain")
        assert content_type_matches("TEXT/plain; charset=utf-8", "text/plain")
        assert content_type_matches("image/jpg", "image/jpeg")
        assert not content_type_matches("application/pdf", "text/plain")
        assert not content_type_matches("text/plain-ish", "text/plain")

    def test_only_pictures_and_pdfs_are_shown_inline(self) -> None:
        inline = {t.content_type for t in FILE_TYPES if t.inline}
        assert inline == {"image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf"}
