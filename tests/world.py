"""A small world for tests: two gas companies in two districts, authorities, tokens."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from cylinder_trace.auth.tokens import issue_token
from cylinder_trace.devices.models import Device
from cylinder_trace.devices.services import register_device
from cylinder_trace.domain.roles import DeviceKind, OrganisationKind, Role
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.organisations.services import create_organisation
from cylinder_trace.users.models import User
from cylinder_trace.users.services import create_user

DAZU = "500111"
YUBEI = "500112"
CHONGQING = "500000"


@dataclass
class World:
    orgs: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    devices: dict[str, Device] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, who: str) -> dict[str, str]:
        """Headers for a request as ``who`` (a key of ``tokens``)."""
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def build_world(session: Session) -> World:
    """Company A in Dazu and company B in Yubei, each with a station and a supply point."""
    world = World()
    org = create_organisation
    world.orgs["platform"] = org(
        session, kind=OrganisationKind.PLATFORM, name="运营中心", division_code=CHONGQING
    )
    for key, name, district in (("a", "大足燃气", DAZU), ("b", "渝北燃气", YUBEI)):
        company = org(session, kind=OrganisationKind.GAS_COMPANY, name=name, division_code=district)
        world.orgs[f"{key}"] = company
        world.orgs[f"{key}_station"] = org(
            session,
            kind=OrganisationKind.FILLING_STATION,
            name=f"{name}充装站",
            division_code=district,
            parent=company,
        )
        world.orgs[f"{key}_supply"] = org(
            session,
            kind=OrganisationKind.SUPPLY_POINT,
            name=f"{name}供应站",
            division_code=district,
            parent=company,
        )
    world.orgs["dazu_bureau"] = org(
        session, kind=OrganisationKind.COMMERCE_BUREAU, name="大足区商务委", division_code=DAZU
    )
    world.orgs["yubei_bureau"] = org(
        session, kind=OrganisationKind.COMMERCE_BUREAU, name="渝北区商务委", division_code=YUBEI
    )
    world.orgs["city_regulator"] = org(
        session, kind=OrganisationKind.REGULATOR, name="重庆市应急管理局", division_code=CHONGQING
    )

    people = [
        ("sysadmin", "platform", Role.SYSTEM_ADMIN),
        ("a_admin", "a", Role.COMPANY_ADMIN),
        ("a_operator", "a_station", Role.STATION_OPERATOR),
        ("a_courier", "a_supply", Role.DELIVERY_STAFF),
        ("b_admin", "b", Role.COMPANY_ADMIN),
        ("b_operator", "b_station", Role.STATION_OPERATOR),
        ("dazu_reviewer", "dazu_bureau", Role.BUREAU_REVIEWER),
        ("yubei_reviewer", "yubei_bureau", Role.BUREAU_REVIEWER),
        ("city_regulator", "city_regulator", Role.REGULATOR),
    ]
    for username, org_key, role in people:
        user = create_user(
            session,
            organisation=world.orgs[org_key],
            username=username.replace("_", "."),
            full_name=username,
            role=role,
        )
        world.users[username] = user
        world.tokens[username] = issue_token(session, name="test", user=user)[1]

    for key in ("a", "b"):
        device = register_device(
            session,
            organisation=world.orgs[f"{key}_supply"],
            serial_no=f"HH-{key}-1",
            kind=DeviceKind.HANDHELD,
            name="handheld",
        )
        world.devices[f"{key}_handheld"] = device
        world.tokens[f"{key}_handheld"] = issue_token(session, name="device", device=device)[1]
    return world
