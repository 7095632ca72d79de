"""Counting the SQL statements a piece of code sends (for set-based, bounded-query checks)."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker


@contextmanager
def counted(sessions: sessionmaker[Session]) -> Iterator[list[str]]:
    """Collect every statement sent through the sessions' engine inside the block."""
    engine = sessions.kw["bind"]
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)
