"""Batched upsert by external key (and plain batched inserts): the only dialect-aware
statements of the sync engine and the outbox.

`INSERT … VALUES (…), (…) ON CONFLICT (tenant_id, external_source, external_id) WHERE
external_id IS NOT NULL DO UPDATE SET … WHERE <the stored hash differs, or the row is
soft-deleted> RETURNING id, external_source, external_id`, on PostgreSQL and SQLite alike. The
conflict target names the partial unique index `uq_<table>_external_key`, whose predicate must
be repeated. The unique key is the arbiter of concurrent syncs: a second writer of the same new
key turns into an update (or into nothing, when its hash is already stored) instead of a
duplicate row or an error.

Why the statement goes to the driver connection directly: a 1000-row statement has some 30,000
parameters, and psycopg rewrites `%(name)s` placeholders into `$n` in Python, uncached for long
queries, which costs more than the insert itself. Here the statement is written with the
driver's native placeholders (`$n`, `?`) and the values are converted by SQLAlchemy's own bind
processors for each column, so types behave exactly as in ORM and Core statements. It runs on
the session's connection, inside its transaction and savepoints; driver errors are re-raised as
SQLAlchemy's, so callers handle one exception family.
"""

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Table, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

# Parameters per statement: PostgreSQL's protocol allows 65,535, SQLite 32,766.
_MAX_PARAMS = {"postgresql": 65_000, "sqlite": 32_000}
Written = tuple[uuid.UUID, str, str]  # (id, external_source, external_id)


def member_of(session: Session, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """`column IN (values)` for batch lookups; on PostgreSQL `= ANY(array)`, one parameter
    instead of one per value (the query text stays short, so the driver caches it)."""
    wanted = list(values)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, wanted, type_=ARRAY(column.type)))  # type: ignore[no-any-return]
    return column.in_(wanted)  # type: ignore[no-any-return]


@lru_cache(maxsize=64)
def _statement(table: Table, dialect_name: str, rows: int, update_columns: tuple[str, ...], only_if_changed: bool, quote: Callable[[str], str]) -> str:
    names = [c.name for c in table.c]
    width = len(names)
    if dialect_name == "postgresql":
        groups = ("(" + ",".join(f"${i * width + j + 1}" for j in range(width)) + ")" for i in range(rows))
        distinct = "IS DISTINCT FROM"
    else:
        one = "(" + ",".join("?" * width) + ")"
        groups = (one for _ in range(rows))
        distinct = "IS NOT"
    target = quote(table.name)
    sets = ",".join(f"{quote(c)}=excluded.{quote(c)}" for c in update_columns)
    sql = (
        f"INSERT INTO {target} ({','.join(quote(n) for n in names)}) VALUES {','.join(groups)} "
        f"ON CONFLICT (tenant_id, external_source, external_id) WHERE external_id IS NOT NULL "
        f"DO UPDATE SET {sets}"
    )
    if only_if_changed:
        sql += f" WHERE {target}.sync_hash {distinct} excluded.sync_hash"
        if "deleted_at" in table.c:
            sql += f" OR {target}.deleted_at IS NOT NULL"
    return sql + " RETURNING id, external_source, external_id"


@lru_cache(maxsize=64)
def _processors(table: Table, dialect: Dialect) -> tuple[tuple[str, Callable[[Any], Any] | None], ...]:
    # SQLAlchemy's per-type bind processors (TypeDecorators included), as Core would apply them.
    return tuple((c.key, c.type._cached_bind_processor(dialect)) for c in table.c)


@lru_cache(maxsize=64)
def _insert_statement(table: Table, dialect_name: str, columns: tuple[str, ...], rows: int, quote: Callable[[str], str]) -> str:
    width = len(columns)
    if dialect_name == "postgresql":
        groups = ("(" + ",".join(f"${i * width + j + 1}" for j in range(width)) + ")" for i in range(rows))
    else:
        one = "(" + ",".join("?" * width) + ")"
        groups = (one for _ in range(rows))
    return f"INSERT INTO {quote(table.name)} ({','.join(quote(c) for c in columns)}) VALUES {','.join(groups)}"


def insert_rows(session: Session, table: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT many rows (every dict with the same keys) in as few statements as the driver's
    parameter limit allows; values go through SQLAlchemy's bind processors as in Core."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    columns = tuple(rows[0])
    by_key = dict(_processors(table, dialect))
    processors = [(key, by_key[key]) for key in columns]
    per_statement = max(1, _MAX_PARAMS[dialect.name] // len(columns))
    quote = dialect.identifier_preparer.quote
    driver = connection.connection.driver_connection
    for start in range(0, len(rows), per_statement):
        page = rows[start:start + per_statement]
        sql = _insert_statement(table, dialect.name, columns, len(page), quote)
        params = [
            value if (value := row[key]) is None or proc is None else proc(value)
            for row in page for key, proc in processors
        ]
        _execute(driver, dialect.name, sql, params, fetch=False)


def _id_processor(table: Table, dialect: Dialect) -> Callable[[Any], Any] | None:
    return table.c.id.type._cached_result_processor(dialect, None)


def upsert_by_external_key(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    update_columns: Sequence[str],
    only_if_changed: bool,
) -> list[Written]:
    """Insert `rows` (full rows: a value for every column) or, for keys that exist, update
    `update_columns` from the proposed row. With `only_if_changed`, an existing row is written
    only when its `sync_hash` differs from the proposed one or it is soft-deleted; rows left
    alone are not returned. Returns (id, external_source, external_id) of the written rows.
    """
    if not rows:
        return []
    connection = session.connection()
    dialect = connection.dialect
    processors = _processors(table, dialect)
    per_statement = max(1, _MAX_PARAMS[dialect.name] // len(processors))
    quote = dialect.identifier_preparer.quote
    driver = connection.connection.driver_connection
    to_id = _id_processor(table, dialect)
    out: list[Written] = []
    for start in range(0, len(rows), per_statement):
        page = rows[start:start + per_statement]
        sql = _statement(table, dialect.name, len(page), tuple(update_columns), only_if_changed, quote)
        # Every processor maps None to None; most columns of a new row are None.
        params = [
            value if (value := row[key]) is None or proc is None else proc(value)
            for row in page for key, proc in processors
        ]
        returned = _execute(driver, dialect.name, sql, params)
        out.extend((to_id(r[0]) if to_id is not None else r[0], r[1], r[2]) for r in returned)
    return out


def _execute(driver: Any, dialect_name: str, sql: str, params: list[Any], *, fetch: bool = True) -> list[Any]:
    if dialect_name == "postgresql":
        import psycopg

        cursor = psycopg.RawCursor(driver)
        errors: tuple[type[BaseException], ...] = (psycopg.Error,)
        integrity: type[BaseException] = psycopg.IntegrityError
    else:
        import sqlite3

        cursor = driver.cursor()
        errors, integrity = (sqlite3.Error,), sqlite3.IntegrityError
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall()) if fetch else []
    except errors as exc:
        if isinstance(exc, integrity):
            raise IntegrityError(sql[:200], None, exc) from exc
        raise DBAPIError(sql[:200], None, exc) from exc
    finally:
        cursor.close()
