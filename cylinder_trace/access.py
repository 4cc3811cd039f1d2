"""Who sees what: every read scope of the service, in one place.

A caller is a system admin (sees everything), staff or a device of a gas company (sees
its company's records), or an authority, a commerce bureau or a regulator (sees the
records governed by a district inside its jurisdiction). Which district governs a record
is the one thing that differs between kinds of record:

=================  ==============================  =======================================
record             company staff see               authorities see, by the district of
=================  ==============================  =======================================
organisation       their company and its sites     the organisation (gas companies and
                   (and their own organisation)    their sites only; and their own)
cylinder           cylinders their company owns    the owning gas company
customer           their company's customers       the supplying gas company
catering user      their company's catering users  the premises (``Customer.division_code``)
scan               scans of their company's        the scanning site or organisation
                   cylinders and by its sites
                   (``Scan.company_id``)
user               company admins: their company   (none: only themselves)
                   tree's; everyone: themselves
device             their company tree's            (none)
API token          company admins: tokens of       (none: only their own)
                   people and devices of the
                   company; everyone: their own
=================  ==============================  =======================================

Customers and catering users differ on purpose: a customer record is the gas company's
sales register, overseen where the company is registered; a catering user is a place
where gas is used, overseen by the bureau of the district it is in.

Each rule exists twice, as an SQL condition for lists and as a Python check for one
record already loaded, and both are built from the same two primitives:
``in_jurisdiction``/``covers`` (one range, ``domain.jurisdiction.division_range``) and the
company tree (``company_tree``/``Organisation.company_id``). ``tests/test_access.py``
holds every pair equal over generated callers and records.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, false, or_, select, true

from cylinder_trace.auth.models import ApiToken
from cylinder_trace.customers.models import Customer
from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.devices.models import Device
from cylinder_trace.domain.errors import NotFound
from cylinder_trace.domain.jurisdiction import covers, division_range
from cylinder_trace.domain.roles import COMPANY_SITE_KINDS, OrganisationKind, Role
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.principal import Principal
from cylinder_trace.scans.models import Scan
from cylinder_trace.users.models import User

# The organisations an authority oversees: gas companies and their sites, never other
# authorities.
COMPANY_SIDE_KINDS = frozenset({OrganisationKind.GAS_COMPANY, *COMPANY_SITE_KINDS})

Record = TypeVar("Record")


# --- the primitives ------------------------------------------------------------------


def in_jurisdiction(column: Any, jurisdiction: str) -> ColumnElement[bool]:
    """``column`` (a division code) lies under ``jurisdiction``: the SQL form of ``covers``.

    A range rather than LIKE 'prefix%' so that a plain index serves it on PostgreSQL.
    Raises DivisionCodeError for an invalid ``jurisdiction``.
    """
    low, high = division_range(jurisdiction)
    if low == high:
        return column == low
    return column.between(low, high)


def company_tree(company_id: int) -> ColumnElement[bool]:
    """Organisations that are the gas company ``company_id`` or one of its sites.

    The SQL form of ``Organisation.company_id == company_id``.
    """
    return or_(Organisation.id == company_id, Organisation.parent_id == company_id)


def _organisations_in(jurisdiction: str, kinds: frozenset[OrganisationKind] | None) -> Any:
    condition = in_jurisdiction(Organisation.division_code, jurisdiction)
    if kinds is not None:
        condition = and_(Organisation.kind.in_(sorted(kinds)), condition)
    return select(Organisation.id).where(condition)


def _oversees(principal: Principal, organisation: Organisation | None) -> bool:
    """An authority's Python check on the organisation whose district governs a record."""
    return (
        organisation is not None
        and principal.jurisdiction is not None
        and organisation.kind in COMPANY_SIDE_KINDS
        and covers(principal.jurisdiction, organisation.division_code)
    )


# --- organisations -------------------------------------------------------------------


def organisation_condition(principal: Principal) -> ColumnElement[bool]:
    """The organisations this caller may read (the table above)."""
    if principal.is_system_admin:
        return true()
    own = Organisation.id == principal.organisation_id
    if principal.company_id is not None:
        return or_(own, company_tree(principal.company_id))
    if principal.jurisdiction is not None:
        return or_(
            own,
            and_(
                Organisation.kind.in_(sorted(COMPANY_SIDE_KINDS)),
                in_jurisdiction(Organisation.division_code, principal.jurisdiction),
            ),
        )
    return own


def may_read_organisation(principal: Principal, organisation: Organisation) -> bool:
    """The Python form of ``organisation_condition`` for one loaded organisation."""
    if principal.is_system_admin or organisation.id == principal.organisation_id:
        return True
    if principal.company_id is not None:
        return organisation.company_id == principal.company_id
    return _oversees(principal, organisation)


def may_manage_organisation(principal: Principal, organisation: Organisation) -> bool:
    """Write scope: system admins anything; company admins their own company tree."""
    if principal.is_system_admin:
        return True
    return (
        principal.role == Role.COMPANY_ADMIN
        and principal.company_id is not None
        and organisation.company_id == principal.company_id
    )


def readable(
    principal: Principal,
    record: Record | None,
    may_read: Callable[[Principal, Record], bool],
    missing: NotFound,
) -> Record:
    """``record`` (one a request names, loaded or None) when ``may_read`` (the Python form
    of one rule here) lets the caller read it, else raise ``missing``: a record the caller
    may not read looks like no record at all, so its existence never leaks."""
    if record is None or not may_read(principal, record):
        raise missing
    return record


# --- cylinders -----------------------------------------------------------------------


def cylinder_condition(principal: Principal) -> ColumnElement[bool]:
    """The cylinders this caller may read: by owner, or by the owner's district."""
    if principal.is_system_admin:
        return true()
    if principal.company_id is not None:
        return Cylinder.owner_company_id == principal.company_id
    if principal.jurisdiction is not None:
        return Cylinder.owner_company_id.in_(
            _organisations_in(principal.jurisdiction, frozenset({OrganisationKind.GAS_COMPANY}))
        )
    return false()


def may_read_cylinder(principal: Principal, cylinder: Cylinder) -> bool:
    """The Python form of ``cylinder_condition`` for one loaded cylinder."""
    if principal.is_system_admin:
        return True
    if principal.company_id is not None:
        return cylinder.owner_company_id == principal.company_id
    return _oversees(principal, cylinder.owner_company)


# --- customers and catering users ----------------------------------------------------


def customer_condition(principal: Principal) -> ColumnElement[bool]:
    """The customers this caller may read: by company, or by the supplier's district."""
    if principal.is_system_admin:
        return true()
    if principal.company_id is not None:
        return Customer.company_id == principal.company_id
    if principal.jurisdiction is not None:
        return Customer.company_id.in_(
            _organisations_in(principal.jurisdiction, frozenset({OrganisationKind.GAS_COMPANY}))
        )
    return false()


def may_read_customer(principal: Principal, customer: Customer) -> bool:
    """The Python form of ``customer_condition`` for one loaded customer."""
    if principal.is_system_admin:
        return True
    if principal.company_id is not None:
        return customer.company_id == principal.company_id
    return _oversees(principal, customer.company)


def catering_user_condition(principal: Principal) -> ColumnElement[bool]:
    """The catering users this caller may read: by company, or by the premises' district."""
    if principal.is_system_admin:
        return Customer.is_catering
    if principal.company_id is not None:
        return and_(Customer.is_catering, Customer.company_id == principal.company_id)
    if principal.jurisdiction is not None:
        return and_(
            Customer.is_catering,
            in_jurisdiction(Customer.division_code, principal.jurisdiction),
        )
    return false()


def may_read_catering_user(principal: Principal, customer: Customer) -> bool:
    """The Python form of ``catering_user_condition`` for one loaded customer."""
    if not customer.is_catering:
        return False
    if principal.is_system_admin:
        return True
    if principal.company_id is not None:
        return customer.company_id == principal.company_id
    return principal.jurisdiction is not None and covers(
        principal.jurisdiction, customer.division_code
    )


# --- scans ---------------------------------------------------------------------------


def scan_condition(principal: Principal) -> ColumnElement[bool]:
    """The scans this caller may read: its company's cylinders' and its sites'; an
    authority's by the district of the site or scanning organisation."""
    if principal.is_system_admin:
        return true()
    if principal.company_id is not None:
        # ``Scan.company_id`` is the owner of the cylinder a scan joins, else the scanner's
        # company: exactly the scans of the company's cylinders and by its sites.
        return Scan.company_id == principal.company_id
    if principal.jurisdiction is not None:
        area = _organisations_in(principal.jurisdiction, None)
        return or_(Scan.site_id.in_(area), Scan.organisation_id.in_(area))
    return false()


# --- people, devices and API tokens ------------------------------------------------


def user_condition(principal: Principal) -> ColumnElement[bool]:
    """Users a caller may list: company admins their company tree's, everyone themselves.

    Over ``User`` joined to its organisation.
    """
    if principal.is_system_admin:
        return true()
    if principal.role == Role.COMPANY_ADMIN and principal.company_id is not None:
        return company_tree(principal.company_id)
    return User.id == (principal.user_id if principal.user_id is not None else -1)


def device_condition(principal: Principal) -> ColumnElement[bool]:
    """Devices a caller may list: its company tree's. Over ``Device`` joined to its
    organisation."""
    if principal.is_system_admin:
        return true()
    if principal.company_id is not None:
        return company_tree(principal.company_id)
    return false()


# --- API tokens ----------------------------------------------------------------------


def token_condition(principal: Principal) -> ColumnElement[bool]:
    """Tokens a caller may list: everyone their own; company admins those of the people and
    devices of their company tree; system admins all."""
    if principal.is_system_admin:
        return true()
    own = ApiToken.user_id == (principal.user_id if principal.user_id is not None else -1)
    if principal.role == Role.COMPANY_ADMIN and principal.company_id is not None:
        managed = select(Organisation.id).where(company_tree(principal.company_id))
        return or_(
            own,
            ApiToken.user_id.in_(select(User.id).where(User.organisation_id.in_(managed))),
            ApiToken.device_id.in_(select(Device.id).where(Device.organisation_id.in_(managed))),
        )
    return own
