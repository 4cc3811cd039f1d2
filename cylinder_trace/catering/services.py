"""Catering users: who may see them, their status lists and summaries, checks and hazards.

Functions flush; the caller commits. Every change to a catering user's checks or hazards
goes through ``record_check``, which keeps the user's status columns (last check, last
visit, open hazards and their earliest deadline) in step in the same transaction, with
the user's row locked, so the lists can filter and sort on them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, false, func, or_, select, text
from sqlalchemy.orm import Session

from cylinder_trace.auth.principal import Principal
from cylinder_trace.catering.files import StoredFile, Upload, sniff_image
from cylinder_trace.catering.models import (
    CateringCheck,
    CateringCheckFile,
    CateringCheckItem,
    CateringHazard,
    FileKind,
    ImageType,
    ItemResult,
    VisitOutcome,
)
from cylinder_trace.catering.settings import CateringSettings
from cylinder_trace.catering.status import Period, states_condition
from cylinder_trace.customers.models import Customer, CylinderStorage
from cylinder_trace.customers.services import may_change_customer
from cylinder_trace.devices.models import Device
from cylinder_trace.domain.errors import DomainError, Forbidden, NotFound
from cylinder_trace.domain.jurisdiction import DivisionCodeError, division_prefix
from cylinder_trace.domain.roles import COMPANY_ROLES
from cylinder_trace.domain.rules import RuleSettings
from cylinder_trace.domain.weeks import CHINA_TZ, CheckState, local_date
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.users.models import User

log = logging.getLogger(__name__)

# Deadlines further out than this are a typing mistake, not a plan.
MAX_DEADLINE_DAYS = 366


class HazardState:
    NONE = "none"
    OPEN = "open"
    PAST_DEADLINE = "past_deadline"
    ALL = (NONE, OPEN, PAST_DEADLINE)


class CheckInvalid(DomainError):
    """A check that cannot be recorded as given; ``details.errors`` lists every problem.

    The error's code is the first problem's; each problem has ``field``, ``code`` and
    ``message``.
    """

    kind = "invalid"

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        first = problems[0]
        super().__init__(
            first["message"],
            code=first["code"],
            details={"field": first["field"], "errors": problems},
        )


# --- who sees what ------------------------------------------------------------------------


def division_condition(column: Any, jurisdiction: str) -> ColumnElement[bool]:
    """``column`` lies under ``jurisdiction``, as a range an index can serve.

    Division codes are 6 ASCII digits (checked on write), so the codes under a prefix are
    exactly those between the prefix padded with 0s and with 9s; unlike LIKE 'prefix%',
    that needs no special operator class on PostgreSQL.
    """
    prefix = division_prefix(jurisdiction)
    if len(prefix) == 6:
        return column == prefix
    return column.between(prefix.ljust(6, "0"), prefix.ljust(6, "9"))


def catering_scope(principal: Principal) -> list[ColumnElement[bool]]:
    """Conditions for the catering users this caller may read.

    Gas-company staff: their company's. Bureaus and regulators: those whose own premises
    (the customer's district, not the supplier's) are in their jurisdiction. System
    admins: all.
    """
    conditions: list[ColumnElement[bool]] = [Customer.is_catering]
    if principal.is_system_admin:
        return conditions
    if principal.company_id is not None:
        return [*conditions, Customer.company_id == principal.company_id]
    if principal.jurisdiction is not None:
        return [*conditions, division_condition(Customer.division_code, principal.jurisdiction)]
    return [false()]


def get_visible_catering_user(session: Session, principal: Principal, customer_id: int) -> Customer:
    """One catering user the caller may read; NotFound otherwise, so existence never leaks."""
    customer = session.scalar(
        select(Customer).where(Customer.id == customer_id, *catering_scope(principal))
    )
    if customer is None:
        raise NotFound(f"No catering user {customer_id}.", code="catering_user_not_found")
    return customer


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


# --- lists ------------------------------------------------------------------------------

EQUIPMENT_FIELDS = (
    "leak_alarm_installed",
    "leak_alarm_working",
    "leak_alarm_tested_on",
    "hose_metal",
    "self_closing_valve",
    "cylinder_storage",
    "cylinders_on_site",
    "kg_on_site",
)


SORTS: dict[str, tuple[Any, bool]] = {
    # name -> (column, descending)
    "last_check_at": (Customer.last_check_at, False),
    "-last_check_at": (Customer.last_check_at, True),
    "name": (Customer.name, False),
    "-name": (Customer.name, True),
    "division_code": (Customer.division_code, False),
    "-division_code": (Customer.division_code, True),
    "company_id": (Customer.company_id, False),
    "-company_id": (Customer.company_id, True),
    "open_hazards": (Customer.open_hazard_count, False),
    "-open_hazards": (Customer.open_hazard_count, True),
    "next_hazard_deadline": (Customer.next_hazard_deadline, False),
    "id": (Customer.id, False),
    "-id": (Customer.id, True),
}
DEFAULT_SORT = "last_check_at"


def _district_condition(district: str) -> ColumnElement[bool]:
    try:
        return division_condition(Customer.division_code, district)
    except DivisionCodeError:
        raise DomainError(
            "district is not a valid 6-digit administrative division code (e.g. 500111).",
            code="division_code_invalid",
            details={"field": "district"},
        ) from None


def list_conditions(
    principal: Principal, filters: dict[str, Any], period: Period
) -> list[ColumnElement[bool]]:
    """Scope and filters of the catering user list, all as SQL conditions."""
    conditions = catering_scope(principal)
    active = filters.get("active", True)
    conditions.append(Customer.active if active else Customer.active.is_(False))
    states = filters.get("status") or []
    if states:
        conditions.append(states_condition(states, period))
    if filters.get("district"):
        conditions.append(_district_condition(filters["district"]))
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
        conditions.append(Customer.next_hazard_deadline < period.today)
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
    tiebreak = Customer.id.desc() if descending else Customer.id.asc()
    return [key] if column is Customer.id else [key, tiebreak]


def past_deadline_count(period: Period) -> ColumnElement[int]:
    """Per catering user: its open hazards past their deadline (0 without a query when the
    earliest deadline is not past)."""
    counted = (
        select(func.count())
        .where(
            CateringHazard.customer_id == Customer.id,
            CateringHazard.closed_at.is_(None),
            CateringHazard.deadline < period.today,
        )
        .correlate(Customer)
        .scalar_subquery()
    )
    return case((Customer.next_hazard_deadline < period.today, counted), else_=0)


# What the list shows of a catering user, selected as columns (no ORM objects: an export
# reads 100,000 of them).
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


def catering_user_select(
    principal: Principal, filters: dict[str, Any], period: Period
) -> Select[Any]:
    """The list as one ordered select of row columns and the past-deadline hazard count."""
    states = filters.get("status") or []
    return (
        select(*ROW_COLUMNS, past_deadline_count(period).label("past_deadline_hazards"))
        .join(Organisation, Organisation.id == Customer.company_id)
        .where(*list_conditions(principal, filters, period))
        .order_by(*_order_by(filters.get("sort") or DEFAULT_SORT, states))
    )


def row_of(session: Session, customer: Customer, period: Period) -> dict[str, Any]:
    """One catering user as a list row."""
    row = session.execute(
        select(*ROW_COLUMNS, past_deadline_count(period).label("past_deadline_hazards"))
        .join(Organisation, Organisation.id == Customer.company_id)
        .where(Customer.id == customer.id)
    ).one()
    return catering_user_row(row, row.past_deadline_hazards, period)


def count_past_deadline(session: Session, customer: Customer, period: Period) -> int:
    """How many of one user's open hazards are past their deadline."""
    return (
        session.scalar(
            select(func.count()).where(
                CateringHazard.customer_id == customer.id,
                CateringHazard.closed_at.is_(None),
                CateringHazard.deadline < period.today,
            )
        )
        or 0
    )


def count_catering_users(
    session: Session, principal: Principal, filters: dict[str, Any], period: Period
) -> int:
    # count(*), not count(id): the counted columns are all in the catering indexes.
    statement = (
        select(func.count())
        .select_from(Customer)
        .where(*list_conditions(principal, filters, period))
    )
    return session.scalar(statement) or 0


def catering_user_row(row: Any, past_deadline: int, period: Period) -> dict[str, Any]:
    """One catering user as the list, the exports and the detail show it (flat).

    ``row`` is a row of ``catering_user_select`` or a Customer; ``past_deadline`` the number
    of its open hazards past their deadline (``count_past_deadline``).
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
) -> Any:
    """Every row of the filtered, ordered list, fetched in batches (for exports)."""
    statement = catering_user_select(principal, filters, period).execution_options(
        yield_per=batch_size
    )
    for row in session.execute(statement):
        yield catering_user_row(row, row.past_deadline_hazards, period)


# --- summary ----------------------------------------------------------------------------


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
        if not self.catering_users:
            return None
        return round(self.checked_this_period / self.catering_users, 4)

    def as_dict(self) -> dict[str, Any]:
        return {
            **{name: getattr(self, name) for name in COUNT_FIELDS},
            "check_rate": self.check_rate,
        }


COUNT_FIELDS = tuple(item.name for item in fields(Counts))


@dataclass
class Summary:
    period: Period
    total: Counts = field(default_factory=Counts)
    by_company: dict[int, Counts] = field(default_factory=dict)
    by_district: dict[str, Counts] = field(default_factory=dict)
    company_names: dict[int, str] = field(default_factory=dict)


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
            .where(
                CateringHazard.closed_at.is_(None),
                CateringHazard.deadline < period.today,
                Customer.next_hazard_deadline < period.today,
                *conditions,
            )
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
            {"division_code": code, **counts.as_dict()}
            for code, counts in sorted(summary.by_district.items())
        ],
    }


# --- equipment --------------------------------------------------------------------------


def update_equipment(
    session: Session, customer: Customer, changes: dict[str, Any], *, today: date
) -> Customer:
    """Record the catering user's safety equipment (any subset of EQUIPMENT_FIELDS).

    An alarm that works, or was tested, must be installed; a test date cannot be in the
    future. Fields left out keep their value; null means "not known".
    """
    merged = {name: getattr(customer, name) for name in EQUIPMENT_FIELDS}
    merged.update({k: v for k, v in changes.items() if k in EQUIPMENT_FIELDS})
    problems = []
    if merged["leak_alarm_installed"] is not True and (
        merged["leak_alarm_working"] is True or merged["leak_alarm_tested_on"] is not None
    ):
        problems.append(
            _problem(
                "leak_alarm_installed",
                "leak_alarm_not_installed",
                "An alarm that works or was tested must be recorded as installed.",
            )
        )
    tested = merged["leak_alarm_tested_on"]
    if tested is not None and tested > today:
        problems.append(
            _problem("leak_alarm_tested_on", "date_in_future", "The test date is in the future.")
        )
    if problems:
        raise CheckInvalid(problems)
    for name in EQUIPMENT_FIELDS:
        if name in changes:
            value = changes[name]
            if name == "cylinder_storage" and value is not None:
                value = CylinderStorage(value)
            if name == "kg_on_site" and value is not None:
                value = Decimal(value)
            setattr(customer, name, value)
    session.flush()
    return customer


# --- checks -----------------------------------------------------------------------------


def _problem(field_name: str, code: str, message: str) -> dict[str, Any]:
    return {"field": field_name, "code": code, "message": message}


@dataclass(frozen=True, slots=True)
class ItemInput:
    code: str
    result: ItemResult
    note: str | None = None
    deadline: date | None = None


def _check_items(
    items: Sequence[ItemInput], rules: RuleSettings, check_day: date
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Problems with the items of a completed check, and each code's checklist position."""
    positions = {item.code: index for index, item in enumerate(rules.catering_checklist)}
    problems: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        where = f"items[{index}]"
        if item.code not in positions:
            problems.append(
                _problem(where, "checklist_item_unknown", f"{item.code!r} is not on the checklist.")
            )
        if item.code in seen:
            problems.append(
                _problem(where, "checklist_item_repeated", f"{item.code!r} is given twice.")
            )
        seen.add(item.code)
        if item.deadline is not None:
            if item.result != ItemResult.FAIL:
                problems.append(
                    _problem(
                        where, "deadline_without_hazard", "Only a failed item takes a deadline."
                    )
                )
            elif item.deadline < check_day:
                problems.append(
                    _problem(where, "deadline_before_check", "The deadline is before the check.")
                )
            elif item.deadline > check_day + timedelta(days=MAX_DEADLINE_DAYS):
                problems.append(
                    _problem(
                        where,
                        "deadline_too_far",
                        f"The deadline is more than {MAX_DEADLINE_DAYS} days after the check.",
                    )
                )
    missing = [code for code in positions if code not in seen]
    if missing:
        problems.append(
            {
                **_problem(
                    "items",
                    "checklist_incomplete",
                    "A completed check gives a result for every checklist item.",
                ),
                "missing": missing,
            }
        )
    return problems, positions


def _check_files(
    photos: Sequence[Upload], signature: Upload | None, settings: CateringSettings
) -> tuple[list[ImageType], ImageType | None]:
    if len(photos) > settings.photos_max:
        raise CheckInvalid(
            [
                _problem(
                    "photos", "too_many_photos", f"At most {settings.photos_max} photos a check."
                )
            ]
        )
    photo_types = [
        sniff_image(photo.data, field=f"photos[{index}]", max_bytes=settings.photo_max_bytes)
        for index, photo in enumerate(photos)
    ]
    signature_type = None
    if signature is not None:
        signature_type = sniff_image(
            signature.data, field="signature", max_bytes=settings.signature_max_bytes
        )
        if signature_type != ImageType.PNG:
            raise CheckInvalid(
                [_problem("signature", "signature_not_png", "A signature is a PNG image.")]
            )
    return photo_types, signature_type


def record_check(
    session: Session,
    customer: Customer,
    *,
    checked_by: User,
    device: Device | None = None,
    outcome: VisitOutcome = VisitOutcome.COMPLETED,
    checked_at: datetime | None = None,
    items: Sequence[ItemInput] = (),
    signer_name: str | None = None,
    notes: str | None = None,
    photos: Sequence[Upload] = (),
    signature: Upload | None = None,
    rules: RuleSettings,
    settings: CateringSettings,
    now: datetime,
    tz: tzinfo = CHINA_TZ,
) -> CateringCheck:
    """Record a visit to a catering user, open and close hazards, update its status.

    ``checked_at`` defaults to ``now`` and may not be later than ``now`` plus the clock
    skew allowed. A completed visit gives every checklist item once; each failed item opens
    a hazard (deadline: the one given, else the item's configured number of days after the
    check's date in China) unless one is open for that item already; each passed item
    closes the open hazard of that item found by an earlier check. A ``nobody_home`` visit
    has no items and no signature: it is kept, and counts as a visit but not as a check.
    Photos and the signature are checked by content and stored before the rows.
    """
    checked_at = (checked_at or now).astimezone(UTC)
    signer_name = (signer_name or "").strip() or None
    problems: list[dict[str, Any]] = []
    if checked_at > now + settings.clock_skew:
        problems.append(
            _problem("checked_at", "check_time_in_future", "The check time is in the future.")
        )
    check_day = local_date(checked_at, tz)
    positions: dict[str, int] = {}
    if outcome == VisitOutcome.COMPLETED:
        item_problems, positions = _check_items(items, rules, check_day)
        problems.extend(item_problems)
    else:
        if items:
            problems.append(
                _problem("items", "nobody_home_has_items", "Nobody was there: nothing checked.")
            )
        if signer_name or signature is not None:
            problems.append(
                _problem("signer_name", "nobody_home_has_signature", "Nobody was there to sign.")
            )
    if signature is not None and not signer_name:
        problems.append(
            _problem("signer_name", "signer_name_required", "Name the person who signed.")
        )
    if problems:
        raise CheckInvalid(problems)
    photo_types, signature_type = _check_files(photos, signature, settings)

    # Serialise visits to the same user (PostgreSQL; SQLite has one writer anyway): the
    # hazards and status columns below are read, then written.
    session.execute(select(Customer.id).where(Customer.id == customer.id).with_for_update())
    session.refresh(customer, list(STATUS_COLUMNS))
    stored_photos = [
        settings.store.save(photo.data, kind)
        for photo, kind in zip(photos, photo_types, strict=True)
    ]
    stored_signature = (
        settings.store.save(signature.data, signature_type)
        if signature is not None and signature_type is not None
        else None
    )
    check = CateringCheck(
        customer_id=customer.id,
        outcome=outcome,
        checked_at=checked_at,
        checked_by_id=checked_by.id,
        checked_by=checked_by,
        device_id=device.id if device is not None else None,
        signer_name=signer_name,
        notes=(notes or "").strip() or None,
    )
    check.items = [
        CateringCheckItem(
            code=item.code,
            position=positions[item.code],
            result=item.result,
            note=(item.note or "").strip() or None,
        )
        for item in items
    ]
    check.files = [
        *(_file_row(FileKind.PHOTO, index, stored) for index, stored in enumerate(stored_photos)),
        *([_file_row(FileKind.SIGNATURE, 0, stored_signature)] if stored_signature else []),
    ]
    session.add(check)
    session.flush()
    if outcome == VisitOutcome.COMPLETED:
        _apply_hazards(session, customer, check, items, rules, check_day)
    _refresh_status(session, customer, check)
    log.info(
        "catering check %s (%s) of customer %s by user %s",
        check.id,
        outcome.value,
        customer.id,
        checked_by.id,
    )
    return check


STATUS_COLUMNS = ("last_check_at", "last_visit_at", "open_hazard_count", "next_hazard_deadline")


def _file_row(kind: FileKind, position: int, stored: StoredFile) -> CateringCheckFile:
    return CateringCheckFile(
        kind=kind,
        position=position,
        content_type=stored.content_type,
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
    )


def _apply_hazards(
    session: Session,
    customer: Customer,
    check: CateringCheck,
    items: Sequence[ItemInput],
    rules: RuleSettings,
    check_day: date,
) -> None:
    open_by_code = {
        hazard.item_code: hazard
        for hazard in session.scalars(
            select(CateringHazard).where(
                CateringHazard.customer_id == customer.id, CateringHazard.closed_at.is_(None)
            )
        )
    }
    for item in items:
        hazard = open_by_code.get(item.code)
        if item.result == ItemResult.PASS:
            # The fix is verified only by a visit after the one that found the hazard.
            if hazard is not None and hazard.opened_at < check.checked_at:
                hazard.closed_by_check_id = check.id
                hazard.closed_at = check.checked_at
        elif item.result == ItemResult.FAIL and hazard is None:
            deadline = item.deadline or check_day + timedelta(
                days=rules.hazard_deadline_for(item.code)
            )
            hazard = CateringHazard(
                customer_id=customer.id,
                item_code=item.code,
                note=(item.note or "").strip() or None,
                deadline=deadline,
                opened_by_check_id=check.id,
                opened_at=check.checked_at,
            )
            # A visit recorded late (an offline handheld) may find a hazard that a later
            # visit, already recorded, saw fixed: then it is born closed by that visit.
            later = _later_pass(session, customer.id, item.code, check.checked_at)
            if later is not None:
                hazard.closed_by_check_id, hazard.closed_at = later
            session.add(hazard)
    session.flush()


def _later_pass(
    session: Session, customer_id: int, code: str, after: datetime
) -> tuple[int, datetime] | None:
    row = session.execute(
        select(CateringCheck.id, CateringCheck.checked_at)
        .join(CateringCheckItem, CateringCheckItem.check_id == CateringCheck.id)
        .where(
            CateringCheck.customer_id == customer_id,
            CateringCheck.outcome == VisitOutcome.COMPLETED,
            CateringCheck.checked_at > after,
            CateringCheckItem.code == code,
            CateringCheckItem.result == ItemResult.PASS,
        )
        .order_by(CateringCheck.checked_at, CateringCheck.id)
        .limit(1)
    ).first()
    return (row[0], row[1]) if row is not None else None


def _refresh_status(session: Session, customer: Customer, check: CateringCheck) -> None:
    """Bring the user's status columns up to date with its checks and open hazards."""
    if customer.last_visit_at is None or check.checked_at > customer.last_visit_at:
        customer.last_visit_at = check.checked_at
    if check.counted and (
        customer.last_check_at is None or check.checked_at > customer.last_check_at
    ):
        customer.last_check_at = check.checked_at
    count, earliest = session.execute(
        select(func.count(), func.min(CateringHazard.deadline)).where(
            CateringHazard.customer_id == customer.id, CateringHazard.closed_at.is_(None)
        )
    ).one()
    customer.open_hazard_count = count
    customer.next_hazard_deadline = earliest
    session.flush()


def checks_of(customer: Customer) -> Select[tuple[CateringCheck]]:
    """A catering user's visits, newest first."""
    return (
        select(CateringCheck)
        .where(CateringCheck.customer_id == customer.id)
        .order_by(CateringCheck.checked_at.desc(), CateringCheck.id.desc())
    )


def get_check(session: Session, customer: Customer, check_id: int) -> CateringCheck:
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
    for stored in check.files:
        if stored.id == file_id:
            return stored
    raise NotFound(f"No file {file_id} in this check.", code="check_file_not_found")


# --- hazards ----------------------------------------------------------------------------


def hazard_select(
    principal: Principal, filters: dict[str, Any], period: Period
) -> Select[tuple[CateringHazard]]:
    """Hazards of the catering users the caller may read, filtered; newest first.

    ``state``: open, past_deadline (open, deadline before today in China) or closed.
    """
    conditions = [*catering_scope(principal)]
    if filters.get("customer_id") is not None:
        conditions.append(Customer.id == filters["customer_id"])
    if filters.get("district"):
        conditions.append(_district_condition(filters["district"]))
    if filters.get("company_id") is not None:
        conditions.append(Customer.company_id == filters["company_id"])
    state = filters.get("state")
    if state == "open":
        conditions.append(CateringHazard.closed_at.is_(None))
    elif state == "past_deadline":
        conditions.append(
            and_(CateringHazard.closed_at.is_(None), CateringHazard.deadline < period.today)
        )
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


def hazard_row(hazard: CateringHazard, rules: RuleSettings, period: Period) -> dict[str, Any]:
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
