"""The gettext catalogs of the pages and the API's messages, in Chinese and English.

``<locale>/LC_MESSAGES/messages.po`` are what translators edit (``make translations``
extracts the msgids from the code and templates into ``messages.pot``, updates the ``.po``
and compiles the ``.mo`` that are committed, so a fresh clone needs no build step; a test
keeps the ``.mo`` equal to their ``.po``, tests/translations that every msgid has both).

The msgids are the English text. ``zh_Hans_CN`` (zh-CN) translates each one; ``en`` has an
entry for each with an empty msgstr, so gettext shows the msgid: English is written once, in
the code, and a msgstr set there rewords a message without touching the code.

Flask-Babel serves the pages from this directory. The API's messages are built by services
that also run without a request (batches, the CLI), so they are given their language and
read the same catalogs here, without Flask.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.support import Translations

from cylinder_trace.domain.messages import LANGUAGES, MESSAGES

DIRECTORY = Path(__file__).parent
DOMAIN = "messages"
# A language as the code speaks of it ("zh", "en") -> the locale of its catalog. zh-CN is
# spelt as Babel names it (CLDR: Simplified script, China): Flask-Babel looks for the catalog
# of ``Locale.parse("zh_CN")``, which is ``zh_Hans_CN``, so a ``zh_CN`` directory is never read.
LOCALES = {"zh": "zh_Hans_CN", "en": "en"}
assert set(LOCALES) == set(LANGUAGES), "every language needs a catalog"
# The API's language when the client asks for none it has.
API_DEFAULT_LANGUAGE = "en"


def catalog_path(locale: str, suffix: str = ".mo") -> Path:
    """The file of ``locale``'s catalog: ``.po`` (edited), ``.mo`` (compiled)."""
    return DIRECTORY / locale / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


@cache
def catalog(language: str) -> Translations:
    """The compiled catalog of ``language`` ("zh" or "en"; anything else is English).

    A missing ``.mo`` raises rather than falling back to the msgids: a broken install must
    not quietly answer in English.
    """
    locale = LOCALES.get(language, LOCALES[API_DEFAULT_LANGUAGE])
    with catalog_path(locale).open("rb") as file:
        return Translations(file, domain=DOMAIN)


def translate(text: str, language: str) -> str:
    """``text`` (an English msgid) in ``language``; the msgid itself if it has no entry."""
    return catalog(language).gettext(text)


def message(code: str, language: str = API_DEFAULT_LANGUAGE) -> str:
    """The sentence for the rule ``code`` in ``language``; the code in words if unknown."""
    text = MESSAGES.get(code)
    if text is None:
        return code.replace("_", " ")
    return translate(text, language)
