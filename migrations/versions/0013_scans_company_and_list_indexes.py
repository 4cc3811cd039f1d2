"""scans carry their company; indexes that match each list; cylinder updates can be HOT

``scans.company_id``: the owner of the cylinder a scan names, else the scanning
organisation's company. Every company sees exactly the scans with its id there (the same
set as "scans of its cylinders or by its sites" before), so company lists filter on one
column instead of hashing all the company's cylinder ids per query.

The review list's partial indexes follow its order (occurred_at, id), overall and per
company, as does a site's day (a station's fills); each includes the scope columns, so that
counting reads only the index. Cylinders lose the indexes on ``state``, which every scan changes: without them a
cylinder update touches no indexed column on most scans and PostgreSQL can make it HOT (in
the same page, no new index entries), helped by a fill factor that leaves room in each page;
the chain heads, rewritten by every scan too, get the same fill factor.
The company's list in code order gets its index instead. A cylinder's scans are found by
their chain (chain_key is its code), so the index on (cylinder_id, occurred_at), which put
each scan on a random page of a third index, goes.

Revision ID: c4d8e2f1a9b3
Revises: b7c1d2e3f4a5
Create Date: 2026-12-04 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4d8e2f1a9b3"
down_revision: str | None = "b7c1d2e3f4a5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEEDS_REVIEW = "result = 'rejected' OR review_code IS NOT NULL"
# Rows every scan rewrites: room in each page for the new version keeps the update HOT.
FILLFACTOR = {"cylinders": 85, "scan_chains": 85}

# The company of an organisation: itself for a gas company, its parent for a site.
_ORGANISATION_COMPANY = (
    "SELECT CASE WHEN o.kind = 'gas_company' THEN o.id "
    "WHEN o.kind IN ('filling_station', 'supply_point') THEN o.parent_id END "
    "FROM organisations o WHERE o.id = scans.organisation_id"
)


def upgrade() -> None:
    # Batch mode: on SQLite, which cannot add a named constraint to a table, the table is
    # copied with it (its indexes with it); on PostgreSQL two ALTER TABLEs.
    with op.batch_alter_table("scans") as batch:
        batch.add_column(sa.Column("company_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_scans_company_id_organisations"),
            "organisations",
            ["company_id"],
            ["id"],
            ondelete="RESTRICT",
        )
    op.execute(
        "UPDATE scans SET company_id = (SELECT c.owner_company_id FROM cylinders c "
        "WHERE c.id = scans.cylinder_id) WHERE cylinder_id IS NOT NULL"
    )
    op.execute(f"UPDATE scans SET company_id = ({_ORGANISATION_COMPANY}) WHERE cylinder_id IS NULL")
    op.create_index("ix_scans_company_occurred", "scans", ["company_id", "occurred_at", "id"])
    # A cylinder's scans are found by their chain (the unique chain_key, seq index): one
    # fewer index with an entry on a random page for every scan.
    op.drop_index("ix_scans_cylinder_occurred", table_name="scans")
    op.drop_index("ix_scans_site_kind_occurred", table_name="scans")
    op.create_index(
        "ix_scans_site_kind_occurred",
        "scans",
        ["site_id", "kind", "occurred_at", "id"],
        postgresql_include=["company_id", "organisation_id"],
    )
    op.drop_index("ix_scans_needs_review", table_name="scans")
    op.create_index(
        "ix_scans_needs_review",
        "scans",
        ["occurred_at", "id"],
        postgresql_where=sa.text(NEEDS_REVIEW),
        postgresql_include=["site_id", "organisation_id", "company_id"],
        sqlite_where=sa.text(NEEDS_REVIEW),
    )
    op.create_index(
        "ix_scans_company_needs_review",
        "scans",
        ["company_id", "occurred_at", "id"],
        postgresql_where=sa.text(NEEDS_REVIEW),
        postgresql_include=["site_id", "organisation_id"],
        sqlite_where=sa.text(NEEDS_REVIEW),
    )
    op.drop_index("ix_cylinders_state", table_name="cylinders")
    op.drop_index("ix_cylinders_owner_state", table_name="cylinders")
    op.create_index("ix_cylinders_owner_code", "cylinders", ["owner_company_id", "code"])
    if op.get_bind().dialect.name == "postgresql":
        for table, percent in FILLFACTOR.items():
            op.execute(f"ALTER TABLE {table} SET (fillfactor = {percent})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in FILLFACTOR:
            op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
    op.drop_index("ix_cylinders_owner_code", table_name="cylinders")
    op.create_index("ix_cylinders_owner_state", "cylinders", ["owner_company_id", "state"])
    op.create_index("ix_cylinders_state", "cylinders", ["state"])
    op.drop_index("ix_scans_company_needs_review", table_name="scans")
    op.drop_index("ix_scans_needs_review", table_name="scans")
    op.create_index(
        "ix_scans_needs_review",
        "scans",
        ["received_at"],
        postgresql_where=sa.text(NEEDS_REVIEW),
        sqlite_where=sa.text(NEEDS_REVIEW),
    )
    op.drop_index("ix_scans_site_kind_occurred", table_name="scans")
    op.create_index("ix_scans_site_kind_occurred", "scans", ["site_id", "kind", "occurred_at"])
    op.drop_index("ix_scans_company_occurred", table_name="scans")
    op.create_index("ix_scans_cylinder_occurred", "scans", ["cylinder_id", "occurred_at"])
    with op.batch_alter_table("scans") as batch:
        batch.drop_constraint(op.f("fk_scans_company_id_organisations"), type_="foreignkey")
        batch.drop_column("company_id")
