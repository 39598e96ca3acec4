"""Cleaning of user text before it is stored: Unicode NFC, no control or bidi-override characters.

One rule for every user text (stories, comments, display names, captions): :func:`clean_text` or
:func:`clean_line`, then :func:`is_blank` for the emptiness test. A text that only *looks* empty
(zero-width spaces, joiners, BOMs, word joiners, Hangul fillers...) is blank and refused.

Invisible characters are stripped only at the ends of a text. Inside, they stay: a ZWJ (U+200D,
category Cf) joins the family emoji 👨‍👩‍👧 and an RLM (U+200F, Cf) orders punctuation in Hebrew text.
An LRM/RLM at either end stays too (it sets the direction of a text that starts or ends neutral).

Display pages also isolate every user text (``dir=auto``, ``unicode-bidi: isolate``), so right-to-left
stories render right without letting one text reorder the page around it.
"""

from __future__ import annotations

import re
import unicodedata

# C0/C1 controls except tab and newline; DEL.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Embeddings, overrides and isolates (the "Trojan Source" characters), plus the Arabic letter mark.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u061c]")
# Categories that draw nothing by themselves: format (ZWSP, ZWJ, BOM, tags...), controls, separators,
# and combining marks (a variation selector or an accent alone is not a story).
_INVISIBLE_CATEGORIES = {"Cf", "Cc", "Zs", "Zl", "Zp", "Mn", "Me"}
# Default_Ignorable_Code_Point letters and symbols that render blank (unicodedata has no DI property):
# combining grapheme joiner, Hangul fillers, Mongolian free variation selectors, the Braille blank.
_BLANK_LETTERS = frozenset("\u034f\u115f\u1160\u3164\uffa0\u180b\u180c\u180d\u180e\u180f\u2800")
# Kept at the ends: they carry the direction of a text that starts or ends with a neutral character.
_DIRECTION_MARKS = frozenset("\u200e\u200f")


def is_invisible(char: str) -> bool:
    return char in _BLANK_LETTERS or unicodedata.category(char) in _INVISIBLE_CATEGORIES


def is_blank(value: str) -> bool:
    """True when nothing in the text would show: the emptiness test for every user text."""
    return all(is_invisible(char) for char in value)


def _strippable(char: str) -> bool:
    """At the ends of a text: whitespace and format characters go, marks (VS16 of ❤️) and LRM/RLM stay."""
    return char not in _DIRECTION_MARKS and (char.isspace() or char in _BLANK_LETTERS
                                             or unicodedata.category(char) in ("Cf", "Cc", "Zs"))


def _strip_invisible(value: str) -> str:
    start, end = 0, len(value)
    while start < end and _strippable(value[start]):
        start += 1
    while end > start and _strippable(value[end - 1]):
        end -= 1
    return value[start:end]


def clean_text(value: str) -> str:
    """A multi-line text (a story): normalised, controls removed, invisible ends and trailing space trimmed."""
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    value = _BIDI_CONTROLS.sub("", _CONTROLS.sub("", value))
    return "\n".join(line.rstrip() for line in _strip_invisible(value).split("\n"))


def clean_line(value: str) -> str:
    """A one-line text (a display name): as :func:`clean_text`, whitespace runs collapsed."""
    return " ".join(clean_text(value).split())  # clean_text already stripped both ends


def word_count(value: str) -> int:
    return len(value.split())
