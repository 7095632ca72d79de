"""The one sync hash (API contract §4.4): SHA-256, 64 lowercase hex characters, of the canonical
JSON of a record's validated, alias-mapped, reference-resolved business fields.

Pure: standard library and `kit` only. Values are canonicalised by type, so the caller hands in
stored Python values (`Decimal`, aware `datetime`, `UUID`, `int`, …) and never the raw input:
`"4"` and `4` for an integer field hash alike because validation already made both `4`.
"""

import hashlib
import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from floorsync.kit.canonical_json import canonical_json
from floorsync.kit.timefmt import format_ts

# Never part of the hash: bookkeeping columns and the nested child arrays (§4.4 step 3).
EXCLUDED = frozenset(
    {
        "id",
        "tenant_id",
        "created_at",
        "updated_at",
        "deleted_at",
        "deleted_by",
        "synced_at",
        "sync_hash",
        "parts",
        "operations",
    }
)


def decimal_text(value: Decimal) -> str:
    """`2.0` → `"2"`, `1.50` → `"1.5"`, never an exponent."""
    normalized = value.normalize()
    if normalized == normalized.to_integral_value():
        normalized = normalized.quantize(Decimal(1))
    text = format(normalized, "f")
    return "0" if text == "-0" else text


_PLAIN = (type(None), bool, int, float, str)


def canonical_value(value: Any) -> Any:
    """A stored value → the JSON value that is hashed."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is Decimal:
        return decimal_text(value)
    if kind is datetime:
        return format_ts(value)
    if kind is uuid.UUID:
        return str(value)
    if isinstance(value, Enum):
        return canonical_value(value.value)
    if isinstance(value, Mapping):
        return {str(k): canonical_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical_value(v) for v in value]
    # Subclasses of the plain types (the exact types took the fast paths above).
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, datetime):
        return format_ts(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"cannot hash a value of type {type(value).__name__}")


def canonical_record(fields: Mapping[str, Any]) -> str:
    """The canonical JSON text that is hashed (sorted keys at every level, no whitespace)."""
    return canonical_json({k: canonical_value(v) for k, v in fields.items() if k not in EXCLUDED})


def sync_hash(fields: Mapping[str, Any]) -> str:
    """The sync hash of a record's business fields (those present in the input)."""
    return hashlib.sha256(canonical_record(fields).encode("utf-8")).hexdigest()
