"""Business weeks and the catering check status.

Business weeks are ISO 8601 weeks (Monday first) reckoned in China Standard Time,
whatever zone the server process runs in. Every function here takes aware datetimes
only and never reads the process clock or the process time zone, so results do not
change with ``TZ``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo

from cylinder_trace.domain.errors import DomainError

CHINA_TZ: tzinfo = ZoneInfo("Asia/Shanghai")
"""The zone that business days and weeks are reckoned in (UTC+8, no DST since 1991)."""

# Any Monday works as the epoch of fixed-length periods; 2001-01-01 is the Monday that
# starts ISO week 2001-W01, so 7-day periods coincide exactly with ISO weeks.
PERIOD_EPOCH = date(2001, 1, 1)

_WEEK = 7


class IsoWeekError(DomainError, ValueError):
    """A week that does not exist (2025-W53) or text that is not an ISO week."""

    code = "iso_week_invalid"
    kind = "invalid"


def _require_aware(name: str, value: datetime) -> None:
    # A naive datetime would silently be read in the process zone, the bug this module
    # exists to prevent.
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")


def weeks_in_iso_year(year: int) -> int:
    """Number of ISO weeks (52 or 53) in the given ISO year."""
    # 28 December always lies in the last ISO week of its year.
    return date(year, 12, 28).isocalendar().week


@dataclass(frozen=True, order=True, slots=True)
class IsoWeek:
    """An ISO week such as 2026-W53; ordering follows time."""

    year: int
    week: int

    def __post_init__(self) -> None:
        if not 1 <= self.year <= 9998:
            raise IsoWeekError(f"ISO year out of range: {self.year}")
        if not 1 <= self.week <= weeks_in_iso_year(self.year):
            raise IsoWeekError(f"{self.year} has no ISO week {self.week}")

    def __str__(self) -> str:
        return f"{self.year:04d}-W{self.week:02d}"

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """Parse ``2026-W53`` (also ``2026W53``)."""
        year, sep, week = text.strip().upper().partition("W")
        if not sep or not year.rstrip("-").isdigit() or not week.isdigit():
            raise IsoWeekError(f"Not an ISO week (like 2026-W05): {text!r}")
        return cls(int(year.rstrip("-")), int(week))

    @classmethod
    def of_date(cls, day: date) -> IsoWeek:
        """The ISO week a calendar date falls in."""
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    def monday(self) -> date:
        """The Monday that starts this week."""
        return date.fromisocalendar(self.year, self.week, 1)

    def shift(self, weeks: int) -> IsoWeek:
        """The week ``weeks`` later (earlier when negative), across year boundaries."""
        return IsoWeek.of_date(self.monday() + timedelta(weeks=weeks))


def local_date(instant: datetime, tz: tzinfo = CHINA_TZ) -> date:
    """The calendar date of an aware instant in ``tz`` (China by default)."""
    _require_aware("instant", instant)
    return instant.astimezone(tz).date()


def business_week(instant: datetime, tz: tzinfo = CHINA_TZ) -> IsoWeek:
    """The ISO week an aware instant falls in, reckoned in ``tz``.

    Sunday 23:30 in Chongqing is Sunday 15:30 UTC and belongs to that week; Monday
    00:00 in Chongqing (Sunday 16:00 UTC) starts the next one. Naive datetimes raise
    ValueError.
    """
    return IsoWeek.of_date(local_date(instant, tz))


def _local_midnight_utc(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def week_start(week: IsoWeek, tz: tzinfo = CHINA_TZ) -> datetime:
    """The first instant of the week (Monday 00:00 in ``tz``), as a UTC datetime."""
    return _local_midnight_utc(week.monday(), tz)


def week_end(week: IsoWeek, tz: tzinfo = CHINA_TZ) -> datetime:
    """The exclusive end of the week (next Monday 00:00 in ``tz``), as a UTC datetime.

    Weeks are half-open ``[week_start, week_end)`` so that consecutive weeks tile time
    with no gap and no overlap; query with ``start <= t < end``.
    """
    return _local_midnight_utc(week.monday() + timedelta(days=_WEEK), tz)


def period_index(instant: datetime, interval_days: int, tz: tzinfo = CHINA_TZ) -> int:
    """Index of the check period an instant falls in.

    Periods are runs of ``interval_days`` local calendar days in ``tz``, counted from
    the Monday ``PERIOD_EPOCH``. With 7 days they are exactly the ISO weeks; with a
    multiple of 7 they start on Mondays; with other lengths they start on whatever day
    the count reaches, which is stable but not tied to the week.
    """
    if interval_days < 1:
        raise ValueError("interval_days must be positive")
    return (local_date(instant, tz) - PERIOD_EPOCH).days // interval_days


def period_bounds(
    index: int, interval_days: int, tz: tzinfo = CHINA_TZ
) -> tuple[datetime, datetime]:
    """The half-open ``[start, end)`` of a period index, as UTC datetimes."""
    first = PERIOD_EPOCH + timedelta(days=index * interval_days)
    return _local_midnight_utc(first, tz), _local_midnight_utc(
        first + timedelta(days=interval_days), tz
    )


class CheckState(StrEnum):
    """Where a catering user stands with its periodic door-to-door check."""

    CHECKED_THIS_PERIOD = "checked_this_period"
    DUE = "due"
    OVERDUE = "overdue"
    NEVER_CHECKED = "never_checked"


@dataclass(frozen=True, slots=True)
class CheckStatus:
    """A check status with the number of whole periods missed and the current period."""

    state: CheckState
    missed_periods: int
    period_start: datetime
    period_end: datetime


def check_status(
    last_check_at: datetime | None,
    now: datetime,
    interval_days: int,
    tz: tzinfo = CHINA_TZ,
) -> CheckStatus:
    """Status of the periodic check given the last check and the present instant.

    With last check in period P and now in period N: N == P is checked_this_period,
    N == P + 1 is due (this period's check has not happened yet, none missed), and
    N >= P + 2 is overdue with ``N - P - 1`` whole periods missed. No check at all is
    never_checked (the registration date, which would tell how late, is not known here).
    A last check in a later period than ``now`` (a handheld clock running ahead) counts
    as checked_this_period: the check happened, only its stamp is off.
    """
    _require_aware("now", now)
    current = period_index(now, interval_days, tz)
    start, end = period_bounds(current, interval_days, tz)
    if last_check_at is None:
        return CheckStatus(CheckState.NEVER_CHECKED, 0, start, end)
    missed = current - period_index(last_check_at, interval_days, tz) - 1
    if missed < 0:
        return CheckStatus(CheckState.CHECKED_THIS_PERIOD, 0, start, end)
    if missed == 0:
        return CheckStatus(CheckState.DUE, 0, start, end)
    return CheckStatus(CheckState.OVERDUE, missed, start, end)
