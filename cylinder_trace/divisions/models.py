"""The Division reference table: one row per administrative division code."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from cylinder_trace.db import Base, EnumText, digits_check, enum_check
from cylinder_trace.domain.jurisdiction import DivisionLevel


class Division(Base):
    """A province-, city- or county-level division and its name (GB/T 2260)."""

    __tablename__ = "divisions"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[DivisionLevel] = mapped_column(EnumText(DivisionLevel))

    __table_args__ = (
        enum_check("level", DivisionLevel),
        digits_check("code", 6),
        CheckConstraint("length(trim(name)) > 0", name="name_present"),
    )

    def __repr__(self) -> str:
        return f"<Division {self.code} {self.name}>"
