"""Request and response shapes for catering users, checks and hazards. Shape only."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cylinder_trace.catering.constants import DEFAULT_SORT, SORTS, HazardState
from cylinder_trace.catering.models import FileKind, ImageType, ItemResult, VisitOutcome
from cylinder_trace.customers.models import CylinderStorage, PremisesType
from cylinder_trace.domain.weeks import CheckState
from cylinder_trace.organisations.schemas import DIVISION_CODE_PATTERN
from cylinder_trace.web.bounds import InputSchema

# The pattern is documented, not enforced here: the service answers division_code_invalid.
DISTRICT = ma.fields.String(
    validate=validate.Length(max=16),
    metadata={
        "description": "Division code of the user's premises; 500000 covers all below.",
        "pattern": DIVISION_CODE_PATTERN,
    },
)


# --- catering users ---------------------------------------------------------------------


class CateringUserQuerySchema(InputSchema):
    status = ma.fields.List(
        ma.fields.Enum(CheckState, by_value=True),
        metadata={
            "description": "Check status now; repeat for several (status=due&status=overdue)."
        },
    )
    district = DISTRICT
    company_id = ma.fields.Integer(metadata={"description": "The supplying gas company"})
    hazard = ma.fields.String(
        validate=validate.OneOf(HazardState.ALL),
        metadata={
            "description": "none: no open hazard; open: at least one; past_deadline: at least "
            "one open past its deadline (China date)."
        },
    )
    q = ma.fields.String(
        validate=validate.Length(min=1, max=100), metadata={"description": "Name contains"}
    )
    active = ma.fields.Boolean(
        load_default=True, metadata={"description": "Deactivated users are left out by default"}
    )
    sort = ma.fields.String(
        load_default=DEFAULT_SORT,
        validate=validate.OneOf(list(SORTS)),
        metadata={
            "description": "Order; '-' for descending. last_check_at puts never-checked users "
            "first (last with -last_check_at). Ties by id."
        },
    )


class SummaryQuerySchema(InputSchema):
    district = DISTRICT
    company_id = ma.fields.Integer()
    active = ma.fields.Boolean(load_default=True)


class EquipmentSchema(ma.Schema):
    """Safety equipment of a catering user; null means not recorded."""

    leak_alarm_installed = ma.fields.Boolean(allow_none=True)
    leak_alarm_working = ma.fields.Boolean(allow_none=True)
    leak_alarm_tested_on = ma.fields.Date(allow_none=True)
    hose_metal = ma.fields.Boolean(
        allow_none=True, metadata={"description": "A gas-dedicated metal hose"}
    )
    self_closing_valve = ma.fields.Boolean(allow_none=True)
    cylinder_storage = ma.fields.Enum(CylinderStorage, by_value=True, allow_none=True)
    cylinders_on_site = ma.fields.Integer(allow_none=True, validate=validate.Range(min=0))
    kg_on_site = ma.fields.Decimal(
        allow_none=True,
        places=1,
        as_string=True,
        validate=validate.Range(min=0, max=999999),
        metadata={"description": "Kilograms of LPG on site"},
    )


class EquipmentUpdateSchema(InputSchema, EquipmentSchema):
    """Any subset of the equipment fields; fields left out keep their value."""


class CateringUserSchema(EquipmentSchema):
    id = ma.fields.Integer()
    company_id = ma.fields.Integer()
    company_name = ma.fields.String()
    name = ma.fields.String()
    credit_code = ma.fields.String(allow_none=True)
    responsible_person = ma.fields.String(allow_none=True)
    phone = ma.fields.String()
    address = ma.fields.String()
    division_code = ma.fields.String(metadata={"pattern": DIVISION_CODE_PATTERN})
    division_name = ma.fields.String(
        allow_none=True, metadata={"description": "The district's name; null if not loaded"}
    )
    premises_type = ma.fields.Enum(PremisesType, by_value=True)
    premises_floor = ma.fields.Integer(allow_none=True)
    has_cylinder_room = ma.fields.Boolean()
    active = ma.fields.Boolean()
    status = ma.fields.Enum(CheckState, by_value=True)
    missed_periods = ma.fields.Integer(
        allow_none=True,
        metadata={
            "description": "Whole check periods (weeks by default) missed since the last "
            "check; null when never checked."
        },
    )
    last_check_at = ma.fields.AwareDateTime(allow_none=True)
    last_check_week = ma.fields.String(
        allow_none=True, metadata={"description": "ISO week (China time) of the last check"}
    )
    last_visit_at = ma.fields.AwareDateTime(
        allow_none=True, metadata={"description": "Last visit of any kind, nobody-home included"}
    )
    open_hazards = ma.fields.Integer()
    past_deadline_hazards = ma.fields.Integer()
    next_hazard_deadline = ma.fields.Date(allow_none=True)


class CountsSchema(ma.Schema):
    catering_users = ma.fields.Integer()
    checked_this_period = ma.fields.Integer()
    due = ma.fields.Integer()
    overdue = ma.fields.Integer()
    never_checked = ma.fields.Integer()
    check_rate = ma.fields.Float(
        allow_none=True, metadata={"description": "checked_this_period / catering_users"}
    )
    users_with_open_hazards = ma.fields.Integer()
    open_hazards = ma.fields.Integer()
    overdue_hazards = ma.fields.Integer(metadata={"description": "Open and past their deadline"})


class CompanyCountsSchema(CountsSchema):
    company_id = ma.fields.Integer()
    company_name = ma.fields.String()


class DistrictCountsSchema(CountsSchema):
    division_code = ma.fields.String(metadata={"pattern": DIVISION_CODE_PATTERN})
    division_name = ma.fields.String(
        allow_none=True, metadata={"description": "The district's name; null if not loaded"}
    )


class SummarySchema(ma.Schema):
    as_of = ma.fields.AwareDateTime()
    today = ma.fields.Date(metadata={"description": "Today in China"})
    interval_days = ma.fields.Integer()
    period_start = ma.fields.AwareDateTime()
    period_end = ma.fields.AwareDateTime()
    week = ma.fields.String(metadata={"example": "2026-W09"})
    total = ma.fields.Nested(CountsSchema)
    by_company = ma.fields.List(ma.fields.Nested(CompanyCountsSchema))
    by_district = ma.fields.List(ma.fields.Nested(DistrictCountsSchema))


# --- checks -----------------------------------------------------------------------------


class CheckItemCreateSchema(InputSchema):
    code = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))
    result = ma.fields.Enum(ItemResult, by_value=True, required=True)
    note = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    deadline = ma.fields.Date(
        load_default=None,
        allow_none=True,
        metadata={"description": "Failed items: fix by this date (default from the rules)"},
    )


class CheckCreateSchema(InputSchema):
    outcome = ma.fields.Enum(
        VisitOutcome,
        by_value=True,
        load_default=VisitOutcome.COMPLETED,
        metadata={"description": "nobody_home: recorded, but not a check"},
    )
    checked_at = ma.fields.AwareDateTime(
        load_default=None,
        metadata={"description": "When the visit happened, with its offset; default now"},
    )
    items = ma.fields.List(
        ma.fields.Nested(CheckItemCreateSchema),
        load_default=list,
        metadata={"description": "Completed visits: every item of GET /catering-checklist"},
    )
    signer_name = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=100),
        metadata={"description": "The person met, who signed (required with a signature)"},
    )
    notes = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class CheckItemSchema(ma.Schema):
    code = ma.fields.String()
    position = ma.fields.Integer()
    result = ma.fields.Enum(ItemResult, by_value=True)
    note = ma.fields.String(allow_none=True)


class CheckFileSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.Enum(FileKind, by_value=True)
    position = ma.fields.Integer()
    content_type = ma.fields.Enum(ImageType, by_value=True)
    size_bytes = ma.fields.Integer()
    sha256 = ma.fields.String()
    url = ma.fields.String()


class CheckSchema(ma.Schema):
    id = ma.fields.Integer()
    customer_id = ma.fields.Integer()
    outcome = ma.fields.Enum(VisitOutcome, by_value=True)
    counted = ma.fields.Boolean(metadata={"description": "Whether the visit counts as a check"})
    checked_at = ma.fields.AwareDateTime()
    week = ma.fields.String(metadata={"description": "ISO week of checked_at, China time"})
    recorded_at = ma.fields.AwareDateTime()
    checked_by_id = ma.fields.Integer()
    checked_by_name = ma.fields.String()
    device_id = ma.fields.Integer(allow_none=True)
    signer_name = ma.fields.String(allow_none=True)
    notes = ma.fields.String(allow_none=True)
    items = ma.fields.List(ma.fields.Nested(CheckItemSchema))
    files = ma.fields.List(ma.fields.Nested(CheckFileSchema))
    hazards_opened = ma.fields.List(ma.fields.Integer())
    hazards_closed = ma.fields.List(ma.fields.Integer())


# --- hazards and the checklist ----------------------------------------------------------


class HazardQuerySchema(InputSchema):
    state = ma.fields.String(validate=validate.OneOf(("open", "past_deadline", "closed")))
    district = DISTRICT
    company_id = ma.fields.Integer()
    item_code = ma.fields.String(validate=validate.Length(max=64))


class UserHazardQuerySchema(InputSchema):
    state = ma.fields.String(validate=validate.OneOf(("open", "past_deadline", "closed")))


class HazardSchema(ma.Schema):
    id = ma.fields.Integer()
    customer_id = ma.fields.Integer()
    item_code = ma.fields.String()
    item_zh = ma.fields.String(allow_none=True)
    item_en = ma.fields.String(allow_none=True)
    note = ma.fields.String(allow_none=True)
    deadline = ma.fields.Date()
    state = ma.fields.String(metadata={"description": "open or closed"})
    past_deadline = ma.fields.Boolean()
    opened_by_check_id = ma.fields.Integer()
    opened_at = ma.fields.AwareDateTime()
    closed_by_check_id = ma.fields.Integer(allow_none=True)
    closed_at = ma.fields.AwareDateTime(allow_none=True)


class ChecklistItemSchema(ma.Schema):
    code = ma.fields.String()
    zh = ma.fields.String()
    en = ma.fields.String()
    deadline_days = ma.fields.Integer(metadata={"description": "Days to fix when it fails"})


class ChecklistSchema(ma.Schema):
    interval_days = ma.fields.Integer()
    items = ma.fields.List(ma.fields.Nested(ChecklistItemSchema))
