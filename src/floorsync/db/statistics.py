"""Planner statistics after bulk loads: `ANALYZE` a table that a unit of work grew a lot.

PostgreSQL plans every query from per-table statistics that only `ANALYZE` gathers. Autovacuum
runs it eventually, but a table that a bulk sync has just filled (right after the first
migration, or with autovacuum off, or before its naptime comes round) has none or stale ones,
and the planner then picks plans that are orders of magnitude off: measured on 10^4–10^5 rows,
the foreign-key check of nested operations scanned all of a tenant's parts (642 ms instead of
57 ms), nested bulk syncs slowed down with every request (1.2 s → 5.0 s), and a change-feed page
took 137 ms instead of 0.08 ms. So after a committed unit of work that wrote many rows to a
table, floorsync analyses that table itself:

- when the table has more than `MIN_ROWS` rows and has never been analysed, or the rows written
  since floorsync last analysed it exceed `GROWTH` (20 %) of the rows the statistics describe;
- outside the request's transaction and thread: a daemon thread of this process runs it on its
  own connection, so no request waits for it and no lock of the request is held meanwhile;
- at most once per `INTERVAL_SECONDS` per table per process (ANALYZE samples 30,000 rows, which
  takes 50–300 ms; a stream of bulk requests would otherwise analyse after each). A table that is
  due while throttled is analysed when its interval has passed.

SQLite has the same kind of statistics (`sqlite_stat1`). Its `PRAGMA optimize` is the
recommended moment to refresh them, but before SQLite 3.46 it only considers tables that the
same connection has queried, so after a bulk load floorsync runs, under the same rule, what it
would run: `PRAGMA analysis_limit=1000; ANALYZE <table>` (a bounded sample), then
`PRAGMA optimize`.

`analyzer_for(engine)` gives the one `TableStatistics` of an engine in this process.
"""

import logging
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)

MIN_ROWS = 1000
GROWTH = 0.2
INTERVAL_SECONDS = 60.0
# The rule is looked at again only after this many more rows were written (it reads the
# catalogue; row-by-row traffic should not make it do that per request).
CHECK_STEP = 100


@dataclass
class _TableState:
    pending: int = 0  # rows written since floorsync last analysed the table
    checked: int = 0  # `pending` when the rule was last looked at
    last_run: float | None = None  # clock reading of that ANALYZE


@dataclass
class TableStatistics:
    """Decides when to analyse which table of one database, and does it.

    `note_writes` is cheap (the request thread calls it after commit); `run_due` does the work
    (the background thread calls it; tests call it directly with `background=False` and a fake
    `clock`)."""

    engine: Engine
    clock: Callable[[], float] = time.monotonic
    interval: float = INTERVAL_SECONDS
    background: bool = True
    check_step: int = CHECK_STEP
    analysed: list[str] = field(default_factory=list)  # every table analysed, in order
    _tables: dict[str, _TableState] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _wake: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def note_writes(self, rows_by_table: Mapping[str, int]) -> None:
        """Rows a committed unit of work wrote (inserted, updated or deleted), per table."""
        due = False
        with self._lock:
            for table, rows in rows_by_table.items():
                if rows > 0:
                    state = self._tables.setdefault(table, _TableState())
                    state.pending += rows
                    due = due or state.pending - state.checked >= self.check_step
        if due and self.background:
            self._ensure_thread()
            self._wake.set()

    def run_due(self) -> float | None:
        """Analyse every table that needs it and is not throttled. Returns the seconds until a
        throttled table becomes due (None: nothing is waiting)."""
        now = self.clock()
        with self._lock:
            candidates = {
                table: state.pending
                for table, state in self._tables.items()
                if state.pending - state.checked >= self.check_step
            }
        wait: float | None = None
        for table, pending in candidates.items():
            state = self._tables[table]
            if state.last_run is not None and now - state.last_run < self.interval:
                remaining = self.interval - (now - state.last_run)
                wait = remaining if wait is None else min(wait, remaining)
                continue  # looked at again once its interval has passed
            try:
                state.checked = pending
                if not self._needs_analyze(table, pending):
                    continue
                self._analyze(table)
            except Exception:
                log.warning("could not analyse table %s", table, exc_info=True)
                continue
            with self._lock:
                state.pending -= pending
                state.checked = 0
                state.last_run = now
            self.analysed.append(table)
        return wait

    # -- the rule, per database -------------------------------------------------------------

    def _needs_analyze(self, table: str, pending: int) -> bool:
        if self.engine.dialect.name == "postgresql":
            return self._postgres_needs(table, pending)
        return self._sqlite_needs(table, pending)

    def _postgres_needs(self, table: str, pending: int) -> bool:
        with self.engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT c.reltuples, coalesce(s.n_live_tup, 0),"
                    " s.last_analyze IS NULL AND s.last_autoanalyze IS NULL"
                    " FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid"
                    " WHERE c.oid = to_regclass(:t)"
                ),
                {"t": table},
            ).one_or_none()
            conn.rollback()
        if row is None:
            return False
        reltuples, live, never = float(row[0]), int(row[1]), bool(row[2])
        never = never or reltuples < 0  # PostgreSQL 14+: -1 until the first ANALYZE
        rows = max(live, int(reltuples), pending)
        if rows <= MIN_ROWS:
            return False
        return never or pending > GROWTH * max(reltuples, 0.0)

    def _sqlite_needs(self, table: str, pending: int) -> bool:
        with self.engine.connect() as conn:
            has_stats_table = conn.scalar(
                text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'")
            )
            stat = (
                conn.scalar(
                    text("SELECT stat FROM sqlite_stat1 WHERE tbl = :t LIMIT 1"), {"t": table}
                )
                if has_stats_table
                else None
            )
            conn.rollback()
        if stat is None:  # never analysed
            return pending > MIN_ROWS
        analysed_rows = int(str(stat).split()[0])
        return analysed_rows + pending > MIN_ROWS and pending > GROWTH * analysed_rows

    def _analyze(self, table: str) -> None:
        quoted = self.engine.dialect.identifier_preparer.quote(table)
        started = time.perf_counter()
        with self.engine.connect() as conn:
            if self.engine.dialect.name == "postgresql":
                conn.exec_driver_sql(f"ANALYZE {quoted}")
            else:
                conn.exec_driver_sql("PRAGMA analysis_limit=1000")
                conn.exec_driver_sql(f"ANALYZE {quoted}")
                conn.exec_driver_sql("PRAGMA optimize")
            conn.commit()
        log.info("analysed %s in %.0f ms", table, (time.perf_counter() - started) * 1000)

    # -- the background thread ----------------------------------------------------------------

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(
                target=self._loop, name="floorsync-analyze", daemon=True
            )
            self._thread.start()

    def _loop(self) -> None:
        wait: float | None = None
        while True:
            self._wake.wait(timeout=wait)
            self._wake.clear()
            wait = self.run_due()


_ANALYZERS: "weakref.WeakKeyDictionary[Any, TableStatistics]" = weakref.WeakKeyDictionary()
_ANALYZERS_LOCK = threading.Lock()


def analyzer_for(engine: Engine) -> TableStatistics:
    """The `TableStatistics` of `engine`'s database in this process (one per connection pool:
    engines that share a pool through `execution_options` share it)."""
    with _ANALYZERS_LOCK:
        analyzer = _ANALYZERS.get(engine.pool)
        if analyzer is None:
            analyzer = TableStatistics(engine)
            _ANALYZERS[engine.pool] = analyzer
        return analyzer
