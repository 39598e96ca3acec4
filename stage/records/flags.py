"""Flags that help a moderator decide: a maintained profanity list plus the show's own words.

Flags never decide on their own; they sort and mark the queue, and they keep a record out of a
prompt's auto-approve.
"""

from __future__ import annotations

import re

from better_profanity.better_profanity import Profanity

from stage.show.models import Moderation


class Flagger:
    def __init__(self, settings: Moderation) -> None:
        self._profanity: Profanity | None = None
        if settings.profanity:
            self._profanity = Profanity()
            self._profanity.load_censor_words()
        self._words = [(word, re.compile(rf"\b{re.escape(word)}\b", re.IGNORECASE)) for word in settings.words]

    def flags(self, text: str) -> list[str]:
        found = []
        if self._profanity is not None and self._profanity.contains_profanity(text):
            found.append("profanity")
        found += [f"word:{word}" for word, pattern in self._words if pattern.search(text)]
        return found
