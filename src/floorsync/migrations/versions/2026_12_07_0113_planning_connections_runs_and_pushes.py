"""planning: connections per tenant (encrypted credential, pull schedule and cursor, dispatch
cursor), run records of pulls and pushes, and the push queue (data model §10)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 01:13:33.973806
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from floorsync.db.types import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "planning_connections",
        sa.Column(
            "system",
            sa.Enum(
                "frepple",
                "odoo",
                name="planning_system",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("base_url", sa.String(length=2048), nullable=False),
        sa.Column(
            "auth_method",
            sa.Enum(
                "basic",
                "api_key",
                name="auth_method",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("username", sa.String(length=255), nullable=True),
        sa.Column("credential_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column(
            "pull_enabled",
            sa.Boolean(create_constraint=True, name="pull_enabled_bool"),
            nullable=False,
        ),
        sa.Column(
            "push_enabled",
            sa.Boolean(create_constraint=True, name="push_enabled_bool"),
            nullable=False,
        ),
        sa.Column("pull_interval_minutes", sa.Integer(), nullable=False),
        sa.Column(
            "settings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("pull_cursor", UTCDateTime(), nullable=True),
        sa.Column("last_pull_at", UTCDateTime(), nullable=True),
        sa.Column("last_reconcile_at", UTCDateTime(), nullable=True),
        sa.Column(
            "last_pull_status",
            sa.Enum(
                "running",
                "completed",
                "partial",
                "failed",
                name="run_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("consecutive_pull_failures", sa.Integer(), nullable=False),
        sa.Column("next_pull_at", UTCDateTime(), nullable=True),
        sa.Column("pull_lease_owner", sa.String(length=64), nullable=True),
        sa.Column("pull_locked_until", UTCDateTime(), nullable=True),
        sa.Column("last_test_at", UTCDateTime(), nullable=True),
        sa.Column(
            "last_test_ok",
            sa.Boolean(create_constraint=True, name="last_test_ok_bool"),
            nullable=True,
        ),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("dispatch_cursor", sa.BigInteger(), nullable=False),
        sa.Column("detected_version", sa.String(length=20), nullable=True),
        sa.Column(
            "capabilities",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_planning_connections_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_planning_connections")),
        sa.UniqueConstraint(
            "tenant_id", "name", name=op.f("uq_planning_connections_tenant_id_name")
        ),
        sa.UniqueConstraint(
            "tenant_id", "system", name=op.f("uq_planning_connections_tenant_id_system")
        ),
    )
    with op.batch_alter_table("planning_connections", schema=None) as batch_op:
        batch_op.create_index(
            "ix_planning_connections_next_pull_at",
            ["next_pull_at"],
            unique=False,
            postgresql_where=sa.text("pull_enabled"),
            sqlite_where=sa.text("pull_enabled"),
        )

    op.create_table(
        "planning_pushes",
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "order_start",
                "order_completion",
                name="planning_push_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("order_external_id", sa.String(length=255), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "succeeded",
                "failed",
                name="delivery_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "failure_reason",
            sa.Enum(
                "exhausted",
                "expired",
                "gone",
                "rejected",
                name="delivery_failure",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("window_started_at", UTCDateTime(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["planning_connections.id"],
            name=op.f("fk_planning_pushes_connection_id_planning_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_planning_pushes_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_planning_pushes")),
        sa.UniqueConstraint(
            "connection_id",
            "event_id",
            "kind",
            name=op.f("uq_planning_pushes_connection_id_event_id_kind"),
        ),
    )
    with op.batch_alter_table("planning_pushes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_planning_pushes_connection_id_status_seq",
            ["connection_id", "status", "seq"],
            unique=False,
        )
        batch_op.create_index(
            "ix_planning_pushes_due",
            ["connection_id", "next_attempt_at"],
            unique=False,
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )

    op.create_table(
        "planning_runs",
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "pull_resources",
                "pull_work_orders",
                "push_order_start",
                "push_order_completion",
                name="planning_run_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "trigger",
            sa.Enum(
                "schedule",
                "cli",
                "event",
                name="planning_trigger",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "running",
                "completed",
                "partial",
                "failed",
                name="run_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("since", UTCDateTime(), nullable=True),
        sa.Column("records_received", sa.Integer(), nullable=True),
        sa.Column(
            "counts",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "error_class",
            sa.Enum(
                "unavailable",
                "auth",
                "rejected",
                "protocol",
                name="planning_error_class",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("sync_group_id", sa.Uuid(), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["planning_connections.id"],
            name=op.f("fk_planning_runs_connection_id_planning_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_planning_runs_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_planning_runs")),
    )
    with op.batch_alter_table("planning_runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_planning_runs_connection_id_started_at",
            ["connection_id", "started_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("planning_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_planning_runs_connection_id_started_at")

    op.drop_table("planning_runs")
    with op.batch_alter_table("planning_pushes", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_planning_pushes_due",
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )
        batch_op.drop_index("ix_planning_pushes_connection_id_status_seq")

    op.drop_table("planning_pushes")
    with op.batch_alter_table("planning_connections", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_planning_connections_next_pull_at",
            postgresql_where=sa.text("pull_enabled"),
            sqlite_where=sa.text("pull_enabled"),
        )

    op.drop_table("planning_connections")
