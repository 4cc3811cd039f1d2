"""Periodic inspection due dates and scrap dates (GB/T 8334, GB 5842).

All dates are calendar dates in China. Conventions, chosen once and used everywhere:

* Intervals are calendar months and years. When the target month is shorter, the day
  is clamped to its last day: 2024-02-29 + 48 months is 2028-02-29, + 12 months is
  2025-02-28; 2023-01-31 + 1 month is 2023-02-28. Clamping moves the date earlier,
  never later, so the cylinder is never allowed a day beyond its interval.
* A due date or a scrap date is the last day the cylinder may still be used: on the
  date itself it is not overdue, the day after it is. This matches how a stamped
  "next inspection 2028-05" or a certificate date is read in practice.
* Per-cylinder overrides (a date written on the cylinder's record by an inspector or a
  regulator) win over anything computed.
"""

from __future__ import annotations

import calendar
from datetime import date

from cylinder_trace.domain.rules import RuleSettings


def add_months(start: date, months: int) -> date:
    """``start`` plus a number of calendar months, clamping the day to the month's end."""
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(start.day, last_day))


def add_years(start: date, years: int) -> date:
    """``start`` plus calendar years; 29 February becomes 28 February in common years."""
    return add_months(start, 12 * years)


def next_inspection_due(
    manufactured_on: date,
    last_inspected_on: date | None,
    rules: RuleSettings,
    *,
    override: date | None = None,
) -> date:
    """The last day before the next periodic inspection is overdue.

    Counted from the last inspection, or from manufacture when never inspected, plus
    ``rules.inspection_interval_months``. ``override`` wins when set.
    """
    if override is not None:
        return override
    base = last_inspected_on if last_inspected_on is not None else manufactured_on
    return add_months(base, rules.inspection_interval_months)


def base_scrap_date(manufactured_on: date, rules: RuleSettings) -> date:
    """The end of the design life: manufacture plus ``rules.design_life_years``."""
    return add_years(manufactured_on, rules.design_life_years)


def life_extension_applies(
    manufactured_on: date, last_passed_inspection_on: date | None, rules: RuleSettings
) -> bool:
    """Whether a passed inspection earns the life extension the rules allow.

    Only where ``rules.life_extension_years`` is more than 0, and only for an inspection
    that falls in the last inspection interval of the design life: after
    ``base scrap date - inspection_interval_months`` and no later than the base scrap
    date. That is the inspection that replaces the one due at the end of design life;
    the mid-life inspection (exactly one interval earlier) does not count, and an
    inspection after the scrap date cannot revive a cylinder that should be scrapped.
    """
    if rules.life_extension_years <= 0 or last_passed_inspection_on is None:
        return False
    end = base_scrap_date(manufactured_on, rules)
    window_opens = add_months(end, -rules.inspection_interval_months)
    return window_opens < last_passed_inspection_on <= end


def scrap_date(
    manufactured_on: date,
    rules: RuleSettings,
    *,
    last_passed_inspection_on: date | None = None,
    override: date | None = None,
) -> date:
    """The last day the cylinder may be used before it must be scrapped.

    Manufacture plus ``rules.design_life_years``, plus ``rules.life_extension_years``
    when life_extension_applies(). ``override`` wins when set.
    """
    if override is not None:
        return override
    years = rules.design_life_years
    if life_extension_applies(manufactured_on, last_passed_inspection_on, rules):
        years += rules.life_extension_years
    return add_years(manufactured_on, years)


def is_inspection_overdue(due: date, today: date) -> bool:
    """True from the day after ``due``; the due date itself is still valid."""
    return today > due


def is_past_scrap_date(scrap_on: date, today: date) -> bool:
    """True from the day after ``scrap_on``; the scrap date itself is the last usable day."""
    return today > scrap_on
