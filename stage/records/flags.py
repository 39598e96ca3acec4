"""Flags that help a moderator decide: better-profanity's maintained word list plus the show's words.

Flags never decide on their own; they sort and mark the queue, and they keep a record out of a
prompt's auto-approve. better-profanity's own matcher costs about 7 ms a story (it compares every word
with every listed word and its variants), which under a busy night stalls the event loop; so the
flagger keeps the library's word list and its leetspeak map, and looks words up in a set instead.
"""

from __future__ import annotations

import fnmatch
import re

from better_profanity.better_profanity import Profanity

from stage.show.models import Moderation

TOKEN = re.compile(r"[\w@$*]+")


class Flagger:
    def __init__(self, settings: Moderation) -> None:
        self._classes: dict[str, str] = {}
        self._phrases: set[tuple[str, ...]] = set()
        self._longest = 1
        if settings.profanity:
            library = Profanity()
            self._classes = _classes(library.CHARS_MAPPING)
            with open(library._default_wordlist_filename, encoding="utf-8") as wordlist:
                for line in wordlist:
                    self._add(line)
        self._words = [(word, re.compile(rf"\b{re.escape(word)}\b", re.IGNORECASE)) for word in settings.words]

    def _add(self, phrase: str) -> None:
        tokens = tuple(self._canon(t) for t in TOKEN.findall(phrase.lower()))
        if tokens:
            self._phrases.add(tokens)
            self._longest = max(self._longest, len(tokens))

    def _canon(self, token: str) -> str:
        return "".join(self._classes.get(char, char) for char in token)

    def flags(self, text: str) -> list[str]:
        found = []
        if self._phrases and self._profane(TOKEN.findall(text.lower())):
            found.append("profanity")
        found += [f"word:{word}" for word, pattern in self._words if pattern.search(text)]
        return found

    def _profane(self, tokens: list[str]) -> bool:
        canon = [self._canon(t) for t in tokens]
        for size in range(1, self._longest + 1):
            for start in range(len(canon) - size + 1):
                window = tuple(canon[start:start + size])
                if window in self._phrases:
                    return True
                if size == 1 and "*" in window[0] and self._wildcard(window[0]):
                    return True
        return False

    def _wildcard(self, token: str) -> bool:
        """``f*ck``: the library lets ``*`` stand for a vowel; check the (rare) starred word one by one."""
        return any(len(p) == 1 and fnmatch.fnmatchcase(p[0], token.replace("?", "")) for p in self._phrases)


def _classes(mapping: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Characters the library treats as the same letter (``@`` for a or o, ``1`` for i or l) share a class."""
    groups: list[set[str]] = []
    for letter, variants in mapping.items():
        group = {letter, *(v for v in variants if v != "*")}
        overlapping = [g for g in groups if g & group]
        for g in overlapping:
            group |= g
            groups.remove(g)
        groups.append(group)
    return {char: min(group) for group in groups for char in group}
