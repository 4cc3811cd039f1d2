"""The review row: a catering user and its status as the API, the exports and the pages show it.

``catering_user_row`` is the one builder of that row. Lists and exports select
``ROW_COLUMNS`` (no ORM objects: an export reads 100,000 of them) and hand each selected
row to it; one user's row (``row_of``) is the same select for one id. ``hazard_row`` is
the same for a hazard.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import Session

from cylinder_trace.catering.constants import EQUIPMENT_FIELDS
from cylinder_trace.catering.models import CateringHazard
from cylinder_trace.catering.status import Period, has_hazard_past_deadline, hazard_past_deadline
from cylinder_trace.customers.models import Customer
from cylinder_trace.divisions.models import Division
from cylinder_trace.domain.rules import RuleSettings
from cylinder_trace.domain.weeks import CheckState
from cylinder_trace.organisations.models import Organisation

# What a row shows of a catering user, selected as columns.
ROW_COLUMNS = (
    Customer.id,
    Customer.company_id,
    Organisation.name.label("company_name"),
    Customer.name,
    Customer.credit_code,
    Customer.responsible_person,
    Customer.phone,
    Customer.address,
    Customer.division_code,
    Division.name.label("division_name"),  # joined outer: a code may have no name yet
    Customer.premises_type,
    Customer.premises_floor,
    Customer.has_cylinder_room,
    Customer.active,
    Customer.last_check_at,
    Customer.last_visit_at,
    Customer.open_hazard_count,
    Customer.next_hazard_deadline,
    *(getattr(Customer, name) for name in EQUIPMENT_FIELDS),
)


def past_deadline_count(period: Period) -> ColumnElement[int]:
    """Per catering user: its open hazards past their deadline.

    0 without a query when the user's earliest open deadline is not past, which is
    nearly every user.
    """
    counted = (
        select(func.count())
        .where(CateringHazard.customer_id == Customer.id, hazard_past_deadline(period))
        .correlate(Customer)
        .scalar_subquery()
    )
    return case((has_hazard_past_deadline(period), counted), else_=0)


def row_select(period: Period) -> Select[Any]:
    """The row columns and the past-deadline hazard count, from the users and their
    supplier; the caller adds conditions and order."""
    return (
        select(*ROW_COLUMNS, past_deadline_count(period).label("past_deadline_hazards"))
        .join(Organisation, Organisation.id == Customer.company_id)
        .outerjoin(Division, Division.code == Customer.division_code)
    )


def _division_name(row: Any) -> str | None:
    if isinstance(row, Customer):
        return row.division.name if row.division is not None else None
    return row.division_name


def catering_user_row(row: Any, past_deadline: int, period: Period) -> dict[str, Any]:
    """One catering user as the list, the exports, the detail and the pages show it (flat).

    ``row`` is a row of ``row_select`` (``past_deadline``: its ``past_deadline_hazards``)
    or a loaded Customer (``past_deadline``: ``count_past_deadline``); both give the same
    row. Status and weeks are those of ``period``.
    """
    status = period.status_of(row.last_check_at)
    never = status.state == CheckState.NEVER_CHECKED
    return {
        "id": row.id,
        "company_id": row.company_id,
        "company_name": row.company.name if isinstance(row, Customer) else row.company_name,
        "name": row.name,
        "credit_code": row.credit_code,
        "responsible_person": row.responsible_person,
        "phone": row.phone,
        "address": row.address,
        "division_code": row.division_code,
        "division_name": _division_name(row),
        "premises_type": row.premises_type,
        "premises_floor": row.premises_floor,
        "has_cylinder_room": row.has_cylinder_room,
        "active": row.active,
        "status": status.state,
        "missed_periods": None if never else status.missed_periods,
        "last_check_at": row.last_check_at,
        "last_check_week": None if never else period.week_of(row.last_check_at),
        "last_visit_at": row.last_visit_at,
        "open_hazards": row.open_hazard_count,
        "past_deadline_hazards": int(past_deadline or 0),
        "next_hazard_deadline": row.next_hazard_deadline,
        **{name: getattr(row, name) for name in EQUIPMENT_FIELDS},
    }


def row_of(session: Session, customer: Customer, period: Period) -> dict[str, Any]:
    """One catering user's row, selected as the list selects it (one query)."""
    row = session.execute(row_select(period).where(Customer.id == customer.id)).one()
    return catering_user_row(row, row.past_deadline_hazards, period)


def count_past_deadline(session: Session, customer: Customer, period: Period) -> int:
    """How many of one user's open hazards are past their deadline."""
    return (
        session.scalar(
            select(func.count()).where(
                CateringHazard.customer_id == customer.id, hazard_past_deadline(period)
            )
        )
        or 0
    )


def hazard_row(hazard: CateringHazard, rules: RuleSettings, period: Period) -> dict[str, Any]:
    """One hazard as the API and the pages show it, with its checklist item's names."""
    labels = {item.code: item for item in rules.catering_checklist}
    item = labels.get(hazard.item_code)
    return {
        "id": hazard.id,
        "customer_id": hazard.customer_id,
        "item_code": hazard.item_code,
        "item_zh": item.zh if item else None,
        "item_en": item.en if item else None,
        "note": hazard.note,
        "deadline": hazard.deadline,
        "state": "open" if hazard.is_open else "closed",
        "past_deadline": hazard.is_open and hazard.deadline < period.today,
        "opened_by_check_id": hazard.opened_by_check_id,
        "opened_at": hazard.opened_at,
        "closed_by_check_id": hazard.closed_by_check_id,
        "closed_at": hazard.closed_at,
    }
