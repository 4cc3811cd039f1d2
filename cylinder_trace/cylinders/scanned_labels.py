"""The label signer of some settings, and verifying what a scanner read."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cylinder_trace.config import Settings
from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.domain.errors import DomainError
from cylinder_trace.qr_labels.signing import LabelInvalid, LabelSigner


def signer_for(settings: Settings) -> LabelSigner:
    """The cylinder label signer of these settings (the registry holds the app's one)."""
    return LabelSigner(settings.label_base_url, settings.label_keys, settings.label_key_id)


class LabelRejected(DomainError):
    """A scanned label we did not issue: forged, altered, or for a code never registered."""

    code = "label_invalid"
    kind = "refused"


def resolve_scanned_cylinder(
    session: Session, signer: LabelSigner, payload: str, *, allow_scrapped: bool = False
) -> Cylinder:
    """The cylinder behind a scanned QR payload.

    Raises ``label_invalid`` for a forged or altered label or a code never issued, and
    ``cylinder_scrapped`` for a revoked code (unless ``allow_scrapped``, for read-only views).
    The message is the same for every kind of failure; ``details.reason`` says which one.
    """
    try:
        code = signer.verify(payload.strip())
    except LabelInvalid as exc:
        raise LabelRejected(
            "This label was not issued by cylinder-trace: do not fill or use the cylinder.",
            details={"reason": exc.reason},
        ) from None
    cylinder = session.scalar(select(Cylinder).where(Cylinder.code == code))
    if cylinder is None:
        raise LabelRejected(
            "This label's code was never issued: do not fill or use the cylinder.",
            details={"reason": "unknown_code"},
        )
    if cylinder.is_scrapped and not allow_scrapped:
        raise DomainError(
            f"Cylinder {code} is scrapped; its code is revoked.",
            code="cylinder_scrapped",
            kind="refused",
            details={"code": code},
        )
    return cylinder
