"""webhook deliveries: drop the due index `(next_attempt_at) WHERE status = 'pending'`

The claim asks each endpoint's own queue (`ix_webhook_deliveries_queue`, `(webhook_id, seq)`
over pending deliveries) for its first due delivery and its batch; nothing reads the due index
any more. The planner still chose it at times, walking every endpoint's due deliveries (a slow
receiver's whole backlog) once per endpoint, and every delivery paid for its entry on insert.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.drop_index("ix_webhook_deliveries_due", table_name="webhook_deliveries")


def downgrade() -> None:
    op.create_index(
        "ix_webhook_deliveries_due",
        "webhook_deliveries",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=_PENDING,
        sqlite_where=_PENDING,
    )
