"""The request id on every log line of a request (API §1.12).

The middleware sets REQUEST_ID for the duration of a request; it follows the request into the
thread pool (anyio copies the context). RequestIdFilter puts it on each record as
`record.request_id`, and `log_config` is uvicorn's logging configuration plus a `floorsync`
logger whose lines carry it.
"""

import copy
import logging
from contextvars import ContextVar
from typing import Any

REQUEST_ID: ContextVar[str | None] = ContextVar("floorsync_request_id", default=None)
FORMAT = "%(asctime)s %(levelname)s %(name)s [request %(request_id)s] %(message)s"


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record ("-" outside a request); never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get() or "-"
        return True


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging configuration with floorsync's own loggers writing the request id."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["request_id"] = {"()": "floorsync.http.logs.RequestIdFilter"}
    config["formatters"]["floorsync"] = {"format": FORMAT}
    config["handlers"]["floorsync"] = {
        "class": "logging.StreamHandler",
        "formatter": "floorsync",
        "filters": ["request_id"],
        "stream": "ext://sys.stderr",
    }
    config["loggers"]["floorsync"] = {
        "handlers": ["floorsync"],
        "level": level.upper(),
        "propagate": False,
    }
    return config
