"""Webhook delivery benchmark: N events committed through the outbox (entity creates, the real
write path), delivered by an in-process worker (as `floorsync serve` runs it, default settings)
to a local receiver on 127.0.0.1.

    .venv/bin/python bench/webhooks.py --db sqlite [--json]
    .venv/bin/python bench/webhooks.py --db postgres [--json]   # FLOORSYNC_BENCH_DATABASE_URL or a
                                                                 # fresh database on 127.0.0.1:5432

Two phases on one endpoint: throughput (N events queued with no worker running, then drained:
deliveries per second), and latency (N events committed at a steady --rate while the worker runs:
receiver arrival minus the envelope's `timestamp`, which is stamped just before COMMIT, p50/p95).
With --json the last line is {"deliveries_per_s", "latency_p50_ms", "latency_p95_ms", …}.

`--worker process` (the default) runs the worker as its own `floorsync worker` process, as
`make run` and a production deployment do; `--worker thread` runs it inside the producing
process, as `floorsync serve` without `--no-worker` does. `--busy N` keeps N extra processes
spinning on the CPU during both phases (a busy machine). Measured on SQLite with 200 events/s
committed: with the worker in the producing process, API, worker and receiver share one
interpreter lock, and under CPU starvation the first attempt came 1–31 s after the commit; in a
process of its own the worker keeps up (README, Webhook benchmark).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.webhook_receiver import Received, WebhookReceiver

from floorsync.auth.tenants import create_tenant
from floorsync.bootstrap import build_services
from floorsync.config import Settings
from floorsync.db.migrate import upgrade
from floorsync.db.repository import TenantScope
from floorsync.db.uow import unit_of_work
from floorsync.entities import service as entity_service
from floorsync.entities.cells import CELLS
from floorsync.webhooks import service as webhook_service
from floorsync.webhooks.schemas import parse_webhook_body
from floorsync.worker.runner import WorkerRunner


def database(kind: str) -> tuple[str, object]:
    if kind == "sqlite":
        tmp = tempfile.TemporaryDirectory()
        return f"sqlite:///{tmp.name}/bench.db", tmp
    url = os.environ.get("FLOORSYNC_BENCH_DATABASE_URL")
    if url:
        return url, None
    name = f"floorsync_bench_{os.getpid()}"
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f'CREATE DATABASE "{name}"'],
        check=True,
    )

    class Drop:
        def cleanup(self) -> None:
            subprocess.run(
                [
                    "psql",
                    "-h",
                    "127.0.0.1",
                    "-U",
                    "postgres",
                    "-qc",
                    f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                ],
                check=False,
            )

    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", Drop()


def produce(
    services: object, scope: TenantScope, n: int, per_txn: int, rate: float, tag: str
) -> float:
    """Commit n cell creates (per_txn per transaction), paced at `rate` events/s (0: flat out)."""
    started, i = time.time(), 0
    while i < n:
        with unit_of_work(services.sessions, services.outbox, scope) as work:  # type: ignore[attr-defined]
            for _ in range(min(per_txn, n - i)):
                entity_service.create(work, CELLS, {"name": f"{tag}{i}"})
                i += 1
        if rate > 0:
            ahead = started + i / rate - time.time()
            if ahead > 0:
                time.sleep(ahead)
    return time.time() - started


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class WorkerProcess:
    """`floorsync worker` in a process of its own on the same database."""

    def __init__(self, url: str) -> None:
        env = {
            **os.environ,
            "FLOORSYNC_DATABASE_URL": url,
            "FLOORSYNC_ENVIRONMENT": "test",
            "FLOORSYNC_WEBHOOK_ALLOW_PRIVATE": "true",
            "FLOORSYNC_LOG_LEVEL": "warning",
        }
        self.proc = subprocess.Popen([sys.executable, "-m", "floorsync", "worker"], env=env)

    def start(self) -> None:
        pass  # started by the constructor

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def make_worker(mode: str, services: object, url: str) -> object:
    if mode == "process":
        return WorkerProcess(url)
    return WorkerRunner(services)  # type: ignore[arg-type]


def spinners(n: int) -> list[subprocess.Popen[bytes]]:
    """n processes that keep a CPU busy until killed."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def first_attempts(reqs: list[Received]) -> tuple[dict[str, float], dict[str, float]]:
    seen: dict[str, float] = {}
    stamps: dict[str, float] = {}
    for r in reqs:
        if r.webhook_id not in seen:
            seen[r.webhook_id] = r.at
            stamps[r.webhook_id] = datetime.fromisoformat(
                r.json()["timestamp"].replace("Z", "+00:00")
            ).timestamp()
    return seen, stamps


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--per-txn", type=int, default=10, help="events per committed transaction")
    ap.add_argument(
        "--rate", type=float, default=200.0, help="events per second in the latency phase"
    )
    ap.add_argument("--worker", choices=("process", "thread"), default="process")
    ap.add_argument("--busy", type=int, default=0, help="extra CPU-bound processes meanwhile")
    ap.add_argument("--json", action="store_true")
    ap.add_argument(
        "--max-in-flight", type=int, help="the endpoint's max_in_flight (default: the API's)"
    )
    ap.add_argument(
        "--drain-only", action="store_true", help="only the throughput phase (no latency phase)"
    )
    args = ap.parse_args()
    n = args.events

    url, holder = database(args.db)
    try:
        upgrade(url)
        settings = Settings(
            database_url=url, environment="test", webhook_allow_private=True, _env_file=None
        )  # type: ignore[call-arg]
        services = build_services(settings)
        with services.sessions.begin() as s:
            scope = TenantScope(
                create_tenant(s, f"bench-{uuid.uuid4().hex[:6]}", services.clock.now()).id
            )
        with WebhookReceiver() as rx:
            kit = services.webhooks
            body: dict[str, object] = {"url": rx.url, "events": ["*"]}
            if args.max_in_flight is not None:
                body["max_in_flight"] = args.max_in_flight
            data = parse_webhook_body(body, kit.resolver, allow_private=True, creating=True)
            with unit_of_work(services.sessions, services.outbox, scope) as work:
                webhook_service.create_webhook(work, kit, data)

            busy = spinners(args.busy)
            try:
                # Throughput: n events queued while no worker runs, then drained by one worker.
                produce(services, scope, n, 50, 0, "burst")
                t0, bench_cpu0 = time.time(), time.process_time()
                runner = make_worker(args.worker, services, url)
                runner.start()  # type: ignore[attr-defined]
                rx.wait_for(n, timeout=900)
                drain_s = time.time() - t0
                # CPU seconds (user + system) of the drain: the worker process (start-up
                # included) and this process, which is the receiver while nothing is produced.
                # On a shared machine these say more than the rate.
                worker_cpu = (
                    cpu_seconds(runner.proc.pid) if isinstance(runner, WorkerProcess) else None
                )
                bench_cpu = time.process_time() - bench_cpu0
                runner.stop()  # type: ignore[attr-defined]
                burst = rx.requests[:]
                rx.clear()

                # Latency: n events committed at a steady rate while the worker runs.
                if not args.drain_only:
                    runner = make_worker(args.worker, services, url)
                    runner.start()  # type: ignore[attr-defined]
                    if args.worker == "process":
                        time.sleep(2)  # its start-up (imports, first poll) isn't delivery latency
                    produce(services, scope, n, args.per_txn, args.rate, "steady")
                    rx.wait_for(n, timeout=900)
                    runner.stop()  # type: ignore[attr-defined]
                steady = rx.requests[:]
            finally:
                for proc in busy:
                    proc.kill()
        seen, stamps = first_attempts(steady)
        latencies = sorted((seen[k] - stamps[k]) * 1000 for k in seen)

        def latency(at: float) -> float | None:  # None with --drain-only
            return round(latencies[int(at * (len(latencies) - 1))], 1) if latencies else None

        result = {
            "db": args.db,
            "events": n,
            "deliveries_per_s": round(len(first_attempts(burst)[0]) / drain_s, 1),
            "latency_p50_ms": round(statistics.median(latencies), 1) if latencies else None,
            "latency_p95_ms": latency(0.95),
            "latency_max_ms": latency(1.0),
            "latency_rate_events_per_s": 0 if args.drain_only else args.rate,
            "per_txn": args.per_txn,
            "duplicates": len(burst) + len(steady) - len(first_attempts(burst)[0]) - len(seen),
            "drain_s": round(drain_s, 2),
            "drain_worker_cpu_s": None if worker_cpu is None else round(worker_cpu, 2),
            "drain_receiver_cpu_s": round(bench_cpu, 2),
            "deliveries_per_worker_cpu_s": None
            if not worker_cpu
            else round(len(first_attempts(burst)[0]) / worker_cpu, 1),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "max_in_flight": args.max_in_flight,
            "worker": args.worker,
            "busy_processes": args.busy,
        }
        bind = services.sessions.kw.get("bind")
        if bind is not None:
            bind.dispose()
    finally:
        if holder is not None:
            holder.cleanup()  # type: ignore[attr-defined]
    line = (
        f"{result['db']}: drained {n} queued events at {result['deliveries_per_s']} deliveries/s "
        f"({result['deliveries_per_worker_cpu_s']} per worker CPU second)"
    )
    if not args.drain_only:
        line += (
            f"; {n} events at {args.rate:g}/s: commit-to-first-attempt p50 "
            f"{result['latency_p50_ms']} ms, p95 {result['latency_p95_ms']} ms "
            f"(max {result['latency_max_ms']} ms)"
        )
    print(line)
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()
