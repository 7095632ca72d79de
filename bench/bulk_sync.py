"""Bulk-sync benchmark: a real `floorsync serve` process on 127.0.0.1 and a fresh database.

    .venv/bin/python bench/bulk_sync.py --db sqlite|postgres [--json]

Measures, in one run (records per second):

    raw             the ceiling: the same 20,000 job rows upserted straight into the database
                    through the driver, one batched INSERT … ON CONFLICT (and commit) per 1000 rows
    http_insert     the 20,000 jobs through POST /api-jobs/bulk-sync, 1000 per request, all new
    http_unchanged  the same requests again (every record skipped)
    http_changed    again with every record changed
    row_by_row      2,000 other jobs through one PUT /api-jobs/sync each

With --json the last line is one JSON object with those keys and `ratio_insert_vs_raw`,
`ratio_unchanged_vs_insert` and `ratio_bulk_vs_row_by_row`. PostgreSQL: the server at
FLOORSYNC_BENCH_PG (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres) gets a fresh
database for the run, named after the one in the URL (`floorsync_bench_…` for `postgres`), dropped
afterwards.
"""

import argparse
import json
import os
import socket
import sqlite3
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


# ---------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(url: str) -> Iterator[str]:
    """`floorsync serve` (one uvicorn process, no worker threads) on a free local port."""
    port = free_port()
    env = {
        **os.environ,
        "FLOORSYNC_DATABASE_URL": url,
        "FLOORSYNC_LOG_LEVEL": "warning",
        "FLOORSYNC_ENVIRONMENT": "development",
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
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("floorsync serve did not start")
            time.sleep(0.1)
        yield base
    finally:
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


def run(kind: str) -> dict[str, float]:
    from floorsync.db.migrate import upgrade

    with fresh_database(kind) as url:
        upgrade(url)
        _tenant_id, key = make_tenant(url, "bench-http")
        raw_tenant, _raw_key = make_tenant(url, "bench-raw")
        results: dict[str, float] = {}
        results["raw"] = TOTAL / run_raw(kind, url, raw_tenant)
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
            client.post(
                "/api-jobs/bulk-sync", content=orjson.dumps({"items": [job(0, prefix="WARM")]})
            )  # warm-up
            results["http_insert"] = TOTAL / timed_bulk(
                client, first, expect(created=PER_REQUEST, failed=0)
            )
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
    results["ratio_insert_vs_raw"] = results["http_insert"] / results["raw"]
    results["ratio_unchanged_vs_insert"] = results["http_unchanged"] / results["http_insert"]
    results["ratio_bulk_vs_row_by_row"] = results["http_insert"] / results["row_by_row"]
    return {k: round(v, 3) if k.startswith("ratio") else round(v, 1) for k, v in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), required=True)
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object as the last line"
    )
    args = parser.parse_args()
    results = run(args.db)
    for name in ("raw", "http_insert", "http_unchanged", "http_changed", "row_by_row"):
        print(f"{name:>16}: {results[name]:>10,.0f} records/s")
    for name in ("ratio_insert_vs_raw", "ratio_unchanged_vs_insert", "ratio_bulk_vs_row_by_row"):
        print(f"{name:>26}: {results[name]:.2f}")
    if args.json:
        print(json.dumps({"db": args.db, **results}))


if __name__ == "__main__":
    main()
