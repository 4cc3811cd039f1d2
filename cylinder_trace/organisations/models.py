"""The Organisation aggregate."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    case,
    null,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cylinder_trace.db import Base, EnumText, digits_check, enum_check, utcnow
from cylinder_trace.divisions.models import Division
from cylinder_trace.domain.roles import COMPANY_SITE_KINDS, OrganisationKind

_SITE_KINDS_SQL = ", ".join(f"'{kind.value}'" for kind in sorted(COMPANY_SITE_KINDS))


class Organisation(Base):
    """Any party the service knows: company, station, supply point, bureau, regulator.

    ``division_code`` is the 6-digit administrative division where a company or site is,
    or, for a bureau or regulator, the jurisdiction it oversees.
    """

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OrganisationKind] = mapped_column(EnumText(OrganisationKind))
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    division_code: Mapped[str] = mapped_column(String(6), index=True)
    address: Mapped[str | None] = mapped_column(String(300))
    licence_no: Mapped[str | None] = mapped_column(String(64))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped[Organisation | None] = relationship(remote_side=[id], lazy="joined")
    # The division's name, where the divisions table knows the code (a valid code it does
    # not know yet has none). Loaded when asked; the session keeps each division once.
    division: Mapped[Division | None] = relationship(
        primaryjoin="foreign(Organisation.division_code) == Division.code", viewonly=True
    )

    __table_args__ = (
        enum_check("kind", OrganisationKind),
        digits_check("division_code", 6),
        # A station or supply point always belongs to a company; nothing else has a parent.
        CheckConstraint(
            f"(kind IN ({_SITE_KINDS_SQL}) AND parent_id IS NOT NULL)"
            f" OR (kind NOT IN ({_SITE_KINDS_SQL}) AND parent_id IS NULL)",
            name="site_has_company",
        ),
        UniqueConstraint("parent_id", "name"),
        # Top-level organisations have no parent, so the constraint above cannot see them.
        Index(
            "uq_organisations_top_level_kind_name",
            "kind",
            "name",
            unique=True,
            sqlite_where=text("parent_id IS NULL"),
            postgresql_where=text("parent_id IS NULL"),
        ),
    )

    @hybrid_property
    def company_id(self) -> int | None:
        """The gas company this organisation is or belongs to; None for authorities.

        Also an SQL expression (``Organisation.company_id``), the same rule as a CASE.
        """
        if self.kind == OrganisationKind.GAS_COMPANY:
            return self.id
        if self.kind in COMPANY_SITE_KINDS:
            return self.parent_id
        return None

    @company_id.inplace.expression
    @classmethod
    def _company_id_expression(cls) -> ColumnElement[int | None]:
        return case(
            (cls.kind == OrganisationKind.GAS_COMPANY, cls.id),
            (cls.kind.in_(sorted(COMPANY_SITE_KINDS)), cls.parent_id),
            else_=null(),
        )

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.kind} {self.name!r}>"
