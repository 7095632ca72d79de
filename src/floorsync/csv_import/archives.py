"""Zip uploads (CSV import §3.5, §14, §15): entries are read in memory, never extracted, and
their names are never used as paths.

The limits are enforced while decompressing, from the bytes actually produced, never from the
sizes the archive's headers claim: at most 50 CSV entries (1,000 entries of any kind), 50 MiB per
entry, 500 MiB in total, and a compression ratio of at most 100:1 per entry once it has
produced more than 1 MiB (small, very regular files compress beyond 100:1 harmlessly; a bomb
needs size to hurt). An archive inside the archive, an entry name with `..` or an absolute
path, an encrypted or corrupt archive refuse the whole upload (`ArchiveRefused`). Directory
entries, `__MACOSX/`, hidden files and other extensions are skipped and listed.
"""

import io
import zipfile
from dataclasses import dataclass, field

from floorsync.csv_import.decoding import is_workbook
from floorsync.csv_import.issues import ArchiveRefused

CSV_EXTENSIONS = (".csv", ".txt", ".tsv")
MAX_CSV_ENTRIES = 50
MAX_ENTRIES = 1_000
MAX_ENTRY_BYTES = 50 * 1024 * 1024
MAX_TOTAL_BYTES = 500 * 1024 * 1024
MAX_RATIO = 100
RATIO_FLOOR = 1024 * 1024
_CHUNK = 64 * 1024
_ARCHIVE_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!")


@dataclass(frozen=True)
class Entry:
    name: str  # the entry's base name, for display only
    path: str  # the name as stored in the archive
    data: bytes


@dataclass(frozen=True)
class Archive:
    entries: tuple[Entry, ...]  # in archive order
    skipped: tuple[tuple[str, str], ...] = field(default=())  # (path, why)


def is_zip(data: bytes) -> bool:
    """A zip upload (and not an Excel/OpenDocument workbook, which is a zip too)."""
    return data.startswith(b"PK\x03\x04") and not is_workbook(data)


def read_archive(
    data: bytes,
    *,
    max_entry_bytes: int = MAX_ENTRY_BYTES,
    max_total_bytes: int = MAX_TOTAL_BYTES,
) -> Archive:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ArchiveRefused(f"The zip file cannot be read: {exc}") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise ArchiveRefused(
                f"The zip file holds {len(infos):,} entries; at most {MAX_ENTRIES:,} are read"
            )
        wanted, skipped = _select(infos)
        if len(wanted) > MAX_CSV_ENTRIES:
            raise ArchiveRefused(
                f"The zip file holds {len(wanted)} CSV files; at most {MAX_CSV_ENTRIES} per upload"
            )
        total = 0
        entries = []
        for info in wanted:
            content = _read(archive, info, max_entry_bytes, max_total_bytes - total)
            total += len(content)
            if content.startswith(_ARCHIVE_MAGIC) and not is_workbook(content):
                raise ArchiveRefused(
                    f"`{info.filename}` is an archive inside the archive; nested archives are not opened",
                    entry=info.filename,
                )
            entries.append(Entry(_base(info.filename), info.filename, content))
    return Archive(tuple(entries), tuple(skipped))


def _base(path: str) -> str:
    return path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def _select(infos: list[zipfile.ZipInfo]) -> tuple[list[zipfile.ZipInfo], list[tuple[str, str]]]:
    wanted, skipped = [], []
    for info in infos:
        path = info.filename
        parts = path.replace("\\", "/").split("/")
        if path.startswith(("/", "\\")) or ".." in parts or (len(path) > 1 and path[1] == ":"):
            raise ArchiveRefused(
                f"The zip file holds an entry with an unsafe name: {path!r}", entry=path
            )
        if info.flag_bits & 0x1:
            raise ArchiveRefused(
                f"`{path}` is encrypted; upload an archive without a password", entry=path
            )
        if info.is_dir():
            continue
        name = parts[-1]
        if parts[0] == "__MACOSX" or any(p.startswith(".") for p in parts if p):
            skipped.append((path, "hidden or system file"))
        elif name.lower().endswith((".zip", ".gz", ".tgz", ".7z", ".rar", ".tar")):
            raise ArchiveRefused(
                f"`{path}` is an archive inside the archive; nested archives are not opened",
                entry=path,
            )
        elif not name.lower().endswith(CSV_EXTENSIONS):
            skipped.append((path, "not a .csv, .txt or .tsv file"))
        else:
            wanted.append(info)
    return wanted, skipped


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, max_entry: int, budget: int) -> bytes:
    """Decompress one entry, stopping as soon as it breaks a limit."""
    compressed = max(info.compress_size, 1)
    out = io.BytesIO()
    size = 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > max_entry:
                    raise ArchiveRefused(
                        f"`{info.filename}` is larger than {max_entry // (1024 * 1024)} MiB uncompressed",
                        entry=info.filename,
                    )
                if size > budget:
                    raise ArchiveRefused(
                        f"The zip file is larger than {MAX_TOTAL_BYTES // (1024 * 1024)} MiB uncompressed",
                        entry=info.filename,
                    )
                if size > RATIO_FLOOR and size > MAX_RATIO * compressed:
                    raise ArchiveRefused(
                        f"`{info.filename}` expands more than {MAX_RATIO}:1 (a zip bomb?)",
                        entry=info.filename,
                    )
                out.write(chunk)
    except ArchiveRefused:
        raise
    except (
        zipfile.BadZipFile,
        OSError,
        EOFError,
        NotImplementedError,
        RuntimeError,
        ValueError,
    ) as exc:
        raise ArchiveRefused(
            f"`{info.filename}` cannot be read: {exc}", entry=info.filename
        ) from None
    return out.getvalue()
