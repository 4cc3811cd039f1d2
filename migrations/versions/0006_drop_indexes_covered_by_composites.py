"""drop indexes covered by composite indexes

Every scan insert and cylinder update maintained these three as well as the composite
indexes that start with the same column and answer the same lookups.

Revision ID: 3b1e6c0d2a47
Revises: 10f9b3d3c5a1
Create Date: 2026-11-29 05:55:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "3b1e6c0d2a47"
down_revision: str | None = "10f9b3d3c5a1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index(op.f("ix_scans_cylinder_id"), table_name="scans")
    op.drop_index(op.f("ix_scans_site_id"), table_name="scans")
    op.drop_index(op.f("ix_cylinders_owner_company_id"), table_name="cylinders")


def downgrade() -> None:
    op.create_index(
        op.f("ix_cylinders_owner_company_id"), "cylinders", ["owner_company_id"], unique=False
    )
    op.create_index(op.f("ix_scans_site_id"), "scans", ["site_id"], unique=False)
    op.create_index(op.f("ix_scans_cylinder_id"), "scans", ["cylinder_id"], unique=False)
