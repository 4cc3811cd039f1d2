"""Bulk registration from CSV or XLSX (read by ``import_files``): bad rows reported, good
rows stored, re-import a no-op.

A row whose code is already registered with the same data is ``unchanged``, so importing the
same file twice changes nothing. Rows are checked one by one with the same rules as a single
registration, then looked up against the database in chunks and inserted in one executemany,
so 10,000 rows cost a few dozen round trips rather than tens of thousands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from cylinder_trace.columns import numeric_limit, storable_text
from cylinder_trace.cylinders.import_files import REQUIRED
from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.cylinders.services import (
    CylinderInput,
    check_cylinder_input,
    computed_dates,
    normalise_code,
)
from cylinder_trace.db import copy_rows, utcnow
from cylinder_trace.domain.errors import DomainError
from cylinder_trace.domain.lifecycle import CylinderState
from cylinder_trace.domain.rules import RuleSettings
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.scans.registration import Registered, record_registrations
from cylinder_trace.users.models import User

CHUNK = 500
# No column a row fills takes more than 300 characters: a longer cell is refused unread.
MAX_CELL_CHARS = 1000
# What Cylinder.tare_kg (Numeric(6, 2)) holds: 9999.99.
TARE_MAX = numeric_limit(Cylinder.tare_kg)
CODE_SHOWN = 64  # of a bad row's code cell, in its error


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    code: str
    message: str
    cylinder_code: str | None = None


@dataclass(slots=True)
class ImportReport:
    rows: int = 0
    created: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.errors)


# --- turning cells into values ------------------------------------------------------------


def _text(values: dict[str, Any], name: str) -> str:
    value = values.get(name)
    return "" if value is None else str(value).strip()


def _date(values: dict[str, Any], name: str, *, required: bool) -> date | None:
    value = values.get(name)
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = "" if value is None else str(value).strip()
    if not text:
        if required:
            raise DomainError(f"{name} is missing.", code="row_field_missing")
        return None
    for separator in ("-", "/", "."):
        parts = text.split(separator)
        if len(parts) == 3 and all(part.strip().isdigit() for part in parts):
            try:
                return date(int(parts[0]), int(parts[1]), int(parts[2]))
            except ValueError:
                break
    raise DomainError(f"{name} {text!r} is not a date (YYYY-MM-DD).", code="row_date_invalid")


def _decimal(values: dict[str, Any], name: str) -> Decimal:
    text = _text(values, name)
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise DomainError(f"{name} {text!r} is not a number.", code="row_number_invalid") from None
    # Within the column before rounding: a quantize of 1e100000 fails, 9999.999 overflows.
    if not number.is_finite() or number <= 0 or number > TARE_MAX:
        raise DomainError(
            f"{name} must be a positive mass in kg, at most {TARE_MAX}.", code="row_number_invalid"
        )
    return number.quantize(Decimal("0.01"))


def _station(values: dict[str, Any], stations: dict[str, int], default: int | None) -> int:
    text = _text(values, "filling_station")
    if not text:
        if default is None:
            raise DomainError("filling_station is missing.", code="filling_station_required")
        return default
    if text in stations:
        return stations[text]
    raise DomainError(
        f"{text!r} is not one of the owner company's filling stations.",
        code="filling_station_invalid",
    )


def parse_row(
    values: dict[str, Any], stations: dict[str, int], default_station: int | None
) -> CylinderInput:
    """One row as a CylinderInput, or a DomainError naming what is wrong with it."""
    for name, value in values.items():
        if isinstance(value, str) and not storable_text(value):
            # A NUL (CSV), or an XLSX escape such as _x0000_ or _xD800_ that openpyxl reads.
            raise DomainError(
                f"{name} holds a NUL character or an unpaired surrogate.", code="invalid_text"
            )
        if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
            raise DomainError(
                f"{name} is longer than {MAX_CELL_CHARS} characters.", code="row_field_too_long"
            )
    for name in REQUIRED:
        if not _text(values, name):
            raise DomainError(f"{name} is missing.", code="row_field_missing")
    manufacturer, serial = _text(values, "manufacturer"), _text(values, "serial_no")
    if len(manufacturer) > 100 or len(serial) > 64:
        raise DomainError("manufacturer or serial_no is too long.", code="row_field_too_long")
    return CylinderInput(
        code=normalise_code(_text(values, "code")),
        model=_text(values, "model"),
        manufacturer=manufacturer,
        serial_no=serial,
        manufactured_on=_date(values, "manufactured_on", required=True),  # type: ignore[arg-type]
        tare_kg=_decimal(values, "tare_kg"),
        filling_station_id=_station(values, stations, default_station),
        last_inspected_on=_date(values, "last_inspected_on", required=False),
    )


# --- the import ---------------------------------------------------------------------------


# Only what an import compares: loading whole ORM objects costs more than the queries.
_COMPARED = (
    Cylinder.code,
    Cylinder.owner_company_id,
    Cylinder.model,
    Cylinder.manufacturer,
    Cylinder.serial_no,
    Cylinder.manufactured_on,
    Cylinder.tare_kg,
    Cylinder.filling_station_id,
    Cylinder.state,
)


def _same(existing: Any, data: CylinderInput, owner_id: int) -> bool:
    return (
        existing.owner_company_id == owner_id
        and existing.model == data.model
        and existing.manufacturer == data.manufacturer
        and existing.serial_no == data.serial_no
        and existing.manufactured_on == data.manufactured_on
        and Decimal(existing.tare_kg) == data.tare_kg
        and existing.filling_station_id == data.filling_station_id
    )


def import_cylinders(
    session: Session,
    rows: Iterable[tuple[int, dict[str, Any]]],
    *,
    owner: Organisation,
    stations: list[Organisation],
    default_station: Organisation | None,
    rules: RuleSettings,
    today: date,
    registered_by: User | None = None,
    on_progress: Callable[[int], None] | None = None,
    registered_at: datetime | None = None,
) -> ImportReport:
    """Register the good rows, report the bad ones; a second run of the same rows is a no-op.

    ``stations`` are the filling stations rows may name (by id or name); ``default_station``
    serves rows that name none. ``on_progress(n)`` is called as rows are processed.
    ``registered_at`` (default: now) is when the register scans happen: a migration from
    another system may keep its own registration times.
    """
    report = ImportReport()
    by_name = {station.name: station.id for station in stations}
    by_name.update({str(station.id): station.id for station in stations})
    default_id = default_station.id if default_station is not None else None
    chunk: list[tuple[int, CylinderInput]] = []
    seen_codes: dict[str, CylinderInput] = {}
    seen_serials: dict[tuple[str, str], str] = {}
    for number, values in rows:
        report.rows += 1
        try:
            data = parse_row(values, by_name, default_id)
            data = replace(data, model=_model_name(data.model, rules))
            check_cylinder_input(data, rules, today)
        except DomainError as error:
            shown = _text(values, "code")[:CODE_SHOWN]  # a hostile cell is not echoed
            shown = shown if storable_text(shown) else None
            report.errors.append(RowError(number, error.code, error.message, shown))
            continue
        earlier = seen_codes.get(data.code)
        serial_key = (data.manufacturer, data.serial_no)
        if earlier is not None or seen_serials.get(serial_key, data.code) != data.code:
            if earlier == data:
                report.unchanged += 1
            else:
                report.errors.append(
                    RowError(
                        number,
                        "duplicate_in_file",
                        "An earlier row has the same code or "
                        "manufacturer and serial with other data.",
                        data.code,
                    )
                )
            continue
        seen_codes[data.code] = data
        seen_serials[serial_key] = data.code
        chunk.append((number, data))
        if len(chunk) >= CHUNK:
            _store_chunk(session, chunk, owner, rules, registered_by, report, registered_at)
            chunk = []
            if on_progress is not None:
                on_progress(report.rows)
    if chunk:
        _store_chunk(session, chunk, owner, rules, registered_by, report, registered_at)
    if on_progress is not None:
        on_progress(report.rows)
    report.errors.sort(key=lambda error: error.row)
    return report


def _model_name(raw: str, rules: RuleSettings) -> str:
    # The model table is keyed by the official spelling (YSP35.5); accept any case.
    for name in rules.cylinder_models:
        if name.upper() == raw.upper():
            return name
    return raw


def _bulk_insert(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert many cylinders in the session's transaction: COPY on PostgreSQL."""
    if not copy_rows(session, "cylinders", rows):
        session.execute(insert(Cylinder), rows)


def _taken_serials(session: Session, rows: list[CylinderInput]) -> dict[tuple[str, str], str]:
    """(manufacturer, serial) -> code for those already registered.

    Grouped by manufacturer (a file rarely has more than a few) so that each query uses the
    leading column of the unique index.
    """
    by_manufacturer: dict[str, list[str]] = {}
    for data in rows:
        by_manufacturer.setdefault(data.manufacturer, []).append(data.serial_no)
    taken: dict[tuple[str, str], str] = {}
    for manufacturer, serials in by_manufacturer.items():
        found = session.execute(
            select(Cylinder.serial_no, Cylinder.code).where(
                Cylinder.manufacturer == manufacturer, Cylinder.serial_no.in_(serials)
            )
        )
        taken.update({(manufacturer, serial): code for serial, code in found})
    return taken


def _store_chunk(
    session: Session,
    chunk: list[tuple[int, CylinderInput]],
    owner: Organisation,
    rules: RuleSettings,
    registered_by: User | None,
    report: ImportReport,
    registered_at: datetime | None = None,
) -> None:
    codes = [data.code for _, data in chunk]
    existing = {
        row.code: row for row in session.execute(select(*_COMPARED).where(Cylinder.code.in_(codes)))
    }
    taken_serials = _taken_serials(session, [data for _, data in chunk])
    now = registered_at or utcnow()
    new_rows: list[dict[str, Any]] = []
    for number, data in chunk:
        found = existing.get(data.code)
        if found is not None:
            if found.state == CylinderState.SCRAPPED:
                report.errors.append(
                    RowError(
                        number,
                        "cylinder_code_revoked",
                        "The code belonged to a scrapped cylinder.",
                        data.code,
                    )
                )
            elif _same(found, data, owner.id):
                report.unchanged += 1
            else:
                report.errors.append(
                    RowError(
                        number,
                        "cylinder_code_taken",
                        "The code is registered with other data.",
                        data.code,
                    )
                )
            continue
        clash = taken_serials.get((data.manufacturer, data.serial_no))
        if clash is not None:
            report.errors.append(
                RowError(
                    number,
                    "cylinder_serial_taken",
                    f"Manufacturer and serial are registered as {clash}.",
                    data.code,
                )
            )
            continue
        due, scrap = computed_dates(data.manufactured_on, data.last_inspected_on, rules)
        new_rows.append(
            {
                "code": data.code,
                "model": data.model,
                "manufacturer": data.manufacturer,
                "serial_no": data.serial_no,
                "manufactured_on": data.manufactured_on,
                "tare_kg": data.tare_kg,
                "owner_company_id": owner.id,
                "filling_station_id": data.filling_station_id,
                "last_inspected_on": data.last_inspected_on,
                "next_inspection_due": due,
                "scrap_date": scrap,
                "state": CylinderState.REGISTERED,
                "stopped": False,
                "lost": False,
                "overfilled": False,
                "underfilled": False,
                "registered_at": now,
                "registered_by_id": registered_by.id if registered_by is not None else None,
                # The projection of the register scan: at its station since now.
                "location_id": data.filling_station_id,
                "last_scan_at": now,
            }
        )
    if new_rows:
        _bulk_insert(session, new_rows)
        report.created += len(new_rows)
        codes = [row["code"] for row in new_rows]
        found = session.execute(select(Cylinder.code, Cylinder.id).where(Cylinder.code.in_(codes)))
        ids = dict(found.tuples().all())
        record_registrations(
            session,
            [
                Registered(
                    ids[r["code"]],
                    r["code"],
                    r["filling_station_id"],
                    r["owner_company_id"],
                    {
                        "last_inspected_on": (
                            r["last_inspected_on"].isoformat() if r["last_inspected_on"] else None
                        ),
                        "inspection_due_override": None,
                    },
                )
                for r in new_rows
            ],
            organisation_id=registered_by.organisation_id if registered_by else owner.id,
            actor_user_id=registered_by.id if registered_by else None,
            at=now,
        )
