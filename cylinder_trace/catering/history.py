"""A catering user's history, read: its visits, one visit and its files, the hazards each
visit opened and closed, and the hazard lists.

Hazard lists are scoped by ``access.catering_user_condition``, as the user list is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from cylinder_trace.access import catering_user_condition
from cylinder_trace.catering.models import CateringCheck, CateringCheckFile, CateringHazard
from cylinder_trace.catering.review import district_condition
from cylinder_trace.catering.status import Period, hazard_past_deadline
from cylinder_trace.customers.models import Customer
from cylinder_trace.domain.errors import NotFound
from cylinder_trace.principal import Principal


def checks_of(customer: Customer) -> Select[tuple[CateringCheck]]:
    """A catering user's visits, newest first."""
    return (
        select(CateringCheck)
        .where(CateringCheck.customer_id == customer.id)
        .order_by(CateringCheck.checked_at.desc(), CateringCheck.id.desc())
    )


def get_check(session: Session, customer: Customer, check_id: int) -> CateringCheck:
    """One visit of this catering user; NotFound for another user's or no visit."""
    check = session.scalar(
        select(CateringCheck).where(
            CateringCheck.id == check_id, CateringCheck.customer_id == customer.id
        )
    )
    if check is None:
        raise NotFound(f"No check {check_id} of this catering user.", code="check_not_found")
    return check


def hazards_changed_by(
    session: Session, checks: Sequence[CateringCheck]
) -> dict[int, tuple[list[int], list[int]]]:
    """Per check: ids of the hazards it opened and of those it closed."""
    ids = [check.id for check in checks]
    changed: dict[int, tuple[list[int], list[int]]] = {check_id: ([], []) for check_id in ids}
    if not ids:
        return changed
    rows = session.execute(
        select(
            CateringHazard.id, CateringHazard.opened_by_check_id, CateringHazard.closed_by_check_id
        )
        .where(
            or_(
                CateringHazard.opened_by_check_id.in_(ids),
                CateringHazard.closed_by_check_id.in_(ids),
            )
        )
        .order_by(CateringHazard.id)
    ).all()
    for hazard_id, opened_by, closed_by in rows:
        if opened_by in changed:
            changed[opened_by][0].append(hazard_id)
        if closed_by in changed:
            changed[closed_by][1].append(hazard_id)
    return changed


def get_check_file(check: CateringCheck, file_id: int) -> CateringCheckFile:
    """One photo or signature of a visit (already loaded with it); NotFound otherwise."""
    for stored in check.files:
        if stored.id == file_id:
            return stored
    raise NotFound(f"No file {file_id} in this check.", code="check_file_not_found")


def hazard_select(
    principal: Principal, filters: dict[str, Any], period: Period
) -> Select[tuple[CateringHazard]]:
    """Hazards of the catering users the caller may read, filtered; newest first.

    Filters: ``customer_id``, ``district`` (the premises'), ``company_id``, ``item_code``,
    ``state``: open, past_deadline (open, deadline before ``period.today``) or closed.
    """
    conditions = [catering_user_condition(principal)]
    if filters.get("customer_id") is not None:
        conditions.append(Customer.id == filters["customer_id"])
    if filters.get("district"):
        conditions.append(district_condition(filters["district"]))
    if filters.get("company_id") is not None:
        conditions.append(Customer.company_id == filters["company_id"])
    state = filters.get("state")
    if state == "open":
        conditions.append(CateringHazard.closed_at.is_(None))
    elif state == "past_deadline":
        conditions.append(hazard_past_deadline(period))
    elif state == "closed":
        conditions.append(CateringHazard.closed_at.is_not(None))
    if filters.get("item_code"):
        conditions.append(CateringHazard.item_code == filters["item_code"])
    return (
        select(CateringHazard)
        .join(Customer, Customer.id == CateringHazard.customer_id)
        .where(*conditions)
        .order_by(CateringHazard.opened_at.desc(), CateringHazard.id.desc())
    )
