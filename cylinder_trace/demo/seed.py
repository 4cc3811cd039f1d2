"""Demo data: one Chongqing district with its gas company, staff, bureau and regulator."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cylinder_trace.auth.tokens import issue_token
from cylinder_trace.db import get_database
from cylinder_trace.devices.services import register_device
from cylinder_trace.domain.roles import DeviceKind, OrganisationKind, Role
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.organisations.services import create_organisation
from cylinder_trace.users.services import create_user

DAZU = "500111"
YUBEI = "500112"
CHONGQING = "500000"
TOKENS_FILE = "demo-tokens.txt"


@dataclass(frozen=True)
class DemoToken:
    who: str
    role: str
    token: str


def seed_demo(session: Session) -> list[DemoToken]:
    """Create the demo world in the session (flushed, not committed) and return its tokens."""
    org = create_organisation
    platform = org(
        session,
        kind=OrganisationKind.PLATFORM,
        name="cylinder-trace 运营中心",
        division_code=CHONGQING,
    )
    company = org(
        session,
        kind=OrganisationKind.GAS_COMPANY,
        name="重庆大足燃气有限公司",
        division_code=DAZU,
        address="重庆市大足区龙岗街道二环南路 88 号",
    )
    station = org(
        session,
        kind=OrganisationKind.FILLING_STATION,
        name="大足龙水液化气充装站",
        division_code=DAZU,
        parent=company,
        address="重庆市大足区龙水镇工业园区",
    )
    supply = org(
        session,
        kind=OrganisationKind.SUPPLY_POINT,
        name="大足棠香供应站",
        division_code=DAZU,
        parent=company,
        address="重庆市大足区棠香街道五星大道 12 号",
    )
    org(
        session,
        kind=OrganisationKind.GAS_COMPANY,
        name="重庆渝北燃气有限公司",
        division_code=YUBEI,
    )
    bureau = org(
        session,
        kind=OrganisationKind.COMMERCE_BUREAU,
        name="重庆市大足区商务委员会",
        division_code=DAZU,
    )
    regulator = org(
        session,
        kind=OrganisationKind.REGULATOR,
        name="重庆市应急管理局",
        division_code=CHONGQING,
    )

    people = [
        (platform, "admin", "系统管理员", Role.SYSTEM_ADMIN),
        (company, "dz.admin", "陈静", Role.COMPANY_ADMIN),
        (station, "dz.filler", "刘强", Role.STATION_OPERATOR),
        (supply, "dz.courier", "王磊", Role.DELIVERY_STAFF),
        (bureau, "dz.bureau", "赵敏", Role.BUREAU_REVIEWER),
        (regulator, "cq.regulator", "孙伟", Role.REGULATOR),
    ]
    issued: list[DemoToken] = []
    users = {}
    for organisation, username, name, role in people:
        user = create_user(
            session, organisation=organisation, username=username, full_name=name, role=role
        )
        users[username] = user
        if role != Role.DELIVERY_STAFF:
            _, secret = issue_token(session, name="demo", user=user)
            issued.append(
                DemoToken(f"{username} ({name}, {organisation.name})", role.value, secret)
            )

    handheld = register_device(
        session,
        organisation=supply,
        serial_no="HH-DZ-0001",
        kind=DeviceKind.HANDHELD,
        name="棠香站手持终端 1",
    )
    _, secret = issue_token(
        session, name="demo handheld", user=users["dz.courier"], device=handheld
    )
    issued.append(
        DemoToken(
            f"dz.courier (王磊) on handheld {handheld.serial_no}", Role.DELIVERY_STAFF.value, secret
        )
    )
    register_device(
        session,
        organisation=station,
        serial_no="SCALE-DZ-01",
        kind=DeviceKind.FILLING_SCALE,
        name="龙水站充装秤 1",
    )
    return issued


def _tokens_path() -> Path:
    return Path(current_app.instance_path) / TOKENS_FILE


def _print_tokens(text: str) -> None:
    click.echo("Demo API tokens (send as 'Authorization: Bearer <token>'):")
    click.echo(text)


@click.group("demo")
def demo_cli() -> None:
    """Demo data."""


@demo_cli.command("seed")
@click.option("--if-empty", is_flag=True, help="Do nothing (but show saved tokens) if data exists.")
@with_appcontext
def demo_seed(if_empty: bool) -> None:
    """Seed a Chongqing district's demo world and print API tokens to try it with.

    The tokens are also saved to instance/demo-tokens.txt (readable by the owner only),
    because only their hashes are in the database.
    """
    database = get_database()
    with database.session_scope() as session:
        existing = session.scalar(select(func.count()).select_from(Organisation))
        if existing:
            if not if_empty:
                raise click.ClickException(
                    "The database already has data; demo seed needs an empty one."
                )
            click.echo("Demo data already present; not seeding again.")
            path = _tokens_path()
            if path.exists():
                _print_tokens(path.read_text("utf-8"))
            return
        issued = seed_demo(session)
    lines = "\n".join(f"  {t.role:<17} {t.who}\n    {t.token}" for t in issued)
    path = _tokens_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(lines + "\n")
    _print_tokens(lines)
