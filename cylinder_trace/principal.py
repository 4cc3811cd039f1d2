"""Who is calling: the holder of the bearer token, and what that lets it reach."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cylinder_trace.devices.models import Device
from cylinder_trace.domain.roles import AUTHORITY_KINDS, COMPANY_SITE_KINDS, OrganisationKind, Role
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.users.models import User


@dataclass(frozen=True, slots=True)
class Holder:
    """What every request needs to know of a token's holder, read in one small query."""

    organisation_id: int
    organisation_kind: OrganisationKind
    organisation_parent_id: int | None
    division_code: str
    user_id: int | None = None
    role: Role | None = None
    device_id: int | None = None


class Principal:
    """The caller of one request.

    A user token acts as the user; a device token acts as the device's organisation with
    no role of a person; a token issued for a user on a device carries both, so a scan
    names who scanned and with which handheld.

    Built either from the ORM objects (pages, scripts) or, for API tokens, from a
    ``Holder`` and a session: the objects are then loaded only when something asks for
    them, which most requests never do.
    """

    __slots__ = ("_device", "_holder", "_organisation", "_session", "_user", "token_id")

    def __init__(
        self,
        token_id: int,
        organisation: Organisation | None = None,
        user: User | None = None,
        device: Device | None = None,
        *,
        holder: Holder | None = None,
        session: Any = None,
    ) -> None:
        if holder is None:
            if organisation is None:
                raise ValueError("a principal needs its organisation or a holder")
            holder = Holder(
                organisation.id,
                OrganisationKind(organisation.kind),
                organisation.parent_id,
                organisation.division_code,
                user.id if user is not None else None,
                Role(user.role) if user is not None else None,
                device.id if device is not None else None,
            )
        self.token_id = token_id
        self._holder = holder
        self._session = session
        self._organisation = organisation
        self._user = user
        self._device = device

    def _load(self, model: type, key: int | None) -> Any:
        if key is None or self._session is None:
            return None
        return self._session.get(model, key)

    @property
    def organisation(self) -> Organisation:
        if self._organisation is None:
            self._organisation = self._load(Organisation, self._holder.organisation_id)
        return self._organisation  # type: ignore[return-value]

    @property
    def user(self) -> User | None:
        if self._user is None:
            self._user = self._load(User, self._holder.user_id)
        return self._user

    @property
    def device(self) -> Device | None:
        if self._device is None:
            self._device = self._load(Device, self._holder.device_id)
        return self._device

    @property
    def user_id(self) -> int | None:
        return self._holder.user_id

    @property
    def device_id(self) -> int | None:
        return self._holder.device_id

    @property
    def role(self) -> Role | None:
        return self._holder.role

    @property
    def organisation_id(self) -> int:
        return self._holder.organisation_id

    @property
    def organisation_kind(self) -> OrganisationKind:
        return self._holder.organisation_kind

    @property
    def company_id(self) -> int | None:
        """The gas company whose data this caller works on; None for authorities."""
        kind = self._holder.organisation_kind
        if kind == OrganisationKind.GAS_COMPANY:
            return self._holder.organisation_id
        if kind in COMPANY_SITE_KINDS:
            return self._holder.organisation_parent_id
        return None

    @property
    def jurisdiction(self) -> str | None:
        """The division a bureau or regulator oversees; None for everyone else."""
        if self._holder.organisation_kind in AUTHORITY_KINDS:
            return self._holder.division_code
        return None

    @property
    def is_system_admin(self) -> bool:
        return self.role == Role.SYSTEM_ADMIN

    def __repr__(self) -> str:
        return f"<Principal token={self.token_id} {self._holder}>"
