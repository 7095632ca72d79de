"""What `floorsync serve` and `floorsync worker` do before they start: structured logging, the
metrics directory, and a refusal (exit 2, one line) to run on a database that isn't migrated."""

import typer
from sqlalchemy.exc import SQLAlchemyError

from floorsync.config import Settings
from floorsync.db import migrate
from floorsync.db.engine import make_engine
from floorsync.ops import logs, metrics


def require_migrated(settings: Settings) -> None:
    """Exit 2 with one line when the database can't be reached or isn't at the head revision."""
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            problem = migrate.schema_problem(connection)
    except SQLAlchemyError as exc:
        problem = f"cannot reach the database: {logs.database_error(exc)}"
    finally:
        engine.dispose()
    if problem is not None:
        typer.echo(f"floorsync: {problem}", err=True)
        raise typer.Exit(2)


def prepare(settings: Settings) -> None:
    """Refuse an unmigrated database, then set up the metrics directory (multiprocess mode)."""
    require_migrated(settings)
    metrics.prepare_multiprocess(settings.metrics_dir or settings.data_dir / "metrics")
