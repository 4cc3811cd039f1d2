"""What a distributed PostgreSQL (Citus) needs of the schema, checked on the models.

docs/scale-out.md distributes the large tables by the owning gas company and copies the
small ones to every node. Citus can then distribute a table only if:

- it has the distribution column (``company_id``), NOT NULL;
- its primary key and every unique constraint and unique index include that column (a
  uniqueness it could check only across nodes is refused);
- each of its foreign keys points at a reference table, or at a distributed table through
  a key that includes the distribution column on both sides (the two are co-located);
- a reference table has no foreign key to a distributed table.

``problems`` lists every breach, in words. The schema does not meet all of it yet; the test
of this module holds the list to the known backlog (docs/scale-out.md, "What is left"), so a
new table or key that Citus could not distribute fails, and so does fixing one without
taking it off the list.
"""

from __future__ import annotations

from sqlalchemy import Index, MetaData, Table, UniqueConstraint

DISTRIBUTION_COLUMN = "company_id"

# Copied to every node: small, and joined by nearly every query.
REFERENCE = frozenset(
    {
        "organisations",
        "divisions",
        "users",
        "devices",
        "api_tokens",
        "user_sessions",
        "sign_in_failures",
    }
)
# Split by company.
DISTRIBUTED = frozenset(
    {
        "cylinders",
        "cylinder_inspections",
        "scans",
        "scan_chains",
        "scan_verdict_changes",
        "customers",
        "id_number_reveals",
        "catering_checks",
        "catering_check_items",
        "catering_check_files",
        "catering_hazards",
    }
)


def unclassified(metadata: MetaData) -> list[str]:
    """Tables the plan does not say how to place."""
    return sorted(set(metadata.tables) - REFERENCE - DISTRIBUTED)


def problems(metadata: MetaData) -> list[str]:
    """Everything that would stop Citus from distributing ``metadata`` as planned."""
    found: list[str] = []
    for _, table in sorted(metadata.tables.items()):
        if table.name in DISTRIBUTED:
            found += _distributed_problems(table)
        elif table.name in REFERENCE:
            found += [
                f"{table.name}: reference table with a foreign key to distributed "
                f"{fk.column.table.name}"
                for fk in table.foreign_keys
                if fk.column.table.name in DISTRIBUTED
            ]
    return found


def _distributed_problems(table: Table) -> list[str]:
    name = table.name
    column = table.c.get(DISTRIBUTION_COLUMN)
    if column is None:
        return [f"{name}: no {DISTRIBUTION_COLUMN} column"]
    found = []
    if column.nullable:
        found.append(f"{name}: {DISTRIBUTION_COLUMN} may be NULL")
    if DISTRIBUTION_COLUMN not in table.primary_key.columns:
        found.append(f"{name}: primary key without {DISTRIBUTION_COLUMN}")
    # Constraints and indexes are sets: in name order, so the list reads the same each time.
    for constraint in sorted(table.constraints, key=lambda c: str(c.name)):
        if isinstance(constraint, UniqueConstraint) and DISTRIBUTION_COLUMN not in {
            c.name for c in constraint.columns
        }:
            found.append(
                f"{name}: unique {constraint.name or '(unnamed)'} without {DISTRIBUTION_COLUMN}"
            )
    for index in sorted(table.indexes, key=lambda i: str(i.name)):
        columns = {c.name for c in index.columns}
        if isinstance(index, Index) and index.unique and DISTRIBUTION_COLUMN not in columns:
            found.append(f"{name}: unique index {index.name} without {DISTRIBUTION_COLUMN}")
    for constraint in sorted(table.foreign_key_constraints, key=lambda c: str(c.name)):
        target = constraint.referred_table.name
        if target in REFERENCE:
            continue
        local = [c.name for c in constraint.columns]
        remote = [element.column.name for element in constraint.elements]
        if DISTRIBUTION_COLUMN not in local or DISTRIBUTION_COLUMN not in remote:
            found.append(
                f"{name}: foreign key ({', '.join(local)}) to distributed {target} "
                f"without {DISTRIBUTION_COLUMN} on both sides"
            )
    return found
