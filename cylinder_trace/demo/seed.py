"""Demo data: one Chongqing district with its gas company, staff, bureau and regulator.

``seed_demo`` makes the organisations, one user of each role and their API tokens.
``seed_demo_world`` (what ``cylinder-trace demo seed`` runs) adds passwords for the web
pages and the activity of activity.py, so that every page has something to show.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cylinder_trace.auth.models import ApiToken
from cylinder_trace.auth.tokens import issue_token
from cylinder_trace.db import get_database, utcnow
from cylinder_trace.demo.activity import DemoActivity, seed_activity
from cylinder_trace.devices.models import Device
from cylinder_trace.devices.services import register_device
from cylinder_trace.domain.roles import DeviceKind, OrganisationKind, Role
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.organisations.services import create_organisation
from cylinder_trace.users.models import User
from cylinder_trace.users.services import create_user, set_password
from cylinder_trace.web.current import registry, settings

DAZU = "500111"
YUBEI = "500112"
CHONGQING = "500000"
TOKENS_FILE = "demo-tokens.txt"
TOKENS_HEADING = "Demo API tokens (send as 'Authorization: Bearer <token>'):"


@dataclass(frozen=True)
class DemoToken:
    who: str
    role: str
    token: str


@dataclass
class DemoCast:
    """Who is in the demo world: organisations by short name, users by username."""

    orgs: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    # Each user's demo token (the courier's is the one on the handheld), for scans as them.
    api_tokens: dict[str, ApiToken] = field(default_factory=dict)
    issued: list[DemoToken] = field(default_factory=list)
    handheld: Device | None = None


@dataclass(frozen=True)
class DemoWorld:
    """What ``seed_demo_world`` made and the secrets to print, shown once only."""

    tokens: list[DemoToken]
    passwords: dict[str, str]
    activity: DemoActivity


def _seed_cast(session: Session) -> DemoCast:
    org = create_organisation
    cast = DemoCast()
    cast.orgs["platform"] = org(
        session,
        kind=OrganisationKind.PLATFORM,
        name="cylinder-trace 运营中心",
        division_code=CHONGQING,
    )
    company = cast.orgs["company"] = org(
        session,
        kind=OrganisationKind.GAS_COMPANY,
        name="重庆大足燃气有限公司",
        division_code=DAZU,
        address="重庆市大足区龙岗街道二环南路 88 号",
    )
    cast.orgs["station"] = org(
        session,
        kind=OrganisationKind.FILLING_STATION,
        name="大足龙水液化气充装站",
        division_code=DAZU,
        parent=company,
        address="重庆市大足区龙水镇工业园区",
    )
    cast.orgs["supply"] = org(
        session,
        kind=OrganisationKind.SUPPLY_POINT,
        name="大足棠香供应站",
        division_code=DAZU,
        parent=company,
        address="重庆市大足区棠香街道五星大道 12 号",
    )
    cast.orgs["yubei"] = org(
        session,
        kind=OrganisationKind.GAS_COMPANY,
        name="重庆渝北燃气有限公司",
        division_code=YUBEI,
    )
    cast.orgs["bureau"] = org(
        session,
        kind=OrganisationKind.COMMERCE_BUREAU,
        name="重庆市大足区商务委员会",
        division_code=DAZU,
    )
    cast.orgs["regulator"] = org(
        session,
        kind=OrganisationKind.REGULATOR,
        name="重庆市应急管理局",
        division_code=CHONGQING,
    )

    people = [
        ("platform", "admin", "系统管理员", Role.SYSTEM_ADMIN),
        ("company", "dz.admin", "陈静", Role.COMPANY_ADMIN),
        ("station", "dz.filler", "刘强", Role.STATION_OPERATOR),
        ("supply", "dz.courier", "王磊", Role.DELIVERY_STAFF),
        ("bureau", "dz.bureau", "赵敏", Role.BUREAU_REVIEWER),
        ("regulator", "cq.regulator", "孙伟", Role.REGULATOR),
    ]
    for org_name, username, name, role in people:
        organisation = cast.orgs[org_name]
        user = create_user(
            session, organisation=organisation, username=username, full_name=name, role=role
        )
        cast.users[username] = user
        if role != Role.DELIVERY_STAFF:
            token, secret = issue_token(session, name="demo", user=user)
            cast.api_tokens[username] = token
            cast.issued.append(
                DemoToken(f"{username} ({name}, {organisation.name})", role.value, secret)
            )

    handheld = cast.handheld = register_device(
        session,
        organisation=cast.orgs["supply"],
        serial_no="HH-DZ-0001",
        kind=DeviceKind.HANDHELD,
        name="棠香站手持终端 1",
    )
    token, secret = issue_token(
        session, name="demo handheld", user=cast.users["dz.courier"], device=handheld
    )
    cast.api_tokens["dz.courier"] = token
    cast.issued.append(
        DemoToken(
            f"dz.courier (王磊) on handheld {handheld.serial_no}", Role.DELIVERY_STAFF.value, secret
        )
    )
    register_device(
        session,
        organisation=cast.orgs["station"],
        serial_no="SCALE-DZ-01",
        kind=DeviceKind.FILLING_SCALE,
        name="龙水站充装秤 1",
    )
    return cast


def seed_demo(session: Session) -> list[DemoToken]:
    """Create the demo organisations, users and devices (flushed, not committed).

    Returns the API tokens. No passwords, cylinders, customers or scans: tests that build
    their own data on top (the browser tests) start from here; ``seed_demo_world`` adds them.
    """
    return _seed_cast(session).issued


def seed_demo_world(session: Session) -> DemoWorld:
    """Create the whole demo world in the session (flushed, not committed).

    The people of ``seed_demo``, each with a new random password, then cylinders, scans,
    customers and catering checks through the same services the API uses. Needs an app
    context (the rules, the label signer, the PII vault, the catering settings).
    """
    cast = _seed_cast(session)
    passwords = {}
    for username, user in cast.users.items():
        # Random per seed: a fixed demo password would outlive the demo on some server.
        password = secrets.token_urlsafe(9)
        set_password(session, user, password)
        passwords[username] = password
    assert cast.handheld is not None
    config, singletons = settings(), registry()
    activity = seed_activity(
        session,
        orgs=cast.orgs,
        users=cast.users,
        api_tokens=cast.api_tokens,
        handheld=cast.handheld,
        settings=config,
        registry=singletons,
        now=utcnow(),
    )
    return DemoWorld(tokens=cast.issued, passwords=passwords, activity=activity)


def demo_text(world: DemoWorld) -> str:
    """What the seed prints and saves: tokens, passwords, and where to look."""
    activity = world.activity
    lines = [TOKENS_HEADING]
    lines += [f"  {t.role:<17} {t.who}\n    {t.token}" for t in world.tokens]
    lines.append(
        "Demo passwords for the web pages: sign in at /login "
        "(dz.filler: /station, dz.admin: /company/cylinders, dz.bureau: /bureau):"
    )
    lines += [f"  {username}: {password}" for username, password in world.passwords.items()]
    lines += activity.summary_lines()
    return "\n".join(lines)


def _tokens_path() -> Path:
    return Path(current_app.instance_path) / TOKENS_FILE


def _print_saved(text: str) -> None:
    # Files saved before the passwords were added hold only the token lines.
    if not text.startswith(TOKENS_HEADING):
        click.echo(TOKENS_HEADING)
    click.echo(text.rstrip("\n"))


@click.group("demo")
def demo_cli() -> None:
    """Demo data."""


@demo_cli.command("seed")
@click.option("--if-empty", is_flag=True, help="Do nothing (but show saved tokens) if data exists.")
@with_appcontext
def demo_seed(if_empty: bool) -> None:
    """Seed a Chongqing district's demo world; print API tokens and passwords to try it with.

    They are also saved to instance/demo-tokens.txt (readable by the owner only), because
    the database keeps only their hashes.
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
                _print_saved(path.read_text("utf-8"))
            return
        world = seed_demo_world(session)
    text = demo_text(world)
    path = _tokens_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    # The mode above applies only to a new file; an older one may have been made wider.
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")
    click.echo(text)
