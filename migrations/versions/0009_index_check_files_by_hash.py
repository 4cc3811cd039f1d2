"""index check files by hash

Pruning stored photos asks, for each file on disk, whether any check still refers to it.

Revision ID: 9af3a2b8a107
Revises: 40010f5692c6
Create Date: 2026-11-29 07:30:09
"""

from collections.abc import Sequence

from alembic import op

revision: str = "9af3a2b8a107"
down_revision: str | None = "40010f5692c6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("catering_check_files", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_catering_check_files_sha256"), ["sha256"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("catering_check_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catering_check_files_sha256"))
