"""The pages' languages: English message ids in the templates, a Babel/gettext catalogue per
language; Dutch, the language of the people who use the radar, is the default."""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES = ("nl", "en")
DEFAULT_LOCALE = "nl"
CATALOGUES = Path(__file__).parent / "locale"
DOMAIN = "messages"


def catalogue_path(locale: str) -> Path:
    return CATALOGUES / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(locale: str) -> gettext.NullTranslations:
    """The catalogue of a language, compiled from its .po file on first use (no build step);
    English is the message ids themselves."""
    path = catalogue_path(locale)
    if locale not in LOCALES or not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as source:
        catalogue = read_po(source, locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def chosen(locale: str | None) -> str:
    """A supported language, else the default."""
    return locale if locale in LOCALES else DEFAULT_LOCALE


def term(words: gettext.NullTranslations, kind: str, value: str) -> str:
    """A domain value (an enum member, a figure's name) as a page shows it. The domain code and
    the API keep their English values; the catalogue holds each under the message id
    "kind:value" (e.g. "decision:own_investigation"). Without an entry (the English locale) the
    value itself reads as words: "own_investigation" -> "Own investigation"."""
    message = f"{kind}:{value}"
    found = words.gettext(message)
    return found if found != message else value.replace("_", " ").capitalize()
