"""Request bodies as JSON: one parser for every body (and for the idempotency fingerprint), with
one nesting-depth limit (the README's "Limits")."""

import json
from typing import Any

import orjson

from floorsync.errors import BadRequest, Detail
from floorsync.kit.json_limits import MAX_DEPTH, NUMBER_MAX, NUMBER_MIN, deeper_than


def parse_json(data: bytes) -> Any:
    """A request body as JSON: 400 when it isn't JSON or nests deeper than MAX_DEPTH levels.

    Numbers are not range-checked here: the validation of each field names the offending one
    (`metadata.n`), and a bulk sync fails only the record that carries it.
    """
    # A UTF-8 byte order mark (some Windows clients send one) is not part of the JSON.
    data = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if exc.msg.startswith("depth limit"):
            raise _too_deep() from None
        if "infinity" not in exc.msg:
            raise BadRequest("Invalid JSON in request body") from None
        # `1e400` is valid JSON that orjson can't represent: parse it as infinity so that
        # validation refuses it with the field's name like any other out-of-range number.
        value = _parse_with_infinities(data)
    if deeper_than(value):
        raise _too_deep()
    return value


def _too_deep() -> BadRequest:
    message = f"JSON nesting is deeper than the limit of {MAX_DEPTH} levels"
    return BadRequest(message, [Detail("body", message, "MAX_DEPTH", MAX_DEPTH)])


def _parse_with_infinities(data: bytes) -> Any:
    """Python's parser, made to agree with orjson on everything but infinities: integers
    outside 64 bits become floats, NaN/Infinity literals and what orjson refuses to write
    (lone surrogates) stay invalid."""

    def parse_int(text: str) -> int | float:
        number = int(text)
        return number if NUMBER_MIN <= number <= NUMBER_MAX else float(text)

    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    try:
        value = json.loads(data.decode("utf-8"), parse_int=parse_int, parse_constant=refuse)
    except RecursionError:
        raise _too_deep() from None
    except ValueError:  # JSONDecodeError, UnicodeDecodeError, over-long integers
        raise BadRequest("Invalid JSON in request body") from None
    if deeper_than(value):
        raise _too_deep()
    try:
        orjson.dumps(value)
    except orjson.JSONEncodeError:
        raise BadRequest("Invalid JSON in request body") from None
    return value
