"""The check status of catering users as SQL conditions, from the current period's bounds.

Status is a function of ``Customer.last_check_at`` (the last counted check) and the present
instant: the bounds of the current and the previous check period are computed once in
Python (weeks.py, in the configured business time zone) and compared in SQL with the stored
instant, so lists filter, count and sort by status on indexes, never row by row in Python.
Hazards are past their deadline by the same period's ``today``.

``clock`` is the present instant every catering request (API and pages) reads, and the one
place tests set it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, or_

from cylinder_trace.catering.models import CateringHazard
from cylinder_trace.customers.models import Customer
from cylinder_trace.db import utcnow
from cylinder_trace.domain.weeks import (
    CheckState,
    CheckStatus,
    IsoWeek,
    business_week,
    check_status,
    local_date,
    period_bounds,
    period_index,
)

if TYPE_CHECKING:
    from cylinder_trace.config import Settings


@dataclass(frozen=True, slots=True)
class Period:
    """The present check period and what the status conditions compare against."""

    now: datetime
    interval_days: int
    tz: tzinfo
    index: int
    start: datetime
    end: datetime
    previous_start: datetime
    today: date
    # check_status depends on the last check only through its period: one call per period.
    _statuses: dict[int, CheckStatus] = field(default_factory=dict, compare=False, repr=False)
    _weeks: dict[date, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def week(self) -> IsoWeek:
        """The business week of ``now``."""
        return business_week(self.now, self.tz)

    def status_of(self, last_check_at: datetime | None) -> CheckStatus:
        """weeks.check_status of a last check, now (memoised by the check's period)."""
        if last_check_at is None:
            return check_status(None, self.now, self.interval_days, self.tz)
        index = period_index(last_check_at, self.interval_days, self.tz)
        status = self._statuses.get(index)
        if status is None:
            status = check_status(last_check_at, self.now, self.interval_days, self.tz)
            self._statuses[index] = status
        return status

    def week_of(self, instant: datetime) -> str:
        """The business (ISO) week of an instant, as text like 2026-W09."""
        day = local_date(instant, self.tz)
        week = self._weeks.get(day)
        if week is None:
            week = self._weeks[day] = str(IsoWeek.of_date(day))
        return week


def clock() -> datetime:
    """The present instant (tests replace it)."""
    return utcnow()


def current_period(now: datetime, interval_days: int, tz: tzinfo) -> Period:
    """The period ``now`` falls in (an ISO week when the interval is 7 days), in zone ``tz``."""
    now = now.astimezone(UTC)
    index = period_index(now, interval_days, tz)
    start, end = period_bounds(index, interval_days, tz)
    previous_start, _ = period_bounds(index - 1, interval_days, tz)
    return Period(
        now=now,
        interval_days=interval_days,
        tz=tz,
        index=index,
        start=start,
        end=end,
        previous_start=previous_start,
        today=local_date(now, tz),
    )


def period_now(settings: Settings) -> Period:
    """The period of ``clock()``, by the configured interval and business time zone."""
    return current_period(clock(), settings.rules.check_interval_days, settings.time_zone)


# The states that are bands of last_check_at, oldest first: [-inf, previous), [previous,
# start), [start, +inf).
_BANDS = (CheckState.OVERDUE, CheckState.DUE, CheckState.CHECKED_THIS_PERIOD)


def states_condition(states: Iterable[CheckState | str], period: Period) -> ColumnElement[bool]:
    """Customers in any of ``states``, with neighbouring bands merged into one range.

    due + overdue is ``last_check_at < start``: one index range, not an OR of two.
    """
    chosen = {CheckState(state) for state in states}
    bounds = (None, period.previous_start, period.start, None)
    last = Customer.last_check_at
    conditions: list[ColumnElement[bool]] = []
    index = 0
    while index < len(_BANDS):
        if _BANDS[index] not in chosen:
            index += 1
            continue
        end = index
        while end + 1 < len(_BANDS) and _BANDS[end + 1] in chosen:
            end += 1
        low, high = bounds[index], bounds[end + 1]
        parts = [last >= low] if low is not None else []
        if high is not None:
            parts.append(last < high)
        conditions.append(and_(*parts) if parts else last.is_not(None))
        index = end + 1
    if CheckState.NEVER_CHECKED in chosen:
        conditions.append(last.is_(None))
    return or_(*conditions) if len(conditions) != 1 else conditions[0]


def hazard_past_deadline(period: Period) -> ColumnElement[bool]:
    """Hazards still open whose deadline (a date in the business zone) is before today."""
    return and_(CateringHazard.closed_at.is_(None), CateringHazard.deadline < period.today)


def has_hazard_past_deadline(period: Period) -> ColumnElement[bool]:
    """Catering users with an open hazard past its deadline.

    Read from the earliest open deadline the check service keeps on the user (a CHECK
    sets it exactly when a hazard is open), so an index serves it without the hazards.
    """
    return Customer.next_hazard_deadline < period.today
