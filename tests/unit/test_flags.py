"""The flagger agrees with better-profanity on its own word list and leetspeak, at a fraction of its cost."""

import random

from better_profanity.better_profanity import Profanity

from stage.records.flags import Flagger
from stage.show.models import Moderation

CLEAN = [
    "A tiny story about a cape that flew home alone.",
    "My grandmother sewed capes for the whole street.",
    "The cape was too long, so I tripped on stage.",
    "Assistant cooks pass the class on Tuesday.",
    "Scunthorpe is a town; Essex is a county.",
    "I wore it once. It remembered me too.",
    "שלום עולם 🦸‍♀️ cape",
]


def test_clean_stories_are_not_flagged_by_either():
    flagger, library = Flagger(Moderation()), Profanity()
    for text in CLEAN:
        assert library.contains_profanity(text) is False, text
        assert flagger.flags(text) == [], text


def test_every_listed_word_and_its_leetspeak_is_flagged_like_the_library_does():
    flagger, library = Flagger(Moderation()), Profanity()
    leet = {"a": "@", "e": "3", "i": "1", "o": "0", "s": "$", "t": "7"}
    rng = random.Random(7)
    with open(library._default_wordlist_filename, encoding="utf-8") as wordlist:
        words = [line.strip() for line in wordlist if line.strip()]
    for word in rng.sample(words, 200):
        variant = "".join(leet.get(c, c) if rng.random() < 0.5 else c for c in word)
        for text in (f"well {word} then", f"so {variant}!"):
            if library.contains_profanity(text):
                assert flagger.flags(text) == ["profanity"], text


def test_starred_words_and_the_show_word_list():
    flagger = Flagger(Moderation(words=("spoiler",)))
    assert flagger.flags("what the f*ck") == ["profanity"]
    assert flagger.flags("A SPOILER: the cape wins") == ["word:spoiler"]
    assert Flagger(Moderation(profanity=False)).flags("what the shit") == []
