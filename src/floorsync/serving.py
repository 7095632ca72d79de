"""What `floorsync serve` runs: the app built from the environment's settings, with the delivery
worker's threads in the same process unless `--no-worker`."""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from floorsync.app import create_app
from floorsync.config import get_settings
from floorsync.kit.gc_tuning import tune_gc

# Set by `floorsync serve --no-worker`; read by the worker feature when it is installed.
RUN_WORKER = os.environ.get("FLOORSYNC_NO_WORKER") != "1"


def app_factory() -> FastAPI:
    tune_gc()  # uvicorn's --workers processes start here, not in the CLI
    app = create_app(get_settings())
    if RUN_WORKER:
        with_worker(app)
    return app


def with_worker(app: FastAPI) -> None:
    """Run a WorkerRunner on the app's services for the app's lifetime (started in lifespan)."""
    from floorsync.worker.runner import WorkerRunner

    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: FastAPI) -> AsyncIterator[None]:
        runner = WorkerRunner(a.state.services)
        runner.start()
        try:
            async with inner(a):
                yield
        finally:
            runner.stop()

    app.router.lifespan_context = lifespan
