"""Safe by construction: what may not be shown never goes in the book, and what is withheld later leaves it.

Read through :func:`stage.book.contents.read` (what every render, the console and the archive use)."""

from __future__ import annotations

import uuid

import pytest

from stage.book import contents, edits
from stage.errors import InvalidInput
from stage.records import book as book_store
from stage.records import lineage, moderation, participants, submissions, volunteers
from tests.book.nights import CREW, PROMPT, StoreNight, drawing_png


def test_a_rehearsal_phone_s_story_cannot_go_in(store_night: StoreNight):
    rehearsal, _ = participants.join(store_night.store, uuid.uuid4().hex, "Sim 1", simulated=True)
    record, _ = submissions.submit_story(store_night.store, rehearsal.id, PROMPT, str(uuid.uuid4()), "Simulated.")
    moderation.decide(store_night.store, record.id, "approve", "moderator")
    with pytest.raises(InvalidInput) as refused:
        edits.add_page(lineage.load(store_night.store), record.id, None)
    assert refused.value.code == "not_shown"


def test_a_take_whose_performer_withdrew_consent_leaves_the_book_and_its_credits(store_night: StoreNight, tmp_path):
    story = store_night.story("Ada", "The cape bowed first.")
    take = store_night.take("Cy", story, tmp_path, operator="Sam")
    drawing = store_night.picture("Bea", drawing_png(), source=story)
    book = store_night.book((story, take, 0.5), (None, drawing))
    held = contents.read(store_night.store, store_night.data / "media", book)
    assert [c.name for c in held.contributors] == ["Ada", "Cy", "Sam", "Bea"]
    volunteers.withdraw_consent(store_night.store, store_night.people["Cy"])  # every take of Cy's is hidden for good
    after = contents.read(store_night.store, store_night.data / "media", book_store.current(store_night.store, ""))
    assert [p.picture.record for p in after.pages if p.picture] == [drawing]
    assert after.left_out == ["Page 1 is left out: its picture may no longer be shown (the performer withdrew "
                              "consent)."]
    # Cy and Sam were only on the page that left; Ada stays, as the writer of what Bea drew.
    assert [c.name for c in after.contributors] == ["Ada", "Bea"]


def test_a_record_hidden_after_it_was_put_in_is_said_on_the_console_and_back_when_approved(store_night: StoreNight):
    story = store_night.story("Ada", "A cape in the rain.")
    book = store_night.book((story, None))
    moderation.decide(store_night.store, story, "hide", "moderator")
    hidden = contents.read(store_night.store, store_night.data / "media", book)
    assert hidden.pages == [] and "rejected or hidden" in hidden.left_out[0]
    moderation.decide(store_night.store, story, "approve", "moderator")
    assert [p.text for p in contents.read(store_night.store, store_night.data / "media", book).pages] == [
        "A cape in the rain."]
    assert book_store.edit(store_night.store, CREW, "Capes", edits.remove_page(book["pages"][0]["id"]))["pages"] == []
