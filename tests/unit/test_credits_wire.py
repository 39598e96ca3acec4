"""A record's wire credits on a real store (SQLite and PostgreSQL): people and roles, never a rig or a recipe."""

from __future__ import annotations

import time
import uuid

from stage.records import credits, lookup, remixes, takes
from stage.records.store import Store
from tests.unit.test_takes import person, story

MEDIA = "0" * 64 + ".mp4"


def take_of(store: Store, story_id: str, performer: str | None, name: str | None, operator: str | None) -> str:
    """A take as the server makes one: started with its slate (its operator in it), then committed."""
    take_id = str(uuid.uuid4())
    slate = {"show": "S", "cue": "5", "story_id": story_id, "story": "A tale", "performer_id": performer,
             "performer": name, "operator": operator, "take": takes.next_number(store, story_id)}
    takes.start(store, take_id, "stage", "5", slate, "test", record_cue="5.3")
    takes.commit(store, take_id, MEDIA, {"duration": 3.0, "sha256": "ab" * 32}, "rig:stage")
    return take_id


def remix_of(store: Store, sources: list[str], approved: bool = True) -> str:
    return remixes.create(store, author=credits.CREW, title=remixes.story_among(store, sources), media=MEDIA,
                          sources=sources, recipe={"recipe": "captioned-take", "take": sources[0]}, poster=None,
                          duration=3.0, actor="crew", approved=approved).id


def wire(store: Store, *ids: str) -> dict[str, list[dict[str, str]]]:
    return credits.of_records(store, [lookup.record(store, i) for i in ids])


def test_a_captioned_take_credits_writer_performer_camera_operator_and_crew(store):
    ada, chloe = person(store, "p-ada", "Ada"), person(store, "p-chloe", "Chloé")
    tale = story(store, "00000000-0000-4000-8000-000000000001", ada)
    take = take_of(store, tale, chloe, "Chloé", "Sam")
    remix = remix_of(store, [take, tale])
    got = wire(store, remix, take, tale)
    assert got[remix] == [{"name": "x", "role": "wrote"}, {"name": "Chloé", "role": "performed"},
                          {"name": "Sam", "role": "filmed"}, {"name": "Stage crew", "role": "remix"}]
    assert got[take] == [{"name": "x", "role": "wrote"}, {"name": "Chloé", "role": "performed"},
                         {"name": "Sam", "role": "filmed"}]
    assert got[tale] == [{"name": "x", "role": "wrote"}]
    names = {c["name"] for c in got[remix]}
    assert "stage" not in names and "crew" not in names, "no rig, no placeholder: people"
    record = lookup.record(store, remix)
    assert record.text == "A tale" and record.author == "Stage crew", "the story's words, not 'Captioned take: …'"
    assert lookup.record(store, take).author == "Chloé", "`author` of a take is its performer for old readers"


def test_a_take_nobody_operated_credits_its_camera_to_nobody_and_one_nobody_performed_to_the_crew(store):
    ada = person(store, "p-ada", "Ada")
    tale = story(store, "00000000-0000-4000-8000-000000000002", ada)
    take = take_of(store, tale, None, None, None)
    assert wire(store, take)[take] == [{"name": "x", "role": "wrote"}]
    assert lookup.record(store, take).author == credits.CREW


def test_a_pending_remix_shows_its_own_credit_and_a_withheld_source_is_not_credited(store):
    ada, chloe = person(store, "p-ada", "Ada"), person(store, "p-chloe", "Chloé")
    tale = story(store, "00000000-0000-4000-8000-000000000003", ada)
    take = take_of(store, tale, chloe, "Chloé", "Sam")
    pending = remix_of(store, [take, tale], approved=False)
    assert wire(store, pending)[pending][-1] == {"name": "Stage crew", "role": "remix"}, "what a moderator sees"
    with store.transaction() as db:  # Chloé withdrew consent: her takes are hidden, and so is what she did
        db.execute("UPDATE takes SET consent_withdrawn_at = ? WHERE record_id = ?", (time.time(), take))
    after = wire(store, pending)[pending]
    assert {"name": "Chloé", "role": "performed"} not in after and {"name": "Sam", "role": "filmed"} not in after


def test_a_comment_credits_its_writer_only(store):
    ada, bo = person(store, "p-ada", "Ada"), person(store, "p-bo", "Bo")
    tale = story(store, "00000000-0000-4000-8000-000000000004", ada)
    comment = "00000000-0000-4000-8000-000000000005"
    now = time.time()
    with store.transaction() as db:
        db.execute("INSERT INTO records (id, kind, status, participant_id, author_name, text, created_at, updated_at)"
                   " VALUES (?, 'comment', 'approved', ?, 'Bo', 'Love it', ?, ?)", (comment, bo, now, now))
        db.execute("INSERT INTO record_sources (record_id, source_id, role) VALUES (?, ?, 'comment')", (comment, tale))
    assert wire(store, comment)[comment] == [{"name": "Bo", "role": "wrote"}]


def test_the_crew_sets_a_rigs_operator_for_the_night_over_the_show_files_and_it_is_audited(store):
    assert takes.operator(store, "stage", "Sam") == "Sam", "the show file's, until the crew sets one"
    takes.set_operator(store, "stage", "Lee", "crew:console")
    assert takes.operator(store, "stage", "Sam") == "Lee"
    takes.set_operator(store, "stage", None, "crew:console")
    assert takes.operator(store, "stage", "Sam") is None, "cleared: nobody films with it (not the show's again)"
    rows = store.query("SELECT actor, subject, detail FROM audit WHERE action = 'rig_operator' ORDER BY seq")
    assert [(r["actor"], r["subject"], r["detail"]) for r in rows] == [
        ("crew:console", "stage", '{"operator": "Lee"}'), ("crew:console", "stage", '{"operator": null}')]
