"""The one catering user a request names, as the caller may use it: read, change, visit.

Reading follows ``access.may_read_catering_user`` (by company, or by the premises'
district); a user the caller may not read is NotFound, so its existence never leaks.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from cylinder_trace.access import may_read_catering_user, readable
from cylinder_trace.customers.models import Customer
from cylinder_trace.customers.services import may_change_customer
from cylinder_trace.domain.errors import DomainError, Forbidden, NotFound
from cylinder_trace.domain.roles import COMPANY_ROLES
from cylinder_trace.principal import Principal


def get_visible_catering_user(session: Session, principal: Principal, customer_id: int) -> Customer:
    """One catering user the caller may read; NotFound otherwise."""
    missing = NotFound(f"No catering user {customer_id}.", code="catering_user_not_found")
    customer = session.get(Customer, customer_id)
    return readable(principal, customer, may_read_catering_user, missing)


def get_managed_catering_user(session: Session, principal: Principal, customer_id: int) -> Customer:
    """A catering user the caller may change: its company's staff, or a system admin."""
    customer = get_visible_catering_user(session, principal, customer_id)
    if not may_change_customer(principal, customer):
        raise Forbidden("You may read this catering user but not change it.")
    return customer


def get_checkable_catering_user(
    session: Session, principal: Principal, customer_id: int
) -> Customer:
    """A catering user the caller may record a visit to: staff of its own gas company.

    A check is the company's statement that its person was at the door, so it names a
    person (no bare device token) of that company; system admins read checks but do not
    record them.
    """
    customer = get_visible_catering_user(session, principal, customer_id)
    if (
        principal.user_id is None
        or principal.role not in COMPANY_ROLES
        or principal.company_id != customer.company_id
    ):
        raise Forbidden("Only the gas company's own staff record visits to its users.")
    if not customer.active:
        raise DomainError(
            "This catering user is deactivated; visits are no longer recorded.",
            code="catering_user_inactive",
            kind="refused",
        )
    return customer
