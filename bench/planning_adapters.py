"""Adapter-level planning benchmark: the share of a pull that belongs to the adapters and the fake
servers, without any database (issue 13's pull benchmark adds the sync engine on top).

Seeds the fake FrePPLe or Odoo server with N work orders of 5 job orders each and 50 work
centres (default 10,000), then measures through the real adapter over HTTP on 127.0.0.1:

The fake runs in a process of its own, as a real planning server would not share the
adapter's CPU.

* `seed_seconds`       building the fake's data;
* `full_pull_seconds`  `pull_resources()` + `pull_work_orders()` (reconcile mode), and the CPU
                       time the adapter's process spent on it (the rest is the fake serving);
* `plan_seconds`       `planning.records` turning the pull into sync-engine records;
* `incremental_pull_seconds` `pull_work_orders(since)` with 1 % of the orders changed;
* `pushes_per_s`       1,000 `push_order_start` calls (read, then write).

    .venv/bin/python bench/planning_adapters.py --system frepple --json
    .venv/bin/python bench/planning_adapters.py --system odoo --odoo-version 17 --orders 10000
"""

import argparse
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from multiprocessing import Pipe, Process
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.planning.fakes.frepple import FakeFrepple, seed_orders, wall
from tests.planning.fakes.odoo import FakeOdoo, seed_productions

from floorsync.planning.config import PlanningConnectionConfig
from floorsync.planning.factory import create_planning_adapter
from floorsync.planning.records import plan_equipment, plan_jobs, usable_cells


def _serve(system: str, version: int, orders: int, conn: Connection) -> None:
    """The fake server in its own process (its CPU does not compete with the adapter's, as a
    real planning server's would not). Answers `change N` with the `since` of an incremental pull
    that sees N changed orders, and `stop`."""
    started = time.perf_counter()
    if system == "frepple":
        fake: Any = FakeFrepple()
        seed_orders(fake.data, orders, steps=5, work_centres=50)
        order_ids = list(fake.data.mos)
        secret = "s3cret-Pässword"
    else:
        fake = FakeOdoo(version)
        order_ids = [str(i) for i in seed_productions(fake, orders, steps=5, work_centres=50)]
        secret = fake.add_api_key() if version >= 19 else "Odoo-pa55word!"
    conn.send((fake.base_url, secret, time.perf_counter() - started, order_ids))
    while True:
        command, count = conn.recv()
        if command == "stop":
            fake.stop()
            return
        picked = order_ids[:: max(1, len(order_ids) // count)][:count]
        with fake.lock:
            if system == "frepple":
                fake.now = datetime(2026, 6, 30, 12, 0)  # noqa: DTZ001 (the server's wall clock)
                for ref in picked:
                    fake.data.mos[ref]["lastmodified"] = wall(fake.now)
                conn.send(datetime(2026, 6, 30, 9, 0, tzinfo=UTC))
            else:
                fake.now += timedelta(days=30)
                for mo in picked:
                    fake.tables["mrp.production"][int(mo)]["write_date"] = fake.now.strftime(
                        "%Y-%m-%d %H:%M:%S"
                    )
                conn.send(fake.now - timedelta(minutes=5))


def connection(system: str, version: int, base_url: str, secret: str) -> PlanningConnectionConfig:
    if system == "frepple":
        values: dict[str, Any] = {
            "auth_method": "basic",
            "username": "planner",
            "settings": {"time_zone": "Europe/Amsterdam"},
        }
    else:
        values = {
            "auth_method": "api_key" if version >= 19 else "basic",
            "username": "integration",
            "settings": {"database": "plant"},
        }
    return PlanningConnectionConfig.model_validate(
        {"system": system, "base_url": base_url, "credential": secret, **values}
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--system", choices=("frepple", "odoo"), default="frepple")
    parser.add_argument("--odoo-version", type=int, choices=(16, 17, 18, 19), default=17)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--pushes", type=int, default=1_000)
    parser.add_argument("--json", action="store_true", help="print one JSON object only")
    args = parser.parse_args()

    ours, theirs = Pipe()
    server = Process(target=_serve, args=(args.system, args.odoo_version, args.orders, theirs))
    server.start()
    try:
        base_url, secret, seeded, order_ids = ours.recv()
        config = connection(args.system, args.odoo_version, base_url, secret)
        with create_planning_adapter(config) as adapter:
            started, cpu = time.perf_counter(), time.process_time()
            equipment = adapter.pull_resources()
            orders = adapter.pull_work_orders()
            full = time.perf_counter() - started
            full_cpu = time.process_time() - cpu

            started = time.perf_counter()
            cells = plan_equipment(equipment, source=args.system)
            planned = plan_jobs(
                orders, source=args.system, floor={}, active_cells=usable_cells(cells)
            )
            plan_seconds = time.perf_counter() - started

            ours.send(("change", max(1, args.orders // 100)))
            since = ours.recv()
            started = time.perf_counter()
            changed = adapter.pull_work_orders(since=since)
            incremental = time.perf_counter() - started

            pushes = min(args.pushes, len(order_ids))
            at = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
            started = time.perf_counter()
            for order_id in order_ids[:pushes]:
                adapter.push_order_start(order_id, at)
            push_seconds = time.perf_counter() - started
    finally:
        ours.send(("stop", 0))
        server.join(30)

    result = {
        "system": args.system if args.system == "frepple" else f"odoo{args.odoo_version}",
        "orders": len(orders),
        "job_orders": sum(len(o.job_orders) for o in orders),
        "work_centres": len(equipment),
        "job_records": len(planned.jobs),
        "seed_seconds": round(seeded, 2),
        "full_pull_seconds": round(full, 2),
        "full_pull_adapter_cpu_seconds": round(full_cpu, 2),
        "plan_seconds": round(plan_seconds, 2),
        "incremental_orders": len(changed),
        "incremental_pull_seconds": round(incremental, 2),
        "pushes": pushes,
        "pushes_per_s": round(pushes / push_seconds, 1) if push_seconds else None,
    }
    if not args.json:
        for key, value in result.items():
            print(f"{key:>26}: {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
