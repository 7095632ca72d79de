"""The request id on every log line of a request (API §1.12).

The middleware sets REQUEST_ID for the duration of a request; it follows the request into the
thread pool (anyio copies the context). RequestIdFilter puts it on each record as
`record.request_id`, and `log_config` is uvicorn's logging configuration plus a `floorsync`
logger whose lines carry it.
"""

import copy
import logging
import re
from contextvars import ContextVar
from typing import Any

REQUEST_ID: ContextVar[str | None] = ContextVar("floorsync_request_id", default=None)
FORMAT = "%(asctime)s %(levelname)s %(name)s [request %(request_id)s] %(message)s"


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record ("-" outside a request); never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get() or "-"
        return True


_SIGNED = re.compile(r"(/files/(?:upload|download)/)[^/?\s\"]+")


def redact_file_tokens(text: str) -> str:
    """Signed file URLs carry bearer tokens (api-catalogue-completion §2.3): logs show
    `/files/upload/<redacted>`."""
    return _SIGNED.sub(r"\1<redacted>", text)


class FileTokenRedactor(logging.Filter):
    """Removes signed-URL tokens from access log lines; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_file_tokens(a) if isinstance(a, str) else a for a in record.args
            )
        if isinstance(record.msg, str):
            record.msg = redact_file_tokens(record.msg)
        return True


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging configuration with floorsync's own loggers writing the request id."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["request_id"] = {"()": "floorsync.http.logs.RequestIdFilter"}
    config["filters"]["file_tokens"] = {"()": "floorsync.http.logs.FileTokenRedactor"}
    config["handlers"]["access"].setdefault("filters", []).append("file_tokens")
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
