"""File paths: the logical names clients know a stored file by (catalogue §2.1), pure helpers.

| Purpose     | `file_path`                                                                   |
|-------------|-------------------------------------------------------------------------------|
| attachment  | `files/<file id>/<name>`, or `jobs/<job>/<file id>/<name>` with a job number   |
| part image  | `parts/<part id>/<unix ms>_<file id>.<ext>`                                   |

`<name>` is the filename with every character outside `A–Z a–z 0–9 . _ -` replaced by `_`
(Eryxon's rule); `<job>` is the job number sanitised alike and cut to 100 characters. On top of
Eryxon's rule, a segment made only of dots (`.`, `..`) has its dots replaced too, so no path
segment reads as "here" or "up" to a client that joins paths. Paths carry no tenant id; the bytes
are found through the row's storage key, never through the path.
"""

import re
import unicodedata
import uuid
from datetime import datetime

from floorsync.storage.errors import Refusal

MAX_FILENAME = 255
MAX_JOB_SEGMENT = 100
_OUTSIDE_SAFE = re.compile(r"[^A-Za-z0-9._-]")


def sanitize_segment(text: str, limit: int | None = None) -> str:
    out = _OUTSIDE_SAFE.sub("_", text)[:limit]
    if out.strip(".") == "":
        out = "_" * len(out) if out else "_"
    return out


def check_filename(raw: str) -> str:
    """The client's filename, trimmed, if acceptable (§3): 1–255 characters, no `/`, `\\`, `..`,
    NUL or control character. Raises Refusal with the spec's constraint and message."""
    name = raw.strip()
    if not name:
        raise Refusal("filename must not be empty", "MIN_LENGTH", raw)
    if len(name) > MAX_FILENAME:
        raise Refusal(f"filename must be at most {MAX_FILENAME} characters", "MAX_LENGTH")
    if (
        "/" in name
        or "\\" in name
        or ".." in name
        or any(unicodedata.category(c) == "Cc" for c in name)
    ):
        raise Refusal("Filename contains invalid characters", "INVALID_VALUE", raw)
    return name


def extension_of(filename: str) -> str | None:
    """`.pdf` for `Drawing.PDF`; None without a dot or with nothing after the last one."""
    _, dot, suffix = filename.rpartition(".")
    return f".{suffix.lower()}" if dot and suffix else None


def attachment_path(file_id: uuid.UUID, filename: str, job_number: str | None = None) -> str:
    name = sanitize_segment(filename)
    if job_number:
        return f"jobs/{sanitize_segment(job_number, MAX_JOB_SEGMENT)}/{file_id}/{name}"
    return f"files/{file_id}/{name}"


def part_image_path(
    part_id: uuid.UUID, file_id: uuid.UUID, uploaded_at: datetime, extension: str
) -> str:
    """`extension` comes from the verified content type (FileType.image_extension), never from
    the client's filename."""
    millis = int(uploaded_at.timestamp() * 1000)
    return f"parts/{part_id}/{millis}_{file_id}.{extension}"
