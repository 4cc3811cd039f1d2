"""Creating, finding and changing organisations. Functions flush; the caller commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session

from cylinder_trace.access import (
    may_manage_organisation,
    may_read_organisation,
    organisation_condition,
    readable,
)
from cylinder_trace.domain.errors import Conflict, DomainError, Forbidden, NotFound
from cylinder_trace.domain.jurisdiction import validate_division_code
from cylinder_trace.domain.roles import COMPANY_SITE_KINDS, OrganisationKind
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.principal import Principal


def visible_organisations(principal: Principal) -> Select[tuple[Organisation]]:
    """A select of the organisations this caller may read (``access.organisation_condition``)."""
    return select(Organisation).where(organisation_condition(principal))


def get_visible_organisation(session: Session, principal: Principal, org_id: int) -> Organisation:
    """One organisation the caller may read; NotFound otherwise, so existence does not leak."""
    missing = NotFound(f"No organisation {org_id}.", code="organisation_not_found")
    return readable(principal, session.get(Organisation, org_id), may_read_organisation, missing)


def get_managed_organisation(session: Session, principal: Principal, org_id: int) -> Organisation:
    """One organisation the caller may change: 404 if it cannot see it, 403 if read-only."""
    organisation = get_visible_organisation(session, principal, org_id)
    if not may_manage_organisation(principal, organisation):
        raise Forbidden("You may read this organisation but not change it.")
    return organisation


def filter_organisations(
    statement: Select[tuple[Organisation]], filters: dict[str, Any]
) -> Select[tuple[Organisation]]:
    for name in ("kind", "parent_id", "division_code", "active"):
        if name in filters:
            statement = statement.where(getattr(Organisation, name) == filters[name])
    if "q" in filters:
        statement = statement.where(Organisation.name.contains(filters["q"], autoescape=True))
    return statement.order_by(Organisation.id)


def create_organisation(
    session: Session,
    *,
    kind: OrganisationKind,
    name: str,
    division_code: str,
    parent: Organisation | None = None,
    address: str | None = None,
    licence_no: str | None = None,
    contact_phone: str | None = None,
) -> Organisation:
    """Register an organisation. Stations and supply points need their gas company."""
    kind = OrganisationKind(kind)
    division_code = validate_division_code(division_code)
    name = name.strip()
    if not name:
        raise DomainError("The name must not be empty.", code="organisation_name_missing")
    if kind in COMPANY_SITE_KINDS:
        if parent is None:
            raise DomainError(
                f"A {kind.value} must name the gas company it belongs to (parent_id).",
                code="organisation_parent_required",
            )
        if parent.kind != OrganisationKind.GAS_COMPANY:
            raise DomainError(
                "The parent of a station or supply point must be a gas company.",
                code="organisation_parent_invalid",
            )
        if not parent.active:
            raise DomainError("That gas company is deactivated.", code="organisation_inactive")
    elif parent is not None:
        raise DomainError(
            f"A {kind.value} has no parent organisation.", code="organisation_parent_invalid"
        )
    parent_id = parent.id if parent is not None else None
    clash = session.scalar(
        select(Organisation.id).where(
            Organisation.name == name,
            Organisation.parent_id == parent_id
            if parent_id is not None
            else and_(Organisation.parent_id.is_(None), Organisation.kind == kind),
        )
    )
    if clash is not None:
        raise Conflict(
            f"An organisation named {name!r} already exists there.",
            code="organisation_name_taken",
            details={"existing_id": clash},
        )
    organisation = Organisation(
        kind=kind,
        name=name,
        parent=parent,
        parent_id=parent_id,
        division_code=division_code,
        address=address,
        licence_no=licence_no,
        contact_phone=contact_phone,
    )
    session.add(organisation)
    session.flush()
    return organisation


def create_organisation_as(
    session: Session, principal: Principal, data: dict[str, Any]
) -> Organisation:
    """Create on behalf of a caller: company admins may add sites to their own company only."""
    data = dict(data)
    parent_id = data.pop("parent_id", None)
    parent = None
    if parent_id is not None:
        parent = get_visible_organisation(session, principal, parent_id)
    if not principal.is_system_admin:
        kind = OrganisationKind(data["kind"])
        if kind not in COMPANY_SITE_KINDS or parent is None:
            raise Forbidden(
                "Company admins may add filling stations and supply points to their company only.",
                code="forbidden",
            )
        if not may_manage_organisation(principal, parent):
            raise Forbidden("You may not add sites to that company.")
    return create_organisation(session, parent=parent, **data)


def update_organisation(
    session: Session, organisation: Organisation, changes: dict[str, Any]
) -> Organisation:
    """Apply changes to name, contact data or the active flag."""
    if "name" in changes and changes["name"].strip() != organisation.name:
        name = changes["name"].strip()
        if not name:
            raise DomainError("The name must not be empty.", code="organisation_name_missing")
        clash = session.scalar(
            select(Organisation.id).where(
                Organisation.name == name,
                Organisation.id != organisation.id,
                Organisation.parent_id == organisation.parent_id
                if organisation.parent_id is not None
                else and_(Organisation.parent_id.is_(None), Organisation.kind == organisation.kind),
            )
        )
        if clash is not None:
            raise Conflict(
                f"An organisation named {name!r} already exists there.",
                code="organisation_name_taken",
            )
        organisation.name = name
    for field in ("address", "licence_no", "contact_phone", "active"):
        if field in changes:
            setattr(organisation, field, changes[field])
    session.flush()
    return organisation
