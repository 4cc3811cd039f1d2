"""The bureau's review: the filtered, ordered catering user list, its count, its export.

Who sees which users is ``access.catering_user_condition`` (by company, or by the
premises' district); the filters and the status all become SQL conditions on the users'
status columns, so that lists filter, count and sort on indexes. Rows are built by
``rows.catering_user_row``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from cylinder_trace.access import catering_user_condition, in_jurisdiction
from cylinder_trace.catering.constants import DEFAULT_SORT, SORTS, HazardState
from cylinder_trace.catering.rows import catering_user_row, row_select
from cylinder_trace.catering.status import Period, has_hazard_past_deadline, states_condition
from cylinder_trace.customers.models import Customer
from cylinder_trace.domain.errors import DomainError
from cylinder_trace.domain.jurisdiction import DivisionCodeError
from cylinder_trace.domain.weeks import CheckState
from cylinder_trace.principal import Principal


def district_condition(district: str) -> ColumnElement[bool]:
    """Catering users whose premises lie in ``district`` (a filter a caller typed).

    Raises DomainError ``division_code_invalid`` (field ``district``) for a code that is
    not one.
    """
    try:
        return in_jurisdiction(Customer.division_code, district)
    except DivisionCodeError:
        raise DomainError(
            "district is not a valid 6-digit administrative division code (e.g. 500111).",
            code="division_code_invalid",
            details={"field": "district"},
        ) from None


def list_conditions(
    principal: Principal, filters: dict[str, Any], period: Period
) -> list[ColumnElement[bool]]:
    """Scope and filters of the catering user list, all as SQL conditions.

    Filters (the list schema's): ``active`` (default true), ``status`` (check states),
    ``district``, ``company_id``, ``hazard`` (HazardState), ``q`` (name contains).
    """
    conditions = [catering_user_condition(principal)]
    active = filters.get("active", True)
    conditions.append(Customer.active if active else Customer.active.is_(False))
    states = filters.get("status") or []
    if states:
        conditions.append(states_condition(states, period))
    if filters.get("district"):
        conditions.append(district_condition(filters["district"]))
    if filters.get("company_id") is not None:
        conditions.append(Customer.company_id == filters["company_id"])
    hazard = filters.get("hazard")
    # next_hazard_deadline is set exactly when a hazard is open (a CHECK says so), and is
    # what ix_customers_catering_hazard_deadline holds.
    if hazard == HazardState.NONE:
        conditions.append(Customer.next_hazard_deadline.is_(None))
    elif hazard == HazardState.OPEN:
        conditions.append(Customer.next_hazard_deadline.is_not(None))
    elif hazard == HazardState.PAST_DEADLINE:
        conditions.append(has_hazard_past_deadline(period))
    if filters.get("q"):
        conditions.append(Customer.name.contains(filters["q"], autoescape=True))
    return conditions


def _order_by(sort: str, states: Sequence[str]) -> list[Any]:
    column, descending = SORTS[sort]
    if column is Customer.last_check_at:
        # Never-checked users are the most neglected: first when sorting by last check,
        # last when sorting newest first. Say so only when they can be in the list, so
        # that PostgreSQL can otherwise read the (…, last_check_at) indexes in order.
        never_possible = not states or CheckState.NEVER_CHECKED in states
        if descending:
            key = column.desc().nulls_last() if never_possible else column.desc()
        else:
            key = column.asc().nulls_first() if never_possible else column.asc()
    elif column is Customer.next_hazard_deadline:
        key = column.asc().nulls_last()  # users without open hazards last, on every backend
    else:
        key = column.desc() if descending else column.asc()
    # Ties by id, so that pages never overlap or skip a user.
    tiebreak = Customer.id.desc() if descending else Customer.id.asc()
    return [key] if column is Customer.id else [key, tiebreak]


def catering_user_select(
    principal: Principal, filters: dict[str, Any], period: Period
) -> Select[Any]:
    """The list as one ordered select of row columns and the past-deadline hazard count."""
    states = filters.get("status") or []
    return (
        row_select(period)
        .where(*list_conditions(principal, filters, period))
        .order_by(*_order_by(filters.get("sort") or DEFAULT_SORT, states))
    )


def count_catering_users(
    session: Session, principal: Principal, filters: dict[str, Any], period: Period
) -> int:
    """How many catering users the filtered list holds (all pages)."""
    # count(*), not count(id): the counted columns are all in the catering indexes.
    statement = (
        select(func.count())
        .select_from(Customer)
        .where(*list_conditions(principal, filters, period))
    )
    return session.scalar(statement) or 0


def list_catering_users(
    session: Session,
    principal: Principal,
    filters: dict[str, Any],
    period: Period,
    *,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """One page (or, without ``limit``, all) of the filtered, ordered list, as rows."""
    statement = catering_user_select(principal, filters, period)
    if limit is not None:
        statement = statement.limit(limit).offset(offset)
    return [
        catering_user_row(row, row.past_deadline_hazards, period)
        for row in session.execute(statement)
    ]


def iter_catering_users(
    session: Session,
    principal: Principal,
    filters: dict[str, Any],
    period: Period,
    *,
    batch_size: int = 1000,
) -> Iterator[dict[str, Any]]:
    """Every row of the filtered, ordered list, fetched in batches (for the exports)."""
    statement = catering_user_select(principal, filters, period).execution_options(
        yield_per=batch_size
    )
    for row in session.execute(statement):
        yield catering_user_row(row, row.past_deadline_hazards, period)
