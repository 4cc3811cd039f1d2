"""/api/v1/catering-users, /catering-hazards, /catering-checklist: weekly checks and review.

One blueprint (``blueprint_api.blp``, the OpenAPI tag "catering") whose endpoints live by
resource: ``review_api`` (the checklist, the user list, summary, exports, one user and its
equipment) and ``checks_api`` (visits, their files, hazards). Importing this module
registers both on the blueprint; the app registers ``blp``.
"""

from __future__ import annotations

# isort: off
# In this order: the OpenAPI document lists paths in the order their routes are added.
from cylinder_trace.catering import review_api  # noqa: F401
from cylinder_trace.catering import checks_api  # noqa: F401

# isort: on
from cylinder_trace.catering.blueprint_api import blp

__all__ = ["blp"]
