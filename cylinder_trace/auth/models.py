"""The auth aggregates: API tokens (stored only as hashes), page sessions, failed sign-ins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cylinder_trace.db import Base, utcnow
from cylinder_trace.devices.models import Device
from cylinder_trace.users.models import User


class ApiToken(Base):
    """A revocable bearer token held by a user, a device, or a user on a device.

    Only the SHA-256 of the token is stored; the token itself is shown once when issued.
    ``prefix`` (the first characters) lets people tell their tokens apart.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    device_id: Mapped[int | None] = mapped_column(
        ForeignKey("devices.id", ondelete="RESTRICT"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    user: Mapped[User | None] = relationship(foreign_keys=[user_id], lazy="joined")
    device: Mapped[Device | None] = relationship(lazy="joined")

    __table_args__ = (
        CheckConstraint("user_id IS NOT NULL OR device_id IS NOT NULL", name="has_holder"),
        CheckConstraint("length(token_hash) = 64", name="token_hash_length"),
    )


def token_is_usable(
    revoked_at: datetime | None, expires_at: datetime | None, now: datetime
) -> bool:
    """Not revoked, and not expired at ``now`` (authentication reads the two columns alone)."""
    return revoked_at is None and (expires_at is None or expires_at > now)


USERNAME_LENGTH = 64  # as users.username; longer input is cut, not stored whole
ADDRESS_LENGTH = 45  # the longest IPv6 text form


class SignInFailure(Base):
    """One failed sign-in on the pages."""

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_LENGTH))
    address: Mapped[str] = mapped_column(String(ADDRESS_LENGTH))
    at: Mapped[datetime]

    __table_args__ = (
        Index("ix_sign_in_failures_username_at", "username", "at"),
        Index("ix_sign_in_failures_address_at", "address", "at"),
        Index("ix_sign_in_failures_at", "at"),
    )


class UserSession(Base):
    """One signed-in browser of one user, until it ends or expires."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Sessions are worth nothing without their user: they never hold a user's row back.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)

    __table_args__ = (
        CheckConstraint("length(session_hash) = 64", name="session_hash_length"),
        CheckConstraint("expires_at > created_at", name="expires_after_created"),
    )
