"""The pending queue's dead index entries, vacuumed (PostgreSQL; issue 11, a queue that stays
fast).

The queue's indexes are partial (`status = 'pending'`), so the history never enters them; but
when a delivery succeeds, PostgreSQL's MVCC leaves its old entry in them until VACUUM removes
it. An endpoint's claim walks its queue in `seq` order from the start, so it steps over every
entry delivered since the last VACUUM: in the 5-minute soak, with autovacuum off, the claim of
an endpoint with nothing pending read 613 buffers for 0 rows after 130,000 deliveries, and the
claim's work grew 448 → 2,069 buffers from minute 1 to minute 5. Autovacuum would eventually
clean up — after 20 % of the table has changed by default, minutes at plant rates — and some
installations run without it. So the worker's periodic task `webhooks.vacuum` runs
`VACUUM (INDEX_CLEANUP ON) webhook_deliveries` itself, every `FLOORSYNC_WEBHOOK_VACUUM_SECONDS`
(60), when the statistics count at least `MIN_DEAD_ROWS` dead rows in the table (a quiet queue
costs one catalogue read per interval). INDEX_CLEANUP ON: left to itself, VACUUM skips the
indexes when few pages have dead rows, and the indexes are the point.

SQLite updates its indexes in place: nothing is left to step over, and the task does nothing.
"""

import logging

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

MIN_DEAD_ROWS = 2_000


def dead_rows(engine: Engine) -> int:
    """Dead rows in webhook_deliveries as PostgreSQL's statistics count them (they lag by up
    to a second)."""
    with engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT n_dead_tup FROM pg_stat_user_tables "
                "WHERE relid = 'webhook_deliveries'::regclass"
            )
        ).scalar()
    return int(found or 0)


def vacuum_queue(sessions: sessionmaker[Session]) -> int:
    """VACUUM webhook_deliveries when it has at least MIN_DEAD_ROWS dead rows; returns how many
    it counted before (0 when it did nothing)."""
    engine: Engine = sessions.kw["bind"]
    if engine.dialect.name != "postgresql":
        return 0
    dead = dead_rows(engine)
    if dead < MIN_DEAD_ROWS:
        return 0
    # VACUUM runs outside any transaction block.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (INDEX_CLEANUP ON) webhook_deliveries"))
    log.debug("webhook_deliveries vacuumed (%d dead rows)", dead)
    return dead
