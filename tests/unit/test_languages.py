"""The audience's languages: show-file fields, negotiation, and catalogs that are complete and correct."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.pofile import read_po

from stage import i18n
from stage.errors import ShowFileError
from stage.show.loader import parse_show

ROOT = Path(__file__).resolve().parents[2]
DEMO_TEXT = (ROOT / "shows" / "tiny-stories.yaml").read_text()
COMPLETE = ("es", "ar")  # the issue: English, Spanish and Arabic ship complete
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def show_with(extra: str):
    return parse_show(extra + DEMO_TEXT, "night.yaml")


def test_a_show_names_its_language_and_the_phones_choices():
    show = show_with("language: es\nlanguages: [ar, es, ar]\n")
    assert show.language == "es"
    assert show.phone_languages == ("es", "ar")  # the show's own first, each once
    assert show_with("").phone_languages == i18n.shipped()


def test_a_language_without_a_catalog_is_refused_with_the_shipped_ones():
    with pytest.raises(ShowFileError) as info:
        show_with("language: klingon\n")
    message = str(info.value)
    assert "night.yaml:1" in message and "klingon" in message and "es" in message and "ar" in message


@pytest.mark.parametrize(("accept", "expected"), [
    ([("es-MX", 1), ("en", 0.5)], "es"),  # a regional tag finds its language
    ([("fr", 1), ("ar", 0.8)], "ar"),  # the first one offered wins, even when not the first wanted
    ([("fr", 1)], None),
    ([], None),
])
def test_negotiation_takes_the_browser_s_first_offered_language(accept, expected):
    assert i18n.negotiate(("en", "es", "ar"), accept) == expected


def test_arabic_reads_right_to_left_and_has_its_six_plural_forms():
    arabic = i18n.page_language("ar")
    assert arabic.direction == "rtl" and i18n.page_language("es").direction == "ltr"
    assert arabic.script_catalog["plural_tags"] == ["zero", "one", "two", "few", "many", "other"]
    assert i18n.page_language("es").script_catalog["plural_tags"] == ["one", "other"]


@pytest.mark.parametrize("tag", COMPLETE)
def test_templates_and_scripts_pick_the_same_plural_form(tag):
    """A template's ngettext takes the catalog's Plural-Forms expression, a script takes the form of the number's
    CLDR category (Intl.PluralRules, same data as Babel's): for Arabic, Babel's own expression puts 100-102 before
    11-99, so the catalog carries GNU gettext's, in CLDR's order, and the two must agree for every count."""
    language = i18n.page_language(tag)
    tags, rule = language.script_catalog["plural_tags"], Locale.parse(tag).plural_form
    for n in range(0, 1200):
        assert language.translations.plural(n) == tags.index(rule(n)), n


def test_an_unknown_tag_is_english_not_an_error():
    assert i18n.page_language("xx").tag == "en"


def extracted(tmp_path: Path) -> list:
    """Every message id of the templates and scripts as they are now (what `make catalogs` extracts)."""
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "--no-location", "-F",
                    str(ROOT / "babel.cfg"), "-k", "t", "-k", "tn:1,2", "-o", str(pot), str(ROOT)],
                   check=True, cwd=ROOT, capture_output=True)
    with pot.open("rb") as file:
        return [message for message in read_po(file) if message.id]


def test_extraction_finds_the_phone_and_display_strings(tmp_path):
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in extracted(tmp_path)}
    assert "Connected" in ids  # common.js
    assert any(re.search(r"phones? joined", i) for i in ids)  # the projector's join count
    assert len(ids) > 80


@pytest.mark.parametrize("tag", COMPLETE)
def test_every_string_is_translated_with_the_same_placeholders(tmp_path, tag):
    with (i18n.CATALOGS / tag / "LC_MESSAGES" / "messages.po").open("rb") as file:
        catalog = read_po(file, locale=tag)
    missing, wrong = [], []
    for message in extracted(tmp_path):
        found = catalog.get(message.id)
        strings = found and (found.string if isinstance(found.string, tuple) else (found.string,))
        if not found or found.fuzzy or not all(strings):
            missing.append(message.id)
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        expected = set().union(*(PLACEHOLDER.findall(i) for i in ids)) - {"n"}
        for string in strings:
            if set(PLACEHOLDER.findall(string)) - {"n"} != expected:
                wrong.append((message.id, string))
    assert not missing, f"{tag}: {len(missing)} strings not translated (make catalogs, then translate): {missing[:10]}"
    assert not wrong, f"{tag}: placeholders differ from the English: {wrong[:5]}"


def test_the_phone_page_carries_the_standard_consent_word_for_word(tmp_path):
    from stage.show.models import STANDARD_CONSENT

    ids = {m.id for m in extracted(tmp_path)}
    assert STANDARD_CONSENT in ids
