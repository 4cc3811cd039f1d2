"""Every read scope's SQL condition and Python check agree, over generated worlds.

Gas companies, their sites, customers, catering users and cylinders are scattered over
districts of two provinces; authorities sit at province, city and county level. For every
caller, the rows the SQL condition selects are exactly the rows the Python check accepts,
and a few facts of the table in ``cylinder_trace.access`` hold on their own.
"""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from cylinder_trace import access
from cylinder_trace.customers.models import Customer
from cylinder_trace.customers.services import register_customer
from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.cylinders.services import CylinderInput, register_cylinder
from cylinder_trace.domain.jurisdiction import covers
from cylinder_trace.domain.roles import OrganisationKind, Role
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.organisations.services import create_organisation
from cylinder_trace.principal import Principal
from cylinder_trace.users.services import create_user
from cylinder_trace.web.current import registry
from tests.customers.helpers import business, credit_code, id_number, person

DISTRICTS = ("500111", "500112", "500229", "510104", "510106", "510703")
JURISDICTIONS = ("500000", "500100", "500111", "500200", "510000", "510100", "510104")
COMPANY_ROLES = (Role.COMPANY_ADMIN, Role.STATION_OPERATOR, Role.DELIVERY_STAFF)


def _generate(session: Session, app: Flask, seed: int) -> list[Principal]:
    """A random world; returns one caller per organisation and role that makes sense."""
    rng = random.Random(seed)
    org = create_organisation
    callers: list[Principal] = []
    platform = org(
        session, kind=OrganisationKind.PLATFORM, name=f"平台{seed}", division_code="500000"
    )
    admin = create_user(
        session,
        organisation=platform,
        username=f"admin{seed}",
        full_name="a",
        role=Role.SYSTEM_ADMIN,
    )
    callers.append(Principal(0, platform, admin))
    with app.app_context():
        vault = registry().pii_vault
    serial = 0
    for number in range(rng.randint(2, 4)):
        company = org(
            session,
            kind=OrganisationKind.GAS_COMPANY,
            name=f"燃气{seed}-{number}",
            division_code=rng.choice(DISTRICTS),
        )
        station = org(
            session,
            kind=OrganisationKind.FILLING_STATION,
            name=f"充装站{seed}-{number}",
            division_code=rng.choice(DISTRICTS),
            parent=company,
        )
        supply = org(
            session,
            kind=OrganisationKind.SUPPLY_POINT,
            name=f"供应站{seed}-{number}",
            division_code=rng.choice(DISTRICTS),
            parent=company,
        )
        for where, role in ((company, Role.COMPANY_ADMIN), (station, Role.STATION_OPERATOR)):
            user = create_user(
                session,
                organisation=where,
                username=f"u{seed}-{where.id}",
                full_name="u",
                role=role,
            )
            callers.append(Principal(0, where, user))
        callers.append(Principal(0, supply))  # a handheld's token: organisation only
        for _ in range(rng.randint(1, 3)):
            serial += 1
            register_cylinder(
                session,
                CylinderInput(
                    code=f"AC{seed:02d}{serial:06d}",
                    model="YSP35.5",
                    manufacturer="重庆钢瓶厂",
                    serial_no=f"SN-{seed}-{serial}",
                    manufactured_on=date(2024, 3, 15),
                    tare_kg=Decimal("16.40"),
                ),
                owner=company,
                station=station,
                rules=app.config["CT_SETTINGS"].rules,
                today=date.today(),
            )
        for _ in range(rng.randint(1, 4)):
            serial += 1
            premises = rng.choice(DISTRICTS)
            number_ = id_number(region=premises, seq=f"{serial % 1000:03d}")
            if rng.random() < 0.6:
                data: dict[str, Any] = business(
                    credit_code=credit_code(f"MA5U{serial:05d}"),
                    id_number=number_,
                    division_code=premises,
                    is_catering=rng.random() < 0.8,
                )
            else:
                data = person(id_number=number_, division_code=premises)
            register_customer(session, vault, company=company, **data)
    for number, jurisdiction in enumerate(JURISDICTIONS):
        kind = rng.choice((OrganisationKind.COMMERCE_BUREAU, OrganisationKind.REGULATOR))
        authority = org(session, kind=kind, name=f"监管{seed}-{number}", division_code=jurisdiction)
        role = Role.BUREAU_REVIEWER if kind == OrganisationKind.COMMERCE_BUREAU else Role.REGULATOR
        user = create_user(
            session, organisation=authority, username=f"r{seed}-{number}", full_name="r", role=role
        )
        callers.append(Principal(0, authority, user))
    session.flush()
    return callers


def _selected(session: Session, model: Any, condition: Any) -> set[int]:
    return set(session.scalars(select(model.id).where(condition)))


def _accepted(session: Session, model: Any, check: Any) -> set[int]:
    return {row.id for row in session.scalars(select(model)) if check(row)}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sql_conditions_and_python_checks_agree(app: Flask, db_session: Session, seed: int) -> None:
    callers = _generate(db_session, app, seed)
    pairs = (
        (Organisation, access.organisation_condition, access.may_read_organisation),
        (Cylinder, access.cylinder_condition, access.may_read_cylinder),
        (Customer, access.customer_condition, access.may_read_customer),
        (Customer, access.catering_user_condition, access.may_read_catering_user),
    )
    for principal in callers:
        for model, condition, check in pairs:
            expected = _accepted(db_session, model, lambda row: check(principal, row))  # noqa: B023
            assert _selected(db_session, model, condition(principal)) == expected, (
                principal,
                condition.__name__,
            )


def test_the_table_holds(app: Flask, db_session: Session) -> None:
    """Customers by the supplier's district, catering users by the premises' district."""
    callers = _generate(db_session, app, 7)
    customers = list(db_session.scalars(select(Customer)))
    for principal in callers:
        if principal.jurisdiction is None:
            continue
        for customer in customers:
            by_supplier = covers(principal.jurisdiction, customer.company.division_code)
            by_premises = covers(principal.jurisdiction, customer.division_code)
            assert access.may_read_customer(principal, customer) is by_supplier
            assert access.may_read_catering_user(principal, customer) is (
                customer.is_catering and by_premises
            )
        for organisation in db_session.scalars(select(Organisation)):
            if organisation.kind in (OrganisationKind.COMMERCE_BUREAU, OrganisationKind.REGULATOR):
                assert access.may_read_organisation(principal, organisation) is (
                    organisation.id == principal.organisation_id
                )
    for principal in callers:
        if principal.company_id is None:
            continue
        for customer in customers:
            assert access.may_read_customer(principal, customer) is (
                customer.company_id == principal.company_id
            )
