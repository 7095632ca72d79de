"""The `csv_import` job kind of the generic worker (worker/queue.py): one queued job runs the
preview or the import of one CSV import (csv_import/job.py). Its worker-queue lease only keeps
two workers from starting it at once; the import's own heartbeat (`csv_imports.heartbeat_at`)
decides when an abandoned import may be taken over and resumed (§11.4, §11.5)."""

import uuid
from datetime import timedelta

from floorsync.csv_import.job import run_job
from floorsync.csv_import.service import JOB_KIND
from floorsync.worker.queue import JobRun, queued_kind


def perform(run: JobRun) -> None:
    payload = run.job.payload
    run_job(
        run.services,
        uuid.UUID(payload["tenant_id"]),
        uuid.UUID(payload["import_id"]),
        owner=run.worker_id[:64],
        stopping=run.stopping.is_set,
        heartbeat=run.heartbeat,
    )


CSV_IMPORT = queued_kind(JOB_KIND, perform, lease=timedelta(minutes=2))
