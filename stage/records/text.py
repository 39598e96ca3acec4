"""Cleaning of user text before it is stored: Unicode NFC, no control or bidi-override characters.

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


def clean_text(value: str) -> str:
    """A multi-line text (a story): normalised, controls removed, trailing space trimmed."""
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    value = _BIDI_CONTROLS.sub("", _CONTROLS.sub("", value))
    return "\n".join(line.rstrip() for line in value.strip().split("\n"))


def clean_line(value: str) -> str:
    """A one-line text (a display name): as :func:`clean_text`, whitespace runs collapsed."""
    return " ".join(clean_text(value).split())


def word_count(value: str) -> int:
    return len(value.split())
