"""The trigram index behind `search` on the large ERP tables (PostgreSQL with `pg_trgm`).

`search` matches a case-insensitive substring in any of an entity's search columns:
`lower(col) LIKE '%term%'` OR-ed over the columns, which no B-tree can serve (a full scan: about
300 ms over 100,000 jobs). On PostgreSQL, migration 0007 creates, when the `pg_trgm` extension is
available, one GIN index per table over the lower-cased search columns joined by a space, and
the list query adds `<that expression> LIKE '%term%'` in front of the exact per-column test, so
the planner can find candidates through the index; the per-column test keeps the result exact (a
term spanning two columns matches the joined text but no column). The expression below is the
one the index is built on: the planner uses the index only for that exact expression.

Only jobs, parts and operations get one: they are the tables with 10^5 rows and more; cells,
resources and materials stay small enough to scan, and every GIN index costs bulk writes.
"""

from typing import Any

from sqlalchemy import Connection, literal_column, text

# table → its search columns, the same as the entity's `ListOptions.search` (a test checks it).
TRIGRAM_SEARCH: dict[str, tuple[str, ...]] = {
    "jobs": ("job_number", "customer", "external_id"),
    "parts": ("part_number", "material", "drawing_no", "external_id"),
    "operations": ("operation_name", "notes", "external_id"),
}


def index_name(table: str) -> str:
    return f"trgm_{table}_search"


def search_expression(table: str, qualify: bool = True) -> str:
    """`lower(coalesce(a, '') || ' ' || coalesce(b, '') …)` over the table's search columns."""
    prefix = f"{table}." if qualify else ""
    joined = " || ' ' || ".join(f"coalesce({prefix}{c}, '')" for c in TRIGRAM_SEARCH[table])
    return f"lower({joined})"


def indexed_search_column(table: str) -> Any:
    """The indexed expression as a column to compare in a query."""
    return literal_column(search_expression(table))


def trigram_available(conn: Connection) -> bool:
    """`pg_trgm` is installed in this database, or can be (a trusted extension since PG 13:
    the database owner may create it). Creates it when it can; never fails the caller."""
    if conn.scalar(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")):
        return True
    if not conn.scalar(text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")):
        return False
    savepoint = conn.begin_nested()
    try:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except Exception:
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


def create_trigram_indexes(conn: Connection) -> list[str]:
    """Create the search indexes (PostgreSQL, when `pg_trgm` is available); their names."""
    if conn.dialect.name != "postgresql" or not trigram_available(conn):
        return []
    # The operator class lives in the extension's schema, which need not be on this
    # connection's search_path (a database whose floorsync schema is not `public`).
    schema = conn.scalar(
        text("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'")
    )
    for table in TRIGRAM_SEARCH:
        conn.execute(
            text(
                f"CREATE INDEX IF NOT EXISTS {index_name(table)} ON {table} "
                f"USING gin (({search_expression(table, qualify=False)}) {schema}.gin_trgm_ops)"
            )
        )
    return [index_name(t) for t in TRIGRAM_SEARCH]
