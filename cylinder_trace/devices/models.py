"""The Device aggregate."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cylinder_trace.db import Base, EnumText, enum_check, utcnow
from cylinder_trace.domain.roles import DeviceKind
from cylinder_trace.organisations.models import Organisation


class Device(Base):
    """A scanner the service knows by serial number; scans name the device they came from."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    serial_no: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[DeviceKind] = mapped_column(EnumText(DeviceKind))
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship(lazy="joined")

    __table_args__ = (enum_check("kind", DeviceKind),)

    def __repr__(self) -> str:
        return f"<Device {self.id} {self.serial_no} {self.kind}>"
