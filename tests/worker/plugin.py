"""Test-only background work, run by real `floorsync worker` processes started with
FLOORSYNC_WORKER_PLUGINS=tests.worker.plugin and the repository root on PYTHONPATH
(`plugin_env` below; worker/registry.py describes the plugin contract)."""

import os
import time
from datetime import timedelta
from pathlib import Path

from floorsync.bootstrap import Services
from floorsync.db.repository import TenantScope
from floorsync.db.uow import unit_of_work
from floorsync.entities import service as entity_service
from floorsync.entities.cells import CELLS
from floorsync.events.outbox import Origin
from floorsync.worker.kinds import PeriodicTask
from floorsync.worker.queue import JobRun, queued_kind

ROOT = Path(__file__).resolve().parents[2]
MAKE_CELL = "test.make_cell"
MAKE_CELL_LEASE = timedelta(seconds=3)
TICK = "test.tick"
TICK_LOG = "FLOORSYNC_TEST_TICK_LOG"


def plugin_env(**more: str) -> dict[str, str]:
    """Environment for `start_worker` that loads this module into the worker."""
    return {"FLOORSYNC_WORKER_PLUGINS": __name__, "PYTHONPATH": str(ROOT), **more}


def make_cell(run: JobRun) -> None:
    """Holds the job for `hold_seconds` (the window in which a test kills the worker), then
    creates one cell named after the job and the attempt, and completes the job in that same
    transaction: the cell exists once per completed job."""
    time.sleep(float(run.job.payload["hold_seconds"]))
    services, tenant_id = run.services, run.job.tenant_id
    assert tenant_id is not None
    with unit_of_work(
        services.sessions, services.outbox, TenantScope(tenant_id), origin=Origin("system")
    ) as work:
        name = f"{run.job.payload['name']} #{run.job.attempt}"
        entity_service.create(work, CELLS, {"name": name})
        run.complete(work.session)


def tick(_services: Services) -> None:
    """Appends `start end pid` to the file named by FLOORSYNC_TEST_TICK_LOG (if set); takes a
    little while, so that two runs at once would overlap."""
    start = time.time()
    time.sleep(0.2)
    path = os.environ.get(TICK_LOG)
    if path:
        with open(path, "a") as log:
            log.write(f"{start} {time.time()} {os.getpid()}\n")


JOB_KINDS = (queued_kind(MAKE_CELL, make_cell, lease=MAKE_CELL_LEASE),)
PERIODIC_TASKS = (PeriodicTask(TICK, tick),)
