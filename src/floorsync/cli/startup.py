"""What `floorsync serve` and `floorsync worker` do before they start: structured logging, the
metrics directory, and a refusal (exit 2, one line) to run on a database that isn't migrated or
with a file storage backend that can't be used (api-catalogue-completion §2.2)."""

import typer
from sqlalchemy.exc import SQLAlchemyError

from floorsync.config import Settings
from floorsync.db import migrate
from floorsync.db.engine import make_engine
from floorsync.ops import logs, metrics
from floorsync.storage.errors import BackendUnavailable
from floorsync.storage.factory import build_storage


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


def storage_problem(settings: Settings) -> str | None:
    """Why the configured file storage can't be used (the local directory isn't writable; the
    S3 bucket can't be reached, doesn't exist or refuses the credentials; boto3 is missing),
    or None."""
    try:
        build_storage(settings).check()
    except BackendUnavailable as exc:
        return f"file storage ({settings.storage_backend}) is unusable: {exc.what}"
    except ImportError as exc:  # FLOORSYNC_STORAGE_BACKEND=s3 without the floorsync[s3] extra
        return f"file storage (s3) needs boto3: pip install 'floorsync[s3]' ({exc})"
    return None


def require_storage(settings: Settings) -> None:
    """Exit 2 with one line when the file storage backend can't be used."""
    problem = storage_problem(settings)
    if problem is not None:
        typer.echo(f"floorsync: {problem}", err=True)
        raise typer.Exit(2)


def prepare(settings: Settings) -> None:
    """Refuse an unmigrated database or unusable file storage, then set up the metrics
    directory (multiprocess mode)."""
    require_migrated(settings)
    require_storage(settings)
    metrics.prepare_multiprocess(settings.metrics_dir or settings.data_dir / "metrics")
