"""Canonical JSON: sorted keys at every level, no whitespace, raw UTF-8.

`canonical_json` is the definition (the standard library's encoder). `canonical_json_bytes`
gives the same bytes (UTF-8) several times faster through orjson wherever orjson's output is
byte-identical: for JSON trees made of dicts with string keys, lists, tuples, strings, integers
within 64 bits, booleans and null. orjson writes some floats differently (`1e-05` as `1e-5`
or `0.00001`), refuses integers beyond 64 bits and lone surrogates, and serialises types the
standard library refuses (UUID, datetime, enums); any of those falls back to `canonical_json`,
so both give the same bytes, or the same error, for every input.
"""

import json
from typing import Any

import orjson

_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)
_SCALARS = (str, int, bool, type(None))


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json_bytes(value: Any, *, checked: bool = False) -> bytes:
    """`canonical_json(value).encode("utf-8")`, by orjson when that is byte-identical.
    `checked`: the caller has already made sure that `orjson_safe(value)`."""
    if checked or orjson_safe(value):
        try:
            return orjson.dumps(value, option=_OPTIONS)
        except TypeError:  # an integer beyond 64 bits, a lone surrogate
            pass
    return canonical_json(value).encode("utf-8")


def orjson_safe(value: Any) -> bool:
    """Whether every node of the tree is of a type orjson writes as the standard library does
    (exact types: a str or int subclass, a float, a UUID… is not)."""
    kind = type(value)
    if kind in _SCALARS:
        return True
    if kind is dict:
        return all(type(k) is str and orjson_safe(v) for k, v in value.items())
    if kind is list or kind is tuple:
        return all(orjson_safe(v) for v in value)
    return False
