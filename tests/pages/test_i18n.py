"""Every code a page shows has its words, and the pages speak through the gettext catalogs.

That every msgid has its Chinese and English is tests/translations' (which extracts them);
here: the code tables cover every code, the old ``t("key")`` helper is gone, and the words
come out in the request's language.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask, g

from cylinder_trace.catering.constants import HazardState
from cylinder_trace.catering.models import VisitOutcome
from cylinder_trace.customers.models import CustomerKind
from cylinder_trace.domain.fill import REFUSAL_ORDER
from cylinder_trace.domain.lifecycle import CylinderState, ScanKind
from cylinder_trace.domain.messages import MESSAGES
from cylinder_trace.domain.weeks import CheckState
from cylinder_trace.pages import i18n, public
from cylinder_trace.scans.models import ScanResult

PAGES = Path(i18n.__file__).parent
OLD_HELPER = re.compile(r"""(?<![\w.])t\(\s*['"]""")


def test_the_old_key_helper_is_gone() -> None:
    sources = [*PAGES.glob("templates/*.html"), *PAGES.glob("*.py")]
    assert [path.name for path in sources if OLD_HELPER.search(path.read_text("utf-8"))] == []
    assert not hasattr(i18n, "t") and not hasattr(i18n, "TEXTS")


def test_every_code_has_words() -> None:
    assert set(REFUSAL_ORDER) <= set(i18n.REASONS)
    assert set(MESSAGES) == set(i18n.REASONS)
    assert {kind.value for kind in ScanKind} == set(i18n.SCAN_KINDS)
    assert {state.value for state in CylinderState} == set(i18n.STATES)
    assert {result.value for result in ScanResult} == set(i18n.SCAN_RESULTS)
    assert {state.value for state in CheckState} == set(i18n.CHECK_STATES)
    assert {kind.value for kind in CustomerKind} == set(i18n.CUSTOMER_KINDS)
    assert {outcome.value for outcome in VisitOutcome} == set(i18n.VISIT_OUTCOMES)
    assert set(HazardState.ALL) == set(i18n.HAZARD_FILTERS)
    assert set(i18n.HAZARD_STATES) == {"open", "closed"}
    assert set(i18n.FLAGS) == {"stopped", "lost", "overfilled", "underfilled"}
    warnings = set(re.findall(r'"(warn_\w+)"', Path(public.__file__).read_text("utf-8")))
    assert warnings and warnings == set(i18n.WARNINGS)
    errors = set(re.findall(r'"(error_\w+)"', (PAGES / "web.py").read_text("utf-8")))
    assert errors and errors == set(i18n.ERRORS)


def test_the_tables_hold_english_msgids() -> None:
    for name, table in i18n.TABLES.items():
        for code, (context, text) in table.items():
            assert text.strip() and not re.search(r"[\u4e00-\u9fff]", text), (name, code)
            assert context is None or name != "reason", (name, code)


@pytest.fixture
def page_app() -> Flask:
    app = Flask(__name__)
    i18n.init_babel(app)
    return app


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        # The same English word, told apart by its context where Chinese differs.
        (
            "zh",
            ["登记", "已登记", "报废", "已报废", "有未整改", "未整改", "超装：净重超过允许范围。"],
        ),
        ("en", ["Registered", "Registered", "Scrapped", "Scrapped", "Open", "Open", None]),
    ],
)
def test_terms_in_the_request_language(page_app: Flask, lang: str, words: list[str | None]) -> None:
    with page_app.test_request_context("/"):
        g.lang = lang
        got = [
            i18n.term("scan_kind", ScanKind.REGISTER),
            i18n.term("state", "registered"),
            i18n.term("scan_kind", "scrap"),
            i18n.term("state", CylinderState.SCRAPPED),
            i18n.term("hazard_filter", "open"),
            i18n.term("hazard_state", "open"),
            i18n.term("reason", "overfilled"),
        ]
    words[-1] = words[-1] or MESSAGES["overfilled"]
    assert got == words


def test_unknown_codes_show_as_themselves(page_app: Flask) -> None:
    with page_app.test_request_context("/"):
        g.lang = "zh"
        assert i18n.term("reason", "some_new_code", "后备") == "后备"
        assert i18n.term("state", "some_new_state") == "some_new_state"
        assert i18n.term("state", None) == ""


def test_pages_default_to_chinese_and_the_rest_to_english(page_app: Flask) -> None:
    with page_app.test_request_context("/"):
        assert i18n.babel_locale() == "en"  # not a page: the API's default
        g.lang = "en"
        assert i18n.babel_locale() == "en"
        g.lang = "zh"
        assert i18n.babel_locale() == i18n.LOCALES["zh"]
        g.lang = "xx"  # never set so, but not a crash either
        assert i18n.babel_locale() == i18n.LOCALES["zh"]
