"""sign-in failures

Failed sign-ins on the pages, counted per username and per client address within a window
to slow down password guessing (cylinder_trace/auth/sign_in.py).

Revision ID: 40010f5692c6
Revises: 8c2f4e91b7d3
Create Date: 2026-11-29 07:27:02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "40010f5692c6"
down_revision: str | None = "8c2f4e91b7d3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=45), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failures")),
    )
    with op.batch_alter_table("sign_in_failures", schema=None) as batch_op:
        batch_op.create_index("ix_sign_in_failures_address_at", ["address", "at"], unique=False)
        batch_op.create_index("ix_sign_in_failures_at", ["at"], unique=False)
        batch_op.create_index("ix_sign_in_failures_username_at", ["username", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sign_in_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_sign_in_failures_username_at")
        batch_op.drop_index("ix_sign_in_failures_at")
        batch_op.drop_index("ix_sign_in_failures_address_at")

    op.drop_table("sign_in_failures")
