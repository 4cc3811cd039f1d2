"""Committed data for the browser tests: the demo world plus cylinders, fills and checks.

The browser talks to a live server in another thread, which cannot see the rolled-back
transaction the other tests use; so the browser tests get their own SQLite file, built by
the migrations and filled here through the services, and committed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from cylinder_trace.catering.checks import ItemInput, record_check
from cylinder_trace.catering.models import ItemResult
from cylinder_trace.catering.status import current_period
from cylinder_trace.customers.services import register_customer
from cylinder_trace.cylinders.services import CylinderInput, register_cylinder
from cylinder_trace.db import get_database, utcnow
from cylinder_trace.demo.seed import seed_demo
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.principal import Principal
from cylinder_trace.scans.context import ScanContext
from cylinder_trace.scans.schemas import ScanCreateSchema
from cylinder_trace.scans.services import record_scans
from cylinder_trace.users.models import User
from cylinder_trace.users.services import create_user, set_password
from cylinder_trace.web.current import registry
from tests.customers.helpers import business, credit_code, id_number, person

PASSWORD = "Browser-test-2026"
GOOD = "CQDZ-100001"
OVERDUE = "CQDZ-100002"
STOPPED = "CQDZ-100003"
PRE_OK = {"appearance": True, "valve": True, "residual_liquid": True, "marking": True}


@dataclass
class LiveWorld:
    base_url: str = ""
    tokens: dict[str, str] = field(default_factory=dict)
    catering_names: list[str] = field(default_factory=list)


def _org(session: Session, name: str) -> Organisation:
    return session.scalars(select(Organisation).where(Organisation.name == name)).one()


def _user(session: Session, username: str) -> User:
    return session.scalars(select(User).where(User.username == username)).one()


def _cylinders(session: Session, app: Flask, company: Organisation, station: Organisation) -> None:
    rules = app.config["CT_SETTINGS"].rules
    today = date.today()
    made = {
        GOOD: today - timedelta(days=400),
        OVERDUE: today - timedelta(days=5 * 365),  # inspection due after 4 years
        STOPPED: today - timedelta(days=200),
    }
    for number, (code, manufactured_on) in enumerate(made.items()):
        cylinder = register_cylinder(
            session,
            CylinderInput(
                code=code,
                model="YSP35.5",
                manufacturer="重庆钢瓶厂",
                serial_no=f"BT-{number}",
                manufactured_on=manufactured_on,
                tare_kg=Decimal("16.40"),
            ),
            owner=company,
            station=station,
            rules=rules,
            today=today,
        )
        cylinder.stopped = code == STOPPED
    session.flush()


def _fills(session: Session, app: Flask, station: Organisation, filler: User) -> None:
    ctx = ScanContext.at(
        utcnow(),
        principal=Principal(token_id=0, organisation=station, user=filler),
        settings=app.config["CT_SETTINGS"],
        registry=registry(),
    )
    schema = ScanCreateSchema()
    for code in (GOOD, OVERDUE):
        # After the registrations just recorded, so the timeline reads in order.
        item = schema.load(
            {
                "event_id": str(uuid.uuid4()),
                "kind": "fill",
                "code": code,
                "occurred_at": utcnow().isoformat(),
                "gross_kg": "30.90",
                "pre_fill_check": PRE_OK,
            }
        )
        # Interactive, as the scale would: the overdue cylinder's fill is refused and kept.
        record_scans(session, ctx, [item], interactive=True)
    # The good cylinder went out and came back empty: the station may fill it again.
    for kind, extra in (("dispatch", {"vehicle_plate": "渝A12345"}), ("receive_empty", {})):
        body = {
            "event_id": str(uuid.uuid4()),
            "kind": kind,
            "code": GOOD,
            "occurred_at": utcnow().isoformat(),
            **extra,
        }
        record_scans(session, ctx, [schema.load(body)], interactive=True)


def _catering(session: Session, app: Flask, world: LiveWorld) -> None:
    config = app.config["CT_SETTINGS"]
    vault = registry().pii_vault
    dazu = _org(session, "重庆大足燃气有限公司")
    yubei = _org(session, "重庆渝北燃气有限公司")
    courier = _user(session, "dz.courier")
    yubei_staff = create_user(
        session, organisation=yubei, username="yb.admin", full_name="周洋", role="company_admin"
    )
    now = utcnow()
    period = current_period(now, config.rules.check_interval_days, config.time_zone)
    this_week = period.start + (now - period.start) / 2
    checklist = [item.code for item in config.rules.catering_checklist]

    def visit(customer: Any, at: datetime, checker: User, failed: tuple[str, ...] = ()) -> None:
        items = [
            ItemInput(code, ItemResult.FAIL if code in failed else ItemResult.PASS)
            for code in checklist
        ]
        record_check(
            session,
            customer,
            checked_by=checker,
            checked_at=at,
            items=items,
            rules=config.rules,
            settings=config.catering,
            store=registry().file_store,
            now=now,
            tz=config.time_zone,
        )

    plan = [
        ("石刻火锅店", dazu, [(this_week, courier, ("metal_hose",))]),
        ("龙水豆花饭", dazu, [(period.start - timedelta(days=2), courier, ())]),
        ("棠香烧烤", dazu, [(period.start - timedelta(days=20), courier, ("leak_alarm_working",))]),
        ("宝顶素食馆", dazu, []),
        ("渝北来的面馆", yubei, [(this_week, yubei_staff, ())]),
    ]
    for number, (name, company, visits) in enumerate(plan, start=1):
        customer = register_customer(
            session,
            vault,
            company=company,
            **business(
                name=name,
                credit_code=credit_code(f"MA5UBT{number:03d}"),
                id_number=id_number(seq=f"{number:03d}"),
            ),
        )
        for at, checker, failed in visits:
            visit(customer, at, checker, failed)
        world.catering_names.append(name)
    register_customer(session, vault, company=dazu, **person(name="张三"))


def seed_live_world(app: Flask, base_url: str) -> LiveWorld:
    """Fill the browser tests' database (committed) and say what is in it."""
    world = LiveWorld(base_url=base_url)
    with app.app_context(), get_database().session_scope() as session:
        for token in seed_demo(session):
            world.tokens[token.who.split(" ")[0]] = token.token
        for username in ("dz.filler", "dz.admin", "dz.bureau", "cq.regulator"):
            set_password(session, _user(session, username), PASSWORD)
        company = _org(session, "重庆大足燃气有限公司")
        station = _org(session, "大足龙水液化气充装站")
        _cylinders(session, app, company, station)
        _fills(session, app, station, _user(session, "dz.filler"))
        _catering(session, app, world)
    return world
