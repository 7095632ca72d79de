"""Bulk-sync benchmark: a real `floorsync serve` process on 127.0.0.1 and a fresh database.

    .venv/bin/python bench/bulk_sync.py --db sqlite|postgres [--json] [--runs N]

Measures, in one run (records per second):

    raw             the old ceiling: the same 20,000 job rows upserted straight into the database
                    through the driver, one batched INSERT … ON CONFLICT (and commit) per 1000 rows
    raw_copy_events the fair ceiling: what the service has to write, done by the driver alone —
                    per 1000 rows, COPY them into a staging table, the same upsert from it with
                    RETURNING, take the tenant's event-sequence lock and COPY 1000 pre-serialised
                    ~1 KB events, commit (SQLite has no COPY: the multi-row upsert with RETURNING
                    and one executemany of the events)
    http_insert     the 20,000 jobs through POST /api-jobs/bulk-sync, 1000 per request, all new
    http_unchanged  the same requests again (every record skipped)
    http_changed    again with every record changed
    row_by_row      2,000 other jobs through one PUT /api-jobs/sync each
    nested          10 requests of 200 jobs × 5 parts × 5 operations (6,200 records each: the
                    request limit is 10,000 records, so not the issue's 1000 jobs per request);
                    `nested_records_per_s`, `ratio_nested_vs_flat_insert` (against http_insert)
                    and `nested_slowdown` (the last request's time / the first's)

With `--webhooks N` (default 0) the tenant has N active webhook endpoints subscribed to `*`
before the HTTP phases, so every event of a sync also gets N delivery rows in its transaction (the
fan-out, events/fanout.py); no worker runs, nothing is sent.

With --json the last line is one JSON object with those keys and `ratio_insert_vs_raw`,
`ratio_insert_vs_fair`, `ratio_unchanged_vs_insert` and `ratio_bulk_vs_row_by_row`. With
`--runs N` (default 1) the whole run is repeated on fresh databases and every figure is reported
as the median, with `min` and `max` objects next to it (ratios are taken within each run).

Every bench database is analysed the way a production one is: autovacuum runs ANALYZE after
bulk loads there, but it is off on the development machine, so the bench runs `ANALYZE` after
migrating and after each phase that loaded data (floorsync also analyses tables a sync grew by
itself, db/statistics.py). PostgreSQL: the server at
FLOORSYNC_BENCH_PG (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres) gets a fresh
database for the run, named after the one in the URL (`floorsync_bench_…` for `postgres`), dropped
afterwards.
"""

import argparse
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

TOTAL = 20_000
PER_REQUEST = 1000
ROW_BY_ROW = 2_000
SOURCE = "SAP"


def job(i: int, *, version: int = 0, prefix: str = "SO") -> dict[str, Any]:
    """A realistic ERP sales-order header (alias, date, metadata); `version` changes it."""
    return {
        "external_id": f"{prefix}-{i:06d}",
        "external_source": SOURCE,
        "job_number": f"{prefix}J-{i:06d}",
        "customer_name": f"Customer {i % 97} BV" + (f" rev {version}" if version else ""),
        "due_date": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}",
        "priority": (i + version) % 5,
        "notes": f"Order {i} for the {i % 7}th line",
        "delivery_city": "Eindhoven",
        "delivery_country": "nl",
        "metadata": {"plant": "NL01", "line": i % 7, "version": version},
    }


# ---------------------------------------------------------------- databases


@contextmanager
def fresh_database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="floorsync-bench-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    import psycopg

    admin = os.environ.get(
        "FLOORSYNC_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    # Named after the database in the URL (FLOORSYNC_BENCH_PG=…/fs_x_bench → fs_x_bench_<pid>_<t>).
    base = admin.rsplit("/", 1)[-1].split("?", 1)[0]
    prefix = "floorsync_bench" if base in ("", "postgres") else base
    name = f"{prefix}_{os.getpid()}_{int(time.time())}"
    plain = admin.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_tenant(url: str, name: str) -> tuple[uuid.UUID, str]:
    from floorsync.auth.api_keys import issue_key
    from floorsync.auth.tenants import create_tenant
    from floorsync.db.engine import make_engine, make_sessionmaker
    from floorsync.models.enums import ApiKeyRole

    engine = make_engine(url)
    now = datetime.now(UTC)
    with make_sessionmaker(engine).begin() as session:
        tenant = create_tenant(session, name, now)
        _row, key = issue_key(session, tenant.id, name="bench", role=ApiKeyRole.admin, now=now)
        tenant_id = tenant.id
    engine.dispose()
    return tenant_id, key


# ---------------------------------------------------------------- raw: the driver alone


def raw_rows(tenant_id: uuid.UUID, start: int, count: int) -> list[dict[str, Any]]:
    """The same rows the server writes for these jobs (every column, as the engine does)."""
    from floorsync.entities.jobs import JOBS
    from floorsync.entities.validation import validate_record
    from floorsync.sync.hashing import sync_hash

    now = datetime.now(UTC)
    rows = []
    for i in range(start, start + count):
        values = validate_record(JOBS, job(i), "sync").values
        rows.append(
            {
                "id": uuid.uuid4(),
                "tenant_id": tenant_id,
                "job_number": values["job_number"],
                "customer": values["customer"],
                "due_date": values["due_date"],
                "due_date_override": None,
                "status": "not_started",
                "priority": values["priority"],
                "notes": values["notes"],
                "current_cell_id": None,
                "delivery_address": None,
                "delivery_city": values["delivery_city"],
                "delivery_postal_code": None,
                "delivery_country": values["delivery_country"],
                "total_weight_kg": None,
                "total_volume_m3": None,
                "package_count": None,
                "started_at": None,
                "paused_at": None,
                "resumed_at": None,
                "completed_at": None,
                "actual_duration": None,
                "metadata": values["metadata"],
                "created_at": now,
                "updated_at": now,
                "external_id": values["external_id"],
                "external_source": values["external_source"],
                "synced_at": now,
                "sync_hash": sync_hash(values),
                "deleted_at": None,
                "deleted_by": None,
            }
        )
    return rows


_UPDATE = (
    "job_number",
    "customer",
    "due_date",
    "priority",
    "notes",
    "delivery_city",
    "delivery_country",
    "metadata",
    "updated_at",
    "synced_at",
    "sync_hash",
)


def _upsert_sql(columns: list[str], count: int, style: str) -> str:
    width = len(columns)
    if style == "$n":  # PostgreSQL's native placeholders: nothing for the driver to rewrite
        groups = [
            "(" + ",".join(f"${i * width + j + 1}" for j in range(width)) + ")"
            for i in range(count)
        ]
    else:
        groups = ["(" + ",".join(["?"] * width) + ")"] * count
    sets = ",".join(f'"{c}"=excluded."{c}"' for c in _UPDATE)
    return (
        f"INSERT INTO jobs ({','.join(chr(34) + c + chr(34) for c in columns)}) VALUES {','.join(groups)} "
        "ON CONFLICT (tenant_id, external_source, external_id) WHERE external_id IS NOT NULL "
        f"DO UPDATE SET {sets} WHERE jobs.sync_hash IS DISTINCT FROM excluded.sync_hash"
    )


def run_raw(kind: str, url: str, tenant_id: uuid.UUID) -> float:
    """Seconds to upsert TOTAL rows, one statement and one commit per PER_REQUEST rows."""
    batches = [raw_rows(tenant_id, start, PER_REQUEST) for start in range(0, TOTAL, PER_REQUEST)]
    columns = list(batches[0][0])
    if kind == "sqlite":

        def convert(v: Any) -> Any:
            if isinstance(v, uuid.UUID):
                return v.hex
            if isinstance(v, datetime):
                return (
                    v.astimezone(UTC)
                    .replace(tzinfo=None)
                    .isoformat(sep=" ", timespec="microseconds")
                )
            if isinstance(v, dict):
                return json.dumps(v)
            return v

        conn = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        sql = _upsert_sql(columns, PER_REQUEST, "?")
        started = time.perf_counter()
        for batch in batches:
            params = [convert(r[c]) for r in batch for c in columns]
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(sql, params)
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - started
        conn.close()
        return elapsed
    import psycopg
    from psycopg.types.json import Jsonb

    # The fastest way through psycopg for this statement: a RawCursor takes `$n` placeholders
    # as they are (a plain cursor rewrites 31,000 `%s` in Python first, six times slower).
    conn_pg = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    cursor = psycopg.RawCursor(conn_pg)
    sql = _upsert_sql(columns, PER_REQUEST, "$n")
    started = time.perf_counter()
    for batch in batches:
        params = [Jsonb(r[c]) if c == "metadata" else r[c] for r in batch for c in columns]
        cursor.execute(sql, params)
        conn_pg.commit()
    elapsed = time.perf_counter() - started
    conn_pg.close()
    return elapsed


def event_bodies(rows: list[dict[str, Any]]) -> list[str]:
    """~1 KB `job.created` payloads, serialised before the clock starts."""
    out = []
    for r in rows:
        job_view = {
            k: (str(v) if isinstance(v, uuid.UUID | datetime) else v)
            for k, v in r.items()
            if k not in ("sync_hash",)
        }
        out.append(json.dumps({"job": job_view, "origin": {"channel": "bulk-sync"}}))
    return out


def run_raw_copy_events(kind: str, url: str, tenant_id: uuid.UUID) -> float:
    """Seconds to write TOTAL rows and their TOTAL events as the service must, driver only."""
    batches = [raw_rows(tenant_id, start, PER_REQUEST) for start in range(0, TOTAL, PER_REQUEST)]
    events = [event_bodies(batch) for batch in batches]
    columns = list(batches[0][0])
    event_columns = [
        "id",
        "tenant_id",
        "seq",
        "type",
        "entity_type",
        "entity_id",
        "occurred_at",
        "data",
    ]
    quoted = ",".join(f'"{c}"' for c in columns)
    sets = ",".join(f'"{c}"=excluded."{c}"' for c in _UPDATE)
    conflict = (
        "ON CONFLICT (tenant_id, external_source, external_id) WHERE external_id IS NOT NULL "
        f"DO UPDATE SET {sets} WHERE jobs.sync_hash IS DISTINCT FROM excluded.sync_hash "
        "RETURNING id, external_id"
    )
    if kind == "sqlite":
        conn = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        upsert = _upsert_sql(columns, PER_REQUEST, "?") + " RETURNING id, external_id"
        insert_events = f"INSERT INTO events ({','.join(event_columns)}) VALUES ({','.join('?' * len(event_columns))})"
        started = time.perf_counter()
        for batch, bodies in zip(batches, events, strict=True):
            params = [_sqlite_value(r[c]) for r in batch for c in columns]
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(upsert, params).fetchall()
            last = conn.execute(
                "UPDATE event_sequences SET last_seq = last_seq + ? WHERE tenant_id = ? "
                "RETURNING last_seq",
                (len(bodies), tenant_id.hex),
            ).fetchone()[0]
            now = _sqlite_value(datetime.now(UTC))
            conn.executemany(
                insert_events,
                [
                    (
                        uuid.uuid4().hex,
                        tenant_id.hex,
                        last - len(bodies) + 1 + i,
                        "job.created",
                        "job",
                        r["id"].hex,
                        now,
                        body,
                    )
                    for i, (r, body) in enumerate(zip(batch, bodies, strict=True))
                ],
            )
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - started
        conn.close()
        return elapsed
    import psycopg
    from psycopg.types.json import Jsonb

    conn_pg = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    conn_pg.execute(
        "CREATE TEMP TABLE stage_jobs (LIKE jobs INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )
    conn_pg.commit()
    upsert = f"INSERT INTO jobs ({quoted}) SELECT {quoted} FROM stage_jobs {conflict}"
    started = time.perf_counter()
    with conn_pg.cursor() as cur:
        for batch, bodies in zip(batches, events, strict=True):
            with cur.copy(f"COPY stage_jobs ({quoted}) FROM STDIN") as copy:
                for r in batch:
                    copy.write_row([Jsonb(r[c]) if c == "metadata" else r[c] for c in columns])
            cur.execute(upsert)
            cur.fetchall()
            cur.execute(
                "UPDATE event_sequences SET last_seq = last_seq + %s WHERE tenant_id = %s "
                "RETURNING last_seq",
                (len(bodies), tenant_id),
            )
            last = cur.fetchone()[0]  # type: ignore[index]
            now = datetime.now(UTC)
            with cur.copy(f"COPY events ({','.join(event_columns)}) FROM STDIN") as copy:
                for i, (r, body) in enumerate(zip(batch, bodies, strict=True)):
                    copy.write_row(
                        [
                            uuid.uuid4(),
                            tenant_id,
                            last - len(bodies) + 1 + i,
                            "job.created",
                            "job",
                            r["id"],
                            now,
                            body,
                        ]
                    )
            conn_pg.commit()
    elapsed = time.perf_counter() - started
    conn_pg.close()
    return elapsed


def _sqlite_value(v: Any) -> Any:
    if isinstance(v, uuid.UUID):
        return v.hex
    if isinstance(v, datetime):
        return v.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    if isinstance(v, dict):
        return json.dumps(v)
    return v


def analyse(url: str) -> None:
    """What autovacuum does after a bulk load: VACUUM ANALYZE on PostgreSQL (it also merges
    GIN pending lists and sets the visibility map), ANALYZE on SQLite."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
        conn.execute("ANALYZE")
        conn.close()
        return
    import psycopg

    with psycopg.connect(
        url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    ) as conn:
        conn.execute("VACUUM (ANALYZE)")


# ---------------------------------------------------------------- nested


def nested_job(i: int, parts: int = 5, ops: int = 5) -> dict[str, Any]:
    """A job with `parts` parts of `ops` operations each, as an ERP sends a routed order."""
    body = job(i, prefix="NS")
    body["parts"] = [
        {
            "external_id": f"NS-{i:06d}-{p}",
            "part_number": f"P-{p}",
            "quantity": 1 + (i + p) % 9,
            "material": "S235",
            "operations": [
                {
                    "external_id": f"NS-{i:06d}-{p}-{o}",
                    "operation_name": f"Step {o}",
                    "sequence": o + 1,
                    "estimated_time": 10 + o,
                }
                for o in range(ops)
            ],
        }
        for p in range(parts)
    ]
    return body


NESTED_REQUESTS = 10
NESTED_JOBS = 200  # × 5 parts × 5 operations = 6,200 records per request


# ---------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process of this machine so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def database_cpu_s(url: str) -> float:
    """CPU seconds of the PostgreSQL backends serving `url`'s database so far (a local server;
    0 for SQLite, whose work is done in the server process). Backends that have exited are
    not counted: read it while the server's connections are open."""
    if not url.startswith("postgresql"):
        return 0.0
    import psycopg

    name = url.rsplit("/", 1)[-1].split("?", 1)[0]
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        pids = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    return sum(process_cpu_s(pid) for (pid,) in pids)


# The pid of the `floorsync serve` process behind each base URL that `serve` yielded.
SERVER_PIDS: dict[str, int] = {}


@contextmanager
def serve(url: str) -> Iterator[str]:
    """`floorsync serve` (one uvicorn process, no worker threads) on a free local port."""
    port = free_port()
    env = {
        **os.environ,
        "FLOORSYNC_DATABASE_URL": url,
        "FLOORSYNC_LOG_LEVEL": "warning",
        "FLOORSYNC_ENVIRONMENT": "development",
        "FLOORSYNC_WEBHOOK_ALLOW_PRIVATE": "true",  # --webhooks: endpoints on 127.0.0.1
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "floorsync",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-worker",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # a busy machine starts it slowly
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("floorsync serve did not start")
            time.sleep(0.1)
        SERVER_PIDS[base] = proc.pid
        yield base
    finally:
        SERVER_PIDS.pop(base, None)
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def timed_bulk(
    client: httpx.Client, bodies: list[bytes], check: Callable[[dict[str, Any]], None]
) -> float:
    started = time.perf_counter()
    for body in bodies:
        response = client.post("/api-jobs/bulk-sync", content=body)
        if response.status_code != 200:
            raise RuntimeError(f"bulk-sync answered {response.status_code}: {response.text[:500]}")
        check(orjson.loads(response.content)["data"])
    return time.perf_counter() - started


def expect(**counts: int) -> Callable[[dict[str, Any]], None]:
    def check(data: dict[str, Any]) -> None:
        got = {k: data[k] for k in counts}
        if got != counts:
            raise RuntimeError(f"unexpected counts {got}, wanted {counts}")

    return check


def run(kind: str, webhooks: int = 0) -> dict[str, float]:
    from floorsync.db.migrate import upgrade

    with fresh_database(kind) as url:
        upgrade(url)
        _tenant_id, key = make_tenant(url, "bench-http")
        raw_tenant, _raw_key = make_tenant(url, "bench-raw")
        fair_tenant, _fair_key = make_tenant(url, "bench-fair")
        analyse(url)
        results: dict[str, float] = {}
        results["raw"] = TOTAL / run_raw(kind, url, raw_tenant)
        results["raw_copy_events"] = TOTAL / run_raw_copy_events(kind, url, fair_tenant)
        analyse(url)
        nested = [
            orjson.dumps({"items": [nested_job(i) for i in range(s, s + NESTED_JOBS)]})
            for s in range(0, NESTED_JOBS * NESTED_REQUESTS, NESTED_JOBS)
        ]
        first = [
            orjson.dumps({"items": [job(i) for i in range(s, s + PER_REQUEST)]})
            for s in range(0, TOTAL, PER_REQUEST)
        ]
        changed = [
            orjson.dumps({"items": [job(i, version=1) for i in range(s, s + PER_REQUEST)]})
            for s in range(0, TOTAL, PER_REQUEST)
        ]
        singles = [orjson.dumps(job(i, prefix="RB")) for i in range(ROW_BY_ROW)]
        with (
            serve(url) as base,
            httpx.Client(
                base_url=base,
                headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                timeout=120,
            ) as client,
        ):
            for i in range(webhooks):  # nothing listens there, and no worker sends
                client.post(
                    "/api-webhooks",
                    content=orjson.dumps({"url": f"http://127.0.0.1:9/bench-{i}", "events": ["*"]}),
                ).raise_for_status()
            client.post(
                "/api-jobs/bulk-sync", content=orjson.dumps({"items": [job(0, prefix="WARM")]})
            )  # warm-up
            results["http_insert"] = TOTAL / timed_bulk(
                client, first, expect(created=PER_REQUEST, failed=0)
            )
            analyse(url)
            results["http_unchanged"] = TOTAL / timed_bulk(
                client, first, expect(skipped=PER_REQUEST, failed=0)
            )
            results["http_changed"] = TOTAL / timed_bulk(
                client, changed, expect(updated=PER_REQUEST, failed=0)
            )
            started = time.perf_counter()
            for body in singles:
                response = client.put("/api-jobs/sync", content=body)
                if response.status_code != 201:
                    raise RuntimeError(
                        f"sync answered {response.status_code}: {response.text[:500]}"
                    )
            results["row_by_row"] = ROW_BY_ROW / (time.perf_counter() - started)
            analyse(url)
            times = []
            for body in nested:
                times.append(timed_bulk(client, [body], expect(created=NESTED_JOBS, failed=0)))
            per_request = NESTED_JOBS * (1 + 5 + 5 * 5)
            results["nested_records_per_s"] = per_request * len(nested) / sum(times)
            results["nested_first_request_s"] = times[0]
            results["nested_last_request_s"] = times[-1]
    results["ratio_insert_vs_raw"] = results["http_insert"] / results["raw"]
    results["ratio_insert_vs_fair"] = results["http_insert"] / results["raw_copy_events"]
    results["ratio_nested_vs_flat_insert"] = (
        results["nested_records_per_s"] / results["http_insert"]
    )
    results["nested_slowdown"] = times[-1] / times[0]
    results["ratio_unchanged_vs_insert"] = results["http_unchanged"] / results["http_insert"]
    results["ratio_bulk_vs_row_by_row"] = results["http_insert"] / results["row_by_row"]
    return {
        k: round(v, 3)
        if k.startswith(("ratio", "nested_slowdown", "nested_first", "nested_last"))
        else round(v, 1)
        for k, v in results.items()
    }


def summarise(runs: list[dict[str, float]]) -> dict[str, Any]:
    """Median of every figure over the runs, with `min` and `max` objects."""
    keys = list(runs[0])
    out: dict[str, Any] = {k: statistics.median(r[k] for r in runs) for k in keys}
    out["min"] = {k: min(r[k] for r in runs) for k in keys}
    out["max"] = {k: max(r[k] for r in runs) for k in keys}
    out["runs"] = len(runs)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), required=True)
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object as the last line"
    )
    parser.add_argument("--runs", type=int, default=1, help="repeat on fresh databases")
    parser.add_argument(
        "--webhooks", type=int, default=0, help="active endpoints subscribed to every event"
    )
    args = parser.parse_args()
    runs = [run(args.db, args.webhooks) for _ in range(max(1, args.runs))]
    results = summarise(runs)
    rates = (
        "raw",
        "raw_copy_events",
        "http_insert",
        "http_unchanged",
        "http_changed",
        "row_by_row",
        "nested_records_per_s",
    )
    ratios = (
        "ratio_insert_vs_raw",
        "ratio_insert_vs_fair",
        "ratio_unchanged_vs_insert",
        "ratio_bulk_vs_row_by_row",
        "ratio_nested_vs_flat_insert",
        "nested_slowdown",
    )
    for name in rates:
        print(
            f"{name:>22}: {results[name]:>10,.0f} records/s"
            f"  (min {results['min'][name]:,.0f}, max {results['max'][name]:,.0f})"
        )
    for name in ratios:
        print(
            f"{name:>28}: {results[name]:.2f}"
            f"  (min {results['min'][name]:.2f}, max {results['max'][name]:.2f})"
        )
    if args.json:
        print(json.dumps({"db": args.db, "webhooks": args.webhooks, **results}))


if __name__ == "__main__":
    main()
