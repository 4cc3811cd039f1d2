"""/api/v1/customers: real-name registration (实名制购气), lookup, export, reveal, cards.

ID numbers travel only in request bodies (never in a URL, which servers and proxies log)
and come back masked, except from the audited reveal call.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView

from cylinder_trace.customers import services
from cylinder_trace.customers.cards import card_payload, card_png
from cylinder_trace.customers.export import customers_csv
from cylinder_trace.customers.schemas import (
    CustomerCreateSchema,
    CustomerLookupSchema,
    CustomerQuerySchema,
    CustomerSchema,
    CustomerUpdateSchema,
    RevealRequestSchema,
    RevealResultSchema,
    RevealSchema,
)
from cylinder_trace.cylinders.schemas import CylinderSchema
from cylinder_trace.db import get_session
from cylinder_trace.domain.roles import Role
from cylinder_trace.scans.reading import customer_holdings
from cylinder_trace.web.api import Blueprint, current_principal, paginate_query
from cylinder_trace.web.current import registry

blp = Blueprint(
    "customers",
    __name__,
    url_prefix="/customers",
    description="Registered buyers (实名制购气): persons and businesses, per gas company.",
)

COMPANY_STAFF = (Role.COMPANY_ADMIN, Role.STATION_OPERATOR, Role.DELIVERY_STAFF)
WRITERS = (Role.SYSTEM_ADMIN, *COMPANY_STAFF)
READERS = (*WRITERS, Role.BUREAU_REVIEWER, Role.REGULATOR)
REVEALERS = (Role.SYSTEM_ADMIN, Role.COMPANY_ADMIN)
AUDIT_READERS = (Role.SYSTEM_ADMIN, Role.COMPANY_ADMIN, Role.REGULATOR)
# Personal data must not stay in browser or proxy caches.
NO_STORE = {"Cache-Control": "no-store"}


def _binary(content_type: str, description: str) -> dict[str, Any]:
    schema = {"type": "string", "format": "binary"}
    return {"description": description, "content": {content_type: {"schema": schema}}}


def _filtered(filters: dict[str, Any]) -> Any:
    return services.filter_customers(
        registry().pii_vault, services.visible_customers(current_principal()), filters
    )


@blp.route("")
class Customers(MethodView):
    @blp.access(*READERS)
    @blp.arguments(CustomerQuerySchema, location="query")
    @blp.response(200, CustomerSchema(many=True))
    @blp.paginate()
    def get(self, filters: dict[str, Any], pagination_parameters: Any) -> Any:
        """List the customers you may see

        Company staff see their company's; bureaus and regulators those of the gas
        companies in their jurisdiction. ID numbers are masked. To find someone by ID
        number use POST /customers/lookup: a number in a URL would end up in logs, so a
        query with id_number is refused (422), never ignored.
        """
        return paginate_query(
            get_session(),
            _filtered(filters),
            pagination_parameters,
            keyset=services.CUSTOMER_ORDER,
            after=filters.get("after"),
        )

    @blp.access(*WRITERS)
    @blp.arguments(CustomerCreateSchema)
    @blp.response(201, CustomerSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data: dict[str, Any]) -> Any:
        """Register a customer

        A person (name, ID number, phone, address) or a business (also its credit code
        and responsible person). One person or business is one customer per gas company:
        a second registration is 409 customer_already_registered with details.existing_id.
        Invalid identifiers are 422 with details.field, message_en and message_zh.
        """
        return services.register_customer_as(
            get_session(), registry().pii_vault, current_principal(), data
        )


@blp.route("/lookup")
class CustomerLookup(MethodView):
    @blp.access(*READERS)
    @blp.arguments(CustomerLookupSchema)
    @blp.response(200, CustomerSchema(many=True))
    def post(self, data: dict[str, Any]) -> Any:
        """Find customers by ID number or credit code

        The number goes in the body and is matched through a keyed hash. A person's
        number also finds the businesses it is the responsible person of.
        """
        statement = _filtered(data)
        return list(get_session().scalars(statement))


@blp.route("/export.csv")
class CustomerExport(MethodView):
    @blp.access(*READERS)
    @blp.arguments(CustomerQuerySchema, location="query")
    @blp.doc(responses={"200": _binary("text/csv", "UTF-8 CSV with a BOM")})
    def get(self, filters: dict[str, Any]) -> Any:
        """Export the filtered customer list as CSV

        Same filters as the list; ID numbers are masked.
        """
        body = customers_csv(get_session().scalars(_filtered(filters)))
        return Response(
            body.encode("utf-8"),
            mimetype="text/csv",
            headers={
                **NO_STORE,
                "Content-Disposition": 'attachment; filename="customers.csv"',
            },
        )


@blp.route("/<int:customer_id>")
class CustomerById(MethodView):
    @blp.access(*READERS)
    @blp.response(200, CustomerSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, customer_id: int) -> Any:
        """Read one customer"""
        return services.get_visible_customer(get_session(), current_principal(), customer_id)

    @blp.access(*WRITERS)
    @blp.arguments(CustomerUpdateSchema)
    @blp.response(200, CustomerSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(self, changes: dict[str, Any], customer_id: int) -> Any:
        """Change a customer's contact data, district, premises or active flag

        The kind, ID number and credit code cannot change.
        """
        session = get_session()
        customer = services.get_managed_customer(session, current_principal(), customer_id)
        return services.update_customer(session, customer, changes)


@blp.route("/<int:customer_id>/reveal-id-number")
class CustomerReveal(MethodView):
    @blp.access(*REVEALERS)
    @blp.arguments(RevealRequestSchema)
    @blp.response(200, RevealResultSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data: dict[str, Any], customer_id: int) -> Any:
        """Show a customer's full ID number, and record that you saw it

        Company admins of the customer's company and system admins only. The reason is
        required and kept, with who and when, in GET /customers/{id}/reveals.
        """
        session = get_session()
        principal = current_principal()
        customer = services.get_visible_customer(session, principal, customer_id)
        number, reveal = services.reveal_id_number(
            session,
            registry().pii_vault,
            principal,
            customer,
            reason=data["reason"],
            request_ip=request.remote_addr,
        )
        result = {
            "customer_id": customer.id,
            "id_number": number,
            "reveal_id": reveal.id,
            "revealed_at": reveal.revealed_at,
        }
        return result, 200, NO_STORE


@blp.route("/<int:customer_id>/reveals")
class CustomerReveals(MethodView):
    @blp.access(*AUDIT_READERS)
    @blp.response(200, RevealSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.paginate()
    def get(self, customer_id: int, pagination_parameters: Any) -> Any:
        """Who saw this customer's full ID number, when and why"""
        session = get_session()
        customer = services.get_visible_customer(session, current_principal(), customer_id)
        return paginate_query(session, services.reveals_of(customer), pagination_parameters)


@blp.route("/<int:customer_id>/card.png")
class CustomerCard(MethodView):
    @blp.access(*WRITERS)
    @blp.doc(responses={"200": _binary("image/png", "The customer card's QR code")})
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, customer_id: int) -> Any:
        """The QR code for the customer's card

        Delivery staff scan it instead of typing an ID number. It carries a random card
        code, signed, and nothing personal.
        """
        customer = services.get_visible_customer(get_session(), current_principal(), customer_id)
        return Response(
            card_png(card_payload(customer, registry().card_signer)),
            mimetype="image/png",
            headers=NO_STORE,
        )


@blp.route("/<int:customer_id>/holdings")
class CustomerHoldings(MethodView):
    @blp.access(*READERS)
    @blp.response(200, CylinderSchema(many=True))
    def get(self, customer_id: int) -> Any:
        """The cylinders a customer holds now, and since when (held_since)"""
        return customer_holdings(get_session(), current_principal(), customer_id)
