"""Alembic environment: batch mode on SQLite, with foreign keys off around the run."""

from typing import Any

from alembic import context
from sqlalchemy import text

from floorsync.db.base import Base
from floorsync.db.engine import make_engine
from floorsync.db.types import PortableDecimal, UTCDateTime
from floorsync.models import Tenant  # noqa: F401  (registers every table)

config = context.config
url = config.get_main_option("sqlalchemy.url") or ""


def _render_item(type_: str, obj: object, autogen_context: Any) -> str | bool:
    """Render our portable types with their arguments so revisions rebuild them exactly."""
    if type_ == "type" and isinstance(obj, PortableDecimal | UTCDateTime):
        autogen_context.imports.add("from floorsync.db.types import PortableDecimal, UTCDateTime")
        if isinstance(obj, PortableDecimal):
            return f"PortableDecimal({obj.precision}, {obj.scale})"
        return "UTCDateTime()"
    return False


def _include_object(
    _obj: object, name: str | None, type_: str, reflected: bool, _compare_to: object
) -> bool:
    """The trigram search indexes exist only where pg_trgm is (migration 0007): not in the
    models, and not a difference for `alembic check`."""
    return not (type_ == "index" and reflected and (name or "").startswith("trgm_"))


def run_migrations_online() -> None:
    engine = make_engine(url)
    is_sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if is_sqlite:
            # Batch mode recreates tables; with foreign keys on, dropping a parent would cascade.
            conn.exec_driver_sql("COMMIT")
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=conn,
            target_metadata=Base.metadata,
            render_as_batch=True,
            compare_type=True,
            render_item=_render_item,
            include_object=_include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
        if is_sqlite:
            bad = conn.execute(text("PRAGMA foreign_key_check")).fetchall()
            if bad:
                raise RuntimeError(f"foreign key check failed after migration: {bad[:5]}")
    engine.dispose()


run_migrations_online()
