"""Business weeks in China Standard Time and the periodic check status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from cylinder_trace.domain.rules import RuleSettings
from cylinder_trace.domain.weeks import (
    CHINA_TZ,
    CheckState,
    IsoWeek,
    IsoWeekError,
    business_week,
    check_status,
    local_date,
    period_bounds,
    period_index,
    week_end,
    week_start,
    weeks_in_iso_year,
)

from .conftest import REPO_ROOT

CST = timezone(timedelta(hours=8))  # a fixed offset, independent of the zoneinfo under test


def cst(*args: int) -> datetime:
    return datetime(*args, tzinfo=CST)  # type: ignore[misc]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# 2026-03-01 is a Sunday; 2026-12-28 is the Monday of 2026-W53; 2027-01-04 starts 2027-W01.
@pytest.mark.parametrize(
    ("instant", "week"),
    [
        (cst(2026, 3, 1, 23, 30), "2026-W09"),
        (utc(2026, 3, 1, 15, 30), "2026-W09"),  # the same instant as above
        (cst(2026, 3, 1, 23, 59, 59), "2026-W09"),
        (cst(2026, 3, 2, 0, 0), "2026-W10"),
        (utc(2026, 3, 1, 16, 0), "2026-W10"),  # still Sunday in UTC, Monday in China
        (utc(2026, 3, 1, 15, 59, 59), "2026-W09"),
        (cst(2026, 12, 31, 12), "2026-W53"),
        (cst(2027, 1, 3, 23, 59, 59), "2026-W53"),
        (cst(2027, 1, 4, 0, 0), "2027-W01"),
        (utc(2027, 1, 3, 16, 0), "2027-W01"),
        (cst(2025, 12, 29, 0, 0), "2026-W01"),  # ISO year starts in the calendar year before
        (datetime(2026, 3, 1, 11, 0, tzinfo=timezone(timedelta(hours=-5))), "2026-W10"),
    ],
)
def test_business_week(instant: datetime, week: str) -> None:
    assert str(business_week(instant)) == week
    assert business_week(instant, CHINA_TZ) == IsoWeek.parse(week)


@pytest.mark.parametrize(
    "call",
    [
        lambda: business_week(datetime(2026, 3, 1, 23, 30)),
        lambda: local_date(datetime(2026, 3, 1)),
        lambda: check_status(None, datetime(2026, 3, 1), 7),
        lambda: check_status(datetime(2026, 3, 1), utc(2026, 3, 1), 7),
    ],
)
def test_naive_datetimes_are_refused(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


@pytest.mark.parametrize(("year", "weeks"), [(2020, 53), (2025, 52), (2026, 53), (2027, 52)])
def test_weeks_in_iso_year(year: int, weeks: int) -> None:
    assert weeks_in_iso_year(year) == weeks


@pytest.mark.parametrize("text", ["2025-W53", "2026-W54", "2026-W00", "2026-13", "W05", "x"])
def test_impossible_weeks_are_refused(text: str) -> None:
    with pytest.raises(IsoWeekError) as caught:
        IsoWeek.parse(text)
    assert caught.value.code == "iso_week_invalid"


def test_week_bounds_are_half_open_utc() -> None:
    week = IsoWeek(2026, 53)
    assert week_start(week) == utc(2026, 12, 27, 16)
    assert week_end(week) == utc(2027, 1, 3, 16)
    assert week_start(week).tzinfo is UTC
    assert week_end(week) == week_start(IsoWeek(2027, 1))
    assert business_week(week_start(week)) == week
    assert business_week(week_end(week) - timedelta(microseconds=1)) == week
    assert business_week(week_end(week)) == IsoWeek(2027, 1)


@pytest.mark.parametrize(
    ("earlier", "later", "between"),
    [
        ("2026-W53", "2027-W01", 1),
        ("2026-W52", "2027-W02", 3),
        ("2025-W52", "2026-W01", 1),
        ("2026-W10", "2026-W10", 0),
        ("2027-W01", "2026-W53", -1),
        ("2020-W53", "2026-W53", 313),
    ],
)
def test_shifting_a_week_counts_through_year_ends(earlier: str, later: str, between: int) -> None:
    assert IsoWeek.parse(later).shift(-between) == IsoWeek.parse(earlier)
    assert IsoWeek.parse(earlier).shift(between) == IsoWeek.parse(later)


def test_weekly_periods_are_iso_weeks() -> None:
    instant = cst(2024, 1, 1)
    for _ in range(0, 3 * 366, 5):
        week = business_week(instant)
        start, end = period_bounds(period_index(instant, 7), 7)
        assert (start, end) == (week_start(week), week_end(week))
        instant += timedelta(days=5, hours=7)


# --- check status ---------------------------------------------------------------------

NOW = cst(2026, 3, 4, 10)  # Wednesday of 2026-W10


@pytest.mark.parametrize(
    ("last", "now", "state", "missed"),
    [
        (None, NOW, CheckState.NEVER_CHECKED, 0),
        (cst(2026, 3, 2, 0, 0), NOW, CheckState.CHECKED_THIS_PERIOD, 0),  # Monday 00:00
        (cst(2026, 3, 1, 23, 59, 59), NOW, CheckState.DUE, 0),  # Sunday before
        (utc(2026, 3, 1, 15, 30), cst(2026, 3, 2, 0, 0), CheckState.DUE, 0),
        (utc(2026, 3, 1, 15, 30), cst(2026, 3, 1, 23, 59, 59), CheckState.CHECKED_THIS_PERIOD, 0),
        (cst(2026, 2, 23, 9), NOW, CheckState.DUE, 0),  # W09 Monday
        (cst(2026, 2, 22, 23, 59), NOW, CheckState.OVERDUE, 1),  # W08 Sunday
        (cst(2026, 2, 16, 0, 0), NOW, CheckState.OVERDUE, 1),  # W08 Monday
        (cst(2026, 2, 15, 23, 59), NOW, CheckState.OVERDUE, 2),  # W07
        (cst(2026, 12, 20, 12), cst(2027, 1, 4, 0, 0), CheckState.OVERDUE, 2),  # W51 -> W01
        (cst(2026, 12, 27, 12), cst(2027, 1, 4, 0, 0), CheckState.OVERDUE, 1),  # W52 -> W01
        (cst(2026, 12, 28, 0, 0), cst(2027, 1, 4, 0, 0), CheckState.DUE, 0),  # W53 -> W01
        (cst(2026, 3, 9, 8), NOW, CheckState.CHECKED_THIS_PERIOD, 0),  # clock ahead
    ],
)
def test_weekly_check_status(
    last: datetime | None, now: datetime, state: CheckState, missed: int, rules: RuleSettings
) -> None:
    status = check_status(last, now, rules.check_interval_days)
    assert (status.state, status.missed_periods) == (state, missed)
    week = business_week(now)
    assert (status.period_start, status.period_end) == (week_start(week), week_end(week))


def test_overdue_missed_count_follows_weeks(rules: RuleSettings) -> None:
    last = cst(2026, 1, 7, 15)  # 2026-W02
    for weeks_later in range(0, 60):
        now = last + timedelta(weeks=weeks_later)
        status = check_status(last, now, rules.check_interval_days)
        expected = {0: CheckState.CHECKED_THIS_PERIOD, 1: CheckState.DUE}
        assert status.state == expected.get(weeks_later, CheckState.OVERDUE)
        assert status.missed_periods == max(weeks_later - 1, 0)


@pytest.mark.parametrize(
    ("interval", "last", "now", "state", "missed"),
    [
        # 14-day periods from Monday 2001-01-01: 2026-02-23 (Mon) starts one.
        (14, cst(2026, 2, 23, 8), cst(2026, 3, 8, 23, 59), CheckState.CHECKED_THIS_PERIOD, 0),
        (14, cst(2026, 2, 23, 8), cst(2026, 3, 9, 0, 0), CheckState.DUE, 0),
        (14, cst(2026, 2, 22, 23), cst(2026, 3, 9, 0, 0), CheckState.OVERDUE, 1),
        # Daily periods are calendar days in China.
        (1, utc(2026, 3, 1, 15, 59), utc(2026, 3, 1, 16, 0), CheckState.DUE, 0),
        (1, cst(2026, 3, 1, 8), cst(2026, 3, 4, 8), CheckState.OVERDUE, 2),
    ],
)
def test_other_intervals(
    interval: int,
    last: datetime,
    now: datetime,
    state: CheckState,
    missed: int,
    rules: RuleSettings,
) -> None:
    custom = rules.with_overrides(check_interval_days=interval)
    status = check_status(last, now, custom.check_interval_days)
    assert (status.state, status.missed_periods) == (state, missed)


def test_fortnight_periods_start_on_mondays_at_china_midnight() -> None:
    start, end = period_bounds(period_index(cst(2026, 3, 4), 14), 14)
    assert start.astimezone(CHINA_TZ).weekday() == 0
    assert start.astimezone(CHINA_TZ).time().hour == 0
    assert end - start == timedelta(days=14)
    assert local_date(start) == date(2026, 2, 23)


def test_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        period_index(NOW, 0)


# --- independence from the process time zone -----------------------------------------

_PROBE = """
import json
from datetime import datetime, timedelta, timezone
from cylinder_trace.domain.weeks import business_week, check_status, local_date, week_start
from cylinder_trace.domain.weeks import IsoWeek
utc = timezone.utc
instants = [datetime(2026, 3, 1, 15, 30, tzinfo=utc), datetime(2026, 3, 1, 16, 0, tzinfo=utc),
            datetime(2027, 1, 3, 15, 59, 59, tzinfo=utc), datetime(2027, 1, 3, 16, 0, tzinfo=utc)]
out = [str(business_week(i)) for i in instants]
out += [local_date(i).isoformat() for i in instants]
out.append(week_start(IsoWeek(2026, 53)).isoformat())
status = check_status(instants[0], instants[1] + timedelta(weeks=2), 7)
out += [str(status.state), status.missed_periods, status.period_start.isoformat()]
print(json.dumps(out))
"""

EXPECTED_PROBE = [
    "2026-W09",
    "2026-W10",
    "2026-W53",
    "2027-W01",
    "2026-03-01",
    "2026-03-02",
    "2027-01-03",
    "2027-01-04",
    "2026-12-27T16:00:00+00:00",
    "overdue",
    2,  # checked in W09, now in W12: W10 and W11 missed
    "2026-03-15T16:00:00+00:00",
]


@pytest.mark.parametrize(
    "tz_name", ["UTC", "America/New_York", "Asia/Shanghai", "Pacific/Kiritimati"]
)
def test_results_do_not_depend_on_process_tz(tz_name: str) -> None:
    env = dict(os.environ, TZ=tz_name, PYTHONPATH=str(REPO_ROOT))
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == EXPECTED_PROBE


@pytest.mark.parametrize(("tz_name", "epoch_hour"), [("UTC", 0), ("America/New_York", 19)])
def test_in_process_tz_change(
    tz_name: str, epoch_hour: int, set_process_tz: Callable[[str], None]
) -> None:
    set_process_tz(tz_name)
    assert time.localtime(0).tm_hour == epoch_hour  # the change really took effect
    assert str(business_week(utc(2026, 3, 1, 16, 0))) == "2026-W10"
    assert local_date(utc(2027, 1, 3, 16, 0)) == date(2027, 1, 4)
    assert check_status(utc(2026, 3, 1, 15, 30), utc(2026, 3, 1, 16, 0), 7).state == "due"
