"""Organisation kinds, user roles, and which role belongs in which kind of organisation."""

from __future__ import annotations

from enum import StrEnum


class OrganisationKind(StrEnum):
    GAS_COMPANY = "gas_company"
    FILLING_STATION = "filling_station"
    SUPPLY_POINT = "supply_point"
    COMMERCE_BUREAU = "commerce_bureau"
    REGULATOR = "regulator"
    # The operator of the service itself; home of system administrators.
    PLATFORM = "platform"


class Role(StrEnum):
    STATION_OPERATOR = "station_operator"
    DELIVERY_STAFF = "delivery_staff"
    COMPANY_ADMIN = "company_admin"
    BUREAU_REVIEWER = "bureau_reviewer"
    REGULATOR = "regulator"
    SYSTEM_ADMIN = "system_admin"


# Sites that belong to a gas company and cannot exist without one.
COMPANY_SITE_KINDS = frozenset({OrganisationKind.FILLING_STATION, OrganisationKind.SUPPLY_POINT})

# Authorities whose reach is an administrative division, not a company.
AUTHORITY_KINDS = frozenset({OrganisationKind.COMMERCE_BUREAU, OrganisationKind.REGULATOR})

ROLE_ORGANISATION_KINDS: dict[Role, frozenset[OrganisationKind]] = {
    Role.STATION_OPERATOR: frozenset({OrganisationKind.FILLING_STATION}),
    Role.DELIVERY_STAFF: frozenset({OrganisationKind.SUPPLY_POINT, OrganisationKind.GAS_COMPANY}),
    Role.COMPANY_ADMIN: frozenset({OrganisationKind.GAS_COMPANY}),
    Role.BUREAU_REVIEWER: frozenset({OrganisationKind.COMMERCE_BUREAU}),
    Role.REGULATOR: frozenset({OrganisationKind.REGULATOR}),
    Role.SYSTEM_ADMIN: frozenset({OrganisationKind.PLATFORM}),
}

COMPANY_ROLES = frozenset({Role.STATION_OPERATOR, Role.DELIVERY_STAFF, Role.COMPANY_ADMIN})
AUTHORITY_ROLES = frozenset({Role.BUREAU_REVIEWER, Role.REGULATOR})


def role_fits(role: Role, kind: OrganisationKind) -> bool:
    """Whether a user of this role may belong to an organisation of this kind."""
    return kind in ROLE_ORGANISATION_KINDS[role]


class DeviceKind(StrEnum):
    HANDHELD = "handheld"
    FILLING_SCALE = "filling_scale"
    STATION_TERMINAL = "station_terminal"


DEVICE_ORGANISATION_KINDS: dict[DeviceKind, frozenset[OrganisationKind]] = {
    DeviceKind.HANDHELD: frozenset(
        {
            OrganisationKind.GAS_COMPANY,
            OrganisationKind.FILLING_STATION,
            OrganisationKind.SUPPLY_POINT,
        }
    ),
    DeviceKind.FILLING_SCALE: frozenset({OrganisationKind.FILLING_STATION}),
    DeviceKind.STATION_TERMINAL: frozenset(
        {OrganisationKind.FILLING_STATION, OrganisationKind.SUPPLY_POINT}
    ),
}
