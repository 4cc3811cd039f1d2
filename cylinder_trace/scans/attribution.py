"""Whether each scan's ``company_id`` is the company its cylinder or its scanner says.

``Scan.company_id`` decides which company sees a scan, and it is derived, not hashed: the
owner of the cylinder a scan joins, else the scanning organisation's company (see
``services``). An edit of it would move a scan out of a company's sight without breaking
its chain, so ``scans verify-chains`` derives it again for every scan and names each
that differs.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import case, select
from sqlalchemy.orm import Session, aliased

from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.scans.models import Scan


class Misattributed(NamedTuple):
    scan_id: int
    chain_key: str
    seq: int
    company_id: int | None
    expected: int | None

    def __str__(self) -> str:
        return (
            f"{self.chain_key} #{self.seq}: scan {self.scan_id} is given to company "
            f"{self.company_id}; its cylinder or scanner says {self.expected}"
        )


def misattributed_scans(session: Session) -> list[Misattributed]:
    """Every scan whose ``company_id`` differs from the one derived again (one statement)."""
    scanner = aliased(Organisation)
    expected = case(
        (Scan.cylinder_id.is_not(None), Cylinder.owner_company_id), else_=scanner.company_id
    )
    rows = session.execute(
        select(Scan.id, Scan.chain_key, Scan.seq, Scan.company_id, expected)
        .outerjoin(Cylinder, Cylinder.id == Scan.cylinder_id)
        .join(scanner, scanner.id == Scan.organisation_id)
        .where(Scan.company_id.is_distinct_from(expected))
        .order_by(Scan.chain_key, Scan.seq)
    )
    return [Misattributed(*row) for row in rows]
