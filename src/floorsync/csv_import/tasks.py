"""The `csv_import` job kind of the generic worker (worker/queue.py): one queued job runs the
preview or the import of one CSV import (csv_import/job.py). Its worker-queue lease only keeps
two workers from starting it at once; the import's own heartbeat (`csv_imports.heartbeat_at`)
decides when an abandoned import may be taken over and resumed (§11.4, §11.5).

At most one import per tenant runs (§11.3, §14): an import whose tenant already runs another
stays `queued`; its worker job is queued again to look after `WAIT_SECONDS`, in the
transaction that completes this one, so exactly one job waits for it."""

import uuid
from datetime import timedelta

from floorsync.csv_import.job import run_job
from floorsync.csv_import.retention import purge_imports
from floorsync.csv_import.service import JOB_KIND
from floorsync.models.enums import CsvImportStatus
from floorsync.worker.kinds import PeriodicTask
from floorsync.worker.queue import JobRun, enqueue, queued_kind

WAIT_SECONDS = 2.0  # how often a waiting import looks whether its tenant's import finished


def perform(run: JobRun) -> None:
    payload = run.job.payload
    status = run_job(
        run.services,
        uuid.UUID(payload["tenant_id"]),
        uuid.UUID(payload["import_id"]),
        owner=run.worker_id[:64],
        stopping=run.stopping.is_set,
        heartbeat=run.heartbeat,
    )
    if status is CsvImportStatus.queued:  # another import of the tenant runs: look again
        with run.services.sessions.begin() as session:
            now = run.services.clock.now()
            enqueue(
                session,
                JOB_KIND,
                payload,
                now=now,
                tenant_id=run.job.tenant_id,
                run_after=now + timedelta(seconds=WAIT_SECONDS),
            )
            run.complete(session)


CSV_IMPORT = queued_kind(JOB_KIND, perform, lease=timedelta(minutes=2))
# stored uploads cleared after 7 days, imports deleted after 90, unstarted ones after 24 h
RETENTION = PeriodicTask("csv_import.retention", purge_imports)
