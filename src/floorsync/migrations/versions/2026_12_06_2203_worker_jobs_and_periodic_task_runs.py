"""the worker's queue of one-off jobs (worker_jobs), and a run counter and last runner on the
periodic-task lease rows

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 22:03:50
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from floorsync.db.types import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "worker_jobs",
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "state",
            sa.Enum(
                "queued",
                "running",
                "succeeded",
                "failed",
                name="worker_job_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", UTCDateTime(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_worker_jobs_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worker_jobs")),
    )
    with op.batch_alter_table("worker_jobs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_worker_jobs_kind_state_run_after", ["kind", "state", "run_after"], unique=False
        )
        batch_op.create_index("ix_worker_jobs_tenant_id", ["tenant_id"], unique=False)

    with op.batch_alter_table("periodic_tasks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("run_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("last_run_by", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("periodic_tasks", schema=None) as batch_op:
        batch_op.drop_column("last_run_by")
        batch_op.drop_column("run_count")

    with op.batch_alter_table("worker_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_worker_jobs_tenant_id")
        batch_op.drop_index("ix_worker_jobs_kind_state_run_after")

    op.drop_table("worker_jobs")
