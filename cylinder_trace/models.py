"""Every model module, imported once so that ``Base.metadata`` knows all tables (Alembic)."""

from cylinder_trace.auth.models import ApiToken, SignInFailure, UserSession
from cylinder_trace.catering.models import (
    CateringCheck,
    CateringCheckFile,
    CateringCheckItem,
    CateringHazard,
)
from cylinder_trace.customers.models import Customer, IdNumberReveal
from cylinder_trace.cylinders.models import Cylinder, CylinderInspection
from cylinder_trace.db import Base
from cylinder_trace.devices.models import Device
from cylinder_trace.divisions.models import Division
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.scans.models import Scan, ScanChain
from cylinder_trace.users.models import User

__all__ = [
    "ApiToken",
    "Base",
    "CateringCheck",
    "CateringCheckFile",
    "CateringCheckItem",
    "CateringHazard",
    "Customer",
    "Cylinder",
    "CylinderInspection",
    "Device",
    "Division",
    "IdNumberReveal",
    "Organisation",
    "Scan",
    "ScanChain",
    "SignInFailure",
    "User",
    "UserSession",
]
