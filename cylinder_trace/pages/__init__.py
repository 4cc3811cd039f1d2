"""Server-rendered pages for the people who do not use the API.

The public cylinder page a label's QR opens (``/C/<token>``), the filling station's scan page,
the bureau's catering dashboard and the gas company's pages. Jinja templates, one small CSS
file and one small script; Chinese by default, English with ``?lang=en``. Pages call the same
services as the API with a principal built from the signed-in user, never the API over HTTP.
"""

from __future__ import annotations

from cylinder_trace.pages import auth, bureau, company, public, station  # noqa: F401  (routes)
from cylinder_trace.pages.web import bp

__all__ = ["bp"]
