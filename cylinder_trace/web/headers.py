"""Security headers on every answer: the API's, Swagger UI's and the pages'.

The pages set their own, stricter policy first (``pages/web.py``); these are defaults and
never replace a header a view or blueprint set.
"""

from __future__ import annotations

from flask import Flask, Response, request

from cylinder_trace.web.current import settings

DOCS_PREFIX = "/api/docs"
# JSON and files: nothing in an answer of the API may load, run or be framed.
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Swagger UI: its script, styles and the document all come from this service (no CDN, no
# inline script: web/docs.py); its icons are data: images; "Try it out" calls the API here.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
# A year; sent in production only, where the service is reached over HTTPS (browsers
# ignore it over plain HTTP). Outside production it would pin localhost to HTTPS.
HSTS = "max-age=31536000; includeSubDomains"


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        docs = request.path == DOCS_PREFIX or request.path.startswith(f"{DOCS_PREFIX}/")
        headers.setdefault("Content-Security-Policy", DOCS_POLICY if docs else API_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        if settings().is_production:
            headers.setdefault("Strict-Transport-Security", HSTS)
        return response
