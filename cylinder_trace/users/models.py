"""The User aggregate."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cylinder_trace.db import Base, EnumText, enum_check, utcnow
from cylinder_trace.domain.roles import Role
from cylinder_trace.organisations.models import Organisation


class User(Base):
    """A person with exactly one role in exactly one organisation."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(EnumText(Role))
    phone: Mapped[str | None] = mapped_column(String(32))
    # Set for people who sign in to the web pages; API callers use tokens.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship(lazy="joined")

    __table_args__ = (
        enum_check("role", Role),
        CheckConstraint("username = lower(username)", name="username_lowercase"),
    )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username} {self.role}>"
