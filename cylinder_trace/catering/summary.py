"""The bureau's summary: catering users by check status and hazards, per supplier company
and per district, over the same scope and filters as the list."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from cylinder_trace.catering.models import CateringHazard
from cylinder_trace.catering.review import list_conditions
from cylinder_trace.catering.status import Period, has_hazard_past_deadline, hazard_past_deadline
from cylinder_trace.customers.models import Customer
from cylinder_trace.divisions.services import division_names
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.principal import Principal


@dataclass(slots=True)
class Counts:
    """Counts of one group of catering users."""

    catering_users: int = 0
    checked_this_period: int = 0
    due: int = 0
    overdue: int = 0
    never_checked: int = 0
    users_with_open_hazards: int = 0
    open_hazards: int = 0
    overdue_hazards: int = 0

    @property
    def check_rate(self) -> float | None:
        """Checked this period / catering users (4 decimals), None for no users."""
        if not self.catering_users:
            return None
        return round(self.checked_this_period / self.catering_users, 4)

    def as_dict(self) -> dict[str, Any]:
        """The counts as the API's CountsSchema reads them."""
        return {
            **{name: getattr(self, name) for name in COUNT_FIELDS},
            "check_rate": self.check_rate,
        }


COUNT_FIELDS = tuple(item.name for item in fields(Counts))


@dataclass
class Summary:
    """The counts of ``summarise``: in total, per company (with names), per district."""

    period: Period
    total: Counts = field(default_factory=Counts)
    by_company: dict[int, Counts] = field(default_factory=dict)
    by_district: dict[str, Counts] = field(default_factory=dict)
    company_names: dict[int, str] = field(default_factory=dict)
    division_names: dict[str, str] = field(default_factory=dict)


def summarise(
    session: Session, principal: Principal, filters: dict[str, Any], period: Period
) -> Summary:
    """Counts by status and hazards, per supplier company and per district.

    Two grouped queries over the caller's scope, grouped by (company, district): one on
    the catering users' status columns, one on the open hazards past their deadline; the
    groups are then added up per company and per district.
    """
    conditions = list_conditions(principal, {**filters, "status": None, "hazard": None}, period)
    last = Customer.last_check_at
    if session.get_bind().dialect.name == "postgresql":
        # Measured on 100,000 users (bench/bench_catering.py, 2 cores): starting parallel
        # workers costs more than they save on one pass over an index; this transaction only.
        session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    grouped = session.execute(
        select(
            Customer.company_id,
            Customer.division_code,
            func.count(),
            func.count(last),
            func.count().filter(last >= period.start),
            func.count().filter(last >= period.previous_start),
            func.count().filter(Customer.open_hazard_count > 0),
            func.sum(Customer.open_hazard_count),
        )
        .where(*conditions)
        # In the order of ix_customers_catering_division_company_last_check: no hashing.
        .group_by(Customer.division_code, Customer.company_id)
    ).all()
    # Only users whose earliest open deadline is past can have past-deadline hazards;
    # saying so lets the query start from the few of them.
    overdue_hazards = {
        (company_id, division): count
        for company_id, division, count in session.execute(
            select(Customer.company_id, Customer.division_code, func.count())
            .select_from(CateringHazard)
            .join(Customer, Customer.id == CateringHazard.customer_id)
            .where(hazard_past_deadline(period), has_hazard_past_deadline(period), *conditions)
            .group_by(Customer.company_id, Customer.division_code)
        )
    }
    width = len(COUNT_FIELDS)
    total = [0] * width
    by_company: dict[int, list[int]] = {}
    by_district: dict[str, list[int]] = {}
    for company_id, division, users, checked_ever, this_period, since_previous, *hazards in grouped:
        with_hazards, open_hazards = hazards
        values = [  # in the order of COUNT_FIELDS
            users,
            this_period,
            since_previous - this_period,
            checked_ever - since_previous,
            users - checked_ever,
            with_hazards,
            int(open_hazards or 0),
            overdue_hazards.get((company_id, division), 0),
        ]
        for target in (
            total,
            by_company.setdefault(company_id, [0] * width),
            by_district.setdefault(division, [0] * width),
        ):
            for index, value in enumerate(values):
                target[index] += value
    summary = Summary(
        period=period,
        total=Counts(*total),
        by_company={key: Counts(*values) for key, values in by_company.items()},
        by_district={key: Counts(*values) for key, values in by_district.items()},
    )
    if summary.by_company:
        summary.company_names = dict(
            session.execute(
                select(Organisation.id, Organisation.name).where(
                    Organisation.id.in_(summary.by_company)
                )
            ).all()
        )
    summary.division_names = division_names(session, summary.by_district)
    return summary


def summary_document(summary: Summary) -> dict[str, Any]:
    """The summary as the API returns it."""
    period = summary.period
    return {
        "as_of": period.now,
        "today": period.today,
        "interval_days": period.interval_days,
        "period_start": period.start,
        "period_end": period.end,
        "week": str(period.week),
        "total": summary.total.as_dict(),
        "by_company": [
            {
                "company_id": company_id,
                "company_name": summary.company_names.get(company_id, ""),
                **counts.as_dict(),
            }
            for company_id, counts in sorted(summary.by_company.items())
        ],
        "by_district": [
            {
                "division_code": code,
                "division_name": summary.division_names.get(code),
                **counts.as_dict(),
            }
            for code, counts in sorted(summary.by_district.items())
        ],
    }
