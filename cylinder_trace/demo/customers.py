"""The demo company's customers: a household, and catering users with their checks.

Registered through the customer services and checked through ``record_check``, with
fictitious ID numbers and credit codes whose check characters are right, so they pass
the same validation a real registration does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from cylinder_trace.catering.checks import ItemInput, record_check
from cylinder_trace.catering.equipment import update_equipment
from cylinder_trace.catering.files import FileStore
from cylinder_trace.catering.models import ItemResult
from cylinder_trace.catering.status import current_period
from cylinder_trace.config import Settings
from cylinder_trace.customers.crypto import PiiVault
from cylinder_trace.customers.models import Customer
from cylinder_trace.customers.services import register_customer
from cylinder_trace.devices.models import Device
from cylinder_trace.domain.identity import credit_code_check_char, id_number_check_char
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.users.models import User


def demo_id_number(born: str, sequence: str, region: str = "500111") -> str:
    """A fictitious resident ID number that passes the checksum (nobody's real number)."""
    body = region + born + sequence
    return body + id_number_check_char(body)


def demo_credit_code(organisation: str, division: str = "500111") -> str:
    """A fictitious unified social credit code of an individual business (92) in ``division``."""
    body = "92" + division + organisation
    return body + credit_code_check_char(body)


def seed_household(
    session: Session, vault: PiiVault, company: Organisation, admin: User
) -> Customer:
    """Register one household customer, as company staff at the counter would."""
    return register_customer(
        session,
        vault,
        company=company,
        created_by=admin,
        kind="person",
        name="李秀兰",
        id_number=demo_id_number("19680412", "322"),
        phone="13983456012",
        address="重庆市大足区棠香街道五星大道 36 号 2 单元 501",
        division_code="500111",
    )


@dataclass(frozen=True)
class _CateringPlan:
    name: str
    responsible_person: str
    id_number: str
    organisation: str
    address: str
    equipment: dict[str, Any]
    checked: str  # this_period, previous_period, weeks_ago or never
    failed: tuple[tuple[str, str], ...] = ()  # (checklist item, note)


_WORKING_EQUIPMENT: dict[str, Any] = {
    "leak_alarm_installed": True,
    "leak_alarm_working": True,
    "hose_metal": True,
    "self_closing_valve": True,
    "cylinder_storage": "dedicated_room",
    "cylinders_on_site": 3,
    "kg_on_site": "43.5",
}

CATERING_PLANS = [
    _CateringPlan(
        "石刻老火锅",
        "周建国",
        demo_id_number("19750823", "041"),
        "MA5UC0001",
        "重庆市大足区棠香街道北山路 18 号",
        _WORKING_EQUIPMENT,
        "this_period",
    ),
    _CateringPlan(
        "邮亭鲫鱼馆",
        "黄德明",
        demo_id_number("19790630", "258"),
        "MA5UC0002",
        "重庆市大足区邮亭镇邮亭街 66 号",
        {**_WORKING_EQUIPMENT, "leak_alarm_working": False, "cylinder_storage": "floor"},
        "previous_period",
        failed=(("leak_alarm_working", "报警器测试不报警，需更换"),),
    ),
    _CateringPlan(
        "龙水豆花饭庄",
        "唐小燕",
        demo_id_number("19810214", "117"),
        "MA5UC0003",
        "重庆市大足区龙水镇南街 9 号",
        {**_WORKING_EQUIPMENT, "cylinders_on_site": 2, "kg_on_site": "29.0"},
        "weeks_ago",
    ),
    _CateringPlan(
        "宝顶素食馆",
        "罗永福",
        demo_id_number("19860909", "093"),
        "MA5UC0004",
        "重庆市大足区宝顶镇香山路 3 号",
        {"leak_alarm_installed": True, "hose_metal": True},
        "never",
    ),
]


def seed_catering(
    session: Session,
    vault: PiiVault,
    *,
    company: Organisation,
    admin: User,
    checker: User,
    handheld: Device,
    settings: Settings,
    store: FileStore,
    now: datetime,
) -> list[Customer]:
    """Register the catering users of CATERING_PLANS with their equipment and checks.

    Their last checks fall this period, in the previous one, three periods back and
    never, so every check status shows; one check fails an item and opens a hazard.
    """
    rules, tz = settings.rules, settings.time_zone
    period = current_period(now, rules.check_interval_days, tz)
    interval = timedelta(days=rules.check_interval_days)
    today = now.astimezone(tz).date()
    # Each inside the period its status needs, and never after now.
    checked_at = {
        "this_period": period.start + (now - period.start) / 2,
        # 10:00 on the day before this period began: with the default rules (7-day period,
        # hazards due 7 days after the check's date) the hazard's deadline is this period's
        # last day, so it is open but not yet past its deadline, whatever day the seed runs.
        "previous_period": period.start - timedelta(hours=14),
        "weeks_ago": period.previous_start - 2 * interval + timedelta(hours=10),
    }
    customers = []
    for plan in CATERING_PLANS:
        customer = register_customer(
            session,
            vault,
            company=company,
            created_by=admin,
            kind="business",
            name=plan.name,
            credit_code=demo_credit_code(plan.organisation),
            responsible_person=plan.responsible_person,
            id_number=plan.id_number,
            phone="023-4372" + plan.organisation[-4:],
            address=plan.address,
            division_code="500111",
            is_catering=True,
            premises_floor=1,
        )
        update_equipment(
            session,
            customer,
            {**plan.equipment, "leak_alarm_tested_on": today - timedelta(days=40)}
            if plan.equipment.get("leak_alarm_installed")
            else plan.equipment,
            today=today,
        )
        if plan.checked != "never":
            failed = dict(plan.failed)
            record_check(
                session,
                customer,
                checked_by=checker,
                device=handheld,
                checked_at=checked_at[plan.checked],
                items=[
                    ItemInput(item.code, ItemResult.FAIL, note=failed[item.code])
                    if item.code in failed
                    else ItemInput(item.code, ItemResult.PASS)
                    for item in rules.catering_checklist
                ],
                signer_name=plan.responsible_person,
                rules=rules,
                settings=settings.catering,
                store=store,
                now=now,
                tz=tz,
            )
        customers.append(customer)
    return customers
