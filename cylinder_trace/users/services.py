"""Creating, finding and changing users. Functions flush; the caller commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from cylinder_trace.access import may_manage_organisation, user_condition
from cylinder_trace.auth.page_sessions import end_user_sessions
from cylinder_trace.domain.errors import Conflict, DomainError, Forbidden, NotFound
from cylinder_trace.domain.roles import (
    COMPANY_ROLES,
    ROLE_ORGANISATION_KINDS,
    Role,
    role_fits,
)
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.organisations.services import get_visible_organisation
from cylinder_trace.principal import Principal
from cylinder_trace.users.models import User


def _check_role_fits(role: Role, organisation: Organisation) -> None:
    if not role_fits(role, organisation.kind):
        kinds = ", ".join(sorted(kind.value for kind in ROLE_ORGANISATION_KINDS[role]))
        raise DomainError(
            f"A {role.value} belongs to a {kinds}, not a {organisation.kind.value}.",
            code="role_not_allowed_in_organisation",
            details={"role": role.value, "organisation_kind": organisation.kind.value},
        )


def create_user(
    session: Session,
    *,
    organisation: Organisation,
    username: str,
    full_name: str,
    role: Role,
    phone: str | None = None,
) -> User:
    """Register a person with one role in one organisation; usernames are case-insensitive."""
    role = Role(role)
    username = username.strip().lower()
    _check_role_fits(role, organisation)
    if not organisation.active:
        raise DomainError("That organisation is deactivated.", code="organisation_inactive")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"The username {username!r} is taken.", code="username_taken")
    user = User(
        organisation=organisation,
        organisation_id=organisation.id,
        username=username,
        full_name=full_name.strip(),
        role=role,
        phone=phone,
    )
    session.add(user)
    session.flush()
    return user


def visible_users(principal: Principal) -> Select[tuple[User]]:
    """Users a caller may list (``access.user_condition``)."""
    return select(User).join(User.organisation).where(user_condition(principal))


def filter_users(statement: Select[tuple[User]], filters: dict[str, Any]) -> Select[tuple[User]]:
    for name in ("organisation_id", "role", "active"):
        if name in filters:
            statement = statement.where(getattr(User, name) == filters[name])
    return statement.order_by(User.id)


def get_managed_user(session: Session, principal: Principal, user_id: int) -> User:
    """A user the caller may read and change; NotFound for anyone outside its reach."""
    user = session.get(User, user_id)
    if user is None or not may_manage_organisation(principal, user.organisation):
        raise NotFound(f"No user {user_id}.", code="user_not_found")
    if not principal.is_system_admin and user.role not in COMPANY_ROLES:
        raise NotFound(f"No user {user_id}.", code="user_not_found")
    return user


def _check_grantable(principal: Principal, role: Role) -> None:
    if not principal.is_system_admin and role not in COMPANY_ROLES:
        raise Forbidden(
            f"Only a system admin may give the role {role.value}.", code="role_not_grantable"
        )


def create_user_as(session: Session, principal: Principal, data: dict[str, Any]) -> User:
    """Create a user on behalf of a caller, within what it manages."""
    data = dict(data)
    organisation = get_visible_organisation(session, principal, data.pop("organisation_id"))
    if not may_manage_organisation(principal, organisation):
        raise Forbidden("You may not add users to that organisation.")
    _check_grantable(principal, Role(data["role"]))
    return create_user(session, organisation=organisation, **data)


def update_user(
    session: Session, principal: Principal, user: User, changes: dict[str, Any]
) -> User:
    """Change a user's name, phone, role (still fitting the organisation) or active flag.

    Deactivating ends the user's page sessions at once.
    """
    if "role" in changes:
        role = Role(changes["role"])
        _check_grantable(principal, role)
        _check_role_fits(role, user.organisation)
        user.role = role
    if "full_name" in changes:
        user.full_name = changes["full_name"].strip()
    for field in ("phone", "active"):
        if field in changes:
            setattr(user, field, changes[field])
    if changes.get("active") is False:
        # Signed out everywhere now; reactivating does not bring the old sessions back.
        end_user_sessions(session, user)
    session.flush()
    return user


# Web page sign-in. Werkzeug's scrypt (n=2^15, r=8, p=1, random salt): memory-hard, in the
# standard library's hashlib, so no extra dependency; the method is stored in the hash.
PASSWORD_METHOD = "scrypt"
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128


def set_password(session: Session, user: User, password: str) -> User:
    """Give a user a password for the web pages (a salted scrypt hash); ends their sessions."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise DomainError(
            f"A password has {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters.",
            code="password_invalid",
            details={"min": MIN_PASSWORD_LENGTH, "max": MAX_PASSWORD_LENGTH},
        )
    if password.strip() != password or password.lower() == user.username:
        raise DomainError(
            "A password may not be the username, nor start or end with spaces.",
            code="password_invalid",
        )
    user.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)
    # Whoever knew the old password may have signed in with it: every session ends.
    end_user_sessions(session, user)
    session.flush()
    return user


def check_password(user: User, password: str) -> bool:
    """Whether ``password`` is the user's; False when none was ever set."""
    if not user.password_hash or len(password) > MAX_PASSWORD_LENGTH:
        return False
    return check_password_hash(user.password_hash, password)
