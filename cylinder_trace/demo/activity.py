"""The demo world's goings-on: cylinders, fills and deliveries, customers, catering checks.

Everything goes through the services the API calls, so the demo's chains, registration
records, statuses and hazards are exactly what real use would leave. Dates are counted
from today, so a seed run years from now still makes the same kinds of cylinders.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from cylinder_trace.auth.models import ApiToken
from cylinder_trace.config import Settings
from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.cylinders.services import CylinderInput, register_cylinder
from cylinder_trace.db import utcnow
from cylinder_trace.demo.customers import seed_catering, seed_household
from cylinder_trace.devices.models import Device
from cylinder_trace.domain.inspection import add_months
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.principal import Principal
from cylinder_trace.registry import Registry
from cylinder_trace.scans.context import ScanContext
from cylinder_trace.scans.models import ScanResult
from cylinder_trace.scans.schemas import ScanCreateSchema
from cylinder_trace.scans.services import record_scans
from cylinder_trace.users.models import User

CODE_PREFIX = "CQDZ-"
MANUFACTURER = "重庆钢瓶厂"
VEHICLE_PLATE = "渝BD2468"
# 大足区棠香街道, where the supply point's courier hands cylinders over.
DELIVERY_PLACE = {"latitude": "29.707512", "longitude": "105.721873"}


@dataclass(frozen=True)
class DemoActivity:
    """What ``seed_activity`` made, for the seed's summary and for tests."""

    cylinder_codes: list[str]
    filled_codes: list[str]
    delivered_codes: list[str]
    overdue_code: str
    overdue_url: str
    scrapped_code: str
    scans: int
    household_customers: int
    catering_names: list[str]

    def summary_lines(self) -> list[str]:
        """What there is to look at, and the public page of the overdue cylinder's label."""
        codes = self.cylinder_codes
        return [
            f"Also seeded: {len(codes)} cylinders ({codes[0]}..{codes[-1]}; "
            f"{len(self.filled_codes)} filled, {len(self.delivered_codes)} of them delivered, "
            f"{self.overdue_code} inspection overdue, {self.scrapped_code} scrapped), "
            f"{self.scans} scans,",
            f"  {self.household_customers} household customer, {len(self.catering_names)} "
            "catering users (checked this week, due, overdue, never checked; 1 open hazard).",
            f"Public page of {self.overdue_code}'s label (inspection overdue): {self.overdue_url}",
        ]


@dataclass(frozen=True)
class _CylinderPlan:
    model: str
    manufactured_on: date
    tare_kg: Decimal
    last_inspected_on: date | None = None
    # Gross minus tare minus nominal net mass; inside the model's fill tolerance.
    fill_offset_kg: Decimal | None = None


def _cylinder_plans(today: date, settings: Settings) -> list[_CylinderPlan]:
    rules = settings.rules
    interval = rules.inspection_interval_months

    def made_2024(month: int, day: int) -> date:
        # Made in 2024 while that leaves them at least half a year before their first
        # inspection; later, as recently as that, so a later seed's fills are still allowed.
        return max(date(2024, month, day), add_months(today, -(interval - 6)))

    plans = [
        _CylinderPlan(
            "YSP35.5",
            made_2024(month, 10 + month),
            Decimal(tare),
            fill_offset_kg=Decimal(offset) if offset is not None else None,
        )
        for month, tare, offset in [
            (1, "16.40", "0.00"),
            (2, "16.35", "0.10"),
            (3, "16.50", "-0.20"),
            (4, "16.45", "0.20"),
            (5, "16.30", "-0.10"),
            (6, "16.40", None),
            (7, "16.55", None),
        ]
    ]
    plans.append(
        _CylinderPlan("YSP118", made_2024(8, 20), Decimal("55.20"), fill_offset_kg=Decimal("-0.30"))
    )
    # Inspected once, more than one interval ago, and still a year and a half short of its
    # design life: registrable, but every fill is refused until it is inspected again.
    plans.append(
        _CylinderPlan(
            "YSP35.5",
            add_months(today, -(12 * rules.design_life_years - 18)),
            Decimal("16.60"),
            last_inspected_on=add_months(today, -(interval + 3)),
            fill_offset_kg=Decimal("0.00"),
        )
    )
    plans.append(_CylinderPlan("YSP35.5", made_2024(9, 3), Decimal("16.45")))
    return plans


def _register_cylinders(
    session: Session,
    plans: list[_CylinderPlan],
    *,
    company: Organisation,
    station: Organisation,
    registered_by: User,
    settings: Settings,
    today: date,
) -> list[Cylinder]:
    cylinders = []
    for number, plan in enumerate(plans, start=1):
        # As POST /cylinders does: the service also starts the chain with its register record.
        cylinder = register_cylinder(
            session,
            CylinderInput(
                code=f"{CODE_PREFIX}{number:06d}",
                model=plan.model,
                manufacturer=MANUFACTURER,
                serial_no=f"{plan.manufactured_on:%Y%m}-{number:04d}",
                manufactured_on=plan.manufactured_on,
                tare_kg=plan.tare_kg,
                last_inspected_on=plan.last_inspected_on,
            ),
            owner=company,
            station=station,
            rules=settings.rules,
            today=today,
            registered_by=registered_by,
        )
        cylinders.append(cylinder)
    return cylinders


class _Scanner:
    """Records scans as one person would through POST /scans, checking each answer."""

    def __init__(
        self,
        session: Session,
        principal: Principal,
        settings: Settings,
        registry: Registry,
    ) -> None:
        self.session = session
        self.principal = principal
        self.settings = settings
        self.registry = registry
        self.recorded = 0

    def scan(self, kind: str, code: str, expect: str = ScanResult.ACCEPTED, **fields: Any) -> None:
        # Stamped as it is recorded: after the registrations, so every timeline, ordered by
        # occurred_at, reads register, fill, dispatch, deliver; and never in the future.
        now = utcnow()
        body = {
            "event_id": str(uuid.uuid4()),
            "kind": kind,
            "code": code,
            "occurred_at": now.isoformat(),
            **fields,
        }
        ctx = ScanContext.at(
            now,
            principal=self.principal,
            settings=self.settings,
            registry=self.registry,
        )
        item = ScanCreateSchema().load(body)
        result = record_scans(self.session, ctx, [item], interactive=True)[0]
        self.recorded += 1
        if result.status != expect:
            raise RuntimeError(
                f"demo {kind} scan of {code}: expected {expect}, got {result.status} "
                f"({result.code}: {result.message})"
            )


def _fill_fields(plan: _CylinderPlan, settings: Settings) -> dict[str, Any]:
    spec = settings.rules.model(plan.model)
    assert spec is not None and plan.fill_offset_kg is not None
    gross = plan.tare_kg + spec.nominal_net_kg + plan.fill_offset_kg
    return {
        "gross_kg": str(gross),
        "pre_fill_check": {item.code: True for item in settings.rules.pre_fill_checklist},
        "post_fill_check": {item.code: True for item in settings.rules.post_fill_checklist},
    }


def seed_activity(
    session: Session,
    *,
    orgs: dict[str, Organisation],
    users: dict[str, User],
    api_tokens: dict[str, ApiToken],
    handheld: Device,
    settings: Settings,
    registry: Registry,
    now: datetime,
) -> DemoActivity:
    """Give the demo company cylinders, fills, deliveries, customers and catering checks.

    ``orgs`` and ``users`` are the demo cast of seed.py by short name and username;
    ``api_tokens`` their tokens (the courier's on ``handheld``), so the scans carry the
    token each person would scan with. Flushes, never commits.
    """
    company, station, supply = orgs["company"], orgs["station"], orgs["supply"]
    vault = registry.pii_vault
    filler, courier, admin = users["dz.filler"], users["dz.courier"], users["dz.admin"]
    today = now.astimezone(settings.time_zone).date()
    plans = _cylinder_plans(today, settings)
    cylinders = _register_cylinders(
        session,
        plans,
        company=company,
        station=station,
        registered_by=filler,
        settings=settings,
        today=today,
    )
    codes = [cylinder.code for cylinder in cylinders]
    by_code = dict(zip(codes, plans, strict=True))
    overdue_code, scrapped_code = codes[-2], codes[-1]
    household = seed_household(session, vault, company, admin)
    catering_users = seed_catering(
        session,
        vault,
        company=company,
        admin=admin,
        checker=courier,
        handheld=handheld,
        settings=settings,
        store=registry.file_store,
        now=now,
    )

    station_scanner = _Scanner(
        session,
        Principal(api_tokens["dz.filler"].id, organisation=station, user=filler),
        settings,
        registry,
    )
    filled = [code for code in codes if by_code[code].fill_offset_kg is not None]
    for code in filled:
        plan = by_code[code]
        # The overdue cylinder's fill is refused, as the scale would be told; the refusal
        # is kept in its chain, like every refused interactive scan.
        expect = ScanResult.REJECTED if code == overdue_code else ScanResult.ACCEPTED
        station_scanner.scan("fill", code, expect, **_fill_fields(plan, settings))
    courier_scanner = _Scanner(
        session,
        Principal(api_tokens["dz.courier"].id, organisation=supply, user=courier, device=handheld),
        settings,
        registry,
    )
    deliveries = [(codes[0], household), (codes[1], catering_users[0])]
    for code, customer in deliveries:
        courier_scanner.scan("dispatch", code, site_id=station.id, vehicle_plate=VEHICLE_PLATE)
        courier_scanner.scan("deliver", code, buyer={"customer_id": customer.id}, **DELIVERY_PLACE)
    station_scanner.scan("scrap", cylinders[-1].code, reason="瓶体凹陷变形，充装前检查不合格")
    return DemoActivity(
        cylinder_codes=codes,
        filled_codes=[code for code in filled if code != overdue_code],
        delivered_codes=[code for code, _ in deliveries],
        overdue_code=overdue_code,
        overdue_url=registry.label_signer.sign(overdue_code),
        scrapped_code=scrapped_code,
        scans=len(codes) + station_scanner.recorded + courier_scanner.recorded,
        household_customers=1,
        catering_names=[customer.name for customer in catering_users],
    )
