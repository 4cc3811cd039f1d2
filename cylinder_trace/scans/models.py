"""The Scan record (append-only, hash-chained per cylinder) and the chain heads."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    Uuid,
    and_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from cylinder_trace.db import Base, EnumText, enum_check
from cylinder_trace.domain.lifecycle import Outcome, ScanKind


class ScanResult(StrEnum):
    """What the service answered when the scan arrived; never changed afterwards."""

    ACCEPTED = "accepted"
    ACCEPTED_WITH_VIOLATION = "accepted_with_violation"
    REJECTED = "rejected"


# Refused when received, or kept with a verdict the complete history still supports: what
# regulators review.
NEEDS_REVIEW = "result = 'rejected' OR review_code IS NOT NULL"

# BigInteger ids on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Scan(Base):
    """One scan as the scanner reported it and as the service judged it.

    Append-only: the immutable fields are hashed, each record's hash covers the previous
    record of the same chain (one chain per scanned code), so an edited or deleted record
    is found by ``verify_chains``. ``result`` and ``result_code`` are the answer given when
    the scan arrived. ``review_code`` is the one field that changes later: the verdict of
    the complete history on a kept scan (None: nothing wrong), re-judged when a late scan
    arrives; each change is kept in ``scan_verdict_changes``.
    """

    __tablename__ = "scans"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[ScanKind] = mapped_column(EnumText(ScanKind))
    outcome: Mapped[Outcome | None] = mapped_column(EnumText(Outcome))
    # What was scanned (a code or a whole QR payload), and the cylinder it named, if any.
    scanned: Mapped[str] = mapped_column(String(300))
    chain_key: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int]
    # Not indexed: a cylinder's scans are found by their chain (``of_cylinder``). Cylinders
    # are never deleted, so the foreign key's RESTRICT needs no index either.
    cylinder_id: Mapped[int | None] = mapped_column(ForeignKey("cylinders.id", ondelete="RESTRICT"))
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime]
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="RESTRICT"))
    # The caller's organisation, and the site where the scan happened (station, supply point).
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    site_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    latitude: Mapped[float | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[float | None] = mapped_column(Numeric(9, 6))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    # The gas company the scan belongs to: the owner of the cylinder it names, else the
    # scanning organisation's company (None for an authority's scan of an unknown code).
    # Derived, so not hashed; it scopes every company list without a join, and it is the
    # distribution column of a sharded deployment (docs/scale-out.md).
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    interactive: Mapped[bool]
    result: Mapped[ScanResult] = mapped_column(EnumText(ScanResult))
    result_code: Mapped[str | None] = mapped_column(String(64))
    result_message: Mapped[str | None] = mapped_column(String(300))
    review_code: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    record_hash: Mapped[str] = mapped_column(String(64))

    @classmethod
    def of_cylinder(cls, cylinder_id: int, code: str) -> ColumnElement[bool]:
        """The scans of one cylinder, found by the chain index: every scan that names a
        cylinder joins its chain (``chain_key`` is its code). No index on ``cylinder_id``
        is kept: at a province's size it would cost each scan a write to a random page."""
        return and_(cls.chain_key == code, cls.cylinder_id == cylinder_id)

    __table_args__ = (
        UniqueConstraint("chain_key", "seq"),
        enum_check("kind", ScanKind),
        enum_check("outcome", Outcome),
        enum_check("result", ScanResult),
        CheckConstraint("seq >= 1", name="seq_positive"),
        CheckConstraint(
            "(result = 'accepted') = (result_code IS NULL)", name="result_code_iff_not_accepted"
        ),
        # A site's scans of a kind on a day (a station's fills), in the list's order; the
        # scope columns are included so that counting needs no visit to the table.
        Index(
            "ix_scans_site_kind_occurred",
            "site_id",
            "kind",
            "occurred_at",
            "id",
            postgresql_include=["company_id", "organisation_id"],
        ),
        Index("ix_scans_company_occurred", "company_id", "occurred_at", "id"),
        # Partial indexes: most scans name no buyer and need no review, and every scan
        # insert would otherwise add an entry to both.
        Index(
            "ix_scans_customer_id",
            "customer_id",
            postgresql_where=text("customer_id IS NOT NULL"),
            sqlite_where=text("customer_id IS NOT NULL"),
        ),
        # The review list, in its order (occurred_at, id), for everyone and per company;
        # the scope columns are included so that counting needs no visit to the table.
        Index(
            "ix_scans_needs_review",
            "occurred_at",
            "id",
            postgresql_where=text(NEEDS_REVIEW),
            postgresql_include=["site_id", "organisation_id", "company_id"],
            sqlite_where=text(NEEDS_REVIEW),
        ),
        Index(
            "ix_scans_company_needs_review",
            "company_id",
            "occurred_at",
            "id",
            postgresql_where=text(NEEDS_REVIEW),
            postgresql_include=["site_id", "organisation_id"],
            sqlite_where=text(NEEDS_REVIEW),
        ),
    )


class ScanChain(Base):
    """The head of one chain: its length and last hash, so a removed tail is noticed too."""

    __tablename__ = "scan_chains"

    chain_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    length: Mapped[int]
    head_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (CheckConstraint("length >= 1", name="length_positive"),)


class ScanVerdictChange(Base):
    """One change of a kept scan's verdict, made by the arrival of a late scan. Append-only.

    A regulator asks "was this ever flagged, and why was it cleared?": the scan's first
    verdict is its ``result_code``; every later one is a row here.
    """

    __tablename__ = "scan_verdict_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scan_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("scans.id", ondelete="RESTRICT"), index=True
    )
    previous_code: Mapped[str | None] = mapped_column(String(64))
    new_code: Mapped[str | None] = mapped_column(String(64))
    changed_at: Mapped[datetime]
    # The scan whose arrival rewrote the history (it is stored in the same transaction).
    caused_by_event_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)

    __table_args__ = (
        CheckConstraint(
            "previous_code IS NOT NULL OR new_code IS NOT NULL", name="changes_something"
        ),
    )
