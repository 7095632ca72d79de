"""Fixtures for the operability tests: a database with no floorsync schema on the suite's
engine, and a way to read what floorsync logs."""

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from floorsync.ops.logs import JsonFormatter, RepeatFilter


@pytest.fixture
def unmigrated_url(db_kind: str, database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database URL that reaches a database without the floorsync schema: a fresh SQLite file,
    or on PostgreSQL the test database seen through an empty schema (search_path)."""
    if db_kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    schema = f"fs_h15_empty_{uuid.uuid4().hex[:8]}"
    admin = create_engine(database_url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(database_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


class Lines(logging.Handler):
    """Collects formatted JSON lines of the floorsync loggers (with the repeat filter)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.addFilter(RepeatFilter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def floorsync_log() -> Iterator[Lines]:
    """What the `floorsync` loggers write at info level and above, as JSON lines."""
    from floorsync.http.logs import RequestIdFilter

    handler = Lines()
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("floorsync")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
