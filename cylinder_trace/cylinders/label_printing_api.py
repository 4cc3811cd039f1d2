"""Label files for registered cylinders, and verifying what a scanner read."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

import marshmallow as ma
from flask import Response, send_file
from flask.views import MethodView
from marshmallow import validate
from sqlalchemy import Select
from sqlalchemy.orm import Session

from cylinder_trace import qr_labels as labels
from cylinder_trace.config import Settings
from cylinder_trace.cylinders import services
from cylinder_trace.cylinders.api import REGISTRARS, business_today
from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.cylinders.scanned_labels import resolve_scanned_cylinder
from cylinder_trace.cylinders.schemas import (
    CylinderQuerySchema,
    VerifiedLabelSchema,
    VerifyQuerySchema,
)
from cylinder_trace.db import get_session
from cylinder_trace.domain.errors import DomainError
from cylinder_trace.domain.inspection import is_inspection_overdue
from cylinder_trace.qr_labels.fonts import LabelFont, locate_label_font
from cylinder_trace.qr_labels.signing import LabelSigner
from cylinder_trace.web.api import Blueprint, current_principal
from cylinder_trace.web.bounds import InputSchema
from cylinder_trace.web.current import registry, settings

blp = Blueprint(
    "cylinder_labels",
    __name__,
    url_prefix="/cylinders",
    description="QR labels: one label as PNG, SVG or ZPL; sheets as PDF or ZPL.",
)
verify_blp = Blueprint(
    "labels", __name__, url_prefix="/labels", description="Verifying scanned labels."
)

MAX_SHEET_LABELS = 5_000


class LayoutQuerySchema(InputSchema):
    layout = ma.fields.String(
        load_default="50x30", metadata={"description": "A layout in labels/: 50x30, 70x40"}
    )
    dpi = ma.fields.Integer(load_default=300, validate=validate.Range(min=72, max=1200))
    dpmm = ma.fields.Integer(
        load_default=8, validate=validate.OneOf([6, 8, 12, 24]), metadata={"description": "ZPL"}
    )


class SheetQuerySchema(CylinderQuerySchema):
    layout = ma.fields.String(load_default="50x30")
    format = ma.fields.String(load_default="pdf", validate=validate.OneOf(["pdf", "zpl"]))


def load_layout(name: str, config: Settings) -> labels.LabelLayout:
    """The layout ``name`` from the configured layout directories, then labels/."""
    available = labels.available_layouts(config.label_layout_dirs)
    if name not in available:
        raise DomainError(
            f"Unknown label layout {name!r}.",
            code="label_layout_unknown",
            details={"layouts": available},
        )
    return labels.load_layout(name, config.label_layout_dirs)


def label_font(config: Settings) -> LabelFont:
    """The configured label font (checked at start-up), else the first one found."""
    return config.label_font or locate_label_font()


def label_data(cylinder: Cylinder, signer: LabelSigner) -> labels.LabelData:
    """What one label shows: the QR payload, the code, the model and the owner."""
    return labels.LabelData(
        cylinder.code,
        signer.sign(cylinder.code),
        cylinder.model,
        cylinder.owner_company.name,
    )


def _one_label(code: str, layout: str) -> tuple[labels.LabelData, labels.LabelLayout, LabelFont]:
    config = settings()
    cylinder = printable_cylinder(get_session(), code)
    data = label_data(cylinder, registry().label_signer)
    return data, load_layout(layout, config), label_font(config)


def printable_cylinder(session: Session, code: str) -> Cylinder:
    """A cylinder of the caller's company that still has a valid code."""
    cylinder = services.get_managed_cylinder(session, current_principal(), code)
    if cylinder.is_scrapped:
        raise DomainError(
            f"Cylinder {cylinder.code} is scrapped; its code is revoked and gets no label.",
            code="cylinder_scrapped",
            kind="refused",
        )
    return cylinder


@blp.route("/<string:code>/label.png")
class LabelPng(MethodView):
    @blp.access(*REGISTRARS)
    @blp.arguments(LayoutQuerySchema, location="query")
    @blp.response(200, content_type="image/png")
    def get(self, query: dict[str, Any], code: str) -> Response:
        """One label as a PNG image"""
        data, layout, font = _one_label(code, query["layout"])
        png = labels.render_label_png(data, layout, dpi=query["dpi"], font=font)
        return Response(png, mimetype="image/png")


@blp.route("/<string:code>/label.svg")
class LabelSvg(MethodView):
    @blp.access(*REGISTRARS)
    @blp.arguments(LayoutQuerySchema, location="query")
    @blp.response(200, content_type="image/svg+xml")
    def get(self, query: dict[str, Any], code: str) -> Response:
        """One label as an SVG image"""
        data, layout, font = _one_label(code, query["layout"])
        svg = labels.render_label_svg(data, layout, font=font)
        return Response(svg, mimetype="image/svg+xml")


@blp.route("/<string:code>/label.zpl")
class LabelZpl(MethodView):
    @blp.access(*REGISTRARS)
    @blp.arguments(LayoutQuerySchema, location="query")
    @blp.response(200, content_type="text/plain")
    def get(self, query: dict[str, Any], code: str) -> Response:
        """One label in ZPL, for thermal label printers"""
        data, layout, font = _one_label(code, query["layout"])
        zpl = labels.label_zpl(data, layout, dpmm=query["dpmm"], font=font)
        return Response(zpl, mimetype="text/plain", headers=_attachment(f"{data.code}.zpl"))


def sheet_cylinders(statement: Select[tuple[Cylinder]]) -> Select[tuple[Cylinder]]:
    return statement.where(Cylinder.scrapped_at.is_(None))


@blp.route("/labels")
class LabelSheet(MethodView):
    @blp.access(*REGISTRARS)
    @blp.arguments(SheetQuerySchema, location="query")
    @blp.response(200, content_type="application/pdf")
    def get(self, query: dict[str, Any]) -> Response:
        """A print-ready sheet of labels (A4 PDF, or ZPL) for the filtered cylinders

        Takes the filters of the cylinder list (code range, station, state, model ...).
        Scrapped cylinders are left out. At most 5,000 labels a request; the CLI command
        ``cylinder-trace labels sheet`` has no limit.
        """
        session = get_session()
        config = settings()
        layout = load_layout(query.pop("layout"), config)
        font = label_font(config)
        fmt = query.pop("format")
        statement = sheet_cylinders(
            services.filter_cylinders(services.visible_cylinders(current_principal()), query)
        )
        cylinders = list(session.scalars(statement.limit(MAX_SHEET_LABELS + 1)))
        if not cylinders:
            raise DomainError("No cylinder matches the filters.", code="no_cylinders")
        if len(cylinders) > MAX_SHEET_LABELS:
            raise DomainError(
                f"More than {MAX_SHEET_LABELS} labels: narrow the filters or use the CLI.",
                code="too_many_labels",
            )
        signer = registry().label_signer
        data = (label_data(cylinder, signer) for cylinder in cylinders)
        if fmt == "zpl":
            body = "".join(labels.labels_zpl(data, layout, font=font))
            return Response(body, mimetype="text/plain", headers=_attachment("labels.zpl"))
        # send_file closes the spool once the response is sent; a `with` would close it first.
        spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
        labels.write_pdf(data, layout, spool, total=len(cylinders), font=font)
        spool.seek(0)
        return send_file(spool, mimetype="application/pdf", download_name="labels.pdf")


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@verify_blp.route("/verify")
class VerifyLabel(MethodView):
    @verify_blp.access(public=True)
    @verify_blp.arguments(VerifyQuerySchema, location="query")
    @verify_blp.response(200, VerifiedLabelSchema)
    @verify_blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(self, query: dict[str, Any]) -> Any:
        """Check a scanned QR payload: is this a genuine label, and is the cylinder usable?

        Public: anyone who scans a cylinder may ask. A forged label or a code never issued
        answers ``label_invalid``; a scrapped cylinder ``cylinder_scrapped``.
        """
        cylinder = resolve_scanned_cylinder(
            get_session(), registry().label_signer, query["payload"]
        )
        return {
            "code": cylinder.code,
            "model": cylinder.model,
            "owner_name": cylinder.owner_company.name,
            "filling_station_name": cylinder.filling_station.name,
            "state": cylinder.state.value,
            "next_inspection_due": cylinder.next_inspection_due,
            "inspection_overdue": is_inspection_overdue(
                cylinder.next_inspection_due, business_today()
            ),
            "scrap_date": cylinder.scrap_date,
        }


def iter_label_data(
    session: Session, statement: Select[tuple[Cylinder]], signer: LabelSigner
) -> Iterator[Any]:
    """Labels for a (possibly huge) selection, streamed from the database in batches."""
    for cylinder in session.scalars(statement.execution_options(yield_per=1000)):
        yield label_data(cylinder, signer)
