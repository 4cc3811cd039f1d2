"""The application's database role may add scan records but never change or remove them.

Run by the database owner (who also runs the migrations) for the role the service connects
as: everything the service needs, except UPDATE and DELETE of the records the regulator
trusts. The one column the service changes on a kept scan, its current verdict
(``review_code``), is granted alone. PostgreSQL only: SQLite has no roles.
"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

# Records that are written once: the scans, the log of their verdicts, the reveals of ID
# numbers (who saw whose number, and why).
APPEND_ONLY = ("scans", "scan_verdict_changes", "id_number_reveals")
_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def append_only_grants(role: str) -> list[str]:
    """The statements that give ``role`` the service's rights, scan records append-only."""
    if not _ROLE.match(role):
        raise ValueError(f"not a plain role name: {role!r}")
    tables = ", ".join(APPEND_ONLY)
    return [
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON {tables} FROM {role}",
        f"GRANT UPDATE (review_code) ON scans TO {role}",
    ]


def grant_append_only(session: Session, role: str) -> list[str]:
    """Run ``append_only_grants`` (as the owner); return what was run."""
    statements = append_only_grants(role)
    connection = session.connection()
    for statement in statements:
        connection.exec_driver_sql(statement)
    return statements
