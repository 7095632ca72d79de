"""Bytes → text, with the encoding rules of CSV import §3.1–§3.2.

The order, per file:

1. `EF BB BF` → UTF-8, the BOM removed;
2. `FF FE` / `FE FF` → UTF-16 LE / BE (Excel's "Unicode Text"), the BOM removed;
3. a UTF-32 BOM → refused (`ENCODING_UNSUPPORTED`);
4. the whole file decodes as strict UTF-8 → UTF-8;
5. otherwise Windows-1252 as the WHATWG Encoding Standard defines it: the five bytes the code
   page leaves unassigned (81 8D 8F 90 9D) become the C1 control characters of the same number
   instead of failing (the parser warns `CONTROL_CHARACTERS` on a row holding one).

Step 5 is deliberately not left to a statistical detector: on the short, mostly-ASCII exports
this importer sees, charset-normalizer 3.5 ranks cp1250 or cp1257 above cp1252 for a file
holding `Dürüm;Cañón;ë;€` (turning `Cañón` into `Cańón`), and it never prefers ISO-8859-15
over Windows-1252. A user who knows better overrides the encoding (UTF-8, Windows-1252,
ISO-8859-15, UTF-16); undecodable bytes are then `ENCODING_ERROR` naming their line.

Before any of that the content is classified: Excel and OpenDocument workbooks (a zip holding
`[Content_Types].xml` or `mimetype`, or the OLE signature of a legacy `.xls`) are `FILE_EXCEL`;
NUL bytes that are not UTF-16 text are `FILE_BINARY`; no bytes at all is `FILE_EMPTY`.

Decoding never holds a second copy of the file: `Decoded.lines()` streams it line by line,
CR, LF and CRLF all ending a line (Python's `newline=""`), so the csv module sees every
physical line and line numbers stay exact.
"""

import codecs
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from floorsync.csv_import.issues import Code, FileError, Issue

EncodingChoice = Literal["auto", "utf-8", "windows-1252", "iso-8859-15", "utf-16"]
ENCODING_CHOICES: tuple[EncodingChoice, ...] = (
    "auto",
    "utf-8",
    "windows-1252",
    "iso-8859-15",
    "utf-16",
)

EXCEL_MESSAGE = "This is an Excel workbook. Save it as CSV UTF-8 and upload again."
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"
_CHUNK = 1 << 20
_SAMPLE_CHARS = 1 << 20


def _c1_for_unassigned(exc: UnicodeError) -> tuple[str, int]:
    """WHATWG windows-1252: the bytes Python's cp1252 refuses map to U+0081, U+008D, …"""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    chunk = exc.object[exc.start : exc.end]
    return "".join(chr(b) for b in chunk), exc.end


codecs.register_error("floorsync-whatwg-1252", _c1_for_unassigned)

# Typical double-encoded sequences: UTF-8 bytes of Latin-1 letters and curly punctuation read
# as Windows-1252 (`é` → `Ã©`, `’` → `â€™`).
_MOJIBAKE = re.compile(
    "|".join(
        sorted(
            {
                re.escape(ch.encode("utf-8").decode("cp1252", errors="ignore"))
                for ch in [*map(chr, range(0xC0, 0x100)), "‘", "’", "“", "”", "–", "—", "…", "€"]
            },
            key=len,
            reverse=True,
        )
    )
)
_NON_ASCII_WORD = re.compile(r"[^\s,;|\"'\t]*[^\x00-\x7f][^\s,;|\"'\t]*")


@dataclass(frozen=True)
class Decoded:
    """A file's bytes with the encoding chosen for them; stream the text with `lines()`."""

    data: bytes
    encoding: (
        str  # what the file card shows: "UTF-8", "UTF-8 (BOM)", "UTF-16 LE", "Windows-1252", …
    )
    codec: str  # Python codec name
    errors: str
    offset: int  # bytes of BOM skipped
    non_ascii_sample: tuple[str, ...] = ()  # a few words with non-ASCII characters, for the card
    warnings: tuple[Issue, ...] = field(default=())

    def lines(self) -> Iterator[str]:
        """The text line by line, each line with its ending (CR, LF or CRLF)."""
        raw = io.BytesIO(self.data)
        raw.seek(self.offset)
        return iter(io.TextIOWrapper(raw, encoding=self.codec, errors=self.errors, newline=""))

    def text(self) -> str:
        """The whole text at once (small files and tests; large files stream `lines()`)."""
        return "".join(self.lines())


def decode(data: bytes, encoding: EncodingChoice = "auto") -> Decoded:
    """Choose the encoding of one file and check the content is text; raises FileError."""
    refuse_non_text(data)
    if encoding == "auto":
        codec, label, offset = _detect(data)
    else:
        codec, label, offset = _chosen(data, encoding)
    errors = "floorsync-whatwg-1252" if codec == "cp1252" else "strict"
    if errors == "strict":
        _check_decodes(data, codec, offset)
    decoded = Decoded(data, label, codec, errors, offset)
    sample = _text_prefix(decoded, _SAMPLE_CHARS)
    words = _non_ascii_words(sample)
    warnings: tuple[Issue, ...] = ()
    if codec == "utf-8" and (found := _MOJIBAKE.search(sample)):
        warnings = (
            Issue(
                Code.MOJIBAKE_SUSPECTED,
                f"The text contains {found.group()!r}, typical of UTF-8 that was decoded and "
                "saved again in another encoding; check the accented characters",
                value=found.group(),
            ),
        )
    return Decoded(data, label, codec, errors, offset, words, warnings)


def refuse_non_text(data: bytes) -> None:
    """FILE_EMPTY, FILE_EXCEL and FILE_BINARY, decided by the content, never the file name."""
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise FileError(Code.FILE_EMPTY, "The file is empty")
    if data.startswith(_OLE) or is_workbook(data):
        raise FileError(Code.FILE_EXCEL, EXCEL_MESSAGE)
    if data.startswith(_ZIP):
        raise FileError(
            Code.FILE_BINARY,
            "This is a zip archive, not a CSV file; upload it as a .zip file of its own",
        )
    if data.startswith((b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00")):
        raise FileError(
            Code.ENCODING_UNSUPPORTED,
            "UTF-32 is not supported; save the file as CSV UTF-8 and upload again",
        )


def is_workbook(data: bytes) -> bool:
    """An .xlsx/.ods is a zip holding `[Content_Types].xml` or `mimetype` (read from the
    archive's directory only; nothing is decompressed)."""
    if not data.startswith(_ZIP):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    return "[Content_Types].xml" in names or "mimetype" in names


def _detect(data: bytes) -> tuple[str, str, int]:
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8", "UTF-8 (BOM)", 3
    if data.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", "UTF-16 LE", 2
    if data.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", "UTF-16 BE", 2
    if b"\x00" in data:
        utf16 = _utf16_without_bom(data)
        if utf16 is None:
            raise FileError(Code.FILE_BINARY, "This is not a text file (it contains NUL bytes)")
        return utf16, "UTF-16 LE" if utf16 == "utf-16-le" else "UTF-16 BE", 0
    if _is_utf8(data):
        return "utf-8", "UTF-8", 0
    return "cp1252", "Windows-1252", 0


def _chosen(data: bytes, encoding: EncodingChoice) -> tuple[str, str, int]:
    if encoding == "utf-8":
        return "utf-8", "UTF-8", 3 if data.startswith(codecs.BOM_UTF8) else 0
    if encoding == "utf-16":
        if data.startswith(codecs.BOM_UTF16_LE):
            return "utf-16-le", "UTF-16 LE", 2
        if data.startswith(codecs.BOM_UTF16_BE):
            return "utf-16-be", "UTF-16 BE", 2
        guess = _utf16_without_bom(data) or "utf-16-le"
        return guess, "UTF-16 LE" if guess == "utf-16-le" else "UTF-16 BE", 0
    if b"\x00" in data:
        raise FileError(Code.FILE_BINARY, "This is not a text file (it contains NUL bytes)")
    if encoding == "windows-1252":
        return "cp1252", "Windows-1252", 0
    return "iso8859_15", "ISO-8859-15", 0


def _utf16_without_bom(data: bytes) -> str | None:
    """Text in UTF-16 without a BOM has a NUL in nearly every other byte (its ASCII part)."""
    head = data[:4096]
    if len(head) < 4 or len(data) % 2:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) >= 0.4 * len(odd) and even.count(0) == 0:
        return "utf-16-le"
    if even.count(0) >= 0.4 * len(even) and odd.count(0) == 0:
        return "utf-16-be"
    return None


def _is_utf8(data: bytes) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    view = memoryview(data)
    try:
        for start in range(0, len(data), _CHUNK):
            decoder.decode(view[start : start + _CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _check_decodes(data: bytes, codec: str, offset: int) -> None:
    """ENCODING_ERROR naming the line of the first byte the chosen encoding cannot decode."""
    decoder = codecs.getincrementaldecoder(codec)("strict")
    view = memoryview(data)[offset:]
    try:
        for start in range(0, len(view), _CHUNK):
            decoder.decode(view[start : start + _CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        pass
    else:
        return
    try:  # the error path only: decode at once to learn the exact offset
        bytes(view).decode(codec)
    except UnicodeDecodeError as exc:
        bad = exc.start
    else:  # pragma: no cover - the incremental decoder and decode() agree
        return
    line = line_of(bytes(view[:bad]).decode(codec, errors="replace"))
    raise FileError(
        Code.ENCODING_ERROR,
        f"The file cannot be read as {codec}: byte 0x{bytes(view[bad : bad + 1]).hex()} "
        f"on line {line} is not valid in it",
        line=line,
    )


def line_of(prefix: str) -> int:
    """The 1-based line number of the position right after `prefix` (CRLF, LF, CR)."""
    return prefix.count("\n") + prefix.count("\r") - prefix.count("\r\n") + 1


def _text_prefix(decoded: Decoded, limit: int) -> str:
    out: list[str] = []
    size = 0
    try:
        for line in decoded.lines():
            out.append(line)
            size += len(line)
            if size >= limit:
                break
    except UnicodeDecodeError:
        pass  # reported by _check_decodes with its line
    return "".join(out)


def _non_ascii_words(text: str, limit: int = 8) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for match in _NON_ASCII_WORD.finditer(text):
        word = match.group().strip("\ufeff")
        if word and not word.isascii():
            seen.setdefault(word[:30], None)
            if len(seen) >= limit:
                break
    return tuple(seen)
