"""The JSON writer of every response and every event body: orjson, with exact big integers.

orjson refuses integers outside the signed and unsigned 64-bit ranges ("Integer exceeds 64-bit
range"). JSON has no such limit, and the database can hand such integers back: PostgreSQL's
JSONB stores `1e30` as the integer 1000000000000000000000000000000, and a row written before
the API refused such numbers (or by hand) still holds them. So when orjson refuses a value, it
is written once more with every such integer spliced in as its exact decimal digits; everything
else comes out byte for byte as orjson writes it, and the common path costs nothing extra.
A value that still can't be written (nested deeper than orjson's 255 levels, a non-string key)
raises TypeError as before.
"""

from typing import Any

import orjson

_MIN = -(2**63)  # the smallest integer orjson writes (int64)
_MAX = 2**64 - 1  # the largest (uint64)


def dumps(value: Any) -> bytes:
    """Compact JSON, raw UTF-8, key order kept."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return orjson.dumps(_exact_big_integers(value))


def _exact_big_integers(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and not _MIN <= value <= _MAX:
        return orjson.Fragment(str(value).encode("ascii"))
    if isinstance(value, dict):
        return {k: _exact_big_integers(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_exact_big_integers(v) for v in value]
    return value
