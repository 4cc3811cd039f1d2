"""partial indexes for rare values

Most scans name no buyer and need no review, and most cylinders are held by nobody; every
scan insert and cylinder update still added an entry to these indexes. The lookups they
serve (a customer's scans and holdings, the review list) only ask for the rare rows.

Revision ID: 8c2f4e91b7d3
Revises: 3b1e6c0d2a47
Create Date: 2026-11-29 05:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8c2f4e91b7d3"
down_revision: str | None = "3b1e6c0d2a47"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEEDS_REVIEW = "result <> 'accepted' OR review_code IS NOT NULL"


def _partial(name: str, table: str, column: str, where: str) -> None:
    op.create_index(
        name,
        table,
        [column],
        unique=False,
        postgresql_where=sa.text(where),
        sqlite_where=sa.text(where),
    )


def upgrade() -> None:
    op.drop_index("ix_scans_result_received", table_name="scans")
    _partial("ix_scans_needs_review", "scans", "received_at", NEEDS_REVIEW)
    op.drop_index("ix_scans_customer_id", table_name="scans")
    _partial("ix_scans_customer_id", "scans", "customer_id", "customer_id IS NOT NULL")
    op.drop_index("ix_cylinders_holder_customer_id", table_name="cylinders")
    _partial(
        "ix_cylinders_holder_customer_id",
        "cylinders",
        "holder_customer_id",
        "holder_customer_id IS NOT NULL",
    )


def downgrade() -> None:
    op.drop_index("ix_cylinders_holder_customer_id", table_name="cylinders")
    op.create_index(
        "ix_cylinders_holder_customer_id", "cylinders", ["holder_customer_id"], unique=False
    )
    op.drop_index("ix_scans_customer_id", table_name="scans")
    op.create_index("ix_scans_customer_id", "scans", ["customer_id"], unique=False)
    op.drop_index("ix_scans_needs_review", table_name="scans")
    op.create_index("ix_scans_result_received", "scans", ["result", "received_at"], unique=False)
