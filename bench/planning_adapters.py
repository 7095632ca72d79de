"""Adapter-level planning benchmark: the share of a pull that belongs to the adapters and the fake
servers, without any database (issue 13's pull benchmark adds the sync engine on top).

Seeds the fake FrePPLe or Odoo server with N work orders of 5 job orders each and 50 work
centres (default 10,000), then measures through the real adapter over HTTP on 127.0.0.1:

* `seed_seconds`       building the fake's data;
* `full_pull_seconds`  `pull_resources()` + `pull_work_orders()` (reconcile mode);
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
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.planning.fakes.frepple import FakeFrepple, seed_orders, wall
from tests.planning.fakes.odoo import FakeOdoo, seed_productions

from floorsync.planning.config import PlanningConnectionConfig
from floorsync.planning.factory import create_planning_adapter
from floorsync.planning.records import plan_equipment, plan_jobs, usable_cells


def frepple(orders: int) -> tuple[Any, PlanningConnectionConfig, float, list[str], Any]:
    started = time.perf_counter()
    fake = FakeFrepple()
    seed_orders(fake.data, orders, steps=5, work_centres=50)
    seeded = time.perf_counter() - started
    config = PlanningConnectionConfig.model_validate(
        {
            "system": "frepple",
            "base_url": fake.base_url,
            "auth_method": "basic",
            "username": "planner",
            "credential": "s3cret-Pässword",
            "settings": {"time_zone": "Europe/Amsterdam"},
        }
    )
    refs = list(fake.data.mos)

    def change(count: int) -> datetime:
        fake.now = datetime(2026, 6, 30, 12, 0)  # noqa: DTZ001 (the server's wall clock)
        for ref in refs[:: max(1, len(refs) // count)][:count]:
            fake.data.mos[ref]["lastmodified"] = wall(fake.now)
        return datetime(2026, 6, 30, 9, 0, tzinfo=UTC)

    return fake, config, seeded, refs, change


def odoo(orders: int, version: int) -> tuple[Any, PlanningConnectionConfig, float, list[str], Any]:
    started = time.perf_counter()
    fake = FakeOdoo(version)
    ids = seed_productions(fake, orders, steps=5, work_centres=50)
    seeded = time.perf_counter() - started
    api_key = version >= 19
    config = PlanningConnectionConfig.model_validate(
        {
            "system": "odoo",
            "base_url": fake.base_url,
            "auth_method": "api_key" if api_key else "basic",
            "username": "integration",
            "credential": fake.add_api_key() if api_key else "Odoo-pa55word!",
            "settings": {"database": fake.database},
        }
    )

    def change(count: int) -> datetime:
        fake.now += timedelta(days=30)
        stamp = fake.now.strftime("%Y-%m-%d %H:%M:%S")
        for mo in ids[:: max(1, len(ids) // count)][:count]:
            fake.tables["mrp.production"][mo]["write_date"] = stamp
        return fake.now - timedelta(minutes=5)

    return fake, config, seeded, [str(i) for i in ids], change


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--system", choices=("frepple", "odoo"), default="frepple")
    parser.add_argument("--odoo-version", type=int, choices=(16, 17, 18, 19), default=17)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--pushes", type=int, default=1_000)
    parser.add_argument("--json", action="store_true", help="print one JSON object only")
    args = parser.parse_args()

    if args.system == "frepple":
        fake, config, seeded, order_ids, change = frepple(args.orders)
    else:
        fake, config, seeded, order_ids, change = odoo(args.orders, args.odoo_version)
    try:
        with create_planning_adapter(config) as adapter:
            started = time.perf_counter()
            equipment = adapter.pull_resources()
            orders = adapter.pull_work_orders()
            full = time.perf_counter() - started

            started = time.perf_counter()
            cells = plan_equipment(equipment, source=args.system)
            planned = plan_jobs(
                orders, source=args.system, floor={}, active_cells=usable_cells(cells)
            )
            plan_seconds = time.perf_counter() - started

            since = change(max(1, args.orders // 100))
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
        fake.stop()

    result = {
        "system": args.system if args.system == "frepple" else f"odoo{args.odoo_version}",
        "orders": len(orders),
        "job_orders": sum(len(o.job_orders) for o in orders),
        "work_centres": len(equipment),
        "job_records": len(planned.jobs),
        "seed_seconds": round(seeded, 2),
        "full_pull_seconds": round(full, 2),
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
