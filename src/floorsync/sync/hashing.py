"""The one sync hash (API contract §4.4): SHA-256, 64 lowercase hex characters, of the canonical
JSON of a record's validated, alias-mapped, reference-resolved business fields.

Values are canonicalised by type, so the caller hands in stored Python values (`Decimal`, aware
`datetime`, `UUID`, `int`, …) and never the raw input: `"4"` and `4` for an integer field hash
alike because validation already made both `4`. Which names are nested child arrays comes from
the entity specs (`children`), not from this module.
"""

import hashlib
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any

from floorsync.kit.canonical_json import canonical_json, canonical_json_bytes, orjson_safe
from floorsync.kit.timefmt import format_ts

# Never part of the hash: bookkeeping columns (§4.4 step 3), and the nested child arrays of
# every entity (`excluded()`).
BOOKKEEPING = frozenset(
    {
        "id",
        "tenant_id",
        "created_at",
        "updated_at",
        "deleted_at",
        "deleted_by",
        "synced_at",
        "sync_hash",
    }
)


@cache
def excluded() -> frozenset[str]:
    """Bookkeeping columns and the child-array keys of the registered entities."""
    from floorsync.entities.registry import ALL

    return BOOKKEEPING | {child.key for spec in ALL for child in spec.children}


def decimal_text(value: Decimal) -> str:
    """`2.0` → `"2"`, `1.50` → `"1.5"`, never an exponent."""
    normalized = value.normalize()
    if normalized == normalized.to_integral_value():
        normalized = normalized.quantize(Decimal(1))
    text = format(normalized, "f")
    return "0" if text == "-0" else text


_PLAIN = (type(None), bool, int, float, str)
_SCALARS = frozenset({type(None), bool, int, str})  # written alike by orjson and json


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
    skip = excluded()
    return canonical_json({k: canonical_value(v) for k, v in fields.items() if k not in skip})


def sync_hash(fields: Mapping[str, Any]) -> str:
    """The sync hash of a record's business fields (those present in the input)."""
    skip = excluded()
    canonical = {k: canonical_value(v) for k, v in fields.items() if k not in skip}
    return hashlib.sha256(canonical_json_bytes(canonical)).hexdigest()


# ---------------------------------------------------------------- compiled per entity

Convert = Callable[[Any], Any]


def _exact(kind: type, convert: Convert) -> Convert:
    """`convert` for values of exactly `kind`, canonical_value for anything else (so the
    result is always canonical_value's)."""

    def one(value: Any) -> Any:
        return convert(value) if type(value) is kind else canonical_value(value)

    return one


def _as_is(value: Any) -> Any:
    return value if type(value) in _PLAIN else canonical_value(value)


def _tree(value: Any) -> Any:
    """A JSON tree (metadata, a string list): as it is when it holds only plain JSON types."""
    return value if orjson_safe(value) else canonical_value(value)


# What a stored value of each field kind becomes (the kinds are entities.fields.Kind's values).
_BY_KIND: dict[str, Convert] = {
    "number": _exact(Decimal, decimal_text),
    "timestamp": _exact(datetime, format_ts),
    "uuid": _exact(uuid.UUID, str),
    "string": _as_is,
    "text": _as_is,
    "integer": _as_is,
    "boolean": _as_is,
    "country": _as_is,
    "enum": _as_is,
    "object": _tree,
    "string_list": _tree,
}


class RecordHasher:
    """The sync hash of one entity's records, compiled once from its fields: a converter per
    field by kind instead of a dispatch on every value's type. Gives sync_hash's digest for
    every input (tests/sync/test_hashing.py holds them equal)."""

    def __init__(self, fields: Sequence[tuple[str, str]]) -> None:
        skip = excluded()
        self.convert: dict[str, Convert | None] = {
            name: _BY_KIND.get(kind, canonical_value) for name, kind in fields
        }
        for name in skip:
            self.convert[name] = None

    def __call__(
        self, values: Mapping[str, Any], present: Iterable[str], extra: Mapping[str, Any]
    ) -> str:
        """The hash of the `present` keys of `values` and of the `extra` inputs."""
        convert = self.convert
        canonical: dict[str, Any] = {}
        safe = True  # every value is of a type orjson writes as canonical_json does
        for name in present:
            fn = convert.get(name, canonical_value)
            if fn is None:
                continue
            value = values[name]
            if value is None:
                canonical[name] = None
            elif fn is _tree:  # one walk: checked here, kept as it is when plain
                if orjson_safe(value):
                    canonical[name] = value
                else:
                    canonical[name], safe = canonical_value(value), False
            else:
                out = canonical[name] = fn(value)
                if safe and type(out) not in _SCALARS:
                    safe = orjson_safe(out)
        for name, value in extra.items():
            if convert.get(name, canonical_value) is not None:
                out = canonical[name] = canonical_value(value)
                safe = safe and orjson_safe(out)
        if safe:
            return hashlib.sha256(canonical_json_bytes(canonical, checked=True)).hexdigest()
        return hashlib.sha256(canonical_json_bytes(canonical)).hexdigest()
