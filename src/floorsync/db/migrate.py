"""Run the packaged Alembic migrations against a database URL."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.set_main_option(
        "file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d_%%(slug)s"
    )
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def check(url: str) -> None:
    command.check(alembic_config(url))


def current(url: str) -> None:
    command.current(alembic_config(url))


def head_revisions() -> set[str]:
    """The revisions this version of floorsync migrates a database to (one head normally)."""
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return {rev.revision for rev in script.walk_revisions()}


def current_revisions(connection: Connection) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    return set(MigrationContext.configure(connection).get_current_heads())


def schema_problem(connection: Connection) -> str | None:
    """None when the database is at the head revision; otherwise why it isn't, in one line
    that says what to do."""
    current, heads = current_revisions(connection), head_revisions()
    if current == heads:
        return None
    if not current:
        return "the database has no floorsync schema: run `floorsync db upgrade`"
    unknown = current - known_revisions()
    if unknown:
        return (
            f"the database is at revision {', '.join(sorted(unknown))}, which this version of "
            "floorsync does not know (a newer version migrated it)"
        )
    return (
        f"the database is at revision {', '.join(sorted(current))}, not "
        f"{', '.join(sorted(heads))}: run `floorsync db upgrade`"
    )
