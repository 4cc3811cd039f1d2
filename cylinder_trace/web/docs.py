"""Swagger UI at /api/docs, with a Content-Security-Policy that allows no inline script.

Its assets come from the installed swagger-ui-bundle package (served by the app under
/api/docs/assets, never from a CDN), and it is started by a script file of ours rather than
flask-smorest's inline one, so that the page's policy can be ``script-src 'self'``.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Flask, render_template, url_for

bp = Blueprint(
    "api_docs_ui",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/api/docs/ui",
)


def register(app: Flask) -> None:
    app.register_blueprint(bp)


def swagger_ui_page(api: Any) -> str:
    """The Swagger UI page (replaces flask-smorest's, which starts it with inline script)."""
    return render_template(
        "api_docs/swagger_ui.html",
        title=api.spec.title,
        spec_url=url_for(f"{api._make_doc_blueprint_name()}.openapi_json"),
        assets_url=api._swagger_ui_url,
        config=json.dumps(api.config.get("OPENAPI_SWAGGER_UI_CONFIG", {})),
    )
