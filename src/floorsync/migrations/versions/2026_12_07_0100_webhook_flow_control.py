"""webhooks: per-endpoint concurrency, echo suppression and the circuit breaker; an index for
the purge of succeeded deliveries (issue 11)

Revision ID: 0008
Revises: 0010
Create Date: 2026-12-07 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from floorsync.db.types import JSONType, UTCDateTime

revision: str = "0008"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SUCCEEDED = sa.text("status = 'succeeded'")


def upgrade() -> None:
    # Batch mode: SQLite can't add a CHECK constraint (the boolean's) with ALTER TABLE, so the
    # table is rebuilt there; PostgreSQL alters it in place.
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("max_in_flight", sa.Integer(), server_default=sa.text("16"), nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "exclude_own_changes",
                sa.Boolean(create_constraint=True, name="exclude_own_changes_bool"),
                server_default=sa.text("false"),
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("exclude_sources", JSONType, nullable=True))
        batch_op.add_column(sa.Column("api_key_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("breaker_opened_at", UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("breaker_trips", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
    op.create_index(
        "ix_webhook_deliveries_succeeded",
        "webhook_deliveries",
        ["completed_at"],
        unique=False,
        postgresql_where=_SUCCEEDED,
        sqlite_where=_SUCCEEDED,
    )
    if op.get_bind().dialect.name == "postgresql":
        # A delivery that succeeds leaves a dead entry in the pending-queue indexes until the
        # table is vacuumed, and the claim steps over those. The default (vacuum after 20 % of
        # the table changed) lets millions pile up in a large table: vacuum it after 1 %.
        op.execute(
            "ALTER TABLE webhook_deliveries SET (autovacuum_vacuum_scale_factor = 0.01, "
            "autovacuum_vacuum_threshold = 1000, autovacuum_analyze_scale_factor = 0.02)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE webhook_deliveries RESET (autovacuum_vacuum_scale_factor, "
            "autovacuum_vacuum_threshold, autovacuum_analyze_scale_factor)"
        )
    op.drop_index(
        "ix_webhook_deliveries_succeeded",
        table_name="webhook_deliveries",
        postgresql_where=_SUCCEEDED,
        sqlite_where=_SUCCEEDED,
    )
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.drop_column("breaker_trips")
        batch_op.drop_column("breaker_opened_at")
        batch_op.drop_column("api_key_id")
        batch_op.drop_column("exclude_sources")
        batch_op.drop_column("exclude_own_changes")
        batch_op.drop_column("max_in_flight")
