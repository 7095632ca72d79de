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

On PostgreSQL, large batches go through COPY instead (binary format, values dumped in C): a
1000-row VALUES statement with 31,000 parameters costs the server more to parse and plan than
to execute. `insert_rows` copies straight into the table; `upsert_by_external_key` copies into
a per-connection staging table (`CREATE TEMP TABLE … ON COMMIT DELETE ROWS AS SELECT … WITH NO
DATA`: no constraints, so every violation is raised by the real table) and then runs the same
upsert as `WITH staged AS (DELETE FROM <stage> RETURNING …) INSERT … SELECT … FROM staged ON
CONFLICT …`, which empties the stage in the same statement. Small batches (single syncs) keep
the one VALUES statement: one round trip instead of three.

Rows are written in one canonical order, by (external_source, external_id) in code-point order
(Python's string order, PostgreSQL's `COLLATE "C"`): every upsert locks its rows in that order,
so two that overlap queue behind each other instead of deadlocking (db.locking).
"""

import hashlib
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Table, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from floorsync.db.write_behind import settle

# Parameters per statement: PostgreSQL's protocol allows 65,535, SQLite 32,766.
_MAX_PARAMS = {"postgresql": 65_000, "sqlite": 32_000}

# SQLite: the sqlite3 module keeps each connection's last 128 statements prepared, and the program
# of a multi-row statement grows with its rows (a 1,300-row INSERT of 12 columns holds about 2 MB).
# With pages of any length every batch size was a statement of its own, kept: a soak whose bulk
# syncs varied in size grew the API process by 120 MB a minute. So on SQLite a batch is cut into
# pages of SQLITE_PAGE rows and a remainder in powers of two (256, 128, …, 1): at most nine
# statement shapes per table and column list, whatever the sizes of the batches.
SQLITE_PAGE = 256


def _pages(rows: int, per_statement: int, dialect_name: str) -> list[tuple[int, int]]:
    """(start, end) of each statement's rows."""
    if dialect_name != "sqlite":
        return [
            (start, min(rows, start + per_statement)) for start in range(0, rows, per_statement)
        ]
    page = 1 << (min(SQLITE_PAGE, per_statement).bit_length() - 1)
    out, start = [], 0
    while start < rows:
        left = rows - start
        take = page if left >= page else 1 << (left.bit_length() - 1)
        out.append((start, start + take))
        start += take
    return out


# From this many rows on, PostgreSQL batches go through COPY (see the module docstring).
COPY_MIN_ROWS = 64
Written = tuple[uuid.UUID, str, str]  # (id, external_source, external_id)


def member_of(session: Session, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """`column IN (values)` for batch lookups; on PostgreSQL `= ANY(array)`, one parameter
    instead of one per value (the query text stays short, so the driver caches it)."""
    wanted = list(values)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, wanted, type_=ARRAY(column.type)))  # type: ignore[no-any-return]
    return column.in_(wanted)  # type: ignore[no-any-return]


@lru_cache(maxsize=64)
def _statement(
    table: Table,
    dialect_name: str,
    rows: int,
    update_columns: tuple[str, ...],
    only_if_changed: bool,
    quote: Callable[[str], str],
) -> str:
    names = [c.name for c in table.c]
    width = len(names)
    if dialect_name == "postgresql":
        groups = (
            "(" + ",".join(f"${i * width + j + 1}" for j in range(width)) + ")" for i in range(rows)
        )
        distinct = "IS DISTINCT FROM"
    else:
        one = "(" + ",".join("?" * width) + ")"
        groups = (one for _ in range(rows))
        distinct = "IS NOT"
    target = quote(table.name)
    sql = f"INSERT INTO {target} ({','.join(quote(n) for n in names)}) VALUES {','.join(groups)} "
    return sql + _on_conflict(table, update_columns, only_if_changed, quote, distinct)


def _on_conflict(
    table: Table,
    update_columns: tuple[str, ...],
    only_if_changed: bool,
    quote: Callable[[str], str],
    distinct: str,
) -> str:
    target = quote(table.name)
    sets = ",".join(f"{quote(c)}=excluded.{quote(c)}" for c in update_columns)
    sql = (
        "ON CONFLICT (tenant_id, external_source, external_id) WHERE external_id IS NOT NULL "
        f"DO UPDATE SET {sets}"
    )
    if only_if_changed:
        sql += f" WHERE {target}.sync_hash {distinct} excluded.sync_hash"
        if "deleted_at" in table.c:
            sql += f" OR {target}.deleted_at IS NOT NULL"
    return sql + " RETURNING id, external_source, external_id"


@lru_cache(maxsize=64)
def _staged_statements(
    table: Table,
    update_columns: tuple[str, ...],
    only_if_changed: bool,
    quote: Callable[[str], str],
) -> tuple[str, str, str]:
    """(create the stage, COPY into it, upsert from it) for PostgreSQL. The stage's name
    carries a digest of the column list, so a connection that outlives a migration never
    copies into a stage of the old shape."""
    names = [c.name for c in table.c]
    digest = hashlib.sha1(",".join([table.name, *names]).encode()).hexdigest()[:10]
    stage = quote(f"fs_stage_{table.name}_{digest}")
    cols = ",".join(quote(n) for n in names)
    create = (
        f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS "
        f"AS SELECT {cols} FROM {quote(table.name)} WITH NO DATA"
    )
    copy = f"COPY {stage} ({cols}) FROM STDIN (FORMAT BINARY)"
    upsert = (
        f"WITH staged AS (DELETE FROM {stage} RETURNING {cols}) "
        f"INSERT INTO {quote(table.name)} ({cols}) SELECT {cols} FROM staged "
        'ORDER BY external_source COLLATE "C", external_id COLLATE "C" '
        + _on_conflict(table, update_columns, only_if_changed, quote, "IS DISTINCT FROM")
    )
    return create, copy, upsert


@lru_cache(maxsize=64)
def _processors(
    table: Table, dialect: Dialect
) -> tuple[tuple[str, Callable[[Any], Any] | None], ...]:
    # SQLAlchemy's per-type bind processors (TypeDecorators included), as Core would apply them.
    return tuple((c.key, c.type._cached_bind_processor(dialect)) for c in table.c)


@lru_cache(maxsize=64)
def _insert_statement(
    table: Table,
    dialect_name: str,
    columns: tuple[str, ...],
    rows: int,
    quote: Callable[[str], str],
) -> str:
    width = len(columns)
    if dialect_name == "postgresql":
        groups = (
            "(" + ",".join(f"${i * width + j + 1}" for j in range(width)) + ")" for i in range(rows)
        )
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
    settle(connection.info)
    dialect = connection.dialect
    columns = tuple(rows[0])
    by_key = dict(_processors(table, dialect))
    processors = [(key, by_key[key]) for key in columns]
    per_statement = max(1, _MAX_PARAMS[dialect.name] // len(columns))
    quote = dialect.identifier_preparer.quote
    driver = connection.connection.driver_connection
    if dialect.name == "postgresql" and len(rows) >= COPY_MIN_ROWS:
        sql = f"COPY {quote(table.name)} ({','.join(quote(c) for c in columns)}) FROM STDIN (FORMAT BINARY)"
        _copy(
            driver,
            table,
            sql,
            columns,
            (
                [
                    value if (value := row[key]) is None or proc is None else proc(value)
                    for key, proc in processors
                ]
                for row in rows
            ),
        )
        return
    for start, end in _pages(len(rows), per_statement, dialect.name):
        page = rows[start:end]
        sql = _insert_statement(table, dialect.name, columns, len(page), quote)
        params = [
            value if (value := row[key]) is None or proc is None else proc(value)
            for row in page
            for key, proc in processors
        ]
        _execute(driver, dialect.name, sql, params, fetch=False)


def external_key(row: Mapping[str, Any]) -> tuple[str, str]:
    """The canonical write order of rows with an external key (code-point order)."""
    return (row["external_source"], row["external_id"])


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
    Rows are written (and locked) in key order, whatever order they come in.
    """
    return stage_upsert(
        session, table, rows, update_columns=update_columns, only_if_changed=only_if_changed
    )()


def stage_upsert(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    update_columns: Sequence[str],
    only_if_changed: bool,
) -> Callable[[], list[Written]]:
    """`upsert_by_external_key` in two halves: everything up to the statement that writes the
    rows now (sorting, the bind processors and, on PostgreSQL, the COPY into the stage, whose
    formatting is Python work best done on the caller's thread), and that statement returned
    as a callable that touches only the driver connection and mostly waits for the server, so
    that it can run on another thread (db/write_behind.py) while the caller works."""
    if not rows:
        return list
    rows = sorted(rows, key=external_key)
    connection = session.connection()
    settle(connection.info)
    dialect = connection.dialect
    processors = _processors(table, dialect)
    per_statement = max(1, _MAX_PARAMS[dialect.name] // len(processors))
    quote = dialect.identifier_preparer.quote
    driver = connection.connection.driver_connection
    to_id = _id_processor(table, dialect)

    def written(returned: Iterable[Sequence[Any]]) -> list[Written]:
        return [(to_id(r[0]) if to_id is not None else r[0], r[1], r[2]) for r in returned]

    if dialect.name == "postgresql" and len(rows) >= COPY_MIN_ROWS:
        create, copy, upsert = _staged_statements(
            table, tuple(update_columns), only_if_changed, quote
        )
        keys = tuple(key for key, _proc in processors)
        values = [
            [
                value if (value := row[key]) is None or proc is None else proc(value)
                for key, proc in processors
            ]
            for row in rows
        ]

        _execute(driver, dialect.name, create, [], fetch=False)
        _copy(driver, table, copy, keys, values)
        return lambda: written(_execute(driver, dialect.name, upsert, []))
    pages = []
    for start, end in _pages(len(rows), per_statement, dialect.name):
        page = rows[start:end]
        sql = _statement(
            table, dialect.name, len(page), tuple(update_columns), only_if_changed, quote
        )
        # Every processor maps None to None; most columns of a new row are None.
        params = [
            value if (value := row[key]) is None or proc is None else proc(value)
            for row in page
            for key, proc in processors
        ]
        pages.append((sql, params))

    def statements() -> list[Written]:
        out: list[Written] = []
        for sql, params in pages:
            out.extend(written(_execute(driver, dialect.name, sql, params)))
        return out

    return statements


def _execute(
    driver: Any, dialect_name: str, sql: str, params: list[Any], *, fetch: bool = True
) -> list[Any]:
    if dialect_name == "postgresql":
        import psycopg

        cursor = psycopg.RawCursor(driver)
        errors: tuple[type[Exception], ...] = (psycopg.Error,)
    else:
        import sqlite3

        cursor = driver.cursor()
        errors = (sqlite3.Error,)
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall()) if fetch else []
    except errors as exc:
        # The SQLAlchemy class a Core statement would raise (OperationalError for a deadlock,
        # IntegrityError for a constraint, …), so callers handle one exception family.
        raise DBAPIError.instance(sql[:200], None, exc, errors[0]) from exc
    finally:
        cursor.close()


_INT_BOUNDS = {21: 2**15, 23: 2**31, 20: 2**63}  # int2, int4, int8 oids → bound

# Column type oids per driver connection and table, for binary COPY (read once from the catalog).
_TYPE_OIDS: "weakref.WeakKeyDictionary[Any, dict[str, dict[str, int]]]" = (
    weakref.WeakKeyDictionary()
)


def _column_oids(driver: Any, table: Table) -> dict[str, int]:
    by_table = _TYPE_OIDS.setdefault(driver, {})
    oids = by_table.get(table.name)
    if oids is None:
        rows = _execute(
            driver,
            "postgresql",
            "SELECT attname, atttypid::int FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped",
            [table.name],
        )
        oids = by_table[table.name] = dict(rows)
    return oids


def _copy(
    driver: Any, table: Table, sql: str, columns: Sequence[str], values: Iterable[Sequence[Any]]
) -> None:
    """COPY rows (already through the bind processors) in binary format on PostgreSQL."""
    import psycopg

    oids = _column_oids(driver, table)
    types = [oids[table.c[key].name] for key in columns]
    # The binary integer dumpers truncate silently where the server would refuse the value.
    bounded = [(i, _INT_BOUNDS[oid]) for i, oid in enumerate(types) if oid in _INT_BOUNDS]
    cursor = psycopg.Cursor(driver)
    try:
        with cursor.copy(sql) as copy:
            copy.set_types(types)
            for row in values:
                try:
                    for i, limit in bounded:
                        value = row[i]
                        if value is not None and not -limit <= value < limit:
                            raise psycopg.errors.NumericValueOutOfRange(
                                f"{value} is out of range for {columns[i]}"
                            )
                    copy.write_row(row)
                except (TypeError, ValueError, OverflowError, AttributeError) as exc:
                    raise psycopg.DataError(
                        f"cannot copy a value into {table.name}: {exc}"
                    ) from exc
    except psycopg.Error as exc:
        raise DBAPIError.instance(sql[:200], None, exc, psycopg.Error) from exc
    finally:
        cursor.close()
