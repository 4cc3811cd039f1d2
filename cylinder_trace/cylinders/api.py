"""/api/v1/cylinders: the registry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask.views import MethodView
from sqlalchemy import select

from cylinder_trace.cylinders import import_files, importing, services
from cylinder_trace.cylinders.schemas import (
    CylinderCreateSchema,
    CylinderQuerySchema,
    CylinderSchema,
    ImportFileSchema,
    ImportQuerySchema,
    ImportReportSchema,
    InspectionCreateSchema,
    InspectionSchema,
    ScrapSchema,
)
from cylinder_trace.db import get_session
from cylinder_trace.domain.errors import DomainError
from cylinder_trace.domain.roles import OrganisationKind, Role
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.scans.api import scan_context
from cylinder_trace.scans.office import record_inspection_scan, record_scrap
from cylinder_trace.web.api import Blueprint, current_principal, paginate_query
from cylinder_trace.web.current import settings

blp = Blueprint(
    "cylinders", __name__, url_prefix="/cylinders", description="The cylinder registry."
)

REGISTRARS = (Role.SYSTEM_ADMIN, Role.COMPANY_ADMIN, Role.STATION_OPERATOR)
READERS = (*REGISTRARS, Role.DELIVERY_STAFF, Role.BUREAU_REVIEWER, Role.REGULATOR)
MAX_IMPORT_BYTES = 20 * 1024 * 1024


def business_today() -> Any:
    """Today's date where the business is (China), whatever the server's clock zone."""
    return datetime.now(settings().time_zone).date()


@blp.route("")
class Cylinders(MethodView):
    @blp.access(*READERS)
    @blp.arguments(CylinderQuerySchema, location="query")
    @blp.response(200, CylinderSchema(many=True))
    @blp.paginate(max_page_size=500)
    def get(self, filters: dict[str, Any], pagination_parameters: Any) -> Any:
        """List and filter cylinders

        Company staff see their company's cylinders; bureaus and regulators those of the
        companies in their jurisdiction.
        """
        statement = services.filter_cylinders(
            services.visible_cylinders(current_principal()), filters
        )
        return paginate_query(
            get_session(),
            statement,
            pagination_parameters,
            keyset=services.CYLINDER_ORDER,
            after=filters.get("after"),
        )

    @blp.access(*REGISTRARS)
    @blp.arguments(CylinderCreateSchema)
    @blp.response(201, CylinderSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data: dict[str, Any]) -> Any:
        """Register a cylinder

        The code is permanent and never reused, not even after scrap. Inspection due and
        scrap dates are computed from the configurable intervals.
        """
        session = get_session()
        principal = current_principal()
        owner = services.owner_for(session, principal, data.pop("owner_company_id"))
        station = services.station_for(session, principal, owner, data["filling_station_id"])
        return services.register_cylinder(
            session,
            services.CylinderInput(**data),
            owner=owner,
            station=station,
            rules=settings().rules,
            today=business_today(),
            registered_by=principal.user,
        )


@blp.route("/import")
class CylinderImport(MethodView):
    @blp.access(*REGISTRARS)
    @blp.arguments(ImportQuerySchema, location="query")
    @blp.arguments(ImportFileSchema, location="files")
    @blp.response(200, ImportReportSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, form: dict[str, Any], files: dict[str, Any]) -> Any:
        """Register many cylinders from a CSV or XLSX file

        Columns: code, model, manufacturer, serial_no, manufactured_on, tare_kg, and
        optionally filling_station (id or name) and last_inspected_on; Chinese headers
        (气瓶编码, 型号, 制造单位, 出厂编号, 制造日期, 皮重, 充装站, 上次检验日期) work too.
        Each bad row is reported with its row number; good rows are stored; rows already
        registered with the same data are counted as unchanged.
        """
        session = get_session()
        principal = current_principal()
        upload = files["file"]
        data = upload.read(MAX_IMPORT_BYTES + 1)
        if len(data) > MAX_IMPORT_BYTES:
            raise DomainError(
                f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB.",
                code="import_file_too_large",
            )
        owner = services.owner_for(session, principal, form["owner_company_id"])
        stations = _stations_for(principal, owner)
        default = None
        if form["filling_station_id"] is not None or principal.role == Role.STATION_OPERATOR:
            default = services.station_for(session, principal, owner, form["filling_station_id"])
        rows = import_files.rows_as_dicts(import_files.read_table(upload.filename or "", data))
        return importing.import_cylinders(
            session,
            rows,
            owner=owner,
            stations=stations,
            default_station=default,
            rules=settings().rules,
            today=business_today(),
            registered_by=principal.user,
        )


def _stations_for(principal: Any, owner: Organisation) -> list[Organisation]:
    """Stations an import may name: the operator's own, or all of the owner's."""
    if principal.role == Role.STATION_OPERATOR:
        return [principal.organisation]
    return list(
        get_session().scalars(
            select(Organisation).where(
                Organisation.parent_id == owner.id,
                Organisation.kind == OrganisationKind.FILLING_STATION,
                Organisation.active.is_(True),
            )
        )
    )


@blp.route("/<string:code>")
class CylinderByCode(MethodView):
    @blp.access(*READERS)
    @blp.response(200, CylinderSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, code: str) -> Any:
        """Read one cylinder"""
        return services.get_visible_cylinder(get_session(), current_principal(), code)


@blp.route("/<string:code>/inspections")
class CylinderInspections(MethodView):
    @blp.access(*REGISTRARS)
    @blp.arguments(InspectionCreateSchema)
    @blp.response(201, InspectionSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data: dict[str, Any], code: str) -> Any:
        """Record a periodic inspection (GB/T 8334)

        A pass moves the next due date on by the configured interval; a failure scraps the
        cylinder and revokes its code.
        """
        session = get_session()
        principal = current_principal()
        cylinder = services.get_managed_cylinder(session, principal, code)
        record = services.record_inspection(
            session,
            cylinder,
            rules=settings().rules,
            today=business_today(),
            recorded_by=principal.user,
            **data,
        )
        record_inspection_scan(session, scan_context(), cylinder, record)
        return record


@blp.route("/<string:code>/scrap")
class CylinderScrap(MethodView):
    @blp.access(*REGISTRARS)
    @blp.arguments(ScrapSchema)
    @blp.response(200, CylinderSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data: dict[str, Any], code: str) -> Any:
        """Scrap a cylinder: its code is revoked for good and later scans are refused"""
        session = get_session()
        cylinder = services.get_managed_cylinder(session, current_principal(), code)
        return record_scrap(session, scan_context(), cylinder, reason=data["reason"])
