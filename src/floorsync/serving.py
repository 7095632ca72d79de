"""What `floorsync serve` runs: the app built from the environment's settings."""

import os

from fastapi import FastAPI

from floorsync.app import create_app
from floorsync.config import get_settings

# Set by `floorsync serve --no-worker`; read by the worker feature when it is installed.
RUN_WORKER = os.environ.get("FLOORSYNC_NO_WORKER") != "1"


def app_factory() -> FastAPI:
    return create_app(get_settings())
