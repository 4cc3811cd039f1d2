"""divisions: the names of the administrative division codes (GB/T 2260)

A reference table, loaded here with what the package ships (the province-level units and
Chongqing's districts and counties in full); ``cylinder-trace divisions load FILE`` adds
the rest. Organisations and customers keep their codes; their answers add the names.

Revision ID: d5e9f3a2b1c4
Revises: c4d8e2f1a9b3
Create Date: 2026-12-04 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cylinder_trace.divisions.files import packaged_divisions

revision: str = "d5e9f3a2b1c4"
down_revision: str | None = "c4d8e2f1a9b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    divisions = op.create_table(
        "divisions",
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("level", sa.String(length=32), nullable=False),
        sa.CheckConstraint(
            "level IN ('province', 'city', 'county')", name=op.f("ck_divisions_level_valid")
        ),
        sa.CheckConstraint(
            "length(code) = 6 AND ltrim(code, '0123456789') = ''",
            name=op.f("ck_divisions_code_digits"),
        ),
        sa.CheckConstraint("length(trim(name)) > 0", name=op.f("ck_divisions_name_present")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_divisions")),
    )
    op.bulk_insert(
        divisions,
        [{"code": row.code, "name": row.name, "level": row.level} for row in packaged_divisions()],
    )


def downgrade() -> None:
    op.drop_table("divisions")
