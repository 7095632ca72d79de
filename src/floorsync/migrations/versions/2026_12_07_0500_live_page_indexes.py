"""list pages: a partial `(tenant_id, created_at, id) WHERE deleted_at IS NULL` index on jobs and
parts, so a deep page's deferred join (entities/listing.page_rows) skips its offset in the index

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-07 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("jobs", "parts")


def upgrade() -> None:
    for table in TABLES:
        op.create_index(
            f"ix_{table}_live_page",
            table,
            ["tenant_id", "created_at", "id"],
            unique=False,
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_live_page", table_name=table)
