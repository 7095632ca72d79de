"""Would overlapping the database and Python work of a bulk sync pay? (issue 10 item 7)

    .venv/bin/python bench/overlap.py [--chunks 20] [--rounds 2] [--json]

PostgreSQL only (FLOORSYNC_BENCH_PG, a fresh database as in bench/bulk_sync.py). Each chunk is
1000 jobs: the Python work is floorsync's own per-record validation and sync hash
(`validate_record`, `sync_hash`, building the row), the database work what `raw_copy_events`
writes (COPY into a staging table, the upsert with RETURNING, the tenant's event-sequence lock,
a COPY of 1000 pre-serialised events, COMMIT).

- `sequential`: prepare chunk k, write chunk k, prepare chunk k+1, … (what a request does).
- `overlapped`: a writer thread on its own connection writes chunk k while the main thread
  prepares chunk k+1 (a queue of one): the most pipelining could give, since psycopg releases
  the GIL while it waits for the server.

Both run alternately, `--rounds` times each, on their own tenants; the last line (`--json`) has
the seconds of each and `gain` = 1 - overlapped / sequential (the share of time saved).
"""

import argparse
import json
import queue
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bulk_sync import _UPDATE, analyse, event_bodies, fresh_database, make_tenant, raw_rows

PER_CHUNK = 1000
EVENT_COLUMNS = "id, tenant_id, seq, type, entity_type, entity_id, occurred_at, data"


def writer(url: str, tenant_id: uuid.UUID) -> Callable[[list[dict[str, Any]]], None]:
    import psycopg
    from psycopg.types.json import Jsonb

    conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    conn.execute(
        "CREATE TEMP TABLE stage_jobs (LIKE jobs INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )
    conn.commit()

    def write(rows: list[dict[str, Any]]) -> None:
        columns = list(rows[0])
        quoted = ",".join(f'"{c}"' for c in columns)
        sets = ",".join(f'"{c}"=excluded."{c}"' for c in _UPDATE)
        bodies = event_bodies(rows)
        with conn.cursor() as cur:
            with cur.copy(f"COPY stage_jobs ({quoted}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row([Jsonb(r[c]) if c == "metadata" else r[c] for c in columns])
            cur.execute(
                f"INSERT INTO jobs ({quoted}) SELECT {quoted} FROM stage_jobs ON CONFLICT "
                "(tenant_id, external_source, external_id) WHERE external_id IS NOT NULL "
                f"DO UPDATE SET {sets} WHERE jobs.sync_hash IS DISTINCT FROM excluded.sync_hash "
                "RETURNING id, external_id"
            )
            cur.fetchall()
            cur.execute(
                "UPDATE event_sequences SET last_seq = last_seq + %s WHERE tenant_id = %s "
                "RETURNING last_seq",
                (len(rows), tenant_id),
            )
            last = cur.fetchone()[0]  # type: ignore[index]
            now = datetime.now(UTC)
            with cur.copy(f"COPY events ({EVENT_COLUMNS}) FROM STDIN") as copy:
                for i, (r, body) in enumerate(zip(rows, bodies, strict=True)):
                    seq = last - len(rows) + 1 + i
                    copy.write_row(
                        [uuid.uuid4(), tenant_id, seq, "job.created", "job", r["id"], now, body]
                    )
        conn.commit()

    return write


def sequential(url: str, tenant_id: uuid.UUID, chunks: int) -> float:
    write = writer(url, tenant_id)
    started = time.perf_counter()
    for k in range(chunks):
        write(raw_rows(tenant_id, k * PER_CHUNK, PER_CHUNK))
    return time.perf_counter() - started


def overlapped(url: str, tenant_id: uuid.UUID, chunks: int) -> float:
    write = writer(url, tenant_id)
    ready: queue.Queue[list[dict[str, Any]] | None] = queue.Queue(maxsize=1)
    failed: list[BaseException] = []

    def drain() -> None:
        try:
            while (rows := ready.get()) is not None:
                write(rows)
        except BaseException as exc:  # reported by the main thread
            failed.append(exc)

    started = time.perf_counter()
    thread = threading.Thread(target=drain)
    thread.start()
    for k in range(chunks):
        ready.put(raw_rows(tenant_id, k * PER_CHUNK, PER_CHUNK))
    ready.put(None)
    thread.join()
    if failed:
        raise failed[0]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from floorsync.db.migrate import upgrade

    times: dict[str, list[float]] = {"sequential": [], "overlapped": []}
    with fresh_database("postgres") as url:
        upgrade(url)
        analyse(url)
        for round_ in range(args.rounds):
            for name, run in (("sequential", sequential), ("overlapped", overlapped)):
                tenant_id, _key = make_tenant(url, f"{name}-{round_}")
                times[name].append(run(url, tenant_id, args.chunks))
                print(f"{name:10s} round {round_}: {times[name][-1]:.2f} s", flush=True)
    seq, ovl = statistics.median(times["sequential"]), statistics.median(times["overlapped"])
    out = {
        "sequential_s": round(seq, 2),
        "overlapped_s": round(ovl, 2),
        "gain": round(1 - ovl / seq, 3),
        "runs": times,
    }
    print(json.dumps(out) if args.json else out)


if __name__ == "__main__":
    main()
