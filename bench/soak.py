"""Webhook soak: a bounded run of sustained load with the API and a worker as separate processes
and three receivers of different health, each in a process of its own on 127.0.0.1.

    .venv/bin/python bench/soak.py --db postgres|sqlite [--minutes 5] [--rate 500] [--json]

PostgreSQL gets a fresh database on the server at FLOORSYNC_BENCH_PG (named after the database in
that URL, dropped afterwards), SQLite a temporary file. Endpoints, all subscribed to `*`:

    healthy   answers 204 at once
    flaky     answers 503 (no Retry-After) to --fail-fraction of requests (0.2)
    slow      answers 204 after --latency-ms (50), with the default max_in_flight
    erp       the healthy receiver again, with exclude_sources ["SAP"]: the ERP's own bulk load
              must create no deliveries for it (echo suppression), shop-floor events still do

Load: every second lifecycle `start` calls on earlier jobs (20 % of --rate, spread over --terminals
client threads, 4) and one bulk sync of new SAP jobs that tops the second up to --rate: 80 % of it
when the terminals made their share the second before, more when they fell short (each call is one
event, each job one; the terminals are capped by their round trips under load), for --minutes. The
worker runs with FLOORSYNC_WEBHOOK_RETRY_DELAYS=1,2,4,8,16. Every minute: events committed per
second and the load's mix, deliveries per second and backlog per endpoint, RSS of the API and the
worker, the claim's two queries timed on the database (a probe: five runs at that instant) and the
claim times the worker logged with every batch of that minute (median and 90th percentile). After
the load stops: how long each endpoint takes to drain, then the verification (every committed event
received by each endpoint that should get it, duplicates, deliveries created for the
echo-suppressed endpoint by the ERP's own syncs). With --json the last line is one JSON object with
all of it.
"""

import argparse
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bulk_sync import fresh_database, make_tenant

FLOORSYNC = Path(sys.executable).parent / "floorsync"
ENDPOINTS = ("healthy", "flaky", "slow", "erp")
HEAVY_CLAIM_BUFFERS = 1_000  # a probe of the claim reading this many buffers keeps its plan


# ---------------------------------------------------------------- receivers (own processes)


def serve_receiver(port_file: str, fail_fraction: float, latency_ms: float) -> None:
    """`--receiver`: answer POSTs, remember every webhook-id per path; GET /ids dumps them."""
    ids: dict[str, list[str]] = {}
    lock = threading.Lock()
    rng = random.Random(7)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            if latency_ms:
                time.sleep(latency_ms / 1000)
            with lock:
                failed = rng.random() < fail_fraction
                if not failed:
                    ids.setdefault(self.path, []).append(self.headers.get("webhook-id", ""))
            self.send_response(503 if failed else 204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            with lock:
                body = json.dumps(ids).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    Path(port_file).write_text(str(server.server_address[1]))
    server.serve_forever()


def start_receiver(fail_fraction: float = 0.0, latency_ms: float = 0.0) -> tuple[Any, int]:
    fd, port_file = tempfile.mkstemp(prefix="soak-port-")
    os.close(fd)
    os.unlink(port_file)
    proc = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--receiver",
            port_file,
            "--fail-fraction",
            str(fail_fraction),
            "--latency-ms",
            str(latency_ms),
        ]
    )
    deadline = time.monotonic() + 20
    while not Path(port_file).exists() or not Path(port_file).read_text():
        if time.monotonic() > deadline:
            raise RuntimeError("receiver did not start")
        time.sleep(0.05)
    port = int(Path(port_file).read_text())
    os.unlink(port_file)
    return proc, port


# ---------------------------------------------------------------- floorsync processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_for(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOORSYNC_")}
    env.update(
        {
            "FLOORSYNC_DATABASE_URL": url,
            "FLOORSYNC_ENVIRONMENT": "development",
            "FLOORSYNC_WEBHOOK_ALLOW_PRIVATE": "true",
            "FLOORSYNC_WEBHOOK_RETRY_DELAYS": "1,2,4,8,16",
            "FLOORSYNC_LOG_LEVEL": "info",
        }
    )
    return env


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def checkpoint(url: str) -> bool:
    """A CHECKPOINT before the load, so that runs start alike: what earlier runs and test suites
    wrote to the WAL otherwise brings the server's next checkpoint (every 1 GB of WAL by
    default) into the run at a different minute each time (one soak had them in minutes 1–2
    and 4, its slowest). A checkpoint that the run's own WAL brings is still part of the run.
    False when the role may not (superuser or pg_checkpoint)."""
    import psycopg

    try:
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            conn.autocommit = True
            conn.execute("CHECKPOINT")
        return True
    except psycopg.Error as exc:
        print(f"no CHECKPOINT before the load: {exc}", file=sys.stderr)
        return False


# ---------------------------------------------------------------- the worker's own claims


class ClaimTimes:
    """The claim times the worker logs with each batch (`…in 230 ms; claim 1.8 ms`), read from
    its log as it grows: every claim that found work, not a sample of a few."""

    PATTERN = re.compile(rb"; claim ([0-9.]+) ms$")

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def since_last(self) -> list[float]:
        """Claim times logged since the previous call (complete lines only)."""
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            chunk = f.read()
        end = chunk.rfind(b"\n") + 1
        self.offset += end
        out = []
        for line in chunk[:end].splitlines():
            m = self.PATTERN.search(line)
            if m:
                out.append(float(m.group(1)))
        return out


def claim_summary(times: list[float]) -> dict[str, Any]:
    if not times:
        return {"worker_claims": 0, "worker_claim_ms_median": None, "worker_claim_ms_p90": None}
    ordered = sorted(times)
    return {
        "worker_claims": len(times),
        "worker_claim_ms_median": round(statistics.median(ordered), 2),
        "worker_claim_ms_p90": round(ordered[int(0.9 * (len(ordered) - 1))], 2),
    }


# ---------------------------------------------------------------- the database side


class Probe:
    """Counts and the claim's queries, straight from the database."""

    def __init__(self, url: str, hooks: dict[str, uuid.UUID]) -> None:
        from floorsync.db.engine import make_engine
        from floorsync.webhooks.worker import ORDERED_QUEUE_WALK

        self.ordered_walk = ORDERED_QUEUE_WALK  # the worker's claim plans its queries so
        self.engine = make_engine(url)
        self.hooks = hooks
        self.pg = url.startswith("postgresql")
        self.heavy_plans: list[dict[str, Any]] = []

    def counts(self) -> dict[str, Any]:
        from sqlalchemy import text

        with self.engine.connect() as c:
            events = c.execute(text("SELECT count(*) FROM events")).scalar_one()
            rows = c.execute(
                text(
                    "SELECT webhook_id, status, count(*) FROM webhook_deliveries "
                    "GROUP BY webhook_id, status"
                )
            ).all()
        out: dict[str, Any] = {"events": int(events)}
        by_id = {v: k for k, v in self.hooks.items()}
        for name in self.hooks:
            out[name] = {"succeeded": 0, "pending": 0, "failed": 0}
        for webhook_id, status, n in rows:
            key = by_id.get(uuid.UUID(str(webhook_id)))
            if key is not None:
                out[key][str(status)] = int(n)
        return out

    PICK = (
        "SELECT w.id FROM webhooks AS w WHERE w.active AND (w.lease_until IS NULL OR "
        "w.lease_until < :now) AND (w.paused_until IS NULL OR w.paused_until <= :now) AND "
        "(SELECT d.id FROM webhook_deliveries AS d WHERE d.webhook_id = w.id AND "
        "d.status = 'pending' AND d.next_attempt_at <= :now ORDER BY d.seq LIMIT 1) IS NOT NULL "
        "ORDER BY w.lease_until NULLS FIRST LIMIT 1"
    )
    BATCH = (
        "SELECT d.id, e.data FROM (SELECT id, seq, event_id FROM webhook_deliveries WHERE "
        "webhook_id = :w AND status = 'pending' AND next_attempt_at <= :now ORDER BY seq "
        "LIMIT 64) AS d JOIN events AS e ON e.id = d.event_id ORDER BY d.seq"
    )

    def claim_ms(self) -> float:
        """The claim's two queries (the endpoint with due work, then its batch), median of 5."""
        from sqlalchemy import text

        times = []
        for _ in range(5):
            now_param = self._now()
            began = time.perf_counter()
            with self.engine.connect() as c:
                if self.pg:
                    c.execute(text(self.ordered_walk))
                c.execute(text(self.PICK), {"now": now_param}).all()
                w = self.hooks["healthy"]
                c.execute(text(self.BATCH), {"w": w if self.pg else w.hex, "now": now_param}).all()
            times.append((time.perf_counter() - began) * 1000)
        return statistics.median(times)

    def _now(self) -> Any:
        now = datetime.now(UTC)
        return now if self.pg else now.strftime("%Y-%m-%d %H:%M:%S.%f")

    def claim_work(self) -> int:
        """What the claim's two queries read, independent of the clock and of the machine's
        load: on PostgreSQL the shared buffers (hit + read) of EXPLAIN (ANALYZE, BUFFERS), on
        SQLite the virtual-machine instructions they take."""
        w = self.hooks["healthy"]
        queries = [(self.PICK, {"now": self._now()})]
        queries.append((self.BATCH, {"w": w if self.pg else w.hex, "now": self._now()}))
        total = 0
        with self.engine.connect() as c:
            raw = c.connection.driver_connection
            if self.pg:
                from sqlalchemy import text

                c.execute(text(self.ordered_walk))
                for sql, params in queries:
                    plan = c.execute(
                        text("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql), params
                    ).scalar_one()
                    plan = plan if isinstance(plan, list) else json.loads(plan)
                    top = plan[0]["Plan"]
                    work = int(top.get("Shared Hit Blocks", 0)) + int(
                        top.get("Shared Read Blocks", 0)
                    )
                    if work >= HEAVY_CLAIM_BUFFERS:  # keep the plan that read so much
                        self.heavy_plans.append({"buffers": work, "sql": sql, "plan": plan})
                    total += work
                return total
            steps = [0]

            def tick() -> int:
                steps[0] += 1
                return 0

            raw.set_progress_handler(tick, 1)  # type: ignore[union-attr]
            try:
                for sql, params in queries:
                    raw.execute(  # type: ignore[union-attr]
                        sql, params
                    ).fetchall()
            finally:
                raw.set_progress_handler(None, 1)  # type: ignore[union-attr]
            return steps[0]

    def echo_deliveries_from_syncs(self) -> int:
        """Deliveries for the echo-suppressed endpoint of events the ERP's syncs made."""
        from sqlalchemy import text

        w = self.hooks["erp"]
        channel = (
            "e.data->'origin'->>'channel'"
            if self.pg
            else "json_extract(e.data, '$.origin.channel')"
        )
        with self.engine.connect() as c:
            return int(
                c.execute(
                    text(
                        "SELECT count(*) FROM webhook_deliveries AS d JOIN events AS e ON "
                        f"e.id = d.event_id WHERE d.webhook_id = :w AND {channel} = 'sync'"
                    ),
                    {"w": w if self.pg else w.hex},
                ).scalar_one()
            )

    def event_ids(self) -> set[str]:
        from sqlalchemy import text

        with self.engine.connect() as c:
            return {
                "evt_" + uuid.UUID(str(i)).hex
                for (i,) in c.execute(text("SELECT id FROM events")).all()
            }

    def shop_floor_event_ids(self) -> set[str]:
        from sqlalchemy import text

        channel = (
            "data->'origin'->>'channel'" if self.pg else "json_extract(data, '$.origin.channel')"
        )
        with self.engine.connect() as c:
            return {
                "evt_" + uuid.UUID(str(i)).hex
                for (i,) in c.execute(
                    text(f"SELECT id FROM events WHERE {channel} <> 'sync'")
                ).all()
            }


# ---------------------------------------------------------------- load


class Load:
    def __init__(self, base: str, key: str, rate: int, terminals: int) -> None:
        self.base, self.key, self.rate, self.terminals = base, key, rate, terminals
        self.stop = threading.Event()
        self.jobs: list[str] = []
        self.lock = threading.Lock()
        self.errors = 0
        self.synced = 0
        self.lifecycle = 0

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base, headers={"Authorization": f"Bearer {self.key}"}, timeout=60
        )

    def shop_floor_share(self) -> int:
        return max(1, self.rate - int(self.rate * 0.8))

    def bulk(self) -> None:
        n = 0
        made_before = 0
        with self.client() as c:
            while not self.stop.is_set():
                began = time.monotonic()
                with self.lock:
                    made = self.lifecycle
                # what the terminals did not make of their share last second, the bulk makes
                shortfall = max(0, self.shop_floor_share() - (made - made_before))
                made_before = made
                per_second = max(1, int(self.rate * 0.8)) + shortfall
                items = []
                for _ in range(per_second):
                    items.append(
                        {
                            "external_id": f"SO-{n:08d}",
                            "external_source": "SAP",
                            "job_number": f"J-{n:08d}",
                            "customer_name": f"Customer {n % 97}",
                        }
                    )
                    n += 1
                # 1000 top-level items per request at most
                for start in range(0, len(items), 1000):
                    resp = c.post(
                        "/api-jobs/bulk-sync", json={"items": items[start : start + 1000]}
                    )
                    if resp.status_code != 200:
                        self.errors += 1
                        continue
                    ids = [r["id"] for r in resp.json()["data"]["records"] if r.get("id")]
                    with self.lock:
                        self.jobs.extend(ids)
                    self.synced += len(ids)
                self.stop.wait(max(0.0, 1.0 - (time.monotonic() - began)))

    def shop_floor(self, share: int) -> None:
        """One terminal's lifecycle calls: `share` per second, one request at a time."""
        with self.client() as c:
            while not self.stop.is_set():
                began = time.monotonic()
                for _ in range(share):
                    with self.lock:
                        job = self.jobs.pop(0) if self.jobs else None
                    if job is None or self.stop.is_set():
                        break
                    resp = c.post("/api-job-lifecycle/start", params={"id": job})
                    with self.lock:
                        if resp.status_code == 200:
                            self.lifecycle += 1
                        else:
                            self.errors += 1
                self.stop.wait(max(0.0, 1.0 - (time.monotonic() - began)))

    def threads(self) -> list[threading.Thread]:
        """The bulk sync, and the shop floor's calls spread over `terminals` client threads (a
        plant's terminals call at once; one thread alone is capped by its round trip)."""
        calls = self.shop_floor_share()
        shares = [
            calls // self.terminals + (i < calls % self.terminals) for i in range(self.terminals)
        ]
        out = [threading.Thread(target=self.bulk, daemon=True)]
        out += [
            threading.Thread(target=self.shop_floor, args=(n,), daemon=True) for n in shares if n
        ]
        return out


# ---------------------------------------------------------------- the run


def received_ids(port: int) -> dict[str, list[str]]:
    return dict(httpx.get(f"http://127.0.0.1:{port}/ids", timeout=60).json())


def wait_for_api(base: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(base + "/api-jobs", timeout=2).status_code in (200, 401):
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the API did not start")
        time.sleep(0.2)


def latency_check(db: str, events: int, latency_ms: float, workers: int) -> dict[str, Any]:
    """`--latency-check N`: the 50 ms receiver alone, with the default max_in_flight. N events
    are committed (SAP bulk syncs) before any worker runs, then the worker(s) start and the
    rate is the N deliveries over the time from the first to the last one: what one endpoint
    gets from one worker process when nothing else competes inside floorsync."""
    from floorsync.db.migrate import upgrade

    procs: list[subprocess.Popen[bytes]] = []
    logs = tempfile.TemporaryDirectory(prefix="floorsync-soak-")
    out: dict[str, Any] = {"db": db, "events": events, "latency_ms": latency_ms}
    with fresh_database(db) as url:
        try:
            upgrade(url)
            _tenant_id, key = make_tenant(url, "soak")
            rx, port = start_receiver(latency_ms=latency_ms)
            procs.append(rx)
            api_port = free_port()
            api = subprocess.Popen(
                [str(FLOORSYNC), "serve", "--no-worker", "--port", str(api_port)],
                env=env_for(url),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=logs.name,
            )
            procs.append(api)
            base = f"http://127.0.0.1:{api_port}"
            wait_for_api(base)
            with httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=120
            ) as c:
                resp = c.post(
                    "/api-webhooks",
                    json={"url": f"http://127.0.0.1:{port}/slow", "events": ["job.*"]},
                )
                resp.raise_for_status()
                hook = resp.json()["data"]["webhook"]
                out["max_in_flight"] = hook["max_in_flight"]
                for start in range(0, events, 1000):
                    items = [
                        {
                            "external_id": f"SO-{n:08d}",
                            "external_source": "SAP",
                            "job_number": f"J-{n:08d}",
                        }
                        for n in range(start, min(events, start + 1000))
                    ]
                    c.post("/api-jobs/bulk-sync", json={"items": items}).raise_for_status()
            probe = Probe(url, {"slow": uuid.UUID(hook["id"])})
            for _ in range(workers):
                w = subprocess.Popen(
                    [str(FLOORSYNC), "worker"],
                    env=env_for(url),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    cwd=logs.name,
                )
                procs.append(w)
            first: float | None = None
            first_done = 0
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                counts = probe.counts()["slow"]
                now = time.monotonic()
                if first is None and counts["succeeded"] > 0:
                    first, first_done = now, counts["succeeded"]
                if counts["pending"] == 0:
                    break
                time.sleep(0.25)
            end = time.monotonic()
            done = probe.counts()["slow"]["succeeded"]
            if first is not None and end > first:
                out["per_s"] = round((done - first_done) / (end - first), 1)
            out["delivered"] = done
            out["worker_cpu_s"] = round(sum(cpu_seconds(p.pid) for p in procs[2:]), 1)
            out["load_average"] = os.getloadavg()
            probe.engine.dispose()
        finally:
            for p in reversed(procs):
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
    logs.cleanup()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--rate", type=int, default=500, help="events per second to aim for")
    parser.add_argument(
        "--terminals",
        type=int,
        default=4,
        help="client threads making the shop floor's lifecycle calls (4)",
    )
    parser.add_argument("--fail-fraction", type=float, default=0.2)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--drain-seconds", type=float, default=300.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes (PostgreSQL: any number)"
    )
    parser.add_argument(
        "--latency-check",
        type=int,
        metavar="N",
        help="instead of the soak: N events to the --latency-ms receiver alone (its rate)",
    )
    parser.add_argument("--receiver", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receiver:
        serve_receiver(args.receiver, args.fail_fraction, args.latency_ms)
        return
    if args.latency_check:
        result = latency_check(args.db, args.latency_check, args.latency_ms, args.workers)
        print(json.dumps(result))
        return

    from floorsync.db.migrate import upgrade

    procs: list[subprocess.Popen[bytes]] = []
    logs = tempfile.TemporaryDirectory(prefix="floorsync-soak-")
    report: dict[str, Any] = {
        "db": args.db,
        "minutes": args.minutes,
        "rate": args.rate,
        "workers": args.workers,
        "terminals": args.terminals,
    }
    with fresh_database(args.db) as url:
        try:
            upgrade(url)
            _tenant_id, key = make_tenant(url, "soak")
            if args.db == "postgres":
                report["checkpoint_before_load"] = checkpoint(url)
            healthy_rx, healthy_port = start_receiver()
            flaky_rx, flaky_port = start_receiver(fail_fraction=args.fail_fraction)
            slow_rx, slow_port = start_receiver(latency_ms=args.latency_ms)
            procs += [healthy_rx, flaky_rx, slow_rx]
            api_port = free_port()
            api_log = open(Path(logs.name) / "api.log", "wb")  # noqa: SIM115
            worker_log_path = Path(logs.name) / "worker.log"
            worker_log = open(worker_log_path, "wb")  # noqa: SIM115
            api = subprocess.Popen(
                [str(FLOORSYNC), "serve", "--no-worker", "--port", str(api_port)],
                env=env_for(url),
                stdout=api_log,
                stderr=subprocess.STDOUT,
                cwd=logs.name,
            )
            procs.append(api)
            base = f"http://127.0.0.1:{api_port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(base + "/api-jobs", timeout=2).status_code in (200, 401):
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("the API did not start")
                time.sleep(0.2)
            hooks: dict[str, uuid.UUID] = {}
            with httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30
            ) as c:
                for name, port, extra in (
                    ("healthy", healthy_port, {}),
                    ("flaky", flaky_port, {}),
                    ("slow", slow_port, {}),
                    ("erp", healthy_port, {"exclude_sources": ["SAP"]}),
                ):
                    resp = c.post(
                        "/api-webhooks",
                        json={"url": f"http://127.0.0.1:{port}/{name}", "events": ["*"], **extra},
                    )
                    resp.raise_for_status()
                    hooks[name] = uuid.UUID(resp.json()["data"]["webhook"]["id"])
            workers = [
                subprocess.Popen(
                    [str(FLOORSYNC), "worker"],
                    env=env_for(url),
                    stdout=worker_log,
                    stderr=subprocess.STDOUT,
                    cwd=logs.name,
                )
                for _ in range(args.workers)
            ]
            procs += workers

            def worker_cpu() -> float:
                return sum(cpu_seconds(w.pid) for w in workers)

            probe = Probe(url, hooks)
            claim_times = ClaimTimes(worker_log_path)
            load = Load(base, key, args.rate, args.terminals)
            threads = load.threads()
            for t in threads:
                t.start()
            minutes: list[dict[str, Any]] = []
            started = time.monotonic()
            last = probe.counts()
            claim_times.since_last()  # the claims before the load began are not part of it
            last_at = started
            last_cpu = (cpu_seconds(api.pid), worker_cpu())
            last_load = (0, 0)
            end_at = started + args.minutes * 60
            while time.monotonic() < end_at:
                time.sleep(max(0.0, min(60.0, end_at - time.monotonic())))
                now_counts, now = probe.counts(), time.monotonic()
                span = now - last_at
                row: dict[str, Any] = {
                    "minute": round((now - started) / 60, 2),
                    "ingest_per_s": round((now_counts["events"] - last["events"]) / span, 1),
                    # the load's mix: records the bulk syncs made, the terminals' lifecycle calls
                    "synced_per_s": round((load.synced - last_load[0]) / span, 1),
                    "lifecycle_per_s": round((load.lifecycle - last_load[1]) / span, 1),
                    "rss_api_mb": round(rss_mb(api.pid), 1),
                    "rss_worker_mb": round(sum(rss_mb(w.pid) for w in workers), 1),
                    # share of one CPU each process got this minute, and the machine's load:
                    # on a shared machine these say whether a rate was CPU-starved
                    "cpu_api": round((cpu_seconds(api.pid) - last_cpu[0]) / span, 2),
                    "cpu_worker": round((worker_cpu() - last_cpu[1]) / span, 2),
                    "load_1m": round(os.getloadavg()[0], 1),
                    "claim_ms": round(probe.claim_ms(), 2),
                    "claim_work": probe.claim_work(),
                    **claim_summary(claim_times.since_last()),
                }
                for name in ENDPOINTS:
                    done = now_counts[name]["succeeded"] - last[name]["succeeded"]
                    row[f"{name}_per_s"] = round(done / span, 1)
                    row[f"{name}_backlog"] = now_counts[name]["pending"]
                minutes.append(row)
                print(json.dumps(row), flush=True)
                last, last_at = now_counts, now
                last_cpu = (cpu_seconds(api.pid), worker_cpu())
                last_load = (load.synced, load.lifecycle)
            load.stop.set()
            for t in threads:
                t.join(120)
            stopped = time.monotonic()
            at_stop = probe.counts()
            drained: dict[str, float | None] = dict.fromkeys(ENDPOINTS)
            # deliveries per second while the endpoint worked off its backlog, load stopped
            drain_rate: dict[str, float | None] = dict.fromkeys(ENDPOINTS)
            while time.monotonic() - stopped < args.drain_seconds and any(
                v is None for v in drained.values()
            ):
                counts = probe.counts()
                for name in ENDPOINTS:
                    if drained[name] is None and counts[name]["pending"] == 0:
                        took = time.monotonic() - stopped
                        drained[name] = round(took, 1)
                        done = counts[name]["succeeded"] - at_stop[name]["succeeded"]
                        drain_rate[name] = round(done / took, 1) if took >= 1 else None
                time.sleep(1)
            final = probe.counts()
            everything = probe.event_ids()
            shop_floor = probe.shop_floor_event_ids()
            got_healthy = received_ids(healthy_port)
            got = {
                "healthy": got_healthy.get("/healthy", []),
                "flaky": received_ids(flaky_port).get("/flaky", []),
                "slow": received_ids(slow_port).get("/slow", []),
                "erp": got_healthy.get("/erp", []),
            }
            verify: dict[str, Any] = {}
            for name in ENDPOINTS:
                expected = shop_floor if name == "erp" else everything
                ids = got[name]
                missing = len(expected - set(ids))
                pending = final[name]["pending"]
                verify[name] = {
                    "expected": len(expected),
                    "received_unique": len(set(ids)),
                    # not received, no delivery of it still waiting (when the drain window ended
                    # before the backlog did, `still_pending` says how much was left) and none
                    # recorded as failed: gone without a trace
                    "lost": max(0, missing - pending - final[name]["failed"]),
                    # not received because every attempt failed: recorded as failed
                    # (exhausted), visible in the log and sent again by /recover
                    "exhausted": min(missing, final[name]["failed"]),
                    "still_pending": pending,
                    "duplicates": len(ids) - len(set(ids)),
                    "failed_deliveries": final[name]["failed"],
                    "drained_after_s": drained[name],
                    "backlog_at_stop": at_stop[name]["pending"],
                    "drain_per_s": drain_rate[name],
                }
            load_seconds = stopped - started
            report.update(
                {
                    "events": final["events"],
                    "synced_records": load.synced,
                    "lifecycle_calls": load.lifecycle,
                    "client_errors": load.errors,
                    "ingest_per_s": round(final["events"] / load_seconds, 1),
                    "per_minute": minutes,
                    "verification": verify,
                    "echo_deliveries_from_own_syncs": probe.echo_deliveries_from_syncs(),
                    "heavy_claim_plans": probe.heavy_plans,
                    "worker_log_bytes": worker_log_path.stat().st_size,
                    # the worker's cost: deliveries (all endpoints) per CPU second it used
                    "worker_cpu_s": round(worker_cpu(), 1),
                    "deliveries_per_worker_cpu_s": round(
                        sum(final[n]["succeeded"] for n in ENDPOINTS) / max(worker_cpu(), 0.1), 1
                    ),
                    "load_average": os.getloadavg(),
                }
            )
            if minutes:
                steady = minutes[1:] or minutes
                for name in ENDPOINTS:
                    report[f"{name}_per_s_mean"] = round(
                        statistics.mean(m[f"{name}_per_s"] for m in steady), 1
                    )
                for k in (
                    "rss_api_mb",
                    "rss_worker_mb",
                    "claim_ms",
                    "claim_work",
                    "worker_claim_ms_median",
                    "worker_claim_ms_p90",
                ):
                    report[f"{k}_first_last"] = [steady[0][k], steady[-1][k]]
            probe.engine.dispose()
        finally:
            for p in reversed(procs):
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
    logs.cleanup()
    if args.json:
        print(json.dumps(report))
    else:
        print(json.dumps({k: v for k, v in report.items() if k != "per_minute"}, indent=2))


if __name__ == "__main__":
    main()
