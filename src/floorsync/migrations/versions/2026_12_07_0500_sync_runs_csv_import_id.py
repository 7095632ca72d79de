"""sync_runs.csv_import_id: a CSV import's sync-history rows name their import (CSV import §11.3,
§12.4), so the history links to the import and the import's result page to its history rows

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-07 05:00:00
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # No foreign key: history rows outlive the import (imports are purged after 90 days,
    # §11.1), as they outlive the API keys they name. Rows written before this revision keep
    # the id in options.csv_import_id; it is copied over.
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("csv_import_id", sa.Uuid(), nullable=True))
        batch_op.create_index("ix_sync_runs_csv_import_id", ["csv_import_id"], unique=False)
    bind = op.get_bind()
    runs = sa.table(
        "sync_runs",
        sa.column("id", sa.Uuid()),
        sa.column("trigger", sa.String()),
        sa.column("options", sa.JSON()),
        sa.column("csv_import_id", sa.Uuid()),
    )
    rows = bind.execute(
        sa.select(runs.c.id, runs.c.options).where(runs.c.trigger == "csv_import")
    ).all()
    for run_id, options in rows:
        value = (options or {}).get("csv_import_id") if isinstance(options, dict) else None
        if isinstance(value, str):
            try:
                import_id = uuid.UUID(value)
            except ValueError:
                continue
            bind.execute(sa.update(runs).where(runs.c.id == run_id).values(csv_import_id=import_id))


def downgrade() -> None:
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_runs_csv_import_id")
        batch_op.drop_column("csv_import_id")
