"""/api/v1/organisations"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from cylinder_trace.db import get_session
from cylinder_trace.domain.roles import Role
from cylinder_trace.organisations import services
from cylinder_trace.organisations.schemas import (
    OrganisationCreateSchema,
    OrganisationQuerySchema,
    OrganisationSchema,
    OrganisationUpdateSchema,
)
from cylinder_trace.web.api import Blueprint, current_principal, paginate_query

blp = Blueprint(
    "organisations",
    __name__,
    url_prefix="/organisations",
    description="Gas companies, filling stations, supply points, bureaus and regulators.",
)

ANY_USER = tuple(Role)


@blp.route("")
class Organisations(MethodView):
    @blp.access(*ANY_USER)
    @blp.arguments(OrganisationQuerySchema, location="query")
    @blp.response(200, OrganisationSchema(many=True))
    @blp.paginate()
    def get(self, filters: dict[str, Any], pagination_parameters: Any) -> Any:
        """List the organisations you may see

        Your own company and its sites; for a bureau or regulator, the companies and
        sites in its jurisdiction; everything for a system admin.
        """
        principal = current_principal()
        statement = services.filter_organisations(
            services.visible_organisations(principal), filters
        )
        return paginate_query(get_session(), statement, pagination_parameters)

    @blp.access(Role.SYSTEM_ADMIN, Role.COMPANY_ADMIN)
    @blp.arguments(OrganisationCreateSchema)
    @blp.response(201, OrganisationSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data: dict[str, Any]) -> Any:
        """Register an organisation

        System admins register any kind; company admins add filling stations and supply
        points to their own company.
        """
        return services.create_organisation_as(get_session(), current_principal(), data)


@blp.route("/<int:org_id>")
class OrganisationById(MethodView):
    @blp.access(*ANY_USER)
    @blp.response(200, OrganisationSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, org_id: int) -> Any:
        """Read one organisation"""
        return services.get_visible_organisation(get_session(), current_principal(), org_id)

    @blp.access(Role.SYSTEM_ADMIN, Role.COMPANY_ADMIN)
    @blp.arguments(OrganisationUpdateSchema)
    @blp.response(200, OrganisationSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, changes: dict[str, Any], org_id: int) -> Any:
        """Change an organisation's name, contact data or active flag"""
        session = get_session()
        organisation = services.get_managed_organisation(session, current_principal(), org_id)
        return services.update_organisation(session, organisation, changes)
