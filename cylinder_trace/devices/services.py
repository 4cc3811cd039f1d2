"""Registering and managing scanning devices. Functions flush; the caller commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from cylinder_trace.access import device_condition, may_manage_organisation
from cylinder_trace.devices.models import Device
from cylinder_trace.domain.errors import Conflict, DomainError, Forbidden, NotFound
from cylinder_trace.domain.roles import DEVICE_ORGANISATION_KINDS, DeviceKind
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.organisations.services import get_visible_organisation
from cylinder_trace.principal import Principal


def register_device(
    session: Session, *, organisation: Organisation, serial_no: str, kind: DeviceKind, name: str
) -> Device:
    """Register a device of a company or one of its sites; serial numbers are unique."""
    kind = DeviceKind(kind)
    serial_no = serial_no.strip().upper()
    if organisation.kind not in DEVICE_ORGANISATION_KINDS[kind]:
        raise DomainError(
            f"A {kind.value} cannot belong to a {organisation.kind.value}.",
            code="device_not_allowed_in_organisation",
        )
    if not organisation.active:
        raise DomainError("That organisation is deactivated.", code="organisation_inactive")
    if session.scalar(select(Device.id).where(Device.serial_no == serial_no)) is not None:
        raise Conflict(
            f"A device with serial {serial_no!r} is registered.", code="device_serial_taken"
        )
    device = Device(
        organisation=organisation,
        organisation_id=organisation.id,
        serial_no=serial_no,
        kind=kind,
        name=name.strip(),
    )
    session.add(device)
    session.flush()
    return device


def visible_devices(principal: Principal) -> Select[tuple[Device]]:
    """Devices a caller may list (``access.device_condition``)."""
    return select(Device).join(Device.organisation).where(device_condition(principal))


def filter_devices(
    statement: Select[tuple[Device]], filters: dict[str, Any]
) -> Select[tuple[Device]]:
    for name in ("organisation_id", "kind", "active"):
        if name in filters:
            statement = statement.where(getattr(Device, name) == filters[name])
    return statement.order_by(Device.id)


def get_managed_device(session: Session, principal: Principal, device_id: int) -> Device:
    """A device the caller may change; NotFound for anyone outside its company."""
    device = session.get(Device, device_id)
    if device is None or not may_manage_organisation(principal, device.organisation):
        raise NotFound(f"No device {device_id}.", code="device_not_found")
    return device


def register_device_as(session: Session, principal: Principal, data: dict[str, Any]) -> Device:
    """Register a device on behalf of a caller, within what it manages."""
    data = dict(data)
    organisation = get_visible_organisation(session, principal, data.pop("organisation_id"))
    if not may_manage_organisation(principal, organisation):
        raise Forbidden("You may not register devices for that organisation.")
    return register_device(session, organisation=organisation, **data)


def update_device(session: Session, device: Device, changes: dict[str, Any]) -> Device:
    """Rename or (de)activate a device; a deactivated device's tokens stop working."""
    if "name" in changes:
        device.name = changes["name"].strip()
    if "active" in changes:
        device.active = changes["active"]
    session.flush()
    return device
