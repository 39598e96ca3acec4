"""A small night through the records API on both backends: lineage and credits of a remix, what a display
scene is sent, the crew's edits to a take, and a rehearsal's cleanup. The same answers from SQLite and
from PostgreSQL (``store`` runs each test on both)."""

from __future__ import annotations

import uuid

from stage.records import (credits, lineage, moderation, participants, rehearsal, scene_view, submissions, takes)
from stage.show.models import Prompt

PROMPT = Prompt(id="cape", text="A cape", max_chars=80, max_words=12)


def approved(store, participant_id: str, text: str, sources: tuple[str, ...] = ()) -> str:
    record_id = str(uuid.uuid4())
    submissions.submit_story(store, participant_id, PROMPT, record_id, text, sources=sources)
    moderation.decide(store, record_id, "approve", "moderator")
    return record_id


def test_a_remix_s_lineage_credits_and_scenes(store):
    ada, _ = participants.join(store, "a" * 32, "Ada")
    bo, _ = participants.join(store, "b" * 32, "Bo")
    story = approved(store, ada.id, "A red cape.")
    other = approved(store, bo.id, "A blue hat.")
    remix = approved(store, bo.id, "The cape and the hat.", sources=(other, story))
    graph = lineage.graph(store, remix)
    assert {n["id"] for n in graph["nodes"]} >= {story, other, remix}
    assert {(e["from"], e["to"]) for e in graph["edges"]} >= {(story, remix), (other, remix)}
    assert lineage.load(store).sources[remix] == [other, story], "sources in the order they were given"
    names = {c["name"]: c for c in credits.roll(store)}
    assert set(names) == {"Ada", "Bo"} and names["Bo"]["records"] == 2
    assert {c["name"] for c in credits.for_record(store, remix)} == {"Ada", "Bo"}
    wall = scene_view.for_display("main", {"type": "wall"}, store, "http://stage.lan/", 3)
    assert [r["id"] for r in wall["records"]][:3] == [remix, other, story]
    one = scene_view.for_display("main", {"type": "story", "record": remix}, store, "http://stage.lan/", 3)
    assert one["record"]["text"] == "The cape and the hat." and one["record"]["sources"] == [other, story]
    rolled = scene_view.for_display("main", {"type": "credits"}, store, "http://stage.lan/", 3)
    assert {c["name"] for c in rolled["credits"]} == {"Ada", "Bo"}


def test_a_rehearsal_cleanup_takes_the_simulated_phones_and_what_hangs_on_them(store):
    ada, _ = participants.join(store, "a" * 32, "Ada")
    sim, _ = participants.join(store, "s" * 32, "Sim 1", simulated=True)
    real = approved(store, ada.id, "A real story.")
    fake = approved(store, sim.id, "A rehearsal story.")
    comment = str(uuid.uuid4())
    submissions.submit_comment(store, ada.id, comment, fake, "On a rehearsal story.")
    assert rehearsal.simulated_counts(store) == {"participants": 1, "records": 1, "recommendations": 0,
                                                 "volunteers": 0}
    done = rehearsal.cleanup(store, "host")
    assert set(done["records"]) == {fake, comment}
    assert done["removed"]["participants"] == 1 and done["removed"]["comments"] == 1
    assert [r["id"] for r in store.query("SELECT id FROM records")] == [real]
    assert rehearsal.cleanup(store, "host")["records"] == [], "a second cleanup finds nothing"


def test_the_crew_s_take_edits_and_a_forgotten_take(store):
    slate = {"show": "S", "cue": "5", "story_id": None, "story": None, "performer_id": None, "performer": None,
             "take": takes.next_number(store, None)}
    kept, forgotten = str(uuid.uuid4()), str(uuid.uuid4())
    for take_id in (kept, forgotten):
        takes.start(store, take_id, "stage", "5", slate, "crew")
    takes.commit(store, kept, "d" * 64 + ".mp4", {"duration": 4.0, "sha256": "d" * 64}, "crew")
    assert takes.circle(store, kept, True, "crew")["circled"] is True
    assert takes.set_points(store, kept, 0.5, 3.5, "crew")["in_point"] == 0.5
    takes.forget(store, forgotten, "crew", "the agent lost it")
    assert takes.started(store, forgotten) is None
    assert [t["id"] for t in takes.library(store)] == [kept]
    takes.delete(store, kept, "crew")
    assert takes.library(store) == [] and takes.get(store, kept) is None
    actions = [r["action"] for r in store.query("SELECT action FROM audit ORDER BY seq")]
    assert {"take_circle", "take_trim", "take_delete"} <= set(actions)


def test_the_book_is_edited_on_the_latest_copy_and_read_against_the_night(store, tmp_path):
    from stage.book import contents, edits
    from stage.records import book

    ada, _ = participants.join(store, "c" * 32, "Ada")
    bo, _ = participants.join(store, "d" * 32, "Bo")
    story = approved(store, ada.id, "A red cape.")
    remix = approved(store, bo.id, "The cape, again.", sources=(story,))
    assert book.current(store, "Tonight")["pages"] == []
    night = lineage.load(store)
    book.edit(store, "crew", "Tonight", edits.add_page(night, story, None))
    stored = book.edit(store, "crew", "Tonight", edits.add_page(night, remix, None, index=0))
    assert stored["revision"] == 2 and [p["story"] for p in stored["pages"]] == [remix, story]
    assert book.current(store, "Tonight") == stored
    read = contents.read(store, tmp_path, stored)
    assert [(p.entry, p.text) for p in read.pages] == [(1, "The cape, again."), (2, "A red cape.")]
    # The remix credits its writer and, transitively, the writer of what it was made from.
    assert read.pages[0].credits == [{"name": "Bo", "role": "wrote"}, {"name": "Ada", "role": "wrote"}]
    assert [(c.name, c.entries) for c in read.contributors] == [("Ada", [1, 2]), ("Bo", [1])]
    moderation.decide(store, story, "hide", "moderator")
    hidden = contents.read(store, tmp_path, book.current(store, "Tonight"))
    # A written remix keeps its own words (only a remix record shows its sources' pixels): it stays, Ada leaves.
    assert [p.text for p in hidden.pages] == ["The cape, again."] and hidden.left_out == [
        "Page 2 is left out: its story may no longer be shown (rejected or hidden by a moderator)."]
    assert hidden.pages[0].credits == [{"name": "Bo", "role": "wrote"}]
    assert [c.name for c in hidden.contributors] == ["Bo"]
    entries = [e for e in store.query("SELECT action, detail FROM audit WHERE action = 'book'")]
    assert len(entries) == 2
