"""The audience's language: Babel catalogs for the phone and display pages, their templates and scripts alike.

Message ids are the English text (gettext's way), so English needs no catalog and a string missing from a
catalog shows in English rather than as a key. Catalogs are the `.po` files in `stage/translations/`, read
and compiled in memory when first needed (no compiled `.mo` files to forget to rebuild). `make catalogs`
extracts the ids from templates and scripts and updates every catalog; docs/languages.md says how to add one.
Console pages stay English (the brief allows it): they get the English page language.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

log = logging.getLogger(__name__)

CATALOGS = Path(__file__).resolve().parent / "translations"
SOURCE = "en"  # the language of the message ids
COOKIE = "stage_lang"  # a phone's own pick from the show's languages
# Babel's order of gettext plural forms (babel.plural.to_gettext): the script catalog lists the tags a
# language uses in this order, and the page's Intl.PluralRules names which one a number takes.
PLURAL_ORDER = ("zero", "one", "two", "few", "many", "other")


@dataclass(frozen=True)
class PageLanguage:
    """One page's language: its tag and direction, gettext for its template, the catalog for its scripts."""

    tag: str
    direction: str
    translations: NullTranslations = field(repr=False, compare=False)
    script_catalog: dict = field(repr=False, compare=False)

    @property
    def name(self) -> str:
        """The language's own name for itself ("español", "العربية"), for the phone's picker."""
        return Locale.parse(self.tag).get_display_name(self.tag) or self.tag


def shipped() -> tuple[str, ...]:
    """English and every language with a catalog in stage/translations/."""
    found = sorted(p.parent.parent.name for p in CATALOGS.glob("*/LC_MESSAGES/messages.po"))
    return (SOURCE, *[tag for tag in found if tag != SOURCE])


def known(tag: str) -> bool:
    return tag in shipped()


@cache
def page_language(tag: str) -> PageLanguage:
    """The page language for a shipped tag (callers check `known` first; anything else is English)."""
    if tag != SOURCE and not known(tag):
        tag = SOURCE
    try:
        direction = "rtl" if Locale.parse(tag).character_order == "right-to-left" else "ltr"
    except (UnknownLocaleError, ValueError):
        direction = "ltr"
    if tag == SOURCE:
        return PageLanguage(tag, direction, NullTranslations(), {"plural_tags": ["one", "other"], "messages": {}})
    path = CATALOGS / tag / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        catalog = read_po(po, locale=tag)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out, as msgfmt does
    compiled.seek(0)
    messages: dict[str, str | list[str]] = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        if message.pluralizable:
            messages[message.id[0]] = list(message.string)
        elif message.string:
            messages[message.id] = message.string
    log.info("language %s: %d messages from %s", tag, len(messages), path.name)
    return PageLanguage(tag, direction, Translations(compiled),
                        {"plural_tags": plural_tags(tag), "messages": messages})


def plural_tags(tag: str) -> list[str]:
    """The CLDR plural categories of a language in the order of its gettext forms."""
    used = Locale.parse(tag).plural_form.tags | {"other"}
    tags = [name for name in PLURAL_ORDER if name in used]
    forms = get_plural(tag).num_plurals
    return tags if len(tags) == forms else tags[:forms - 1] + ["other"]


def negotiate(offered: tuple[str, ...], accept: list[tuple[str, float]]) -> str | None:
    """The first of the browser's languages (best first) that the show offers, by full tag, then by language."""
    for value, _quality in accept:
        wanted = value.replace("_", "-").lower()
        for candidate in (wanted, wanted.split("-")[0]):
            if candidate in offered:
                return candidate
    return None
