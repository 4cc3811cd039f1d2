"""What a scan names: the cylinder (by code or signed label), its site, the chain it joins.

The recording service (``scans.services``) and the scale's question (``scans.fill_check``)
read an item's target and site the same way, here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from cylinder_trace.domain.errors import DomainError
from cylinder_trace.domain.history import Place
from cylinder_trace.fastpath.cylinder_record import CylinderRecord
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.qr_labels.signing import CODE_RE, LabelInvalid
from cylinder_trace.scans.context import ScanContext, plain_hash
from cylinder_trace.scans.judging import place_of
from cylinder_trace.translations import message


@dataclass(slots=True)
class Target:
    """What an item's code or QR payload points at."""

    scanned: str
    code: str | None
    chain_key: str
    problem: str | None = None


def target_of(item: dict[str, Any], ctx: ScanContext) -> Target:
    """What the item's ``code`` or ``qr`` names (``problem``: why it names no cylinder)."""
    if item.get("qr"):
        # What was read is kept as read; the label is the same whatever its letter case.
        scanned = item["qr"].strip()
        try:
            code = ctx.signer.verify(scanned)
        except LabelInvalid:
            key = "?" + plain_hash(scanned.upper())[:60]
            return Target(scanned, None, key, "label_invalid")
        return Target(scanned, code, code)
    scanned = item["code"].strip()
    code = scanned.upper()
    if not CODE_RE.match(code):
        return Target(scanned, None, "?" + plain_hash(code)[:60], "cylinder_unknown")
    return Target(scanned, code, code)


class Places:
    """The sites of one request's scans, each loaded once."""

    def __init__(self, session: Session, ctx: ScanContext) -> None:
        self.session, self.principal = session, ctx.principal
        self.known: dict[int, Place] = {}

    def of(self, item: dict[str, Any]) -> Place:
        """The item's site (``site_invalid``: none of the caller's company)."""
        principal = self.principal
        if item.get("site_id") is None:
            # The scanner is where its token's organisation is: the handheld's or the user's.
            return Place(
                principal.organisation_id, str(principal.organisation_kind), principal.company_id
            )
        site_id = item["site_id"]
        place = self.known.get(site_id)
        if place is None:
            site = self.session.get(Organisation, site_id)
            if site is None:
                raise DomainError(message("site_invalid"), code="site_invalid")
            place = self.known[site_id] = place_of(site)
        if not principal.is_system_admin and place.company_id != principal.company_id:
            raise DomainError(message("site_invalid"), code="site_invalid")
        return place


def chain_key_of(target: Target, cylinder: CylinderRecord | None, ctx: ScanContext) -> str:
    """The chain a new scan joins: its cylinder's, or one of scans that name no cylinder.

    Another company's scan of a cylinder (refused: ``not_own_cylinder``) joins a chain of
    that company's own for that code, not the cylinder's: its place in the owner's chain
    would tell the other company how many records the owner has. It is kept all the same,
    where the regulator sees it, with what was scanned.
    """
    if cylinder is None:
        return target.chain_key if target.problem else "?" + target.chain_key[:63]
    principal = ctx.principal
    if cylinder.owner_company_id != principal.company_id and not principal.is_system_admin:
        return "?" + plain_hash(f"{principal.company_id}|{cylinder.code}")[:60]
    return cylinder.code
