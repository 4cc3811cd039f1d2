"""scan verdicts: review_code is the complete history's verdict; its changes are kept

Until now ``review_code`` held only flags a late scan put on scans accepted when they
arrived, and scans answered ``accepted_with_violation`` stayed on the review list whatever
came later. Now ``review_code`` is every kept scan's current verdict (NULL: nothing wrong),
re-judged when a late scan arrives, and the review list is the refused scans plus the kept
ones with a verdict. Each change of a verdict is a row of ``scan_verdict_changes``.

Revision ID: 5e7a1c9d4b20
Revises: 9af3a2b8a107
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e7a1c9d4b20"
down_revision: str | None = "9af3a2b8a107"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_REVIEW = "result <> 'accepted' OR review_code IS NOT NULL"
NEW_REVIEW = "result = 'rejected' OR review_code IS NOT NULL"
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _review_index(predicate: str) -> None:
    op.create_index(
        "ix_scans_needs_review",
        "scans",
        ["received_at"],
        unique=False,
        postgresql_where=sa.text(predicate),
        sqlite_where=sa.text(predicate),
    )


def upgrade() -> None:
    op.execute(
        "UPDATE scans SET review_code = result_code "
        "WHERE result = 'accepted_with_violation' AND review_code IS NULL"
    )
    op.drop_index("ix_scans_needs_review", table_name="scans")
    _review_index(NEW_REVIEW)
    op.create_table(
        "scan_verdict_changes",
        sa.Column("id", BigId, nullable=False),
        sa.Column("scan_id", BigId, nullable=False),
        sa.Column("previous_code", sa.String(length=64), nullable=True),
        sa.Column("new_code", sa.String(length=64), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("caused_by_event_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "previous_code IS NOT NULL OR new_code IS NOT NULL",
            name=op.f("ck_scan_verdict_changes_changes_something"),
        ),
        sa.ForeignKeyConstraint(
            ["scan_id"],
            ["scans.id"],
            name=op.f("fk_scan_verdict_changes_scan_id_scans"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_verdict_changes")),
    )
    op.create_index(op.f("ix_scan_verdict_changes_scan_id"), "scan_verdict_changes", ["scan_id"])
    op.create_index(
        op.f("ix_scan_verdict_changes_caused_by_event_id"),
        "scan_verdict_changes",
        ["caused_by_event_id"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_scan_verdict_changes_caused_by_event_id"), table_name="scan_verdict_changes"
    )
    op.drop_index(op.f("ix_scan_verdict_changes_scan_id"), table_name="scan_verdict_changes")
    op.drop_table("scan_verdict_changes")
    op.drop_index("ix_scans_needs_review", table_name="scans")
    _review_index(OLD_REVIEW)
