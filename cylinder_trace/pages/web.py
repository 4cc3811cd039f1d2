"""The pages' Flask blueprint: language, CSRF, security headers, and HTML error pages.

A plain ``flask.Blueprint`` outside /api: pages sign in with a session cookie, the API with
bearer tokens, and neither accepts the other's credentials.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, g, render_template, request, session
from flask.blueprints import BlueprintSetupState
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException

from cylinder_trace.config import SETTINGS_CONFIG_KEY, Settings
from cylinder_trace.domain.errors import DomainError
from cylinder_trace.pages.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    current_language,
    init_babel,
    term,
)
from cylinder_trace.web.current import settings
from cylinder_trace.web.errors import KIND_STATUS, handle_error

bp = Blueprint(
    "pages",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/pages-static",
)

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
# The session cookie's key for the server-side session id (pages/auth.py).
SESSION_ID_KEY = "sid"
# No inline script or style anywhere, so the policy can forbid both.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


class CsrfRefused(Exception):
    """A form or JSON post without this session's CSRF token."""


@bp.record_once
def _configure(state: BlueprintSetupState) -> None:
    """Session cookie settings for the pages (the API never reads the session)."""
    app: Flask = state.app
    config: Settings = app.config[SETTINGS_CONFIG_KEY]
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    # Secure (HTTPS only) in production; CT_SESSION_COOKIE_SECURE=0 allows a plain-HTTP LAN.
    app.config["SESSION_COOKIE_SECURE"] = config.session_cookie_secure


@bp.record_once
def _translations(state: BlueprintSetupState) -> None:
    """The pages' words from the gettext catalogs (pages/i18n.py)."""
    init_babel(state.app)


def csrf_token() -> str:
    """This session's CSRF token, made on first use."""
    token = session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


def new_csrf_token() -> str:
    """A fresh token (after signing in, so a token seen before cannot be replayed)."""
    session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return session[CSRF_FIELD]


@bp.before_request
def _language_and_csrf() -> None:
    wanted = request.args.get("lang")
    if wanted in LANGUAGES:
        session["lang"] = wanted
    g.lang = session.get("lang", DEFAULT_LANGUAGE)
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
        expected = session.get(CSRF_FIELD) or ""
        if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
            raise CsrfRefused()


@bp.after_request
def _headers(response: Any) -> Any:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    # Shared station PCs: nothing a signed-in page showed may be kept by the browser.
    if session.get(SESSION_ID_KEY) is not None:
        response.headers["Cache-Control"] = "no-store"
    return response


def lang_url(lang: str) -> str:
    """This page's URL in another language."""
    args = request.args.to_dict(flat=False)
    args["lang"] = [lang]
    return f"{request.path}?{urlencode(args, doseq=True)}"


def page_url(**changes: Any) -> str:
    """This page's URL with some query arguments changed (None removes one)."""
    args = request.args.to_dict(flat=False)
    args.pop("lang", None)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = [str(value)]
    query = urlencode(args, doseq=True)
    return f"{request.path}?{query}" if query else request.path


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An instant in the business time zone (China), whatever the server's zone."""
    if value is None:
        return ""
    return value.astimezone(settings().time_zone).strftime(fmt)


def day(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


@bp.app_template_filter("percent")
def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {
        "term": term,
        "lang": current_language(),
        "lang_url": lang_url,
        "page_url": page_url,
        "csrf_token": csrf_token,
        "local_time": local_time,
        "day": day,
    }


def render_error(status: int, message_key: str, detail: str | None = None) -> tuple[str, int]:
    """An HTML error page with a status code."""
    message = term("error", message_key)
    return render_template("error.html", status=status, message=message, detail=detail), status


@bp.errorhandler(CsrfRefused)
def _csrf_refused(_error: CsrfRefused) -> Any:
    if request.is_json or request.accept_mimetypes.best == "application/json":
        return {"code": "csrf_refused", "status": 400, "message": term("error", "error_csrf")}, 400
    return render_error(400, "error_csrf")


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError) -> Any:
    status = KIND_STATUS.get(error.kind, 400)
    key = {403: "error_403", 404: "error_404"}.get(status, "error_400")
    return render_error(status, key, error.message if status not in (403, 404) else None)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Any:
    status = error.code or 500
    key = {403: "error_403", 404: "error_404"}.get(status, "error_400")
    return render_error(status, key if status < 500 else "error_500")


@bp.errorhandler(Exception)
def _unexpected(error: Exception) -> Any:
    # The API's handler logs it and picks the status (409, 503, 500...); the page shows HTML.
    status = handle_error(error).status_code
    return render_error(status, "error_500" if status >= 500 else "error_400")


def paginate(session: Any, statement: Any, size: int) -> tuple[list[Any], int, int, int]:
    """One page of a select from ``?page=``: (rows, total, page, pages)."""
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    pages = max(1, -(-(total or 0) // size))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    rows = list(session.execute(statement.limit(size).offset((page - 1) * size)))
    return rows, total or 0, page, pages
