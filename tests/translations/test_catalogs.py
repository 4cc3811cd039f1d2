"""The gettext catalogs hold every message of the pages and the API, in Chinese and English.

The msgids are extracted afresh from the code and the templates (as ``make translations``
does, with babel.cfg), so a word added to a page without its translation fails here rather
than showing up in English on a Chinese page.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from cylinder_trace import translations
from cylinder_trace.customers import validation
from cylinder_trace.domain import messages

ROOT = Path(__file__).resolve().parents[2]
LOCALES = tuple(translations.LOCALES.values())
CHINESE = re.compile(r"[\u4e00-\u9fff]")
# A gettext placeholder: %(name)s, or any other %-conversion (which would need a %%).
PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?([a-zA-Z%])")

Key = tuple[str | None, str]  # (context, msgid)


def read(path: Path) -> Catalog:
    with path.open("rb") as file:
        return read_po(file)


def keys(catalog: Catalog) -> set[Key]:
    return {(message.context, message.id) for message in catalog if message.id}


def placeholders(text: str) -> list[tuple[str, str]]:
    return sorted(PLACEHOLDER.findall(text))


@pytest.fixture(scope="module")
def extracted() -> set[Key]:
    """What ``pybabel extract -F babel.cfg`` finds in the code and the templates now."""
    with (ROOT / "babel.cfg").open() as file:
        method_map, options_map = parse_mapping_cfg(file)
    found = {
        (context, message)
        for _file, _line, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map
        )
    }
    assert len(found) > 100, "the extraction found almost nothing: babel.cfg is wrong"
    return found


@pytest.fixture(scope="module")
def template() -> Catalog:
    return read(translations.DIRECTORY / f"{translations.DOMAIN}.pot")


@pytest.fixture(scope="module", params=LOCALES)
def po(request: pytest.FixtureRequest) -> tuple[str, Catalog]:
    return request.param, read(translations.catalog_path(request.param, ".po"))


def test_the_template_is_up_to_date(extracted: set[Key], template: Catalog) -> None:
    have = keys(template)
    assert sorted(extracted - have, key=str) == [], "new msgids: run `make translations`"
    assert sorted(have - extracted, key=str) == [], "msgids gone: run `make translations`"


def test_every_catalog_has_every_msgid_and_no_other(
    extracted: set[Key], po: tuple[str, Catalog]
) -> None:
    locale, catalog = po
    assert sorted(extracted - keys(catalog), key=str) == [], locale
    assert sorted(keys(catalog) - extracted, key=str) == [], locale
    assert list(catalog.obsolete) == [], locale


def test_chinese_is_there_for_every_msgid() -> None:
    catalog = read(translations.catalog_path(translations.LOCALES["zh"], ".po"))
    missing = [message.id for message in catalog if message.id and not message.string]
    assert missing == []
    # A msgid pasted as its own "translation", or an English word left in, shows up here.
    english = [
        message.id for message in catalog if message.id and not CHINESE.search(message.string)
    ]
    assert english == []


def test_english_is_the_msgid() -> None:
    """The English catalog's msgstr are empty: gettext then shows the msgid, which is the
    English text. One may be set (to reword without touching the code), in English."""
    catalog = read(translations.catalog_path(translations.LOCALES["en"], ".po"))
    assert [m.id for m in catalog if m.id and CHINESE.search(m.string or "")] == []


def test_placeholders_match(po: tuple[str, Catalog]) -> None:
    locale, catalog = po
    wrong = [
        (message.id, message.string)
        for message in catalog
        if message.id
        and message.string
        and placeholders(message.id) != placeholders(message.string)
    ]
    assert wrong == [], locale
    assert [error for error in catalog.check() if error[1]] == [], locale


def test_no_entry_is_fuzzy(po: tuple[str, Catalog]) -> None:
    """``pybabel compile`` leaves fuzzy entries out: a guessed translation must be checked."""
    locale, catalog = po
    assert not catalog.fuzzy, f"{locale}: the catalog's header is marked fuzzy"
    assert [message.id for message in catalog if message.id and message.fuzzy] == [], locale


def test_the_compiled_catalogs_are_those_of_the_po(po: tuple[str, Catalog]) -> None:
    locale, catalog = po
    fresh = io.BytesIO()
    write_mo(fresh, catalog)
    committed = translations.catalog_path(locale).read_bytes()
    assert committed == fresh.getvalue(), f"{locale}: run `make translations`"


@pytest.mark.parametrize(
    "table", [messages.MESSAGES, validation.MESSAGES], ids=["domain", "customers"]
)
def test_every_rule_code_speaks_both_languages(table: dict[str, str]) -> None:
    for code, text in table.items():
        chinese, english = translations.translate(text, "zh"), translations.translate(text, "en")
        assert CHINESE.search(chinese), code
        assert english == text and not CHINESE.search(english), code


def test_a_rule_message_in_each_language() -> None:
    assert translations.message("overfilled", "zh") == "超装：净重超过允许范围。"
    assert translations.message("overfilled", "en") == (
        "Overfilled: the net mass is above the tolerance."
    )
    assert translations.message("overfilled") == translations.message("overfilled", "en")
    assert translations.message("no_such_rule", "zh") == "no such rule"
    assert validation.messages_of("name_missing") == (
        "The name must not be empty.",
        "名称不能为空。",
    )
