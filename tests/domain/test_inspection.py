"""Inspection due dates and scrap dates: calendar arithmetic and boundaries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cylinder_trace.domain.inspection import (
    add_months,
    add_years,
    base_scrap_date,
    is_inspection_overdue,
    is_past_scrap_date,
    life_extension_applies,
    next_inspection_due,
    scrap_date,
)
from cylinder_trace.domain.rules import RuleSettings


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2022, 5, 10), 48, date(2026, 5, 10)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),  # leap to leap keeps the 29th
        (date(2024, 2, 29), 12, date(2025, 2, 28)),  # clamped
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2024, 3, 31), 1, date(2024, 4, 30)),
        (date(2024, 12, 15), 1, date(2025, 1, 15)),
        (date(2024, 11, 30), 3, date(2025, 2, 28)),
        (date(2025, 3, 31), -1, date(2025, 2, 28)),
        (date(2025, 1, 15), -13, date(2023, 12, 15)),
        (date(2025, 1, 15), 0, date(2025, 1, 15)),
    ],
)
def test_add_months_clamps_to_month_end(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("start", "years", "expected"),
    [
        (date(2016, 2, 29), 8, date(2024, 2, 29)),
        (date(2016, 2, 29), 7, date(2023, 2, 28)),
        (date(2016, 2, 29), 4, date(2020, 2, 29)),
        (date(2018, 7, 1), 8, date(2026, 7, 1)),
    ],
)
def test_add_years(start: date, years: int, expected: date) -> None:
    assert add_years(start, years) == expected


def test_never_inspected_counts_from_manufacture(rules: RuleSettings) -> None:
    assert rules.inspection_interval_months == 48
    assert next_inspection_due(date(2022, 5, 10), None, rules) == date(2026, 5, 10)


def test_inspected_counts_from_last_inspection(rules: RuleSettings) -> None:
    due = next_inspection_due(date(2018, 5, 10), date(2022, 6, 3), rules)
    assert due == date(2026, 6, 3)


def test_leap_day_inspection(rules: RuleSettings) -> None:
    yearly = rules.with_overrides(inspection_interval_months=12)
    assert next_inspection_due(date(2020, 1, 1), date(2024, 2, 29), yearly) == date(2025, 2, 28)
    assert next_inspection_due(date(2020, 1, 1), date(2024, 2, 29), rules) == date(2028, 2, 29)


def test_interval_comes_from_rules(rules: RuleSettings) -> None:
    shorter = rules.with_overrides(inspection_interval_months=36)
    assert next_inspection_due(date(2022, 5, 10), None, shorter) == date(2025, 5, 10)


def test_due_override_wins(rules: RuleSettings) -> None:
    override = date(2025, 1, 1)
    assert next_inspection_due(date(2022, 5, 10), None, rules, override=override) == override
    assert next_inspection_due(date(2018, 1, 1), date(2024, 1, 1), rules, override=override) == (
        override
    )


@pytest.mark.parametrize(
    ("today", "overdue"),
    [
        (date(2026, 5, 9), False),
        (date(2026, 5, 10), False),  # the due date itself is still valid
        (date(2026, 5, 11), True),
        (date(2027, 1, 1), True),
    ],
)
def test_inspection_overdue_boundary(today: date, overdue: bool, rules: RuleSettings) -> None:
    due = next_inspection_due(date(2022, 5, 10), None, rules)
    assert is_inspection_overdue(due, today) is overdue


def test_scrap_date_is_design_life(rules: RuleSettings) -> None:
    assert rules.design_life_years == 8
    assert scrap_date(date(2018, 7, 1), rules) == date(2026, 7, 1)
    assert scrap_date(date(2016, 2, 29), rules) == date(2024, 2, 29)
    seven = rules.with_overrides(design_life_years=7)
    assert scrap_date(date(2016, 2, 29), seven) == date(2023, 2, 28)


@pytest.mark.parametrize(
    ("today", "past"),
    [
        (date(2026, 6, 30), False),
        (date(2026, 7, 1), False),  # the scrap date is the last usable day
        (date(2026, 7, 2), True),
    ],
)
def test_scrap_date_boundary(today: date, past: bool, rules: RuleSettings) -> None:
    assert is_past_scrap_date(scrap_date(date(2018, 7, 1), rules), today) is past


MADE = date(2018, 7, 1)  # design life ends 2026-07-01; last interval opens 2022-07-01


@pytest.mark.parametrize(
    ("passed_on", "applies"),
    [
        (None, False),
        (date(2022, 7, 1), False),  # the mid-life inspection, exactly one interval before
        (date(2022, 7, 2), True),
        (date(2026, 3, 15), True),
        (date(2026, 7, 1), True),  # on the last day of design life
        (date(2026, 7, 2), False),  # too late: it should already have been scrapped
    ],
)
def test_life_extension_window(passed_on: date | None, applies: bool, rules: RuleSettings) -> None:
    extending = rules.with_overrides(life_extension_years=4)
    assert life_extension_applies(MADE, passed_on, extending) is applies
    expected = date(2030, 7, 1) if applies else date(2026, 7, 1)
    assert scrap_date(MADE, extending, last_passed_inspection_on=passed_on) == expected


def test_no_extension_unless_the_rules_allow_it(rules: RuleSettings) -> None:
    assert rules.life_extension_years == 0
    assert not life_extension_applies(MADE, date(2026, 3, 15), rules)
    assert scrap_date(MADE, rules, last_passed_inspection_on=date(2026, 3, 15)) == date(2026, 7, 1)


def test_scrap_override_wins(rules: RuleSettings) -> None:
    extending = rules.with_overrides(life_extension_years=4)
    override = date(2024, 1, 1)
    got = scrap_date(
        MADE, extending, last_passed_inspection_on=date(2026, 3, 15), override=override
    )
    assert got == override


def test_base_scrap_date_ignores_extension(rules: RuleSettings) -> None:
    assert base_scrap_date(MADE, rules.with_overrides(life_extension_years=4)) == date(2026, 7, 1)


def test_due_dates_never_run_past_the_interval(rules: RuleSettings) -> None:
    # Clamping may only shorten an interval: for every day of a leap year and the next,
    # the due date is no later than the same day-of-month would allow.
    start = date(2024, 1, 1)
    for offset in range(731):
        base = start + timedelta(days=offset)
        due = add_months(base, rules.inspection_interval_months)
        assert due.day <= base.day
        assert (due.year - base.year) * 12 + due.month - base.month == 48
