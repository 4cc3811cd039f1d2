"""Loading and reading divisions (flush, never commit)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cylinder_trace.access import in_jurisdiction
from cylinder_trace.divisions.files import DivisionRow
from cylinder_trace.divisions.models import Division


@dataclass(frozen=True, slots=True)
class LoadReport:
    added: int
    renamed: int
    unchanged: int


def load_divisions(session: Session, rows: Iterable[DivisionRow]) -> LoadReport:
    """Add the divisions not known yet and rename those whose name differs (flushes)."""
    rows = list(rows)
    known = {
        division.code: division
        for division in session.scalars(
            select(Division).where(Division.code.in_([row.code for row in rows]))
        )
    }
    added = renamed = 0
    for row in rows:
        division = known.get(row.code)
        if division is None:
            session.add(Division(code=row.code, name=row.name, level=row.level))
            added += 1
        elif division.name != row.name:
            division.name = row.name
            renamed += 1
    session.flush()
    return LoadReport(added, renamed, len(rows) - added - renamed)


def divisions_under(session: Session, jurisdiction: str | None) -> Sequence[Division]:
    """The known divisions, or those a jurisdiction covers (itself included), by code.

    Raises DivisionCodeError for an invalid ``jurisdiction``."""
    statement = select(Division).order_by(Division.code)
    if jurisdiction is not None:
        statement = statement.where(in_jurisdiction(Division.code, jurisdiction))
    return session.scalars(statement).all()


def division_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    """The names of these codes that are known (one statement)."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = session.execute(select(Division.code, Division.name).where(Division.code.in_(wanted)))
    return dict(rows.all())
