"""Structured logs with the standard library: one configuration for `serve` and `worker`.

A line is a message plus fields: `log.info("sync run", extra=fields(entity="jobs", ms=12))`.
`FLOORSYNC_LOG_FORMAT=text` (the default) writes them for a person at a terminal,

    2026-12-07T01:10:00.123Z INFO  floorsync.access GET /api-jobs 200 4ms  tenant=… request_id=…

and `FLOORSYNC_LOG_FORMAT=json` writes one JSON object per line for a log collector
(`{"ts": …, "level": "info", "logger": "floorsync.access", "message": …, "method": "GET", …}`).
`FLOORSYNC_LOG_LEVEL` (debug, info, warning, error) sets floorsync's loggers and uvicorn's.

RepeatFilter backs off on a warning or error that keeps happening (a database that is down, a
worker loop that fails every poll): the first occurrence is written with its traceback, the
repeats within a window are counted instead, and the next line after the window says how many
there were (`repeated=N`, no traceback); the window doubles while the error persists.
"""

import copy
import logging
import threading
import time
import traceback
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

LogFormat = Literal["text", "json"]
FIELDS = "floorsync_fields"  # the LogRecord attribute the fields travel in
IN_MESSAGE = "floorsync_in_message"  # fields a text line leaves out: its message says them
# Attributes every LogRecord has: anything else passed through `extra=` is a field too.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "color_message",
    FIELDS,
    IN_MESSAGE,
}


def fields(**values: Any) -> dict[str, Any]:
    """`extra=` for a structured line: the values are written as fields, not in the message."""
    return {FIELDS: values}


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    out: dict[str, Any] = {}
    request_id = getattr(record, "request_id", None)
    if request_id and request_id != "-":
        out["request_id"] = request_id
    out.update(getattr(record, FIELDS, None) or {})
    for key, value in vars(record).items():
        if key not in _STANDARD and not key.startswith("_"):
            out[key] = value
    return out


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value, default=str).decode()
    return orjson.dumps(text).decode() if (" " in text or not text) else text


class TextFormatter(logging.Formatter):
    """`<UTC time> <LEVEL> <logger> <message>  key=value …`, then the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_timestamp(record)} {record.levelname:<5} {record.name} {record.getMessage()}"
        skip = getattr(record, IN_MESSAGE, ())
        extra = {k: v for k, v in record_fields(record).items() if k not in skip}
        if extra:
            line += "  " + " ".join(f"{k}={_text(v)}" for k, v in extra.items())
        if record.exc_info:
            line += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, the fields, `exc` (a traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record_fields(record).items():
            out.setdefault(key, value)
        if record.exc_info:
            out["exc"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return orjson.dumps(out, default=str).decode()


class _Seen:
    __slots__ = ("quiet_until", "suppressed", "window")

    def __init__(self, window: float, now: float) -> None:
        self.window = window
        self.quiet_until = now + window
        self.suppressed = 0


class RepeatFilter(logging.Filter):
    """Back-off on identical warnings and errors (same logger, level, message template and
    exception): one line, then a count. Infos and debugs always pass."""

    def __init__(
        self,
        first_window: float = 10.0,
        max_window: float = 600.0,
        clock: Any = time.monotonic,
        max_keys: int = 1000,
    ) -> None:
        super().__init__()
        self.first_window, self.max_window, self.clock = first_window, max_window, clock
        self.max_keys = max_keys
        self._seen: OrderedDict[tuple[Any, ...], _Seen] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(record: logging.LogRecord) -> tuple[Any, ...]:
        """With a traceback: the message template and the exception (a job id in the message
        doesn't make a new error); without: the whole message."""
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None:
            return (record.name, record.levelno, record.getMessage()[:500])
        return (record.name, record.levelno, str(record.msg), type(exc).__name__, str(exc)[:300])

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key, now = self._key(record), self.clock()
        with self._lock:
            seen = self._seen.get(key)
            if seen is None:
                self._seen[key] = _Seen(self.first_window, now)
                if len(self._seen) > self.max_keys:
                    self._seen.popitem(last=False)
                return True
            self._seen.move_to_end(key)
            if now < seen.quiet_until:
                seen.suppressed += 1
                return False
            repeated, seen.suppressed = seen.suppressed, 0
            # Still happening: wait longer before the next line; it stopped: start afresh.
            seen.window = min(seen.window * 2, self.max_window) if repeated else self.first_window
            seen.quiet_until = now + seen.window
        if repeated:
            setattr(record, FIELDS, {**(getattr(record, FIELDS, None) or {}), "repeated": repeated})
            record.exc_info, record.exc_text = None, None  # the traceback was written already
        return True


def database_error(exc: BaseException) -> str:
    """A driver error in one line: its class and the first line of the driver's message,
    without the SQL statement SQLAlchemy appends."""
    original = getattr(exc, "orig", None) or exc
    first = (str(original).strip().splitlines() or [""])[0]
    return f"{type(original).__name__}: {first}"[:500]


def formatter_class(fmt: LogFormat) -> str:
    return (
        "floorsync.ops.logs.JsonFormatter" if fmt == "json" else "floorsync.ops.logs.TextFormatter"
    )


def log_config(level: str, fmt: LogFormat = "text") -> dict[str, Any]:
    """uvicorn's logging configuration (dictConfig) with floorsync's loggers structured; in JSON
    mode uvicorn's own lines are JSON too."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {}).update(
        {
            "request_id": {"()": "floorsync.http.logs.RequestIdFilter"},
            "repeats": {"()": "floorsync.ops.logs.RepeatFilter"},
        }
    )
    config["formatters"]["floorsync"] = {"()": formatter_class(fmt)}
    if fmt == "json":
        for name in ("default", "access"):
            config["formatters"][name] = {"()": formatter_class(fmt)}
    config["handlers"]["floorsync"] = {
        "class": "logging.StreamHandler",
        "formatter": "floorsync",
        "filters": ["request_id", "repeats"],
        "stream": "ext://sys.stderr",
    }
    config["loggers"]["floorsync"] = {
        "handlers": ["floorsync"],
        "level": level.upper(),
        "propagate": False,
    }
    for name in ("uvicorn", "uvicorn.error"):
        config["loggers"].setdefault(name, {})["level"] = level.upper()
    return config


def configure(level: str, fmt: LogFormat = "text") -> None:
    """Configure logging for a process that is not uvicorn's (`floorsync worker`)."""
    import logging.config

    logging.config.dictConfig(log_config(level, fmt))
