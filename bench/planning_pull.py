"""Planning pull benchmark (issue 13, spec §10.6): the whole pull cycle — adapter over HTTP,
mapping, the sync service writing to the database, run records, cursor — and the push queue,
against the fake FrePPLe or Odoo server on 127.0.0.1 (in a process of its own, as a real planning
server would not share floorsync's CPU).

The fake holds N work orders (default 10,000) of 5 job orders each and 50 work centres; their
modification times are spread one minute apart, as on a real server, so the pull cursor's
overlap re-reads only the last few minutes. Measured:

* `full_pull_seconds`         the first pull (reconcile): everything created;
* `repeat_pull_seconds`       a second full pull with every record unchanged (all skipped, no
                              row writes, no events);
* `incremental_pull_seconds`  an incremental pull after 1 % of the orders changed upstream;
* `pushes_per_s`              1,000 start pushes executed by the push queue (FrePPLe: a read and
                              a PATCH each; Odoo: five calls each), with their records.

Targets of issue 13 on the 2-core machine: full < 20 s, repeat < 10 s, incremental < 2 s,
pushes ≥ 50/s.

    .venv/bin/python bench/planning_pull.py --system frepple --db sqlite --json
    FLOORSYNC_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/fs_bench \\
        .venv/bin/python bench/planning_pull.py --system odoo --db postgres
"""

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from multiprocessing import Pipe, Process
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.planning.fakes.frepple import FakeFrepple, seed_orders, wall
from tests.planning.fakes.odoo import FakeOdoo, seed_productions

from floorsync.auth.tenants import create_tenant
from floorsync.bootstrap import build_services
from floorsync.config import Settings
from floorsync.db.migrate import upgrade
from floorsync.db.repository import TenantScope
from floorsync.kit.gc_tuning import tune_gc
from floorsync.kit.ids import new_id
from floorsync.models.enums import DeliveryStatus, PlanningPushKind, PlanningTrigger
from floorsync.models.planning import PlanningPush
from floorsync.planning.connections import create_connection
from floorsync.planning.pushes import push_due
from floorsync.planning.service import pull
from floorsync.planning.tasks import planning_deps

SPREAD = timedelta(minutes=1)


def _serve(system: str, version: int, orders: int, conn: Connection) -> None:
    """The fake server in its own process. Answers `change N` (N orders modified now) and
    `stop`."""
    if system == "frepple":
        fake: Any = FakeFrepple()
        seed_orders(fake.data, orders, steps=5, work_centres=50)
        ids = list(fake.data.mos)
        base = datetime(2026, 5, 1, 0, 0)  # noqa: DTZ001 (the server's wall clock)
        for n, ref in enumerate(ids):
            stamp = wall(base + SPREAD * n)
            fake.data.mos[ref]["lastmodified"] = stamp
            for child in fake.data.children("workorder", ref):
                child["lastmodified"] = stamp
        fake.now = base + SPREAD * (orders + 60)
        secret = "s3cret-Pässword"
    else:
        fake = FakeOdoo(version)
        ids = [str(i) for i in seed_productions(fake, orders, steps=5, work_centres=50)]
        base = datetime(2026, 5, 1, 0, 0, tzinfo=UTC)
        stamps = {}
        for n, mo in enumerate(ids):
            stamps[int(mo)] = (base + SPREAD * n).strftime("%Y-%m-%d %H:%M:%S")
            fake.tables["mrp.production"][int(mo)]["write_date"] = stamps[int(mo)]
        for wo in fake.tables["mrp.workorder"].values():
            wo["write_date"] = stamps[wo["production_id"][0]]
        fake.now = base + SPREAD * (orders + 60)
        secret = fake.add_api_key() if version >= 19 else "Odoo-pa55word!"
    conn.send((fake.base_url, secret, ids))
    while True:
        command, count = conn.recv()
        if command == "stop":
            fake.stop()
            return
        picked = ids[:: max(1, len(ids) // count)][:count]
        with fake.lock:
            if system == "frepple":
                for ref in picked:
                    order = fake.data.mos[ref]
                    order["quantity"] = f"{float(order['quantity']) + 1:.8f}"
                    order["lastmodified"] = wall(fake.now)
            else:
                for mo in picked:
                    order = fake.tables["mrp.production"][int(mo)]
                    order["product_qty"] = order["product_qty"] + 1
                    order["write_date"] = fake.now.strftime("%Y-%m-%d %H:%M:%S")
        conn.send(len(picked))


def database_url(kind: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp(prefix='fs-bench-')}/floorsync.db"
    url = os.environ.get("FLOORSYNC_BENCH_DATABASE_URL")
    if not url:
        raise SystemExit("--db postgres needs FLOORSYNC_BENCH_DATABASE_URL")
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--system", choices=("frepple", "odoo"), default="frepple")
    parser.add_argument("--odoo-version", type=int, choices=(16, 17, 18, 19), default=17)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--pushes", type=int, default=1_000)
    parser.add_argument("--json", action="store_true", help="print one JSON object only")
    parser.add_argument(
        "--default-gc",
        action="store_true",
        help="keep CPython's collector thresholds instead of floorsync's (kit/gc_tuning.py)",
    )
    args = parser.parse_args()
    if not args.default_gc:
        tune_gc()  # the pull runs in this process, as it runs in `floorsync worker`, which tunes

    url = database_url(args.db)
    upgrade(url)
    services = build_services(Settings(database_url=url, environment="test"))
    deps = planning_deps(services)
    ours, theirs = Pipe()
    server = Process(target=_serve, args=(args.system, args.odoo_version, args.orders, theirs))
    server.start()
    try:
        base_url, secret, order_ids = ours.recv()
        with services.sessions.begin() as s:
            scope = TenantScope(
                create_tenant(s, f"bench-{uuid.uuid4().hex[:8]}", services.clock.now()).id
            )
            settings: dict[str, Any] = (
                {"time_zone": "Europe/Amsterdam"}
                if args.system == "frepple"
                else {"database": "plant"}
            )
            row = create_connection(
                s,
                scope,
                services.secretbox,
                services.clock.now(),
                system=args.system,
                base_url=base_url,
                auth_method="api_key"
                if args.system == "odoo" and args.odoo_version >= 19
                else "basic",
                username="planner" if args.system == "frepple" else "integration",
                credential=secret,
                settings=settings,
            )
            row.push_enabled = True
            cid = row.id

        cpu: dict[str, float] = {}
        started, c0 = time.perf_counter(), time.process_time()
        first = pull(deps, scope, cid, trigger=PlanningTrigger.cli)
        full = time.perf_counter() - started
        cpu["full"] = time.process_time() - c0

        started, c0 = time.perf_counter(), time.process_time()
        repeat = pull(deps, scope, cid, trigger=PlanningTrigger.cli, full=True)
        repeat_seconds = time.perf_counter() - started
        cpu["repeat"] = time.process_time() - c0

        ours.send(("change", max(1, args.orders // 100)))
        changed = ours.recv()
        started, c0 = time.perf_counter(), time.process_time()
        incremental = pull(deps, scope, cid, trigger=PlanningTrigger.cli)
        incremental_seconds = time.perf_counter() - started
        cpu["incremental"] = time.process_time() - c0

        pushes = min(args.pushes, len(order_ids))
        now = services.clock.now()
        with services.sessions.begin() as s:
            for n, order in enumerate(order_ids[:pushes]):
                s.add(
                    PlanningPush(
                        id=new_id(),
                        tenant_id=scope.tenant_id,
                        connection_id=cid,
                        event_id=new_id(),
                        seq=n + 1,
                        kind=PlanningPushKind.order_start,
                        order_external_id=order,
                        payload={"started_at": "2026-06-01T05:30:00.000Z"},
                        status=DeliveryStatus.pending,
                        attempts=0,
                        window_started_at=now,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
        started, c0 = time.perf_counter(), time.process_time()
        outcomes = push_due(
            deps,
            "bench",
            timedelta(minutes=30),
            services.webhooks.config.schedule,
            connection_id=cid,
        )
        push_seconds = time.perf_counter() - started
        cpu["pushes"] = time.process_time() - c0
    finally:
        ours.send(("stop", 0))
        server.join(30)
        services.close()

    jobs = first.counts.get("jobs", {})
    result = {
        "system": args.system if args.system == "frepple" else f"odoo{args.odoo_version}",
        "db": args.db,
        "orders": first.received,
        "jobs_created": jobs.get("created"),
        "operations_created": first.counts.get("operations", {}).get("created"),
        "cells_created": first.counts.get("cells", {}).get("created"),
        "full_pull_seconds": round(full, 2),
        "full_pull_status": first.status.value,
        "repeat_pull_seconds": round(repeat_seconds, 2),
        "repeat_pull_written": sum(
            c.get("created", 0) + c.get("updated", 0) for c in repeat.counts.values()
        ),
        "changed_orders": changed,
        "incremental_orders_received": incremental.received,
        "incremental_pull_seconds": round(incremental_seconds, 2),
        "incremental_jobs_updated": incremental.counts.get("jobs", {}).get("updated"),
        "pushes": pushes,
        "pushes_applied": outcomes.count("applied"),
        "pushes_per_s": round(pushes / push_seconds, 1) if push_seconds else None,
        # CPU seconds of floorsync's process per phase (the fake serves from its own process);
        # on a loaded machine the wall times above include waiting for a core
        **{f"{k}_cpu_seconds": round(v, 2) for k, v in cpu.items()},
        "loadavg_1m": round(os.getloadavg()[0], 1),
    }
    if not args.json:
        for key, value in result.items():
            print(f"{key:>30}: {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
