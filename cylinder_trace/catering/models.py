"""Door-to-door checks of catering users, their checklist items, files, and hazards.

Rows are facts and are never deleted. The catering user's own status columns
(``Customer.last_check_at`` … ``next_hazard_deadline``) summarise these tables; the
check service keeps them in step in the same transaction as the check.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cylinder_trace.customers.models import Customer
from cylinder_trace.db import Base, EnumText, enum_check, utcnow
from cylinder_trace.devices.models import Device
from cylinder_trace.users.models import User


class VisitOutcome(StrEnum):
    """What happened at the door. Only a completed visit counts as the period's check."""

    COMPLETED = "completed"
    NOBODY_HOME = "nobody_home"


class ItemResult(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"


class FileKind(StrEnum):
    PHOTO = "photo"
    SIGNATURE = "signature"


class ImageType(StrEnum):
    JPEG = "image/jpeg"
    PNG = "image/png"


class CateringCheck(Base):
    """One visit by a gas company's staff member to a catering user.

    ``checked_at`` is when the visit happened (the handheld's clock, or the time it was
    recorded); ``recorded_at`` when the service stored it. A ``nobody_home`` visit is kept
    as evidence of the attempt but has no items, no signature, and is not a check.
    """

    __tablename__ = "catering_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    outcome: Mapped[VisitOutcome] = mapped_column(EnumText(VisitOutcome))
    checked_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    checked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="RESTRICT"))
    signer_name: Mapped[str | None] = mapped_column(String(100))
    notes: Mapped[str | None] = mapped_column(String(1000))

    customer: Mapped[Customer] = relationship(lazy="raise")
    checked_by: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    device: Mapped[Device | None] = relationship(lazy="raise")
    items: Mapped[list[CateringCheckItem]] = relationship(
        lazy="selectin", order_by="CateringCheckItem.position"
    )
    files: Mapped[list[CateringCheckFile]] = relationship(
        lazy="selectin", order_by="[CateringCheckFile.kind, CateringCheckFile.position]"
    )

    __table_args__ = (
        enum_check("outcome", VisitOutcome),
        CheckConstraint(
            "outcome = 'completed' OR signer_name IS NULL", name="nobody_home_unsigned"
        ),
        CheckConstraint(
            "signer_name IS NULL OR length(trim(signer_name)) > 0", name="signer_name_given"
        ),
        # A user's history, newest first; and the latest counted check when recomputing.
        Index("ix_catering_checks_customer_checked_at", "customer_id", "checked_at"),
    )

    @property
    def counted(self) -> bool:
        """Whether this visit is the period's check (somebody was there)."""
        return self.outcome == VisitOutcome.COMPLETED

    def __repr__(self) -> str:
        return f"<CateringCheck {self.id} customer={self.customer_id} {self.outcome}>"


class CateringCheckItem(Base):
    """The result of one checklist item in one completed check."""

    __tablename__ = "catering_check_items"

    check_id: Mapped[int] = mapped_column(
        ForeignKey("catering_checks.id", ondelete="RESTRICT"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The item's place in the checklist as it was configured when the check was made.
    position: Mapped[int]
    result: Mapped[ItemResult] = mapped_column(EnumText(ItemResult))
    note: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        enum_check("result", ItemResult),
        CheckConstraint("position >= 0", name="position_not_negative"),
    )


class CateringCheckFile(Base):
    """A photo or the signature image of a check, stored by content (sha256) on disk.

    Only JPEG and PNG are accepted, recognised by their first bytes; a signature is a PNG.
    """

    __tablename__ = "catering_check_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(
        ForeignKey("catering_checks.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[FileKind] = mapped_column(EnumText(FileKind))
    position: Mapped[int]
    content_type: Mapped[ImageType] = mapped_column(EnumText(ImageType))
    size_bytes: Mapped[int]
    # Indexed for pruning: which stored files does any check still refer to?
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    stored_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        enum_check("kind", FileKind),
        enum_check("content_type", ImageType),
        # One signature per check, photos numbered from 0.
        UniqueConstraint("check_id", "kind", "position"),
        CheckConstraint("position >= 0 AND (kind = 'photo' OR position = 0)", name="position"),
        CheckConstraint("kind = 'photo' OR content_type = 'image/png'", name="signature_png"),
        CheckConstraint("size_bytes > 0", name="size_positive"),
        CheckConstraint(
            "length(sha256) = 64 AND ltrim(sha256, '0123456789abcdef') = ''", name="sha256_hex"
        ),
    )


class CateringHazard(Base):
    """A hazard a check found (a failed checklist item), open until a later check verifies
    the fix.

    ``opened_at``/``closed_at`` are the ``checked_at`` of the checks that found and closed
    it, copied here so the database itself refuses a close that is not later. At most one
    hazard per item is open for a user at a time: a repeat failure keeps the open one.
    """

    __tablename__ = "catering_hazards"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="RESTRICT"), index=True
    )
    item_code: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(500))
    # Fix by the end of this day, China time; past it while open the hazard is overdue.
    deadline: Mapped[date] = mapped_column(Date)
    opened_by_check_id: Mapped[int] = mapped_column(
        ForeignKey("catering_checks.id", ondelete="RESTRICT"), index=True
    )
    opened_at: Mapped[datetime]
    closed_by_check_id: Mapped[int | None] = mapped_column(
        ForeignKey("catering_checks.id", ondelete="RESTRICT"), index=True
    )
    closed_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(
            "(closed_by_check_id IS NULL) = (closed_at IS NULL)", name="closed_by_a_check"
        ),
        CheckConstraint("closed_at IS NULL OR closed_at > opened_at", name="closed_later"),
        CheckConstraint(
            "closed_by_check_id IS NULL OR closed_by_check_id <> opened_by_check_id",
            name="closed_by_another_check",
        ),
        Index(
            "uq_catering_hazards_open_item",
            "customer_id",
            "item_code",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
        # Open hazards past their deadline, for the summaries.
        Index(
            "ix_catering_hazards_open_deadline",
            "deadline",
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
    )

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def __repr__(self) -> str:
        state = "open" if self.is_open else "closed"
        return f"<CateringHazard {self.id} customer={self.customer_id} {self.item_code} {state}>"
