"""Trace: a cylinder's timeline, where it is and who holds it, what a station filled, what
was refused or flagged in an area."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import marshmallow as ma
from flask import current_app
from flask.views import MethodView
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from cylinder_trace.auth.principal import Principal
from cylinder_trace.customers.services import get_visible_customer
from cylinder_trace.cylinders.api import READERS
from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.cylinders.schemas import CylinderSchema
from cylinder_trace.cylinders.services import get_visible_cylinder, visible_cylinders
from cylinder_trace.db import get_session
from cylinder_trace.domain.errors import NotFound
from cylinder_trace.domain.jurisdiction import division_prefix
from cylinder_trace.domain.lifecycle import (
    ScanKind,
)
from cylinder_trace.domain.roles import Role
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.scans.judging import load_buyers, load_histories, load_places
from cylinder_trace.scans.models import Scan, ScanResult, ScanVerdictChange
from cylinder_trace.scans.rejudge import replay_stored
from cylinder_trace.scans.schemas import ScanSchema
from cylinder_trace.web.api import Blueprint, current_principal, paginate_query
from cylinder_trace.web.bounds import InputSchema

blp = Blueprint(
    "trace", __name__, url_prefix="", description="Timelines, whereabouts, station days, review."
)

COMPANY_READERS = (
    Role.SYSTEM_ADMIN,
    Role.COMPANY_ADMIN,
    Role.STATION_OPERATOR,
    Role.DELIVERY_STAFF,
)


def business_zone() -> ZoneInfo:
    return current_app.config["CT_SETTINGS"].time_zone


def visible_scans(principal: Principal) -> Select[tuple[Scan]]:
    """Scans a caller may read: its company's cylinders' and its own; an authority's area."""
    statement = select(Scan)
    if principal.is_system_admin:
        return statement
    if principal.company_id is not None:
        own_cylinders = select(Cylinder.id).where(Cylinder.owner_company_id == principal.company_id)
        company_orgs = select(Organisation.id).where(
            or_(
                Organisation.id == principal.company_id,
                Organisation.parent_id == principal.company_id,
            )
        )
        return statement.where(
            or_(Scan.cylinder_id.in_(own_cylinders), Scan.organisation_id.in_(company_orgs))
        )
    if principal.jurisdiction is not None:
        prefix = division_prefix(principal.jurisdiction)
        area = select(Organisation.id).where(Organisation.division_code.startswith(prefix))
        return statement.where(or_(Scan.site_id.in_(area), Scan.organisation_id.in_(area)))
    return statement.where(Scan.id.is_(None))


class EventQuerySchema(InputSchema):
    include_rejected = ma.fields.Boolean(load_default=True)


@blp.route("/cylinders/<string:code>/events")
class CylinderEvents(MethodView):
    @blp.access(*READERS)
    @blp.arguments(EventQuerySchema, location="query")
    @blp.response(200, ScanSchema(many=True))
    @blp.paginate(max_page_size=1000, page_size=100)
    def get(self, query: dict[str, Any], code: str, pagination_parameters: Any) -> Any:
        """The full timeline of one cylinder, in the order things happened"""
        session = get_session()
        cylinder = get_visible_cylinder(session, current_principal(), code)
        statement = select(Scan).where(Scan.cylinder_id == cylinder.id)
        if not query["include_rejected"]:
            statement = statement.where(Scan.result != ScanResult.REJECTED)
        statement = statement.order_by(Scan.occurred_at, Scan.id)
        return paginate_query(session, statement, pagination_parameters)


class WhereaboutsQuerySchema(InputSchema):
    at = ma.fields.AwareDateTime(metadata={"description": "Default: now"})


class WhereaboutsSchema(ma.Schema):
    code = ma.fields.String()
    at = ma.fields.AwareDateTime(allow_none=True)
    state = ma.fields.String(allow_none=True)
    location_id = ma.fields.Integer(allow_none=True)
    location_name = ma.fields.String(allow_none=True)
    holder_customer_id = ma.fields.Integer(allow_none=True)
    held_since = ma.fields.AwareDateTime(allow_none=True)
    last_scan_at = ma.fields.AwareDateTime(allow_none=True)


def whereabouts_at(session: Session, cylinder: Cylinder, at: datetime) -> dict[str, Any]:
    """Where the cylinder was and who held it at ``at``: its kept scans up to then, replayed
    by the same history that keeps the cylinder row (so the two never disagree)."""
    events = [e for e in load_histories(session, [cylinder.id])[cylinder.id] if e.occurred_at <= at]
    answer: dict[str, Any] = {
        "code": cylinder.code,
        "at": at,
        "state": None,
        "location_id": None,
        "location_name": None,
        "holder_customer_id": None,
        "held_since": None,
        "last_scan_at": None,
    }
    if not any(event.kind is ScanKind.REGISTER for event in events):
        return answer  # not registered yet then
    settings = current_app.config["CT_SETTINGS"]
    places = load_places(session, (event.site_id for event in events))
    buyers = load_buyers(session, (event.customer_id for event in events))
    projection = replay_stored(
        settings.rules, settings.time_zone, cylinder, events, places, buyers
    )[1].projection
    location = projection.location_id
    organisation = session.get(Organisation, location) if location else None
    answer.update(
        state=projection.snapshot.state.value,
        location_id=location,
        location_name=organisation.name if organisation else None,
        holder_customer_id=projection.holder_customer_id,
        held_since=projection.held_since,
        last_scan_at=projection.last_scan_at,
    )
    return answer


@blp.route("/cylinders/<string:code>/whereabouts")
class CylinderWhereabouts(MethodView):
    @blp.access(*READERS)
    @blp.arguments(WhereaboutsQuerySchema, location="query")
    @blp.response(200, WhereaboutsSchema)
    def get(self, query: dict[str, Any], code: str) -> Any:
        """Where a cylinder is now (or was at a given time) and who holds it"""
        session = get_session()
        cylinder = get_visible_cylinder(session, current_principal(), code)
        if query.get("at") is None:
            location = (
                session.get(Organisation, cylinder.location_id) if cylinder.location_id else None
            )
            return {
                "code": cylinder.code,
                "at": None,
                "state": cylinder.state.value,
                "location_id": cylinder.location_id,
                "location_name": location.name if location else None,
                "holder_customer_id": cylinder.holder_customer_id,
                "held_since": cylinder.held_since,
                "last_scan_at": cylinder.last_scan_at,
            }
        return whereabouts_at(session, cylinder, query["at"])


class ScanQuerySchema(InputSchema):
    company_id = ma.fields.Integer(metadata={"description": "Scans of this company's cylinders"})
    site_id = ma.fields.Integer()
    kind = ma.fields.Enum(ScanKind, by_value=True)
    day = ma.fields.Date(metadata={"description": "A business day (China time)"})
    result = ma.fields.String(
        validate=ma.validate.OneOf(["accepted", "accepted_with_violation", "rejected"])
    )
    result_code = ma.fields.String(
        validate=ma.validate.Length(max=64),
        metadata={"description": "The code the scan was answered with when it arrived"},
    )
    review_code = ma.fields.String(
        validate=ma.validate.Length(max=64),
        metadata={"description": "The scan's current verdict: the first rule it breaks"},
    )
    needs_review = ma.fields.Boolean(
        metadata={
            "description": "Refused scans, and kept scans the complete history flags (a late "
            "scan can raise or clear a flag)"
        }
    )


def filter_scans(statement: Select[tuple[Scan]], filters: dict[str, Any]) -> Select[tuple[Scan]]:
    if filters.get("company_id") is not None:
        owned = select(Cylinder.id).where(Cylinder.owner_company_id == filters["company_id"])
        statement = statement.where(Scan.cylinder_id.in_(owned))
    if filters.get("site_id") is not None:
        statement = statement.where(Scan.site_id == filters["site_id"])
    if filters.get("kind") is not None:
        statement = statement.where(Scan.kind == filters["kind"])
    if filters.get("result") is not None:
        statement = statement.where(Scan.result == filters["result"])
    if filters.get("result_code") is not None:
        statement = statement.where(Scan.result_code == filters["result_code"])
    if filters.get("review_code") is not None:
        statement = statement.where(Scan.review_code == filters["review_code"])
    if filters.get("needs_review"):
        # The partial index ix_scans_needs_review has this very condition.
        statement = statement.where(
            or_(Scan.result == ScanResult.REJECTED, Scan.review_code.is_not(None))
        )
    if filters.get("day") is not None:
        zone = business_zone()
        start = datetime.combine(filters["day"], time(0), tzinfo=zone)
        statement = statement.where(
            Scan.occurred_at >= start, Scan.occurred_at < start + timedelta(days=1)
        )
    return statement.order_by(Scan.occurred_at, Scan.id)


@blp.route("/scans")
class ScanList(MethodView):
    @blp.access(*READERS)
    @blp.arguments(ScanQuerySchema, location="query")
    @blp.response(200, ScanSchema(many=True))
    @blp.paginate(max_page_size=1000, page_size=100)
    def get(self, filters: dict[str, Any], pagination_parameters: Any) -> Any:
        """Search scans: a station's fills on a day, refused and flagged scans in an area

        Companies see their own; bureaus and regulators the scans at sites in their
        jurisdiction.
        """
        statement = filter_scans(visible_scans(current_principal()), filters)
        return paginate_query(get_session(), statement, pagination_parameters)


class VerdictChangeSchema(ma.Schema):
    scan_id = ma.fields.Integer()
    previous_code = ma.fields.String(allow_none=True)
    new_code = ma.fields.String(allow_none=True)
    changed_at = ma.fields.AwareDateTime()
    caused_by_event_id = ma.fields.UUID(
        metadata={"description": "The late scan whose arrival changed the verdict"}
    )


@blp.route("/scans/<bigint:scan_id>/verdict-changes")
class ScanVerdictChanges(MethodView):
    @blp.access(*READERS)
    @blp.response(200, VerdictChangeSchema(many=True))
    def get(self, scan_id: int) -> Any:
        """How a kept scan's verdict changed as late scans re-judged its history

        The scan's first verdict is its ``result_code``; each row is a later change, oldest
        first: a flag raised or cleared, when, and by the arrival of which scan.
        """
        session = get_session()
        visible = visible_scans(current_principal()).where(Scan.id == scan_id)
        if session.scalar(visible.with_only_columns(Scan.id)) is None:
            raise NotFound(f"No scan {scan_id}.", code="scan_not_found")
        return session.scalars(
            select(ScanVerdictChange)
            .where(ScanVerdictChange.scan_id == scan_id)
            .order_by(ScanVerdictChange.id)
        ).all()


@blp.route("/customers/<int:customer_id>/holdings")
class CustomerHoldings(MethodView):
    @blp.access(*COMPANY_READERS, Role.BUREAU_REVIEWER, Role.REGULATOR)
    @blp.response(200, CylinderSchema(many=True))
    def get(self, customer_id: int) -> Any:
        """The cylinders a customer holds now, and since when (held_since)"""
        session = get_session()
        principal = current_principal()
        customer = get_visible_customer(session, principal, customer_id)
        return list(
            session.scalars(
                visible_cylinders(principal)
                .where(Cylinder.holder_customer_id == customer.id)
                .order_by(Cylinder.held_since)
            )
        )
