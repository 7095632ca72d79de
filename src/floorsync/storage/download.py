"""Response headers of a download (catalogue §2.5), pure.

The bytes are served as what the row says they are, never sniffed, and sandboxed: `nosniff`, a
CSP that allows nothing, and `inline` only for the types a browser shows safely (JPEG, PNG, GIF,
WebP, PDF); everything else is an `attachment`.
"""

import re
import urllib.parse

from floorsync.storage.errors import Refusal
from floorsync.storage.filetypes import file_type_for

_NOT_QUOTABLE = re.compile(r'[^\x20-\x7e]|["\\]')


def content_disposition(filename: str, content_type: str) -> str:
    try:
        inline = file_type_for(content_type).inline
    except Refusal:
        inline = False
    ascii_name = _NOT_QUOTABLE.sub("_", filename) or "file"
    encoded = urllib.parse.quote(filename, safe="")
    return (
        f'{"inline" if inline else "attachment"}; filename="{ascii_name}"; '
        f"filename*=UTF-8''{encoded}"
    )


def download_headers(
    *, content_type: str, filename: str, size: int, sha256: str | None, seconds_left: int
) -> dict[str, str]:
    headers = {
        "Content-Type": content_type,
        "Content-Length": str(size),
        "Content-Disposition": content_disposition(filename, content_type),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": f"private, max-age={max(seconds_left, 0)}",
        "Referrer-Policy": "no-referrer",
    }
    if sha256:
        headers["ETag"] = f'"{sha256}"'
    return headers
