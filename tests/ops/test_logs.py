"""The log formats and the back-off on repeated errors (ops/logs.py), without a server."""

import logging
import sys

import orjson
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from floorsync.ops.logs import (
    IN_MESSAGE,
    JsonFormatter,
    RepeatFilter,
    TextFormatter,
    database_error,
    fields,
    log_config,
)


def record(msg: str, *args: object, level: int = logging.ERROR, exc: bool = False, **extra: object):
    exc_info = None
    if exc:
        try:
            raise RuntimeError("database is locked")
        except RuntimeError:
            exc_info = sys.exc_info()
    rec = logging.LogRecord("floorsync.test", level, __file__, 1, msg, args, exc_info)
    for key, value in extra.items():
        setattr(rec, key, value)
    return rec


def test_a_json_line_has_the_message_the_fields_and_the_traceback() -> None:
    rec = record("sync %s done", "jobs", exc=True, **fields(entity="jobs", created=3))
    rec.request_id = "req-1"
    line = orjson.loads(JsonFormatter().format(rec))
    assert line["level"] == "error"
    assert line["logger"] == "floorsync.test"
    assert line["message"] == "sync jobs done"
    assert line["entity"] == "jobs"
    assert line["created"] == 3
    assert line["request_id"] == "req-1"
    assert "RuntimeError: database is locked" in line["exc"]
    assert line["ts"].endswith("Z")


def test_a_text_line_is_for_people_and_leaves_out_what_the_message_says() -> None:
    rec = record("GET /x 200", level=logging.INFO, **fields(method="GET", tenant="t 1", ms=4))
    setattr(rec, IN_MESSAGE, ("method",))
    out = TextFormatter().format(rec)
    assert "INFO  floorsync.test GET /x 200  " in out
    assert 'tenant="t 1"' in out
    assert "ms=4" in out
    assert "method=" not in out


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_repeated_identical_errors_are_one_line_then_a_count() -> None:
    clock = FakeClock()
    repeats = RepeatFilter(first_window=10, max_window=40, clock=clock)
    first = record("round failed", exc=True)
    assert repeats.filter(first)
    assert first.exc_info is not None  # the first one keeps its traceback
    for _ in range(500):
        clock.now += 0.01
        assert not repeats.filter(record("round failed", exc=True))
    clock.now = 10.5
    summary = record("round failed", exc=True)
    assert repeats.filter(summary)
    assert summary.floorsync_fields == {"repeated": 500}
    assert summary.exc_info is None
    # still failing: the next window is twice as long, and capped
    clock.now = 25
    assert not repeats.filter(record("round failed", exc=True))
    clock.now = 31
    assert repeats.filter(record("round failed", exc=True))
    assert repeats._seen[RepeatFilter._key(record("round failed", exc=True))].window == 40


def test_different_errors_infos_and_a_recovered_error_pass() -> None:
    clock = FakeClock()
    repeats = RepeatFilter(first_window=10, clock=clock)
    assert repeats.filter(record("a failed"))
    assert repeats.filter(record("b failed"))
    assert not repeats.filter(record("a failed"))
    for _ in range(3):
        assert repeats.filter(record("claimed", level=logging.INFO))
    clock.now = 100  # nothing repeated in the window: the next one is a fresh first line
    again = record("b failed")
    assert repeats.filter(again)
    assert not hasattr(again, "floorsync_fields")


def test_a_database_error_is_one_line_without_the_sql(tmp_path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with pytest.raises(OperationalError) as caught, engine.connect() as conn:
            conn.execute(text("SELECT * FROM webhooks WHERE id = 1"))
    finally:
        engine.dispose()
    assert database_error(caught.value) == "OperationalError: no such table: webhooks"


def test_the_json_format_covers_uvicorns_lines_too() -> None:
    config = log_config("debug", "json")
    assert config["loggers"]["floorsync"]["level"] == "DEBUG"
    assert config["formatters"]["default"]["()"].endswith("JsonFormatter")
    assert config["handlers"]["floorsync"]["filters"] == ["request_id", "repeats"]
    assert log_config("info")["formatters"]["floorsync"]["()"].endswith("TextFormatter")
