"""Storage keys (UUIDs only, so nothing can traverse), the wire file_path formats (catalogue §2.1),
the filename rules of api-upload-url (§3) and the download headers (§2.5)."""

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from floorsync.kit.ids import new_id
from floorsync.storage.download import content_disposition, download_headers
from floorsync.storage.errors import Refusal
from floorsync.storage.keys import StorageKey
from floorsync.storage.paths import (
    attachment_path,
    check_filename,
    extension_of,
    part_image_path,
    sanitize_segment,
)

FILE_ID = uuid.UUID("0190f3a2-7c1e-7b6a-9d2e-5f4c3b2a1d00")


class TestStorageKeys:
    def test_a_key_is_tenant_id_slash_file_id_and_parses_back(self) -> None:
        key = StorageKey(new_id(), new_id())
        assert str(key) == f"{key.tenant_id}/{key.file_id}"
        assert StorageKey.parse(str(key)) == key

    def test_a_key_is_made_of_uuid_values_only(self) -> None:
        with pytest.raises(TypeError):
            StorageKey(str(new_id()), new_id())  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            StorageKey(new_id(), "../../etc/passwd")  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "text",
        [
            "../../etc/passwd",
            f"{FILE_ID}/../{FILE_ID}",
            f"{FILE_ID}/{FILE_ID}/..",
            f"/{FILE_ID}/{FILE_ID}",
            f"{FILE_ID}\\{FILE_ID}",
            f"{FILE_ID}/{FILE_ID}\n",
            f"{str(FILE_ID).upper()}/{FILE_ID}",  # only the canonical spelling is stored
            f"{FILE_ID.hex}/{FILE_ID}",
            f"{FILE_ID}/{FILE_ID}/x",
            "",
        ],
    )
    def test_parsing_accepts_nothing_but_two_canonical_uuids(self, text: str) -> None:
        with pytest.raises(ValueError, match="not a storage key"):
            StorageKey.parse(text)

    @given(st.text())
    def test_no_string_parses_to_a_key_whose_text_differs_from_it(self, text: str) -> None:
        try:
            key = StorageKey.parse(text)
        except ValueError:
            return
        assert str(key) == text

    def test_the_shard_is_the_last_two_hex_digits_the_random_end_of_a_uuid7(self) -> None:
        key = StorageKey(new_id(), FILE_ID)
        assert key.shard == "00"
        # UUIDv7 ids made in the same decade share their first hex digits, not their last ones
        shards = {StorageKey(FILE_ID, new_id()).shard for _ in range(200)}
        firsts = {new_id().hex[:2] for _ in range(200)}
        assert len(firsts) == 1
        assert len(shards) > 100


class TestFilePaths:
    def test_an_attachment_path_is_files_file_id_and_the_sanitised_name(self) -> None:
        assert attachment_path(FILE_ID, "upload-test.txt") == f"files/{FILE_ID}/upload-test.txt"
        assert attachment_path(FILE_ID, "Zeichnung Ø12 (rev B).pdf") == (
            f"files/{FILE_ID}/Zeichnung__12__rev_B_.pdf"
        )

    def test_a_job_number_labels_the_path_sanitised_and_cut_to_100_characters(self) -> None:
        assert attachment_path(FILE_ID, "a.pdf", "J-1001") == f"jobs/J-1001/{FILE_ID}/a.pdf"
        assert (
            attachment_path(FILE_ID, "a.pdf", "../../../etc")
            == f"jobs/.._.._.._etc/{FILE_ID}/a.pdf"
        )
        long = attachment_path(FILE_ID, "a.pdf", "J/" + "x" * 200)
        assert long == f"jobs/J_{'x' * 98}/{FILE_ID}/a.pdf"

    def test_no_segment_is_only_dots(self) -> None:
        assert attachment_path(FILE_ID, "a.pdf", "..") == f"jobs/__/{FILE_ID}/a.pdf"
        assert attachment_path(FILE_ID, ".", None) == f"files/{FILE_ID}/_"
        assert sanitize_segment("") == "_"

    @given(st.text(min_size=1), st.one_of(st.none(), st.text(min_size=1)))
    def test_every_segment_is_safe_characters_and_never_dot_or_dot_dot(
        self, name: str, job: str | None
    ) -> None:
        segments = attachment_path(FILE_ID, name, job).split("/")
        assert all(s and s.strip(".") and set(s) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
        ) for s in segments)  # fmt: skip
        assert str(FILE_ID) in segments

    def test_a_part_image_path_has_the_upload_time_in_ms_and_the_verified_extension(self) -> None:
        part_id = new_id()
        at = datetime(2026, 3, 1, 8, 0, 0, 123_000, tzinfo=UTC)
        assert part_image_path(part_id, FILE_ID, at, "jpg") == (
            f"parts/{part_id}/{int(at.timestamp()) * 1000 + 123}_{FILE_ID}.jpg"
        )

    def test_the_extension_is_the_lower_cased_last_suffix(self) -> None:
        assert extension_of("Drawing.Rev2.PDF") == ".pdf"
        assert extension_of("part.x_t") == ".x_t"
        assert extension_of("README") is None
        assert extension_of("trailing.") is None


class TestFilenames:
    @pytest.mark.parametrize(
        "name",
        [
            "../../../etc/passwd",  # Eryxon's test
            "..\\..\\boot.ini",
            "a/b.pdf",
            "a\\b.pdf",
            "report..pdf",
            "nul\x00.pdf",
            "tab\there.txt",
            "line\nbreak.txt",
            "del\x7f.txt",
            "c1\x85.txt",
        ],
    )
    def test_traversal_separators_and_control_characters_are_invalid(self, name: str) -> None:
        with pytest.raises(Refusal) as raised:
            check_filename(name)
        assert (raised.value.constraint, raised.value.message) == (
            "INVALID_VALUE",
            "Filename contains invalid characters",
        )

    def test_a_filename_is_trimmed_and_may_hold_any_other_character(self) -> None:
        assert check_filename("  Prüfbericht 2026 (v2).pdf ") == "Prüfbericht 2026 (v2).pdf"

    def test_a_filename_has_1_to_255_characters(self) -> None:
        assert check_filename("x" * 255) == "x" * 255
        with pytest.raises(Refusal) as too_long:
            check_filename("x" * 256)
        assert too_long.value.constraint == "MAX_LENGTH"
        with pytest.raises(Refusal) as empty:
            check_filename("   ")
        assert empty.value.constraint == "MIN_LENGTH"


class TestDownloadHeaders:
    def test_a_download_is_typed_sized_tagged_sandboxed_and_cached_until_the_url_expires(
        self,
    ) -> None:
        headers = download_headers(
            content_type="application/step",
            filename="bracket.step",
            size=284113,
            sha256="9f86d081",
            seconds_left=840,
        )
        assert headers == {
            "Content-Type": "application/step",
            "Content-Length": "284113",
            "Content-Disposition": "attachment; filename=\"bracket.step\"; filename*=UTF-8''bracket.step",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, max-age=840",
            "Referrer-Policy": "no-referrer",
            "ETag": '"9f86d081"',
        }

    def test_pictures_and_pdfs_are_inline_everything_else_an_attachment(self) -> None:
        assert content_disposition("a.png", "image/png").startswith("inline;")
        assert content_disposition("a.pdf", "application/pdf").startswith("inline;")
        assert content_disposition("a.txt", "text/plain").startswith("attachment;")
        assert content_disposition("a.bin", "application/x-unknown").startswith("attachment;")

    def test_a_name_outside_printable_ascii_is_replaced_in_filename_and_encoded_in_filename_star(
        self,
    ) -> None:
        assert content_disposition('Maß "1".pdf', "application/pdf") == (
            "inline; filename=\"Ma_ _1_.pdf\"; filename*=UTF-8''Ma%C3%9F%20%221%22.pdf"
        )
