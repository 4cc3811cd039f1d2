"""The Customer aggregate and the audit of every unmasked look at an ID number."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

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

from cylinder_trace.db import Base, EnumText, digits_check, enum_check, utcnow
from cylinder_trace.divisions.models import Division
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.users.models import User


class CustomerKind(StrEnum):
    PERSON = "person"
    BUSINESS = "business"


class PremisesType(StrEnum):
    """Where the gas is used; the catering and YSP118 rules read it."""

    HOUSEHOLD = "household"
    RESTAURANT = "restaurant"
    CANTEEN = "canteen"
    SHOP = "shop"
    FACTORY = "factory"
    OTHER = "other"


class CylinderStorage(StrEnum):
    """Where a catering user keeps its cylinders (the checklist's basement/dining-area rules)."""

    DEDICATED_ROOM = "dedicated_room"
    BASEMENT = "basement"
    FLOOR = "floor"
    DINING_AREA = "dining_area"


# The predicate of the catering review's partial indexes: the active catering users.
_CATERING = "is_catering AND active"


class Customer(Base):
    """A registered buyer of one gas company: a person, or a business and its responsible person.

    The ID number (the person's, or the business's responsible person's) is stored only
    encrypted, as a keyed hash for lookups, and masked for display; see customers.crypto.
    One person is one customer per company (by ID hash), one business likewise (by credit
    code); the same person may also be a business's responsible person.

    Premises: ``premises_floor`` is the floor where the cylinders are used (1 is the ground
    floor, negative numbers are basements); ``has_outdoor_cylinder_area`` says there is a
    place outside the building for cylinders, the only place GB 5842-2023 allows a YSP118;
    ``has_cylinder_room`` a dedicated cylinder room (needed above 100 kg on site).
    """

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[CustomerKind] = mapped_column(EnumText(CustomerKind))
    name: Mapped[str] = mapped_column(String(200))
    id_number_encrypted: Mapped[str] = mapped_column(String(255))
    id_number_hash: Mapped[str] = mapped_column(String(64), index=True)
    id_number_masked: Mapped[str] = mapped_column(String(18))
    credit_code: Mapped[str | None] = mapped_column(String(18))
    responsible_person: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(300))
    division_code: Mapped[str] = mapped_column(String(6), index=True)
    is_catering: Mapped[bool] = mapped_column(default=False)
    premises_type: Mapped[PremisesType] = mapped_column(
        EnumText(PremisesType), default=PremisesType.HOUSEHOLD
    )
    premises_floor: Mapped[int | None]
    has_outdoor_cylinder_area: Mapped[bool] = mapped_column(default=False)
    has_cylinder_room: Mapped[bool] = mapped_column(default=False)
    # Random and unguessable, printed on the customer card instead of the database id.
    card_code: Mapped[str] = mapped_column(String(32), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    # When the customer was last deactivated (NULL while active): an offline delivery is
    # judged by whether the buyer was active when it happened, not when it arrives.
    deactivated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))

    # Catering users (cylinder_trace.catering): safety equipment, NULL while not yet recorded.
    leak_alarm_installed: Mapped[bool | None]
    leak_alarm_working: Mapped[bool | None]
    leak_alarm_tested_on: Mapped[date | None] = mapped_column(Date)
    hose_metal: Mapped[bool | None]
    self_closing_valve: Mapped[bool | None]
    cylinder_storage: Mapped[CylinderStorage | None] = mapped_column(EnumText(CylinderStorage))
    cylinders_on_site: Mapped[int | None]
    kg_on_site: Mapped[Decimal | None] = mapped_column(Numeric(7, 1))
    # Check status, kept by cylinder_trace.catering.checks in the check's own transaction:
    # the last counted check (nobody-home visits excluded), the last visit of any kind, and
    # the open hazards (how many, earliest deadline), so lists filter and sort in SQL.
    last_check_at: Mapped[datetime | None]
    last_visit_at: Mapped[datetime | None]
    open_hazard_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    next_hazard_deadline: Mapped[date | None] = mapped_column(Date)

    company: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)
    # The premises' district by name, where the divisions table knows it.
    division: Mapped[Division | None] = relationship(
        primaryjoin="foreign(Customer.division_code) == Division.code", viewonly=True
    )

    __table_args__ = (
        enum_check("kind", CustomerKind),
        enum_check("premises_type", PremisesType),
        digits_check("division_code", 6),
        CheckConstraint(
            "(kind = 'person' AND credit_code IS NULL AND responsible_person IS NULL)"
            " OR (kind = 'business' AND credit_code IS NOT NULL"
            " AND responsible_person IS NOT NULL)",
            name="kind_fields",
        ),
        CheckConstraint(
            "credit_code IS NULL"
            " OR (length(credit_code) = 18 AND credit_code = upper(credit_code))",
            name="credit_code_form",
        ),
        # The masked form is the only readable trace of the number: never the number itself.
        CheckConstraint(
            "length(id_number_masked) = 18 AND substr(id_number_masked, 7, 8) = '********'",
            name="id_number_masked_form",
        ),
        CheckConstraint("length(id_number_hash) = 64", name="id_number_hash_form"),
        CheckConstraint("NOT is_catering OR kind = 'business'", name="catering_is_business"),
        CheckConstraint("NOT active OR deactivated_at IS NULL", name="deactivated_when_inactive"),
        CheckConstraint("premises_floor IS NULL OR premises_floor <> 0", name="premises_floor"),
        # Partial: a person's number may also be a business's responsible person's.
        Index(
            "uq_customers_company_person_id_number",
            "company_id",
            "id_number_hash",
            unique=True,
            sqlite_where=text("kind = 'person'"),
            postgresql_where=text("kind = 'person'"),
        ),
        # Persons have no credit code, and NULLs never clash, so a plain constraint is enough.
        UniqueConstraint("company_id", "credit_code"),
        enum_check("cylinder_storage", CylinderStorage),
        CheckConstraint(
            "leak_alarm_installed IS TRUE"
            " OR (leak_alarm_working IS NOT TRUE AND leak_alarm_tested_on IS NULL)",
            name="leak_alarm_needs_alarm",
        ),
        CheckConstraint(
            "(cylinders_on_site IS NULL OR cylinders_on_site >= 0)"
            " AND (kg_on_site IS NULL OR kg_on_site >= 0)",
            name="on_site_not_negative",
        ),
        CheckConstraint("open_hazard_count >= 0", name="open_hazard_count_not_negative"),
        CheckConstraint(
            "(open_hazard_count = 0) = (next_hazard_deadline IS NULL)", name="hazard_deadline"
        ),
        CheckConstraint(
            "last_check_at IS NULL"
            " OR (last_visit_at IS NOT NULL AND last_visit_at >= last_check_at)",
            name="check_is_a_visit",
        ),
        # The catering review (cylinder_trace.catering): due/overdue lists by district,
        # company or the whole jurisdiction, ordered by last check, their counts, and the
        # summary grouped by (district, company) in index order; the INCLUDEd columns let
        # PostgreSQL count and group from the index alone.
        Index(
            "ix_customers_catering_division_company_last_check",
            "division_code",
            "company_id",
            "last_check_at",
            postgresql_include=["open_hazard_count", "next_hazard_deadline"],
            sqlite_where=text(_CATERING),
            postgresql_where=text(_CATERING),
        ),
        Index(
            "ix_customers_catering_company_last_check",
            "company_id",
            "last_check_at",
            postgresql_include=["division_code", "open_hazard_count", "next_hazard_deadline"],
            sqlite_where=text(_CATERING),
            postgresql_where=text(_CATERING),
        ),
        Index(
            "ix_customers_catering_last_check",
            "last_check_at",
            # Not company_id: the summary must use the (district, company) index above.
            postgresql_include=["division_code", "next_hazard_deadline"],
            sqlite_where=text(_CATERING),
            postgresql_where=text(_CATERING),
        ),
        # Users with open hazards, by earliest deadline: the past-deadline lists and counts.
        Index(
            "ix_customers_catering_hazard_deadline",
            "next_hazard_deadline",
            postgresql_include=["company_id", "division_code", "id"],
            sqlite_where=text(f"{_CATERING} AND next_hazard_deadline IS NOT NULL"),
            postgresql_where=text(f"{_CATERING} AND next_hazard_deadline IS NOT NULL"),
        ),
        Index(
            "ix_customers_catering_name",
            "name",
            sqlite_where=text(_CATERING),
            postgresql_where=text(_CATERING),
        ),
    )

    def __repr__(self) -> str:
        # Never the ID number: reprs end up in logs and tracebacks.
        return f"<Customer {self.id} {self.kind} {self.id_number_masked}>"


class IdNumberReveal(Base):
    """One time someone saw a customer's ID number unmasked: who, when, why, from where."""

    __tablename__ = "id_number_reveals"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="RESTRICT"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    revealed_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(String(500))
    request_ip: Mapped[str | None] = mapped_column(String(45))

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (CheckConstraint("length(trim(reason)) >= 2", name="reason_given"),)

    def __repr__(self) -> str:
        return f"<IdNumberReveal {self.id} customer={self.customer_id} user={self.user_id}>"
