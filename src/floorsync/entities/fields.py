"""Field definitions and the coercion rules of the wire types (API contract §1.3, §1.8).

Each field knows its wire kind, limits and default; `coerce` turns one input value into the
stored Python value or raises FieldError with the constraint and message the API reports.
"""

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

import orjson

from floorsync.db.types import normalize_decimal
from floorsync.errors import NO_VALUE, Detail
from floorsync.kit.json_limits import first_bad_number, number_range_message
from floorsync.kit.timefmt import format_ts, parse_ts

INT32_MAX = 2_147_483_647
METADATA_MAX_BYTES = 64 * 1024


class Kind(StrEnum):
    string = "string"  # identifiers and short text (trimmed when `trim`)
    text = "text"  # long free text
    integer = "integer"
    number = "number"
    boolean = "boolean"
    timestamp = "timestamp"
    uuid = "uuid"
    enum = "enum"
    object = "object"
    string_list = "string_list"
    country = "country"


class FieldError(Exception):
    """`at` is where inside the field's value the problem is (`.n` of `metadata`), and `value`
    the offending part when it is not the whole input."""

    def __init__(
        self, constraint: str, message: str, *, at: str = "", value: Any = NO_VALUE
    ) -> None:
        super().__init__(message)
        self.constraint, self.message = constraint, message
        self.at, self.value = at, value

    def detail(self, where: str, value: Any) -> Detail:
        """The validation detail for the field at path `where`, whose input was `value`."""
        shown = value if self.value is NO_VALUE else self.value
        return Detail(where + self.at, self.message, self.constraint, shown)


NO_DEFAULT: Any = object()


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    required: bool = False
    read_only: bool = False
    min_len: int | None = None
    max_len: int | None = None
    min_value: Decimal | int | None = None
    max_value: Decimal | int | None = None
    exclusive_max: bool = False
    exclusive_min: bool = False
    choices: tuple[str, ...] = ()
    default: Any = NO_DEFAULT  # a value, or a zero-argument callable
    trim: bool = False
    column: str | None = None  # model attribute when it differs from the wire name
    output: bool = True  # shown in responses
    item_max_len: int | None = None
    scale: int = 6  # decimal places kept by number fields (the column's scale)
    # False for a NOT NULL column without a default (an auto `sequence`): null means "omitted"
    # on create and sync, and is refused on PATCH.
    nullable: bool = True
    # Other vocabularies of an enum accepted on input and stored canonically: ((alias, value), …)
    value_aliases: tuple[tuple[str, str], ...] = ()

    @property
    def attr(self) -> str:
        return self.column or self.name

    def default_value(self) -> Any:
        if self.default is NO_DEFAULT:
            return None
        return self.default() if callable(self.default) else self.default

    def coerce(self, value: Any) -> Any:
        """Validate one non-null input value; returns the stored value or raises FieldError."""
        return _COERCERS[self.kind](self, value)


def _type_error(f: Field, what: str) -> FieldError:
    return FieldError("TYPE_MISMATCH", f"{f.name} must be {what}")


def _check_text(f: Field, value: str) -> str:
    if "\x00" in value:
        raise FieldError("TYPE_MISMATCH", f"{f.name} must not contain NUL characters")
    if f.min_len is not None and len(value) < f.min_len:
        if not value:  # blank after trimming counts as missing
            raise FieldError(
                "NOT_NULL",
                f"Missing required string field: {f.name}"
                if f.required
                else f"{f.name} must not be blank",
            )
        raise FieldError("MIN_LENGTH", f"{f.name} must be at least {f.min_len} characters")
    if f.max_len is not None and len(value) > f.max_len:
        raise FieldError("MAX_LENGTH", f"{f.name} must be at most {f.max_len} characters")
    return value


def _string(f: Field, value: Any) -> str:
    if not isinstance(value, str):
        raise _type_error(f, "a string")
    return _check_text(f, value.strip() if f.trim else value)


def _country(f: Field, value: Any) -> str:
    if not isinstance(value, str):
        raise _type_error(f, "a string")
    code = value.strip().upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        raise FieldError("INVALID_VALUE", f"{f.name} must be an ISO 3166-1 alpha-2 country code")
    return code


def _check_range(f: Field, value: Decimal | int) -> None:
    if f.min_value is not None:
        if f.exclusive_min and value <= f.min_value:
            raise FieldError("MIN_VALUE", f"{f.name} must be > {f.min_value}")
        if not f.exclusive_min and value < f.min_value:
            raise FieldError("MIN_VALUE", f"{f.name} must be >= {f.min_value}")
    if f.max_value is not None:
        if f.exclusive_max and value >= f.max_value:
            raise FieldError("MAX_VALUE", f"{f.name} must be < {f.max_value}")
        if not f.exclusive_max and value > f.max_value:
            raise FieldError("MAX_VALUE", f"{f.name} must be <= {f.max_value}")


def _to_decimal(f: Field, value: Any, what: str) -> Decimal:
    if isinstance(value, bool):
        raise _type_error(f, what)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _type_error(f, what)
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            parsed = Decimal(value.strip())
        except InvalidOperation:
            raise _type_error(f, what) from None
        if not parsed.is_finite():
            raise _type_error(f, what)
        return parsed
    raise _type_error(f, what)


def _integer(f: Field, value: Any) -> int:
    number = _to_decimal(f, value, "an integer")
    if number != number.to_integral_value():
        raise _type_error(f, "an integer")
    # Range checks on the Decimal, before int(): "1e999999999" is integral, and converting it
    # would build a billion-digit int.
    _check_range(f, number)
    if f.max_value is None and number > INT32_MAX:
        raise FieldError("MAX_VALUE", f"{f.name} must be <= {INT32_MAX}")
    if f.min_value is None and number < -INT32_MAX:
        raise FieldError("MIN_VALUE", f"{f.name} must be >= {-INT32_MAX}")
    return int(number)


# Wide enough for any value that passed a column's range check.
_QUANTIZE_CONTEXT = Context(prec=60)


def _number(f: Field, value: Any) -> Decimal:
    """Range-checked, then rounded (half away from zero) to the column's scale, as PostgreSQL's
    numeric does, so SQLite stores the same value and "1e-999999" can't become a huge text."""
    number = _to_decimal(f, value, "a number")
    _check_range(f, number)
    if f.max_value is None and number.adjusted() > 30:
        raise FieldError("MAX_VALUE", f"{f.name} is too large")
    number = number.quantize(
        Decimal(1).scaleb(-f.scale), rounding=ROUND_HALF_UP, context=_QUANTIZE_CONTEXT
    )
    _check_range(f, number)
    return normalize_decimal(number)


def _boolean(f: Field, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    raise _type_error(f, "a boolean")


def _timestamp(f: Field, value: Any) -> datetime:
    if not isinstance(value, str):
        raise FieldError("DATE_FORMAT", f"{f.name} must be an RFC 3339 timestamp or a date")
    try:
        return parse_ts(value)
    except (ValueError, OverflowError):
        raise FieldError(
            "DATE_FORMAT", f"{f.name} must be an RFC 3339 timestamp or a date"
        ) from None


def _uuid(f: Field, value: Any) -> uuid.UUID:
    if not isinstance(value, str):
        raise FieldError("UUID_FORMAT", f"{f.name} must be a UUID")
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        raise FieldError("UUID_FORMAT", f"{f.name} must be a UUID") from None


def _enum(f: Field, value: Any) -> str:
    if isinstance(value, str) and f.value_aliases:
        value = dict(f.value_aliases).get(value, value)
    if not isinstance(value, str) or value not in f.choices:
        raise FieldError(
            "ENUM_CONSTRAINT", f"Invalid value for {f.name}. Must be one of: {', '.join(f.choices)}"
        )
    return str(value)


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(v) for v in value)
    return False


def _object(f: Field, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _type_error(f, "an object")
    text = orjson.dumps(value)
    if len(text) > METADATA_MAX_BYTES:
        raise FieldError("MAX_LENGTH", f"{f.name} must be at most 64 KiB when serialised")
    # A NUL anywhere is written `\u0000`; only then walk the tree (a backslash followed by
    # "u0000" in a string is written the same way).
    if b"\\u0000" in text and _contains_nul(value):
        raise FieldError("TYPE_MISMATCH", f"{f.name} must not contain NUL characters")
    bad = first_bad_number(value)
    if bad is not None:
        at, number, constraint = bad
        raise FieldError(constraint, number_range_message(f.name + at), at=at, value=number)
    return value


def _string_list(f: Field, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _type_error(f, "an array of strings")
    if f.max_len is not None and len(value) > f.max_len:
        raise FieldError("MAX_LENGTH", f"{f.name} must have at most {f.max_len} items")
    limit = f.item_max_len
    for item in value:
        if "\x00" in item:
            raise FieldError("TYPE_MISMATCH", f"{f.name} must not contain NUL characters")
        if limit is not None and len(item) > limit:
            raise FieldError(
                "MAX_LENGTH", f"each item of {f.name} must be at most {limit} characters"
            )
    return list(value)


_COERCERS: dict[Kind, Callable[[Field, Any], Any]] = {
    Kind.string: _string,
    Kind.text: _string,
    Kind.integer: _integer,
    Kind.number: _number,
    Kind.boolean: _boolean,
    Kind.timestamp: _timestamp,
    Kind.uuid: _uuid,
    Kind.enum: _enum,
    Kind.object: _object,
    Kind.string_list: _string_list,
    Kind.country: _country,
}


def to_wire(kind: Kind, value: Any) -> Any:
    """Stored Python value → JSON value."""
    if value is None:
        return None
    if kind is Kind.timestamp:
        return format_ts(value)
    if kind is Kind.uuid:
        return str(value)
    if kind is Kind.number:
        return decimal_to_json(value)
    if kind is Kind.enum:
        return str(value.value if isinstance(value, StrEnum) else value)
    return value


def decimal_to_json(value: Decimal) -> int | float:
    value = normalize_decimal(Decimal(value))
    if value == value.to_integral_value():
        return int(value)
    return float(value)


# Shorthand constructors used by the entity definitions.
def ident(name: str, max_len: int, *, required: bool = False, **kw: Any) -> Field:
    return Field(name, Kind.string, required=required, min_len=1, max_len=max_len, trim=True, **kw)


def short(name: str, max_len: int, **kw: Any) -> Field:
    return Field(name, Kind.string, max_len=max_len, **kw)


def long_text(name: str, **kw: Any) -> Field:
    return Field(name, Kind.text, max_len=10_000, **kw)


def integer(name: str, **kw: Any) -> Field:
    return Field(name, Kind.integer, **kw)


def number(name: str, precision: int, scale: int, **kw: Any) -> Field:
    kw.setdefault("min_value", 0)
    return Field(
        name,
        Kind.number,
        max_value=Decimal(10) ** (precision - scale),
        exclusive_max=True,
        scale=scale,
        **kw,
    )


def boolean(name: str, default: bool, **kw: Any) -> Field:
    return Field(name, Kind.boolean, default=default, **kw)


def timestamp(name: str, **kw: Any) -> Field:
    return Field(name, Kind.timestamp, **kw)


def ref_id(name: str, **kw: Any) -> Field:
    return Field(name, Kind.uuid, **kw)


def enum(name: str, choices: type[StrEnum], default: str | None = None, **kw: Any) -> Field:
    return Field(
        name,
        Kind.enum,
        choices=tuple(c.value for c in choices),
        default=default if default is not None else NO_DEFAULT,
        **kw,
    )


def read_only(name: str, kind: Kind, **kw: Any) -> Field:
    return Field(name, kind, read_only=True, **kw)


def metadata_field() -> Field:
    return Field("metadata", Kind.object, default=dict, column="metadata_")
