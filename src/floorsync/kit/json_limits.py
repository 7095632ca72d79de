"""The limits every JSON value from outside must keep, so that what is stored reads back.

- Nesting: at most MAX_DEPTH levels of objects and arrays. The response writer (orjson) gives up
  at 255 levels and Python's own JSON code at about 1000, so a deeper value that was accepted
  could never be shown again.
- Numbers: integers in [-2^63, 2^64 − 1] and finite floats inside that range. PostgreSQL's
  JSONB keeps a number as an exact decimal (`1e30` becomes a 31-digit integer) and the JSON
  writer refuses integers beyond 64 bits, so a larger number would poison every read of its
  row, its events and their deliveries. Non-finite numbers have no JSON form at all.
"""

import math
from typing import Any

MAX_DEPTH = 64
NUMBER_MIN = -(2**63)
NUMBER_MAX = 2**64 - 1


def deeper_than(value: Any, limit: int = MAX_DEPTH) -> bool:
    """True when objects and arrays nest more than `limit` levels deep (a scalar is level 0).
    Level by level, so that only containers are visited one at a time (it runs on every body)."""
    level = [value] if type(value) in _CONTAINERS else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        below: list[Any] = []
        for node in level:
            below += [
                c for c in (node.values() if type(node) is dict else node) if type(c) in _CONTAINERS
            ]
        level = below
    return False


_CONTAINERS = frozenset({dict, list})


def number_problem(value: int | float) -> str | None:
    """Why this JSON number can not be stored and read back exactly, or None when it can.
    One of the validation constraints: MIN_VALUE, MAX_VALUE, TYPE_MISMATCH (not finite)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return "TYPE_MISMATCH"
        # A float is stored as its exact decimal; 2^64 itself (a float) is already too large.
        if value >= NUMBER_MAX + 1:
            return "MAX_VALUE"
    elif value > NUMBER_MAX:
        return "MAX_VALUE"
    if value < NUMBER_MIN:
        return "MIN_VALUE"
    return None


def first_bad_number(value: Any) -> tuple[str, Any, str] | None:
    """The first number inside a JSON value that breaks the range: (path below the value,
    e.g. `.n` or `[2].x`, the number, the constraint), or None."""
    if not _has_bad_number(value):
        return None
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            stack.extend((f"{path}.{k}", v) for k, v in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((f"{path}[{i}]", v) for i, v in reversed(list(enumerate(node))))
        elif isinstance(node, int | float) and not isinstance(node, bool):
            problem = number_problem(node)
            if problem is not None:
                return path, node, problem
    return None


def _has_bad_number(value: Any) -> bool:
    """The fast check, without paths (JSON values only hold exact dicts, lists, str, int,
    float, bool and None; bool is not int here since type() is compared)."""
    stack = [value]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is dict or kind is list:
            stack.extend(node.values() if kind is dict else node)
        elif kind is int:
            if not NUMBER_MIN <= node <= NUMBER_MAX:
                return True
        elif kind is float and not NUMBER_MIN <= node < _FLOAT_LIMIT:  # NaN fails it too
            return True
    return False


_FLOAT_LIMIT = float(NUMBER_MAX + 1)  # 2^64, exactly


def number_range_message(path: str) -> str:
    return (
        f"{path} must be a finite number from {NUMBER_MIN} to {NUMBER_MAX}: "
        "larger numbers can not be stored exactly"
    )
