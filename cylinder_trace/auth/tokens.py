"""Issuing, checking and revoking API tokens. Services flush; the caller commits."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.orm import Session

from cylinder_trace.access import may_manage_organisation, token_condition
from cylinder_trace.auth.models import ApiToken, token_is_usable
from cylinder_trace.bulk import fetch
from cylinder_trace.db import utcnow
from cylinder_trace.devices.models import Device
from cylinder_trace.domain.errors import DomainError, NotFound, Unauthenticated
from cylinder_trace.domain.roles import COMPANY_ROLES, OrganisationKind, Role
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.principal import Holder, Principal
from cylinder_trace.users.models import User

TOKEN_PREFIX = "ct_"
# Writing last_used_at on every request would turn each read into a write; a minute's
# precision is what people need to spot a stale or stolen token.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_token(token: str) -> str:
    """SHA-256 is enough: tokens carry 256 random bits, so there is nothing to brute-force."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(
    session: Session,
    *,
    name: str,
    user: User | None = None,
    device: Device | None = None,
    created_by: User | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token for a user, a device, or a user on a device; return it and its secret.

    The secret is returned once and never stored.
    """
    if user is None and device is None:
        raise DomainError("A token needs a user, a device, or both.", code="token_holder_missing")
    if user is not None and not user.active:
        raise DomainError("That user is deactivated.", code="user_inactive")
    if device is not None and not device.active:
        raise DomainError("That device is deactivated.", code="device_inactive")
    if (
        user is not None
        and device is not None
        and (
            user.organisation.company_id is None
            or user.organisation.company_id != device.organisation.company_id
        )
    ):
        raise DomainError(
            "The user and the device belong to different companies.",
            code="token_holder_mismatch",
        )
    if expires_at is not None and expires_at <= utcnow():
        raise DomainError("The expiry must be in the future.", code="token_expiry_past")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        token_hash=hash_token(secret),
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        name=name,
        user=user,
        device=device,
        created_by_id=created_by.id if created_by is not None else None,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    return token, secret


def revoke_token(session: Session, token: ApiToken) -> ApiToken:
    """Revoke a token for good; revoking twice is harmless."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
    return token


@cache
def _holder_statement(dialect: str) -> Select[Any]:
    """The token and what the request needs of its holder, in one statement of columns.

    Every request runs it, so it is built once (and prepared on PostgreSQL, see ``fetch``);
    the ORM objects are loaded later only if something asks for them.
    """
    token, user, device = ApiToken.__table__, User.__table__, Device.__table__
    organisation = Organisation.__table__
    return (
        select(
            token.c.id,
            token.c.expires_at,
            token.c.revoked_at,
            token.c.last_used_at,
            user.c.id,
            user.c.role,
            user.c.active,
            device.c.id,
            device.c.active,
            organisation.c.id,
            organisation.c.kind,
            organisation.c.parent_id,
            organisation.c.division_code,
            organisation.c.active,
        )
        .select_from(token)
        .outerjoin(user, user.c.id == token.c.user_id)
        .outerjoin(device, device.c.id == token.c.device_id)
        .join(
            organisation,
            organisation.c.id == func.coalesce(user.c.organisation_id, device.c.organisation_id),
        )
        .where(token.c.token_hash == bindparam("token_hash"))
    )


def authenticate(session: Session, secret: str | None) -> Principal:
    """The principal behind a bearer token, or Unauthenticated with the reason."""
    if not secret:
        raise Unauthenticated(
            "Authentication required: send 'Authorization: Bearer <token>'.",
            code="unauthenticated",
        )
    connection = session.connection()
    rows = fetch(
        connection,
        _holder_statement(connection.dialect.name),
        {"token_hash": hash_token(secret)},
    )
    now = utcnow()
    if not rows:
        raise Unauthenticated("The token is unknown, revoked or expired.", code="invalid_token")
    token_id, expires_at, revoked_at, last_used_at = rows[0][:4]
    user_id, role, user_active, device_id, device_active = rows[0][4:9]
    organisation_id, kind, parent_id, division_code, organisation_active = rows[0][9:]
    if not token_is_usable(revoked_at, expires_at, now):
        raise Unauthenticated("The token is unknown, revoked or expired.", code="invalid_token")
    if (user_id is not None and not user_active) or (device_id is not None and not device_active):
        raise Unauthenticated("The token's holder is deactivated.", code="invalid_token")
    if not organisation_active:
        raise Unauthenticated("The token's organisation is deactivated.", code="invalid_token")
    if last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION:
        session.execute(
            update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now),
            execution_options={"synchronize_session": False},
        )
    holder = Holder(
        organisation_id,
        OrganisationKind(kind),
        parent_id,
        division_code,
        user_id,
        Role(role) if role is not None else None,
        device_id,
    )
    return Principal(token_id, holder=holder, session=session)


def visible_tokens(principal: Principal) -> Select[tuple[ApiToken]]:
    """Tokens a caller may list (``access.token_condition``), in issue order."""
    return select(ApiToken).where(token_condition(principal)).order_by(ApiToken.id)


def _holder_organisation(token: ApiToken) -> Organisation:
    holder = token.user if token.user is not None else token.device
    return holder.organisation  # type: ignore[union-attr]


def get_revocable_token(session: Session, principal: Principal, token_id: int) -> ApiToken:
    """A token the caller may revoke: its own, or one it manages; NotFound otherwise."""
    token = session.get(ApiToken, token_id)
    if token is not None:
        own = principal.user_id is not None and token.user_id == principal.user_id
        if own or (
            principal.role in (Role.SYSTEM_ADMIN, Role.COMPANY_ADMIN)
            and may_manage_organisation(principal, _holder_organisation(token))
        ):
            return token
    raise NotFound(f"No token {token_id}.", code="token_not_found")


def issue_token_as(
    session: Session, principal: Principal, data: dict[str, Any]
) -> tuple[ApiToken, str]:
    """Issue a token for a user or device the caller manages."""
    user = device = None
    if data.get("user_id") is not None:
        user = session.get(User, data["user_id"])
        if user is None or not may_manage_organisation(principal, user.organisation):
            raise NotFound(f"No user {data['user_id']}.", code="user_not_found")
        if not principal.is_system_admin and user.role not in COMPANY_ROLES:
            raise NotFound(f"No user {data['user_id']}.", code="user_not_found")
    if data.get("device_id") is not None:
        device = session.get(Device, data["device_id"])
        if device is None or not may_manage_organisation(principal, device.organisation):
            raise NotFound(f"No device {data['device_id']}.", code="device_not_found")
    return issue_token(
        session,
        name=data["name"],
        user=user,
        device=device,
        created_by=principal.user,
        expires_at=data.get("expires_at"),
    )
