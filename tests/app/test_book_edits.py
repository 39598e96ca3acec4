"""The night's book as consoles curate it, in process: edits that merge, only what may be shown, suggestions.

The demo night; the render itself is tested in tests/book/, the /book page in tests/browser/test_book_page.py.
"""

from __future__ import annotations

import uuid

from tests.in_process import Console
from tests.peers import go


def story(phone: Console, text: str) -> str:
    record_id = str(uuid.uuid4())
    ack = phone.call("submit_story", {"id": record_id, "prompt": "cape", "text": text})
    assert ack["ok"], ack
    return record_id


def approved(moderator: Console, record_id: str) -> str:
    assert moderator.call("moderate", {"id": record_id, "decision": "approve"})["ok"]
    return record_id


def night(consoles):
    host, moderator = consoles.host(), consoles.moderation()
    go(host), go(host), go(host)  # the join scene, the cape prompt, the wall
    return host, moderator


def test_two_consoles_edit_one_book_and_each_sees_the_other_s_work(consoles):
    _, moderator = night(consoles)
    ada, bo = consoles.phone("Ada"), consoles.phone("Bo")
    first = approved(moderator, story(ada, "The cape was too big, so she grew."))
    second = approved(moderator, story(bo, "He lent the cape to the wind."))
    curator, other = consoles.crew(), consoles.crew()
    empty = curator.call("book_get")
    assert empty["ok"] and empty["pages"] == [] and empty["book"]["title"] == "Tiny Stories — a live night"

    added = curator.call("book_add", {"story": first})
    assert added["ok"], added
    seen = other.wait_for("book", lambda b: len(b["pages"]) == 1)
    assert seen["pages"][0]["story"]["text"] == "The cape was too big, so she grew."
    assert seen["pages"][0]["credits"] == [{"name": "Ada", "role": "wrote"}]
    # The other console adds a page from what it saw, before it heard of anything newer: both stay.
    assert other.call("book_add", {"story": second, "index": 0})["ok"]
    assert curator.call("book_settings", {"title": "The Cape Book", "foreword": "Made tonight by all of you."})["ok"]
    book = curator.call("book_get")
    assert [p["story"]["id"] for p in book["pages"]] == [second, first]
    assert book["book"]["title"] == "The Cape Book" and book["book"]["revision"] == 3

    moved = other.call("book_move", {"page": book["pages"][1]["id"], "index": 0})
    assert [p["story"]["id"] for p in moved["pages"]] == [first, second]
    gone = curator.call("book_remove", {"page": book["pages"][0]["id"]})
    assert [p["story"]["id"] for p in gone["pages"]] == [first]
    stale = other.call("book_remove", {"page": book["pages"][0]["id"]})  # already removed over there
    assert stale["error"]["code"] == "no_page" and "another console" in stale["error"]["message"]


def test_only_what_may_be_shown_goes_in_and_a_later_withdrawal_leaves_the_book(consoles):
    _, moderator = night(consoles)
    ada = consoles.phone("Ada")
    pending = story(ada, "Not read by a moderator yet.")
    crew = consoles.crew()
    refused = crew.call("book_add", {"story": pending})
    assert refused["error"]["code"] == "not_shown", refused
    assert crew.call("book_add", {})["error"]["code"] == "empty_page"
    assert crew.call("book_add", {"story": str(uuid.uuid4())})["error"]["code"] == "not_shown"
    assert crew.call("book_add", {"story": "not-a-uuid"})["error"]["code"] == "invalid_payload"

    kept = approved(moderator, story(ada, "A cape for the cat."))
    assert crew.call("book_add", {"picture": kept})["error"]["code"] == "wrong_kind"
    assert crew.call("book_add", {"story": kept})["ok"]
    assert crew.call("book_add", {"story": kept})["error"]["code"] == "already_in_book"
    assert ada.call("withdraw", {"id": kept})["ok"]
    heard = crew.wait_for("book", lambda b: b["pages"][0]["left_out"] is not None)  # no edit: the night said it
    assert heard["totals"]["pages"] == 0
    book = crew.call("book_get")
    assert book["pages"][0]["left_out"] and "withdrawn" in book["pages"][0]["left_out"]
    assert book["left_out"] == [f"Page 1 is left out: {book['pages'][0]['left_out']}."]
    assert book["totals"]["pages"] == 0
    # A moderator hides a page's story, then thinks again: it leaves the book and comes back, no edit needed.
    again = approved(moderator, story(ada, "A cape for the dog."))
    assert crew.call("book_add", {"story": again})["totals"]["pages"] == 1
    crew.drain("book")
    assert moderator.call("moderate", {"id": again, "decision": "hide"})["ok"]
    assert crew.wait_for("book")["pages"][1]["left_out"] is not None
    crew.drain("book")
    assert moderator.call("moderate", {"id": again, "decision": "approve"})["ok"]
    back = crew.wait_for("book")
    assert back["pages"][1]["left_out"] is None and back["totals"]["pages"] == 1


def test_the_night_suggests_its_most_recommended_stories_first(consoles):
    _, moderator = night(consoles)
    ada, bo, cy = consoles.phone("Ada"), consoles.phone("Bo"), consoles.phone("Cy")
    quiet = approved(moderator, story(ada, "A quiet cape."))
    loved = approved(moderator, story(bo, "The cape that everyone loved."))
    for phone in (ada, cy):
        assert phone.call("recommend", {"id": loved})["ok"]
    assert cy.call("recommend", {"id": quiet})["ok"]
    crew = consoles.crew()
    found = crew.call("book_suggestions")["suggestions"]
    recommended = [s for s in found if s["reason"] == "recommended"]
    assert [s["story"]["id"] for s in recommended] == [loved, quiet]
    assert recommended[0]["why"] == "2 recommendations"
    assert crew.call("book_add", {"story": loved})["ok"]
    again = [s["story"]["id"] for s in crew.call("book_suggestions")["suggestions"] if s["story"]]
    assert loved not in again, "a story already in the book is not suggested again"
