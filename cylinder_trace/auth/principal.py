"""Who is calling: the holder of the bearer token, and what that lets it reach."""

from __future__ import annotations

from dataclasses import dataclass

from cylinder_trace.devices.models import Device
from cylinder_trace.domain.jurisdiction import covers
from cylinder_trace.domain.roles import AUTHORITY_KINDS, OrganisationKind, Role
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.users.models import User


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of one request.

    A user token acts as the user; a device token acts as the device's organisation with
    no role of a person; a token issued for a user on a device carries both, so a scan
    names who scanned and with which handheld.
    """

    token_id: int
    organisation: Organisation
    user: User | None = None
    device: Device | None = None

    @property
    def role(self) -> Role | None:
        return self.user.role if self.user is not None else None

    @property
    def organisation_id(self) -> int:
        return self.organisation.id

    @property
    def company_id(self) -> int | None:
        """The gas company whose data this caller works on; None for authorities."""
        return self.organisation.company_id

    @property
    def jurisdiction(self) -> str | None:
        """The division a bureau or regulator oversees; None for everyone else."""
        if self.organisation.kind in AUTHORITY_KINDS:
            return self.organisation.division_code
        return None

    @property
    def is_system_admin(self) -> bool:
        return self.role == Role.SYSTEM_ADMIN

    def can_see_organisation(self, organisation: Organisation) -> bool:
        """Read scope: own company tree, own jurisdiction, or everything for system admins."""
        if self.is_system_admin or organisation.id == self.organisation_id:
            return True
        if self.company_id is not None:
            return organisation.company_id == self.company_id
        if self.jurisdiction is not None:
            return organisation.kind in (
                OrganisationKind.GAS_COMPANY,
                OrganisationKind.FILLING_STATION,
                OrganisationKind.SUPPLY_POINT,
            ) and covers(self.jurisdiction, organisation.division_code)
        return False

    def can_manage_organisation(self, organisation: Organisation) -> bool:
        """Write scope: system admins anything; company admins their own company tree."""
        if self.is_system_admin:
            return True
        return (
            self.role == Role.COMPANY_ADMIN
            and self.company_id is not None
            and organisation.company_id == self.company_id
        )
