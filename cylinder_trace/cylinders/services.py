"""Registering, finding, inspecting and scrapping cylinders. Functions flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from cylinder_trace.access import cylinder_condition
from cylinder_trace.cylinders.models import Cylinder, CylinderInspection
from cylinder_trace.db import utcnow
from cylinder_trace.domain import inspection
from cylinder_trace.domain.errors import Conflict, DomainError, Forbidden, NotFound
from cylinder_trace.domain.lifecycle import CylinderState
from cylinder_trace.domain.roles import OrganisationKind, Role
from cylinder_trace.domain.rules import RuleSettings
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.paging import Keyset
from cylinder_trace.principal import Principal
from cylinder_trace.qr_labels.signing import CODE_RE
from cylinder_trace.scans.registration import Registered, record_registrations
from cylinder_trace.users.models import User


@dataclass(frozen=True, slots=True)
class CylinderInput:
    """What registering a cylinder takes, already shaped (types right, strings trimmed)."""

    code: str
    model: str
    manufacturer: str
    serial_no: str
    manufactured_on: date
    tare_kg: Decimal
    filling_station_id: int | None = None
    last_inspected_on: date | None = None
    inspection_due_override: date | None = None
    scrap_date_override: date | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def normalise_code(code: str) -> str:
    """Codes are upper case; a scanner or a person may send lower case."""
    value = code.strip().upper()
    if not CODE_RE.match(value):
        raise DomainError(
            "A cylinder code is 6 to 32 letters, digits or '-'.",
            code="cylinder_code_invalid",
            details={"code": code},
        )
    return value


def check_cylinder_input(data: CylinderInput, rules: RuleSettings, today: date) -> None:
    """Refuse what no real cylinder can be: unknown model, dates out of order, past scrap date."""
    if rules.model(data.model) is None:
        raise DomainError(
            f"Unknown cylinder model {data.model!r}.",
            code="cylinder_model_unknown",
            details={"known_models": sorted(rules.cylinder_models)},
        )
    if data.manufactured_on > today:
        raise DomainError(
            "The manufacture date is in the future.", code="manufacture_date_in_future"
        )
    if data.last_inspected_on is not None and not (
        data.manufactured_on <= data.last_inspected_on <= today
    ):
        raise DomainError(
            "The last inspection must fall between manufacture and today.",
            code="inspection_date_invalid",
        )
    if data.tare_kg <= 0:
        raise DomainError("The tare mass must be positive.", code="tare_invalid")
    scrap_on = inspection.scrap_date(
        data.manufactured_on,
        rules,
        last_passed_inspection_on=data.last_inspected_on,
        override=data.scrap_date_override,
    )
    if inspection.is_past_scrap_date(scrap_on, today):
        raise DomainError(
            f"The cylinder is past its scrap date ({scrap_on.isoformat()}); it must be "
            "scrapped, not registered.",
            code="past_scrap_date",
            details={"scrap_date": scrap_on.isoformat()},
        )


def computed_dates(
    manufactured_on: date,
    last_inspected_on: date | None,
    rules: RuleSettings,
    *,
    inspection_due_override: date | None = None,
    scrap_date_override: date | None = None,
) -> tuple[date, date]:
    """The next inspection due date and the scrap date, from the rules and the record."""
    due = inspection.next_inspection_due(
        manufactured_on, last_inspected_on, rules, override=inspection_due_override
    )
    scrap = inspection.scrap_date(
        manufactured_on,
        rules,
        last_passed_inspection_on=last_inspected_on,
        override=scrap_date_override,
    )
    return due, scrap


def owner_for(session: Session, principal: Principal, owner_company_id: int | None) -> Organisation:
    """The company a new cylinder belongs to: the caller's, or (system admin) the one named."""
    if principal.is_system_admin:
        if owner_company_id is None:
            raise DomainError(
                "A system admin must name the owner company.", code="owner_company_required"
            )
        company = session.get(Organisation, owner_company_id)
        if company is None or company.kind != OrganisationKind.GAS_COMPANY:
            raise NotFound(f"No gas company {owner_company_id}.", code="organisation_not_found")
        return company
    if principal.company_id is None:
        raise Forbidden("Only gas companies register cylinders.")
    if owner_company_id is not None and owner_company_id != principal.company_id:
        raise Forbidden("You may register cylinders of your own company only.")
    return session.get(Organisation, principal.company_id)  # type: ignore[return-value]


def station_for(
    session: Session, principal: Principal | None, owner: Organisation, station_id: int | None
) -> Organisation:
    """The fixed filling station: one of the owner's stations; an operator's own by default."""
    operator_station = (
        principal.organisation
        if principal is not None and principal.role == Role.STATION_OPERATOR
        else None
    )
    if station_id is None:
        if operator_station is None:
            raise DomainError(
                "Name the cylinder's fixed filling station (filling_station_id).",
                code="filling_station_required",
            )
        return operator_station
    station = session.get(Organisation, station_id)
    if (
        station is None
        or station.kind != OrganisationKind.FILLING_STATION
        or station.parent_id != owner.id
    ):
        raise DomainError(
            "The filling station must be one of the owner company's filling stations.",
            code="filling_station_invalid",
            details={"filling_station_id": station_id},
        )
    if operator_station is not None and station.id != operator_station.id:
        raise Forbidden("Station operators register cylinders for their own station only.")
    if not station.active:
        raise DomainError("That filling station is deactivated.", code="organisation_inactive")
    return station


def register_cylinder(
    session: Session,
    data: CylinderInput,
    *,
    owner: Organisation,
    station: Organisation,
    rules: RuleSettings,
    today: date,
    registered_by: User | None = None,
    registered_at: datetime | None = None,
) -> Cylinder:
    """Register one cylinder. Its code is unique for good, even after scrap.

    ``registered_at`` (default now) is when it entered the register: scans dated before it
    are flagged. Its projection starts at its station, as the register scan says.
    """
    code = normalise_code(data.code)
    check_cylinder_input(data, rules, today)
    existing = session.scalar(select(Cylinder).where(Cylinder.code == code))
    if existing is not None:
        if existing.is_scrapped:
            raise Conflict(
                f"Code {code} belonged to a scrapped cylinder and is revoked for good.",
                code="cylinder_code_revoked",
            )
        raise Conflict(f"Code {code} is already registered.", code="cylinder_code_taken")
    clash = session.scalar(
        select(Cylinder.code).where(
            Cylinder.manufacturer == data.manufacturer, Cylinder.serial_no == data.serial_no
        )
    )
    if clash is not None:
        raise Conflict(
            f"{data.manufacturer} serial {data.serial_no} is already registered as {clash}.",
            code="cylinder_serial_taken",
            details={"code": clash},
        )
    due, scrap = computed_dates(
        data.manufactured_on,
        data.last_inspected_on,
        rules,
        inspection_due_override=data.inspection_due_override,
        scrap_date_override=data.scrap_date_override,
    )
    cylinder = Cylinder(
        code=code,
        model=data.model,
        manufacturer=data.manufacturer,
        serial_no=data.serial_no,
        manufactured_on=data.manufactured_on,
        tare_kg=data.tare_kg,
        owner_company=owner,
        owner_company_id=owner.id,
        filling_station=station,
        filling_station_id=station.id,
        last_inspected_on=data.last_inspected_on,
        inspection_due_override=data.inspection_due_override,
        scrap_date_override=data.scrap_date_override,
        next_inspection_due=due,
        scrap_date=scrap,
        state=CylinderState.REGISTERED,
        registered_by_id=registered_by.id if registered_by is not None else None,
        registered_at=registered_at or utcnow(),
        location_id=station.id,
    )
    cylinder.last_scan_at = cylinder.registered_at
    session.add(cylinder)
    session.flush()
    record_registrations(
        session,
        [Registered(cylinder.id, code, station.id, owner.id, registration_data(data))],
        organisation_id=registered_by.organisation_id if registered_by else owner.id,
        actor_user_id=registered_by.id if registered_by else None,
        at=cylinder.registered_at,
    )
    return cylinder


def registration_data(data: CylinderInput) -> dict[str, Any]:
    """What the register scan keeps of the inspection the cylinder came with: the start of
    its history when the history is replayed."""
    return {
        "last_inspected_on": data.last_inspected_on.isoformat() if data.last_inspected_on else None,
        "inspection_due_override": (
            data.inspection_due_override.isoformat() if data.inspection_due_override else None
        ),
    }


# Lists of cylinders go by code (unique); ix_cylinders_owner_code serves a company's.
CYLINDER_ORDER = Keyset((Cylinder.code,))


def visible_cylinders(principal: Principal) -> Select[tuple[Cylinder]]:
    """Cylinders a caller may read (``access.cylinder_condition``)."""
    return select(Cylinder).where(cylinder_condition(principal))


def filter_cylinders(
    statement: Select[tuple[Cylinder]], filters: dict[str, Any]
) -> Select[tuple[Cylinder]]:
    """Apply the list filters of GET /cylinders."""
    exact = {
        "owner_company_id": Cylinder.owner_company_id,
        "filling_station_id": Cylinder.filling_station_id,
        "state": Cylinder.state,
        "model": Cylinder.model,
    }
    for name, column in exact.items():
        if filters.get(name) is not None:
            statement = statement.where(column == filters[name])
    if filters.get("inspection_due_before") is not None:
        statement = statement.where(Cylinder.next_inspection_due < filters["inspection_due_before"])
    if filters.get("scrap_date_before") is not None:
        statement = statement.where(Cylinder.scrap_date < filters["scrap_date_before"])
    if filters.get("code_from") is not None:
        statement = statement.where(Cylinder.code >= filters["code_from"].upper())
    if filters.get("code_to") is not None:
        statement = statement.where(Cylinder.code <= filters["code_to"].upper())
    return CYLINDER_ORDER.order(statement)


def get_visible_cylinder(session: Session, principal: Principal, code: str) -> Cylinder:
    """One cylinder the caller may read; NotFound otherwise, so existence does not leak."""
    value = code.strip().upper()
    # One statement with the scope in it: the Python check would load the owner again for
    # every authority's read (``access.readable`` suits records fetched by primary key).
    cylinder = session.scalar(visible_cylinders(principal).where(Cylinder.code == value))
    if cylinder is None:
        raise NotFound(f"No cylinder {value}.", code="cylinder_not_found")
    return cylinder


def get_managed_cylinder(session: Session, principal: Principal, code: str) -> Cylinder:
    """A cylinder the caller may change: its own company's (system admins: any)."""
    cylinder = get_visible_cylinder(session, principal, code)
    if not principal.is_system_admin and principal.company_id != cylinder.owner_company_id:
        raise Forbidden("You may read this cylinder but not change it.")
    return cylinder


def _refuse_if_scrapped(cylinder: Cylinder) -> None:
    if cylinder.is_scrapped:
        raise DomainError(
            f"Cylinder {cylinder.code} is scrapped; its code is revoked.",
            code="cylinder_scrapped",
            kind="refused",
        )


def record_inspection(
    session: Session,
    cylinder: Cylinder,
    *,
    inspected_on: date,
    passed: bool,
    inspection_body: str,
    rules: RuleSettings,
    today: date,
    certificate_no: str | None = None,
    notes: str | None = None,
    next_due_override: date | None = None,
    recorded_by: User | None = None,
) -> CylinderInspection:
    """Keep a periodic inspection's certificate; checks its dates, changes nothing else.

    The cylinder changes by the ``inspect`` scan the caller records next
    (``scans.office.record_inspection_scan``): a pass moves the due date on, a failure
    scraps.
    """
    _refuse_if_scrapped(cylinder)
    if inspected_on > today:
        raise DomainError("The inspection date is in the future.", code="inspection_date_invalid")
    if inspected_on < cylinder.manufactured_on or (
        cylinder.last_inspected_on is not None and inspected_on < cylinder.last_inspected_on
    ):
        raise DomainError(
            "The inspection date is before manufacture or before the last inspection.",
            code="inspection_date_invalid",
        )
    record = CylinderInspection(
        cylinder=cylinder,
        cylinder_id=cylinder.id,
        inspected_on=inspected_on,
        passed=passed,
        inspection_body=inspection_body.strip(),
        certificate_no=certificate_no,
        notes=notes,
        next_due_override=next_due_override if passed else None,
        recorded_by_id=recorded_by.id if recorded_by is not None else None,
    )
    session.add(record)
    session.flush()
    return record
