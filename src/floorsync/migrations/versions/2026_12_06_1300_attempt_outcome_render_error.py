"""webhook logs may record the outcome render_error: the event's stored data couldn't be
rendered, nothing was sent (issue 8)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BEFORE = ("succeeded", "http_error", "timeout", "connection_error", "refused")
_AFTER = (*_BEFORE, "render_error")


def _outcome(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(
        *values, name="attempt_outcome", native_enum=False, create_constraint=True, length=32
    )


def _change(before: tuple[str, ...], after: tuple[str, ...]) -> None:
    # The values are a CHECK constraint (ck_webhook_logs_attempt_outcome); batch mode rebuilds
    # the table on SQLite and alters the constraint in place on PostgreSQL.
    with op.batch_alter_table("webhook_logs", schema=None) as batch_op:
        batch_op.alter_column(
            "outcome",
            existing_type=_outcome(before),
            type_=_outcome(after),
            existing_nullable=False,
        )


def upgrade() -> None:
    _change(_BEFORE, _AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM webhook_logs WHERE outcome = 'render_error'")
    _change(_AFTER, _BEFORE)
