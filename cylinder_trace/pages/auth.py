"""Signing in to the pages with a username and password, and who may see which page.

The session cookie (signed with SECRET_KEY, HttpOnly, SameSite=Lax) holds a random session
id, which every page request looks up on the server (``auth.page_sessions``): signing out, a
new password, deactivating the user or an admin's ``end-sessions`` deletes the row, and a
copy of the cookie opens nothing from then on. A session also ends ``SESSION_MAX_AGE`` after
sign-in, and while the user's organisation is deactivated it opens nothing. The pages act
through a ``Principal`` built from the user, so they see exactly what the same user's API
token would.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from functools import cache, wraps
from typing import Any

from flask import g, redirect, render_template, request, session, url_for
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from cylinder_trace.auth.page_sessions import end_session, session_user, start_session
from cylinder_trace.auth.sign_in import (
    forget_sign_in_failures,
    record_sign_in_failure,
    sign_in_wait,
)
from cylinder_trace.db import READ_METHODS, get_session, read_from_replica, utcnow
from cylinder_trace.domain.roles import Role
from cylinder_trace.pages.redirects import next_of, safe_next
from cylinder_trace.pages.web import (
    SESSION_ID_KEY,
    bp,
    csrf_token,
    new_csrf_token,
    render_error,
    settings,
)
from cylinder_trace.principal import Principal
from cylinder_trace.users.models import User
from cylinder_trace.users.services import PASSWORD_METHOD, check_password

SESSION_MAX_AGE = timedelta(hours=12)
# What cookies from before server-side sessions held; they open nothing now.
LEGACY_KEYS = frozenset({"uid", "at", "pw"})

STATION_ROLES = (Role.STATION_OPERATOR,)
COMPANY_ROLES = (
    Role.COMPANY_ADMIN,
    Role.STATION_OPERATOR,
    Role.DELIVERY_STAFF,
    Role.SYSTEM_ADMIN,
)
BUREAU_ROLES = (Role.BUREAU_REVIEWER, Role.REGULATOR, Role.SYSTEM_ADMIN)


@cache
def _dummy_hash() -> str:
    return generate_password_hash("no user has this password", method=PASSWORD_METHOD)


def current_user() -> User | None:
    """The signed-in user of this request, or None (and a stale session is cleared)."""
    if "page_user" in g:
        return g.page_user
    user = None
    if SESSION_ID_KEY in session:
        candidate = session_user(get_session(), session[SESSION_ID_KEY], utcnow())
        if candidate is not None and candidate.active and candidate.organisation.active:
            user = candidate
        else:
            _forget_user()
    elif LEGACY_KEYS & session.keys():
        _forget_user()
    g.page_user = user
    return user


def _forget_user() -> None:
    for key in (SESSION_ID_KEY, "station_checks", *LEGACY_KEYS):
        session.pop(key, None)


def page_principal() -> Principal:
    """The signed-in user as the services' caller (a page has no API token: id 0)."""
    user = current_user()
    assert user is not None, "page_principal() needs a signed-in user (use require_roles)"
    return Principal(token_id=0, organisation=user.organisation, user=user)


def may_see(user: User | None, roles: tuple[Role, ...]) -> bool:
    return user is not None and user.role in roles


def require_roles(*roles: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Only signed-in users with one of ``roles``: others go to sign in, or get 403."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                if request.is_json:
                    return {
                        "code": "login_required",
                        "status": 401,
                        "message": gettext("Please sign in"),
                    }, 401
                return redirect(url_for("pages.login", next=next_of(request)))
            if user.role not in roles:
                return render_error(403, "error_403")
            if request.method in READ_METHODS and page_principal().jurisdiction is not None:
                # A bureau's or regulator's pages and exports, like their API reads.
                read_from_replica()
            return view(*args, **kwargs)

        return wrapper

    return decorator


def home_for(user: User) -> str:
    """The first page of each role."""
    if user.role in STATION_ROLES:
        return url_for("pages.station")
    if user.role in BUREAU_ROLES:
        return url_for("pages.bureau")
    return url_for("pages.company_cylinders")


@bp.context_processor
def _user_helpers() -> dict[str, Any]:
    user = current_user()
    return {
        "current_user": user,
        "show_station": may_see(user, STATION_ROLES),
        "show_bureau": may_see(user, BUREAU_ROLES),
        "show_company": may_see(user, COMPANY_ROLES),
    }


@bp.get("/")
def home() -> Any:
    """Each role's start page, or the sign-in form."""
    user = current_user()
    if user is None:
        return redirect(url_for("pages.login"))
    return redirect(home_for(user))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Sign in with username and password; the same answer for unknown user and wrong password."""
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        csrf_token()
        return render_template("login.html", next_url=next_url, error=None)
    username = request.form.get("username", "").strip().lower()
    password = request.form.get("password", "")
    db, address, now = get_session(), request.remote_addr or "", utcnow()
    limits = settings().sign_in_limits
    wait = sign_in_wait(db, username, address, now, limits)
    if wait is not None:
        # Refused before the password is looked at: a guess that happens to be right now
        # gains nothing.
        minutes = max(1, math.ceil(wait.total_seconds() / 60))
        error = gettext(
            "Too many failed sign-ins: try again in %(minutes)s minutes", minutes=minutes
        )
        page = render_template("login.html", next_url=next_url, error=error)
        return page, 429, {"Retry-After": str(math.ceil(wait.total_seconds()))}
    user = db.scalar(select(User).where(User.username == username)) if username else None
    if user is not None and user.password_hash:
        valid = check_password(user, password)
    else:
        # Spend the same time as a real check, so timing does not tell which usernames exist.
        check_password_hash(_dummy_hash(), password)
        valid = False
    if not valid:
        record_sign_in_failure(db, username, address, now, limits)
        return render_template(
            "login.html", next_url=next_url, error=gettext("Wrong username or password")
        )
    forget_sign_in_failures(db, username)
    if not user.active or not user.organisation.active:
        return render_template(
            "login.html", next_url=next_url, error=gettext("This account is deactivated")
        )
    _clear_session(db)  # nothing from before signing in carries over
    session[SESSION_ID_KEY] = start_session(db, user, now, SESSION_MAX_AGE)
    new_csrf_token()
    g.page_user = user
    return redirect(next_url or home_for(user))


@bp.post("/logout")
def logout() -> Any:
    """Sign out (a POST with the CSRF token, so no other site can sign a user out).

    The session ends on the server, so a copy of the cookie made before opens nothing.
    """
    _clear_session(get_session())
    return redirect(url_for("pages.login", signed_out=1))


def _clear_session(db: Session) -> None:
    """End the cookie's session, if any, and empty the cookie but for its language."""
    if SESSION_ID_KEY in session:
        end_session(db, session[SESSION_ID_KEY])
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    g.pop("page_user", None)
