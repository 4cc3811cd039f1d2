"""Every word a page asks for exists in Chinese and English."""

from __future__ import annotations

import re
from pathlib import Path

from cylinder_trace.catering.models import VisitOutcome
from cylinder_trace.customers.models import CustomerKind
from cylinder_trace.domain.fill import REFUSAL_ORDER
from cylinder_trace.domain.lifecycle import CylinderState, ScanKind
from cylinder_trace.domain.messages import MESSAGES
from cylinder_trace.domain.weeks import CheckState
from cylinder_trace.pages import i18n
from cylinder_trace.scans.models import ScanResult

PAGES = Path(i18n.__file__).parent
LITERAL = re.compile(r"""\bt\(\s*['"]([a-z0-9_]+)['"]\s*[,)]""")


def test_every_literal_key_exists() -> None:
    sources = [*PAGES.glob("templates/*.html"), *PAGES.glob("*.py")]
    sources.remove(PAGES / "i18n.py")  # its docstring shows the call with a made-up key
    used = {key for path in sources for key in LITERAL.findall(path.read_text("utf-8"))}
    assert used, "no keys found: the pattern is wrong"
    assert sorted(used - set(i18n.TEXTS)) == []


def test_keys_built_from_codes_exist() -> None:
    built = (
        [f"hazard_{value}" for value in ("none", "open", "past_deadline")]
        + [f"kind_{kind.value}" for kind in CustomerKind]
        + [f"outcome_{outcome.value}" for outcome in VisitOutcome]
        + [f"flag_{flag}" for flag in ("stopped", "lost", "overfilled", "underfilled")]
    )
    assert [key for key in built if key not in i18n.TEXTS] == []


def test_every_code_has_words() -> None:
    assert set(REFUSAL_ORDER) <= set(i18n.REASONS)
    assert set(MESSAGES) <= set(i18n.REASONS)
    assert {kind.value for kind in ScanKind} == set(i18n.SCAN_KINDS)
    assert {state.value for state in CylinderState} == set(i18n.STATES)
    assert {result.value for result in ScanResult} == set(i18n.SCAN_RESULTS)
    assert {state.value for state in CheckState} == set(i18n.CHECK_STATES)


def test_both_languages_are_filled_in() -> None:
    for table in (i18n.TEXTS, *i18n.TABLES.values()):
        for key, (zh, en) in table.items():
            assert zh.strip() and en.strip(), key
            assert re.search(r"[\u4e00-\u9fff]", zh) or key == "switch_language", key
            assert not re.search(r"[\u4e00-\u9fff]", en) or key == "switch_language", key
