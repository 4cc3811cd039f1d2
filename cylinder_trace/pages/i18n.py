"""The pages' words: gettext through Flask-Babel, with the catalogs in cylinder_trace/translations.

Templates and page code write the English source text in ``_()`` / ``gettext()``, with named
placeholders (``_("Page %(page)s of %(pages)s", page=page, pages=pages)``); ``make
translations`` extracts them for the Chinese and English catalogs. The language is the
request's: Chinese by default, ``?lang=en`` switches and the session remembers it (pages/web.py
sets ``g.lang``).

Codes the services return (refusal reasons, scan kinds, states...) have tables of their words,
marked with ``NP_`` (a context, so that "Registered" as a scan kind and as a state can differ in
Chinese) and translated by ``term``, so a page never shows a raw code when a word exists.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, g, request
from flask_babel import Babel, gettext, pgettext

from cylinder_trace.domain.messages import MESSAGES
from cylinder_trace.translations import API_DEFAULT_LANGUAGE, DIRECTORY, LOCALES

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"


def NP_(context: str, text: str) -> tuple[str, str]:
    """Mark ``text`` with its ``context`` for extraction (``NP_:1c,2`` in babel.cfg)."""
    return context, text


# Refusal and review codes: the domain's one table of them, msgids without a context.
REASONS: Mapping[str, tuple[str | None, str]] = {
    code: (None, text) for code, text in MESSAGES.items()
}

SCAN_KINDS = {
    "register": NP_("scan kind", "Registered"),
    "fill": NP_("scan kind", "Fill"),
    "dispatch": NP_("scan kind", "Dispatch"),
    "store": NP_("scan kind", "Stored"),
    "deliver": NP_("scan kind", "Delivered"),
    "collect": NP_("scan kind", "Collected"),
    "receive_empty": NP_("scan kind", "Empty received"),
    "send_for_inspection": NP_("scan kind", "Sent for inspection"),
    "inspect": NP_("scan kind", "Inspection"),
    "scrap": NP_("scan kind", "Scrapped"),
    "report_lost": NP_("scan kind", "Reported lost"),
    "stop": NP_("scan kind", "Stopped"),
    "release": NP_("scan kind", "Released"),
    "reweigh": NP_("scan kind", "Reweighed"),
}

STATES = {
    "registered": NP_("cylinder state", "Registered"),
    "full_at_station": NP_("cylinder state", "Full at station"),
    "in_transit": NP_("cylinder state", "In transit"),
    "at_supply_point": NP_("cylinder state", "At supply point"),
    "with_customer": NP_("cylinder state", "With customer"),
    "empty_at_station": NP_("cylinder state", "Empty at station"),
    "in_inspection": NP_("cylinder state", "In inspection"),
    "scrapped": NP_("cylinder state", "Scrapped"),
}

FLAGS = {
    "stopped": NP_("cylinder flag", "stopped"),
    "lost": NP_("cylinder flag", "lost"),
    "overfilled": NP_("cylinder flag", "overfilled"),
    "underfilled": NP_("cylinder flag", "underfilled"),
}

SCAN_RESULTS = {
    "accepted": NP_("scan result", "Accepted"),
    "accepted_with_violation": NP_("scan result", "Kept, flagged"),
    "rejected": NP_("scan result", "Refused"),
}

CHECK_STATES = {
    "checked_this_period": NP_("check state", "Checked this week"),
    "due": NP_("check state", "Due"),
    "overdue": NP_("check state", "Overdue"),
    "never_checked": NP_("check state", "Never checked"),
}

CUSTOMER_KINDS = {
    "person": NP_("customer kind", "Person"),
    "business": NP_("customer kind", "Business"),
}

VISIT_OUTCOMES = {
    "completed": NP_("visit outcome", "Checked"),
    "nobody_home": NP_("visit outcome", "Nobody there"),
}

# The bureau list's hazard filter (catering.schemas' ``hazard`` values).
HAZARD_FILTERS = {
    "none": NP_("hazard filter", "None"),
    "open": NP_("hazard filter", "Open"),
    "past_deadline": NP_("hazard filter", "Past deadline"),
}

HAZARD_STATES = {
    "open": NP_("hazard state", "Open"),
    "closed": NP_("hazard state", "Closed"),
}

# The public page's red warnings (pages.public.public_warnings), most serious first.
WARNINGS = {
    "warn_scrapped": NP_("public warning", "This cylinder is scrapped: do not use it"),
    "warn_stopped": NP_("public warning", "This cylinder is stopped (recalled)"),
    "warn_past_scrap_date": NP_("public warning", "Past its scrap date: it must be scrapped"),
    "warn_inspection_overdue": NP_(
        "public warning", "Periodic inspection overdue: do not use or fill"
    ),
    "warn_lost": NP_("public warning", "This cylinder was reported lost"),
    "warn_overfilled": NP_("public warning", "Overfilled: it may not leave the station"),
}

# The error page's headline by kind (pages.web.render_error).
ERRORS = {
    "error_400": NP_("error page", "Bad request"),
    "error_csrf": NP_("error page", "The page has expired: reload it and try again"),
    "error_403": NP_("error page", "Your role may not see this page"),
    "error_404": NP_("error page", "Not found"),
    "error_500": NP_("error page", "Server error, please try again later"),
}

TABLES: Mapping[str, Mapping[str, tuple[str | None, str]]] = {
    "reason": REASONS,
    "scan_kind": SCAN_KINDS,
    "state": STATES,
    "flag": FLAGS,
    "scan_result": SCAN_RESULTS,
    "check_state": CHECK_STATES,
    "customer_kind": CUSTOMER_KINDS,
    "visit_outcome": VISIT_OUTCOMES,
    "hazard_filter": HAZARD_FILTERS,
    "hazard_state": HAZARD_STATES,
    "warning": WARNINGS,
    "error": ERRORS,
}


def current_language() -> str:
    """The language of this request (set by the blueprint from ``?lang=`` or the session)."""
    return g.get("lang", DEFAULT_LANGUAGE)


def babel_locale() -> str:
    """Flask-Babel's locale: a page's language (Chinese unless asked), English elsewhere.

    A page's error handler may run before the blueprint has set ``g.lang`` (an app-wide
    check refused the request): it speaks the default language, as ``current_language``
    does. The API does not translate through Flask-Babel (its messages are given their
    language, see cylinder_trace.translations); English there only keeps its rule if
    something does.
    """
    if "lang" in g or request.blueprint == "pages":
        return LOCALES.get(current_language(), LOCALES[DEFAULT_LANGUAGE])
    return LOCALES[API_DEFAULT_LANGUAGE]


def init_babel(app: Flask) -> None:
    """Serve the catalogs with Flask-Babel: ``_``, ``gettext`` and ``pgettext`` in templates."""
    Babel(
        app,
        locale_selector=babel_locale,
        default_locale=LOCALES[DEFAULT_LANGUAGE],
        default_translation_directories=str(DIRECTORY),
    )


def term(table: str, code: object, fallback: str | None = None) -> str:
    """A service code (reason, scan kind, state...) in words; the fallback or code if unknown."""
    if code is None:
        return ""
    value = getattr(code, "value", code)
    entry = TABLES[table].get(str(value))
    if entry is None:
        return fallback or str(value)
    context, text = entry
    return gettext(text) if context is None else pgettext(context, text)
