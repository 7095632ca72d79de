"""Scale benchmark (issue 10's scale targets): a real `floorsync serve` process, a fresh database.

    .venv/bin/python bench/scale.py --db sqlite|postgres [--json] [--runs N] [--no-analyze]

One run:

    load_s            100,000 jobs through POST /api-jobs/bulk-sync, 100 requests of 1000 (target:
                      under 15 s); `load_records_per_s` is the same as a rate;
                      `load_server_cpu_s` / `load_db_cpu_s` the CPU seconds of the server process
                      and of the PostgreSQL backends meanwhile (0 on SQLite, where the database
                      works inside the server process)
    feed_page_ms      a change-feed page of 1000 events from the middle of the 100,000 the load
                      wrote (target: under 20 ms server time)
    list_offset_ms    GET /api-jobs?offset=90000 (100 jobs, default order, with its total; target:
                      under 100 ms)
    search_ms         GET /api-jobs?search=<one job's number> over the 100,000 (target: under 50 ms)
    search_common_ms  a search that matches about 1,000 of them (one customer)

Each read is timed three ways: `*_ms` is the server's work measured in-process on the same
database (the function the endpoint calls, rendering included, no HTTP), `*_cpu_ms` the CPU time
of that thread meanwhile (on SQLite all of the work, the database included; on PostgreSQL the
Python side only: on a starved machine the wall clock mostly measures the wait for a CPU), and
`*_http_ms` the round trip of a real request from a keep-alive client (JSON transfer and client
parsing included). All are the median of 7 tries after one warm-up. `--runs N` repeats everything on fresh databases and
reports the median with `min` and `max` objects; `--json` prints one JSON object as the last
line.

After the load the bench runs `VACUUM (ANALYZE)` (SQLite: `ANALYZE`), as autovacuum does on a
production database after a bulk load (it is off on the development machine). `--no-analyze` leaves that out, so that only
floorsync's own statistics upkeep (db/statistics.py) is at work. PostgreSQL: the server at
FLOORSYNC_BENCH_PG gets a fresh database for the run (see bench/bulk_sync.py).
"""

import argparse
import json
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bulk_sync import (
    SERVER_PIDS,
    analyse,
    database_cpu_s,
    fresh_database,
    job,
    make_tenant,
    process_cpu_s,
    serve,
)

JOBS = 100_000
PER_REQUEST = 1000
TRIES = 7

TARGETS = {
    "load_s": 15.0,
    "feed_page_ms": 20.0,
    "list_offset_ms": 100.0,
    "search_ms": 50.0,
}


def median_ms(call: Callable[[], Any]) -> float:
    return timed(call)[0]


def timed(call: Callable[[], Any]) -> tuple[float, float]:
    """Median wall-clock ms and median CPU ms of this thread over TRIES calls (after a warm-up).
    On a starved machine the wall clock mostly measures waiting for a CPU; the thread's CPU time
    does not (on SQLite it is all of the server's work, the database included)."""
    call()  # warm-up (plans, caches)
    walls, cpus = [], []
    for _ in range(TRIES):
        started, cpu = time.perf_counter(), time.thread_time()
        call()
        walls.append((time.perf_counter() - started) * 1000)
        cpus.append((time.thread_time() - cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def probes(jobs: int) -> tuple[str, str, str]:
    """The change-feed cursor (the middle), the list offset (90 %) and a job number to find."""
    from floorsync.events.feed import encode_cursor

    return encode_cursor(jobs // 2), str(jobs * 9 // 10), f"SOJ-{jobs * 54321 // 100_000:06d}"


def in_process(url: str, tenant_id: uuid.UUID, jobs: int) -> dict[str, float]:
    """Server time of the three reads: the endpoint's own functions, no HTTP."""
    from floorsync.db.engine import make_engine, make_sessionmaker, read_sessions
    from floorsync.db.repository import TenantScope
    from floorsync.entities.listing import list_rows
    from floorsync.entities.render import render_rows
    from floorsync.entities.spec import get_spec
    from floorsync.events.feed import read_feed
    from floorsync.models.enums import ApiKeyRole

    cursor, offset, number = probes(jobs)

    engine = make_engine(url)
    sessions = read_sessions(make_sessionmaker(engine))
    scope = TenantScope(tenant_id, None, ApiKeyRole.admin)
    spec = get_spec("jobs")

    def feed() -> None:
        with sessions() as session:
            page = read_feed(session, scope, after=cursor, types=[], limit=1000)
            assert len(page.rendered) == 1000
            session.rollback()

    def listing(params: dict[str, str], expect: int | None = None) -> Callable[[], None]:
        def call() -> None:
            with sessions() as session:
                rows, _total, _page = list_rows(session, scope, spec, params)
                render_rows(session, scope, spec, rows, "list")
                if expect is not None:
                    assert len(rows) == expect, (params, len(rows))
                session.rollback()

        return call

    out: dict[str, float] = {}
    for name, call in (
        ("feed_page", feed),
        ("list_offset", listing({"offset": offset}, 100)),
        ("search", listing({"search": number}, 1)),
        ("search_common", listing({"search": "Customer 42 BV"})),
    ):
        out[f"{name}_ms"], out[f"{name}_cpu_ms"] = timed(call)
    engine.dispose()
    return out


def over_http(client: httpx.Client, jobs: int) -> dict[str, float]:
    cursor, offset, number = probes(jobs)

    def get(path: str, params: dict[str, str]) -> Callable[[], None]:
        def call() -> None:
            response = client.get(path, params=params)
            if response.status_code != 200:
                raise RuntimeError(f"{path} answered {response.status_code}: {response.text[:300]}")
            orjson.loads(response.content)

        return call

    return {
        "feed_page_http_ms": median_ms(get("/api-events", {"after": cursor, "limit": "1000"})),
        "list_offset_http_ms": median_ms(get("/api-jobs", {"offset": offset})),
        "search_http_ms": median_ms(get("/api-jobs", {"search": number})),
        "search_common_http_ms": median_ms(get("/api-jobs", {"search": "Customer 42 BV"})),
    }


def run(kind: str, *, analyze: bool, jobs: int = JOBS) -> dict[str, float]:
    from floorsync.db.migrate import upgrade

    bodies = [
        orjson.dumps({"items": [job(i) for i in range(s, s + PER_REQUEST)]})
        for s in range(0, jobs, PER_REQUEST)
    ]
    with fresh_database(kind) as url:
        upgrade(url)
        tenant_id, key = make_tenant(url, "bench-scale")
        results: dict[str, float] = {}
        with (
            serve(url) as base,
            httpx.Client(
                base_url=base,
                headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                timeout=120,
            ) as client,
        ):
            pid = SERVER_PIDS[base]
            cpu, db_cpu = process_cpu_s(pid), database_cpu_s(url)
            started = time.perf_counter()
            for body in bodies:
                response = client.post("/api-jobs/bulk-sync", content=body)
                data = orjson.loads(response.content)["data"]
                if response.status_code != 200 or data["created"] != PER_REQUEST:
                    raise RuntimeError(f"bulk-sync: {response.status_code} {response.text[:300]}")
            results["load_s"] = time.perf_counter() - started
            results["load_records_per_s"] = jobs / results["load_s"]
            # CPU seconds of the load, which a busy machine inflates far less than the wall clock.
            results["load_server_cpu_s"] = process_cpu_s(pid) - cpu
            results["load_db_cpu_s"] = database_cpu_s(url) - db_cpu
            if analyze:
                analyse(url)
            results.update(in_process(url, tenant_id, jobs))
            results.update(over_http(client, jobs))
    return {k: round(v, 2) for k, v in results.items()}


def summarise(runs: list[dict[str, float]]) -> dict[str, Any]:
    keys = list(runs[0])
    out: dict[str, Any] = {k: statistics.median(r[k] for r in runs) for k in keys}
    out["min"] = {k: min(r[k] for r in runs) for k in keys}
    out["max"] = {k: max(r[k] for r in runs) for k in keys}
    out["runs"] = len(runs)
    out["targets_met"] = {k: out[k] < limit for k, limit in TARGETS.items()}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), required=True)
    parser.add_argument("--json", action="store_true", help="one JSON object as the last line")
    parser.add_argument("--runs", type=int, default=1, help="repeat on fresh databases")
    parser.add_argument(
        "--no-analyze", action="store_true", help="no ANALYZE by the bench after the load"
    )
    parser.add_argument(
        "--jobs", type=int, default=JOBS, help="jobs to load (a multiple of 1000; targets: 100,000)"
    )
    args = parser.parse_args()
    runs = [
        run(args.db, analyze=not args.no_analyze, jobs=args.jobs) for _ in range(max(1, args.runs))
    ]
    results = summarise(runs)
    for name in runs[0]:
        target = f"  target < {TARGETS[name]:g}" if name in TARGETS else ""
        print(
            f"{name:>24}: {results[name]:>10,.2f}  (min {results['min'][name]:,.2f}, "
            f"max {results['max'][name]:,.2f}){target}"
        )
    if args.json:
        print(
            json.dumps(
                {"db": args.db, "analyze": not args.no_analyze, "jobs": args.jobs, **results}
            )
        )


if __name__ == "__main__":
    main()
