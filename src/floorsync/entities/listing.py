"""List queries: limit/offset, sort/order, escaped search, exact, fuzzy and date filters.

Every parameter is validated; a bad value is a 400 with the parameter as `field`.
"""

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Float, Select, cast, func, or_, select
from sqlalchemy.orm import Session

from floorsync.db.repository import TenantScope, scoped
from floorsync.db.types import PortableDecimal
from floorsync.entities.fields import INT32_MAX, Kind
from floorsync.entities.spec import EntitySpec
from floorsync.errors import NO_VALUE, BadRequest, Detail
from floorsync.kit.timefmt import parse_ts


@dataclass
class Page:
    limit: int
    offset: int


def _bad(
    param: str, message: str, value: Any = NO_VALUE, constraint: str = "INVALID_VALUE"
) -> BadRequest:
    return BadRequest(message, [Detail(param, message, constraint, value)])


_INTEGER = re.compile(r"[+-]?[0-9]{1,20}")
# Below both engines' 64-bit OFFSET with room to spare (no list is anywhere near that long).
MAX_OFFSET = 2**62
_DATE_ONLY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _int(raw: str) -> int:
    """A plain decimal integer: not int()'s "1_000", "٣" or 4300-digit strings."""
    text = raw.strip()
    if not _INTEGER.fullmatch(text):
        raise ValueError(raw)
    return int(text)


def parse_page(
    params: Mapping[str, str], *, default_limit: int = 100, max_limit: int = 1000
) -> Page:
    limit, offset = default_limit, 0
    if "limit" in params:
        try:
            limit = _int(params["limit"])
        except ValueError:
            raise _bad(
                "limit", "limit must be an integer", params["limit"], "TYPE_MISMATCH"
            ) from None
        limit = min(max(limit, 1), max_limit)
    if "offset" in params:
        try:
            offset = _int(params["offset"])
        except ValueError:
            raise _bad(
                "offset", "offset must be an integer >= 0", params["offset"], "TYPE_MISMATCH"
            ) from None
        if offset < 0:
            raise _bad("offset", "offset must be an integer >= 0", params["offset"], "MIN_VALUE")
        if offset > MAX_OFFSET:
            raise _bad(
                "offset", f"offset must be at most {MAX_OFFSET}", params["offset"], "MAX_VALUE"
            )
    return Page(limit, offset)


def parse_bool(params: Mapping[str, str], name: str, default: bool = False) -> bool:
    if name not in params:
        return default
    value = params[name].strip().lower()
    if value not in ("true", "false"):
        raise _bad(name, f"{name} must be true or false", params[name], "TYPE_MISMATCH")
    return value == "true"


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(column: Any, value: str) -> Any:
    return func.lower(column).like(f"%{escape_like(value.lower())}%", escape="\\")


def coerce_filter(name: str, kind: Kind, raw: str, choices: tuple[str, ...] = ()) -> Any:
    value = raw.strip()
    if kind is Kind.uuid:
        try:
            return uuid.UUID(value)
        except ValueError:
            raise _bad(name, f"Invalid {name}: must be a UUID", raw, "UUID_FORMAT") from None
    if kind is Kind.integer:
        try:
            number = _int(value)
        except ValueError:
            raise _bad(name, f"{name} must be an integer", raw, "TYPE_MISMATCH") from None
        if abs(number) > INT32_MAX:
            raise _bad(
                name, f"{name} is out of range", raw, "MAX_VALUE" if number > 0 else "MIN_VALUE"
            )
        return number
    if kind is Kind.boolean:
        if value.lower() not in ("true", "false"):
            raise _bad(name, f"{name} must be true or false", raw, "TYPE_MISMATCH")
        return value.lower() == "true"
    if kind is Kind.enum:
        if value not in choices:
            raise _bad(
                name,
                f"Invalid value for {name}. Must be one of: {', '.join(choices)}",
                raw,
                "ENUM_CONSTRAINT",
            )
        return value
    if kind is Kind.timestamp:
        try:
            return parse_ts(value)
        except (ValueError, OverflowError):
            raise _bad(name, f"{name} must be a timestamp or a date", raw, "DATE_FORMAT") from None
    if "\x00" in value:
        raise _bad(name, f"{name} must not contain NUL characters", raw, "TYPE_MISMATCH")
    return value


def apply_filters(spec: EntitySpec, stmt: Select[Any], params: Mapping[str, str]) -> Select[Any]:
    """Exact, fuzzy, date-range and search filters from the query string (all AND-ed)."""
    model = spec.model
    custom = spec.custom_filters
    opts = spec.listing
    for name, kind in opts.exact.items():
        if name not in params:
            continue
        f = spec.by_name.get(name)
        value = coerce_filter(name, kind, params[name], f.choices if f else ())
        if name in custom:
            stmt = custom[name](stmt, value)
        else:
            stmt = stmt.where(getattr(model, f.attr if f else name) == value)
    for name in opts.fuzzy:
        if name in params and params[name] != "":
            value = coerce_filter(name, Kind.string, params[name])
            stmt = stmt.where(
                contains(
                    getattr(model, spec.by_name[name].attr if name in spec.by_name else name), value
                )
            )
    for param, (column, op) in opts.date_ranges.items():
        if param in params:
            value = coerce_filter(param, Kind.timestamp, params[param])
            col = getattr(model, column)
            if op == ">=":
                stmt = stmt.where(col >= value)
            elif _DATE_ONLY.fullmatch(params[param].strip()):
                # An end date includes its whole day (9999-12-31 has no next day: no bound).
                if value.date() < date.max:
                    stmt = stmt.where(col < value + timedelta(days=1))
            else:
                stmt = stmt.where(col <= value)
    term = search_term(params)
    if term is not None:
        stmt = stmt.where(or_(*(contains(getattr(model, c), term) for c in opts.search)))
    return stmt


def search_term(params: Mapping[str, str]) -> str | None:
    """The `search` parameter (at most 200 characters), or None when absent or empty."""
    term = params.get("search")
    if not term:
        return None
    if len(term) > 200:
        raise _bad("search", "search must be at most 200 characters", constraint="MAX_LENGTH")
    return coerce_filter("search", Kind.string, term)  # type: ignore[no-any-return]


def parse_sort(
    params: Mapping[str, str], sortable: tuple[str, ...], default: tuple[str, str]
) -> tuple[str, str]:
    """(`sort`, `order`) from the query string, validated against the sortable fields."""
    sort, order = default
    if "sort" in params:
        sort = params["sort"].strip()
        if sort not in sortable:
            msg = f"Invalid sort field '{params['sort']}'. Allowed: {', '.join(sortable)}"
            raise BadRequest(msg, [Detail("sort", msg, "ENUM_CONSTRAINT", params["sort"])])
    if "order" in params:
        order = params["order"].strip().lower()
        if order not in ("asc", "desc"):
            raise _bad("order", "order must be asc or desc", params["order"], "ENUM_CONSTRAINT")
    return sort, order


def apply_sort(
    spec: EntitySpec, stmt: Select[Any], params: Mapping[str, str], dialect: str
) -> Select[Any]:
    opts = spec.listing
    sort, order = parse_sort(params, opts.sortable, opts.default_sort)
    column = opts.sort_expressions.get(sort)
    if column is None:
        column = getattr(spec.model, spec.by_name[sort].attr if sort in spec.by_name else sort)
    if dialect == "sqlite" and isinstance(getattr(column, "type", None), PortableDecimal):
        column = cast(column, Float)  # decimals are text on SQLite
    # Records without a value come last in both directions, on every engine (the engines'
    # defaults differ: PostgreSQL sorts NULL as largest, SQLite as smallest).
    keys = [(column.asc() if order == "asc" else column.desc()).nulls_last()]
    if opts.secondary_sort:
        keys.append(getattr(spec.model, opts.secondary_sort).asc())
    keys.append(spec.model.id.asc() if order == "asc" else spec.model.id.desc())
    return stmt.order_by(*keys)


def list_rows(
    session: Session, scope: TenantScope, spec: EntitySpec, params: Mapping[str, str]
) -> tuple[list[Any], int, Page]:
    page = parse_page(params)
    include_deleted = spec.soft_delete and parse_bool(params, "include_deleted")
    stmt = scoped(spec.model, scope, include_deleted=include_deleted)
    stmt = apply_filters(spec, stmt, params)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    stmt = apply_sort(spec, stmt, params, session.get_bind().dialect.name)
    rows = list(session.scalars(stmt.limit(page.limit).offset(page.offset)))
    return rows, total, page
