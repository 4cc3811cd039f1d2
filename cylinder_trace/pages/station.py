"""/station: the pre-fill check at a filling-station PC with a keyboard-wedge scanner.

The scanner types a label's QR payload (a URL) or a code, then Enter. Each scan is checked
at once by the same fill check the filling scale asks (``scans.fill_check``): it records
nothing, so the running list of today's checks lives in the signed session cookie, kept
short (``KEEP_CHECKS``) because a cookie holds about 4 KB. The fills this station actually
recorded today come from the scans table.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, time, timedelta
from typing import Any

from flask import render_template, request, session
from flask_babel import gettext
from sqlalchemy import select

from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.db import get_session, utcnow
from cylinder_trace.domain.lifecycle import ScanKind
from cylinder_trace.pages.auth import STATION_ROLES, page_principal, require_roles
from cylinder_trace.pages.i18n import term
from cylinder_trace.pages.web import bp
from cylinder_trace.qr_labels.signing import LabelInvalid
from cylinder_trace.scans.context import ScanContext
from cylinder_trace.scans.fill_check import fill_check
from cylinder_trace.scans.models import Scan
from cylinder_trace.web.current import registry, settings

KEEP_CHECKS = 30
MAX_SCAN_LENGTH = 300
SHOWN_LENGTH = 40
TODAYS_FILLS_LIMIT = 200


def scan_context() -> ScanContext:
    """What the fill check needs, for the signed-in operator, now."""
    return ScanContext.at(
        utcnow(),
        principal=page_principal(),
        settings=settings(),
        registry=registry(),
    )


def normalise_scan(raw: str) -> str:
    """What the scanner typed, as the label printed it.

    A scanner behind a Chinese input method may send full-width characters (ＨＴＴＰ：／／);
    NFKC folds them back to ASCII.
    """
    return unicodedata.normalize("NFKC", raw).strip()[:MAX_SCAN_LENGTH]


def _query(scanned: str) -> dict[str, str]:
    # A label holds a URL; people type bare codes.
    if "/" in scanned or ":" in scanned:
        return {"qr": scanned}
    return {"code": scanned}


def _shown(scanned: str, query: dict[str, str]) -> str:
    if "code" in query:
        return query["code"].upper()[:SHOWN_LENGTH]
    try:
        return registry().label_signer.verify(scanned)
    except LabelInvalid:
        return scanned[:SHOWN_LENGTH]


def _todays_checks(today: str) -> dict[str, Any]:
    kept = session.get("station_checks")
    if not isinstance(kept, dict) or kept.get("day") != today:
        kept = {"day": today, "total": 0, "ok": 0, "items": []}
    return kept


def _remember(today: str, entry: list[Any]) -> dict[str, Any]:
    kept = _todays_checks(today)
    kept["total"] += 1
    kept["ok"] += 1 if entry[2] else 0
    kept["items"] = [entry, *kept["items"]][:KEEP_CHECKS]
    session["station_checks"] = kept
    return kept


def counts_text(kept: dict[str, Any]) -> str:
    return gettext(
        "Checked %(total)s today: %(ok)s may be filled, %(refused)s refused",
        total=kept["total"],
        ok=kept["ok"],
        refused=kept["total"] - kept["ok"],
    )


def check_scan(raw: str) -> dict[str, Any]:
    """Check one scan for filling here and remember it in today's list."""
    ctx = scan_context()
    scanned = normalise_scan(raw)
    query = _query(scanned)
    answer = fill_check(get_session(), ctx, query)
    codes = [reason["code"] for reason in answer["reasons"]]
    local_now = ctx.now.astimezone(ctx.tz)
    entry = [local_now.strftime("%H:%M:%S"), _shown(scanned, query), answer["allowed"], codes]
    kept = _remember(ctx.today.isoformat(), entry)
    return {
        "allowed": answer["allowed"],
        "headline": gettext("May be filled") if answer["allowed"] else gettext("Do not fill"),
        "reasons": [
            {"code": code, "text": term("reason", code, reason["message"])}
            for code, reason in zip(codes, answer["reasons"], strict=True)
        ],
        "scanned": entry[1],
        "time": entry[0],
        "cylinder": answer["cylinder"],
        "counts": counts_text(kept),
    }


def entry_view(entry: list[Any]) -> dict[str, Any]:
    """One remembered check as the list shows it."""
    at, scanned, allowed, codes = entry
    return {
        "time": at,
        "scanned": scanned,
        "allowed": allowed,
        "reasons": [term("reason", code) for code in codes],
    }


def todays_fills(ctx: ScanContext) -> list[tuple[Scan, str | None]]:
    """Fill scans recorded at this station today (China date), newest first."""
    start = datetime.combine(ctx.today, time(0), tzinfo=ctx.tz)
    rows = get_session().execute(
        select(Scan, Cylinder.code)
        .outerjoin(Cylinder, Cylinder.id == Scan.cylinder_id)
        .where(
            Scan.site_id == ctx.principal.organisation_id,
            Scan.kind == ScanKind.FILL,
            Scan.occurred_at >= start,
            Scan.occurred_at < start + timedelta(days=1),
        )
        .order_by(Scan.occurred_at.desc(), Scan.id.desc())
        .limit(TODAYS_FILLS_LIMIT)
    )
    return [(scan, code) for scan, code in rows]


@bp.route("/station", methods=["GET", "POST"])
@require_roles(*STATION_ROLES)
def station() -> Any:
    """The scan page; a plain form post works too, for a browser without JavaScript."""
    result = None
    if request.method == "POST" and normalise_scan(request.form.get("scan", "")):
        result = check_scan(request.form["scan"])
    ctx = scan_context()
    kept = _todays_checks(ctx.today.isoformat())
    return render_template(
        "station.html",
        result=result,
        checks=[entry_view(entry) for entry in kept["items"]],
        counts=counts_text(kept),
        keep=KEEP_CHECKS,
        fills=todays_fills(ctx),
        station=ctx.principal.organisation,
    )


@bp.post("/station/check")
@require_roles(*STATION_ROLES)
def station_check() -> Any:
    """JSON for the page's script: ``{"scan": "..."}`` in, the answer out."""
    body = request.get_json(silent=True)
    raw = body.get("scan") if isinstance(body, dict) else None
    if not isinstance(raw, str) or not normalise_scan(raw):
        return {
            "code": "scan_missing",
            "status": 400,
            "message": gettext("Scan the cylinder's QR code or type its code, then Enter"),
        }, 400
    return check_scan(raw)
