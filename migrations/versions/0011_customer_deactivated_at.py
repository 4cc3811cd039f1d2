"""customers.deactivated_at: when a buyer stopped being active

An offline delivery is judged at the moment it happened; a buyer deactivated since must not
make an earlier delivery to them a violation when a late scan replays the history. Rows
deactivated before this column existed keep NULL: inactive for every delivery, as before.

Revision ID: 8d2f6b1e3a47
Revises: 5e7a1c9d4b20
Create Date: 2026-12-02 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8d2f6b1e3a47"
down_revision: str | None = "5e7a1c9d4b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


CHECK = "NOT active OR deactivated_at IS NULL"
CHECK_NAME = "ck_customers_deactivated_when_inactive"


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    if _is_sqlite():
        # A column constraint, not a rebuilt table: a table rebuild would turn the catering
        # columns' own constraints into table constraints, and their downgrade could no
        # longer drop them (see the catering revision).
        op.execute(
            f"ALTER TABLE customers ADD COLUMN deactivated_at DATETIME"
            f" CONSTRAINT {CHECK_NAME} CHECK ({CHECK})"
        )
        return
    op.add_column("customers", sa.Column("deactivated_at", sa.DateTime(timezone=True)))
    op.create_check_constraint(op.f(CHECK_NAME), "customers", CHECK)


def downgrade() -> None:
    if _is_sqlite():
        op.execute("ALTER TABLE customers DROP COLUMN deactivated_at")
        return
    op.drop_constraint(op.f(CHECK_NAME), "customers", type_="check")
    op.drop_column("customers", "deactivated_at")
