"""/C/<token>: what a cylinder's QR label opens on anyone's phone.

Public and read-only. It shows the cylinder, never a person: no customer, no holder, no
operator or staff name. A token we did not sign, or a code we never registered, answers 404
with a full-page red warning, so that a forged label is as loud as a scrapped cylinder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import render_template
from flask.blueprints import BlueprintSetupState
from sqlalchemy import select
from sqlalchemy.orm import Session

from cylinder_trace.config import SETTINGS_CONFIG_KEY
from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.db import get_session, utcnow
from cylinder_trace.domain.inspection import is_inspection_overdue, is_past_scrap_date
from cylinder_trace.domain.lifecycle import ScanKind
from cylinder_trace.pages.web import bp
from cylinder_trace.qr_labels.signing import LabelInvalid
from cylinder_trace.scans.models import Scan, ScanResult
from cylinder_trace.web.current import registry, settings

PUBLIC_HEADERS = {
    # Status changes (a stop, a scrap): always ask again. Not for search engines.
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
}


@dataclass(frozen=True, slots=True)
class LastFill:
    at: datetime
    net_kg: str | None


def last_fill(session: Session, cylinder: Cylinder) -> LastFill | None:
    """The latest accepted fill of the cylinder: when, and the net mass the scale weighed."""
    scan = session.scalar(
        select(Scan)
        .where(
            Scan.of_cylinder(cylinder.id, cylinder.code),
            Scan.kind == ScanKind.FILL,
            Scan.result == ScanResult.ACCEPTED,
        )
        .order_by(Scan.occurred_at.desc(), Scan.id.desc())
        .limit(1)
    )
    if scan is None:
        return None
    return LastFill(at=scan.occurred_at, net_kg=(scan.data or {}).get("net_kg"))


def public_warnings(cylinder: Cylinder, today: date) -> list[str]:
    """Text keys of every red warning, most serious first."""
    warnings = []
    if cylinder.is_scrapped:
        warnings.append("warn_scrapped")
    if cylinder.stopped:
        warnings.append("warn_stopped")
    if not cylinder.is_scrapped:
        if is_past_scrap_date(cylinder.scrap_date, today):
            warnings.append("warn_past_scrap_date")
        if is_inspection_overdue(cylinder.next_inspection_due, today):
            warnings.append("warn_inspection_overdue")
    if cylinder.lost:
        warnings.append("warn_lost")
    if cylinder.overfilled:
        warnings.append("warn_overfilled")
    return warnings


def _not_genuine() -> Any:
    return render_template("public_forged.html"), 404, PUBLIC_HEADERS


LABEL_PATH = "/C/"


@bp.record_once
def _route_the_configured_label_path(state: BlueprintSetupState) -> None:
    """Serve the page under the path the labels print too, when it is not /C/."""
    base = state.app.config[SETTINGS_CONFIG_KEY].label_base_url
    path = "/" + base.split("://", 1)[1].split("/", 1)[1]
    if path not in (LABEL_PATH, "/"):
        state.add_url_rule(f"{path}<token>", "public_cylinder_configured", public_cylinder)


@bp.get(f"{LABEL_PATH}<token>")
def public_cylinder(token: str) -> Any:
    """The public page of one cylinder, from its signed label token."""
    try:
        code = registry().label_signer.verify_token(token)
    except LabelInvalid:
        return _not_genuine()
    session = get_session()
    cylinder = session.scalar(select(Cylinder).where(Cylinder.code == code))
    if cylinder is None:
        return _not_genuine()  # correctly signed, never registered: not a label we issued
    today = utcnow().astimezone(settings().time_zone).date()
    spec = settings().rules.model(cylinder.model)
    return (
        render_template(
            "public_cylinder.html",
            cylinder=cylinder,
            warnings=public_warnings(cylinder, today),
            inspection_overdue=is_inspection_overdue(cylinder.next_inspection_due, today),
            fill=last_fill(session, cylinder),
            nominal_kg=getattr(spec, "nominal_net_kg", None),
        ),
        200,
        PUBLIC_HEADERS,
    )
