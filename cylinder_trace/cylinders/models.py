"""The Cylinder aggregate and its periodic inspection records."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cylinder_trace.db import Base, EnumText, enum_check, utcnow
from cylinder_trace.domain.lifecycle import CylinderSnapshot, CylinderState
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.users.models import User

CODE_MAX = 32


class CylinderStateView:
    """What the rules read of a cylinder's state (its ``state`` and four flags), for the ORM
    cylinder and for plain records of one (``fastpath.cylinder_record.CylinderRecord``)."""

    __slots__ = ()

    @property
    def snapshot(self) -> CylinderSnapshot:
        return CylinderSnapshot(
            self.state, self.stopped, self.lost, self.overfilled, self.underfilled
        )

    @property
    def is_scrapped(self) -> bool:
        return self.state == CylinderState.SCRAPPED


class Cylinder(CylinderStateView, Base):
    """One physical cylinder, known for good by its permanent code.

    Rows are never deleted: a scrapped cylinder keeps its row (state ``scrapped``, code
    revoked), so the UNIQUE constraint on ``code`` also stops a code from being reused.
    ``next_inspection_due`` and ``scrap_date`` are stored (for filtering) and recomputed
    from the rules and the record whenever their inputs change; an ``*_override`` written
    from the cylinder's own records wins.
    """

    __tablename__ = "cylinders"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(CODE_MAX), unique=True)
    model: Mapped[str] = mapped_column(String(16), index=True)
    manufacturer: Mapped[str] = mapped_column(String(100))
    serial_no: Mapped[str] = mapped_column(String(64))
    manufactured_on: Mapped[date] = mapped_column(Date)
    tare_kg: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    # Indexed by ix_cylinders_owner_code (leading column).
    owner_company_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    filling_station_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    last_inspected_on: Mapped[date | None] = mapped_column(Date)
    inspection_due_override: Mapped[date | None] = mapped_column(Date)
    scrap_date_override: Mapped[date | None] = mapped_column(Date)
    next_inspection_due: Mapped[date] = mapped_column(Date, index=True)
    scrap_date: Mapped[date] = mapped_column(Date, index=True)
    # Not indexed, like the other columns a scan changes (save the rare holder): an update
    # that touches no indexed column can be HOT on PostgreSQL, which writes no index
    # entries. The table's fill factor (migration 0013) leaves the room in each page.
    state: Mapped[CylinderState] = mapped_column(
        EnumText(CylinderState), default=CylinderState.REGISTERED
    )
    stopped: Mapped[bool] = mapped_column(default=False)
    lost: Mapped[bool] = mapped_column(default=False)
    overfilled: Mapped[bool] = mapped_column(default=False)
    underfilled: Mapped[bool] = mapped_column(default=False)
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    registered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT")
    )
    scrapped_at: Mapped[datetime | None]
    scrap_reason: Mapped[str | None] = mapped_column(String(300))
    # Where the last accepted scan saw it, who holds it now (a delivery's buyer), and when
    # the latest accepted scan happened: a scan older than that is a late one and replays.
    location_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    holder_customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="RESTRICT")
    )
    held_since: Mapped[datetime | None]
    last_scan_at: Mapped[datetime | None]

    owner_company: Mapped[Organisation] = relationship(
        foreign_keys=[owner_company_id], lazy="joined", innerjoin=True
    )
    filling_station: Mapped[Organisation] = relationship(
        foreign_keys=[filling_station_id], lazy="joined", innerjoin=True
    )

    __table_args__ = (
        UniqueConstraint("manufacturer", "serial_no"),
        enum_check("state", CylinderState),
        CheckConstraint("tare_kg > 0", name="tare_positive"),
        CheckConstraint("code = upper(code) AND length(code) >= 6", name="code_form"),
        CheckConstraint(
            "(state = 'scrapped') = (scrapped_at IS NOT NULL)", name="scrapped_has_time"
        ),
        Index("ix_cylinders_owner_code", "owner_company_id", "code"),
        # Partial: most cylinders are held by nobody, and each scan rewrites the row.
        Index(
            "ix_cylinders_holder_customer_id",
            "holder_customer_id",
            postgresql_where=text("holder_customer_id IS NOT NULL"),
            sqlite_where=text("holder_customer_id IS NOT NULL"),
        ),
    )

    def __repr__(self) -> str:
        return f"<Cylinder {self.code} {self.model} {self.state}>"


class CylinderInspection(Base):
    """One periodic inspection (GB/T 8334) result; a failure scraps the cylinder."""

    __tablename__ = "cylinder_inspections"

    id: Mapped[int] = mapped_column(primary_key=True)
    cylinder_id: Mapped[int] = mapped_column(
        ForeignKey("cylinders.id", ondelete="RESTRICT"), index=True
    )
    inspected_on: Mapped[date] = mapped_column(Date)
    passed: Mapped[bool]
    inspection_body: Mapped[str] = mapped_column(String(200))
    certificate_no: Mapped[str | None] = mapped_column(String(64))
    notes: Mapped[str | None] = mapped_column(String(500))
    next_due_override: Mapped[date | None] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))

    cylinder: Mapped[Cylinder] = relationship()
    recorded_by: Mapped[User | None] = relationship()
