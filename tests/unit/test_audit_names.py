"""The audit log names people and things (a phone's display name, a role, a record, a cue), and keeps its ids."""

from __future__ import annotations

import uuid

from stage.records import audit_log, moderation, participants, submissions, takes
from stage.records.store import Store
from stage.show.loader import parse_show

SHOW = parse_show("""
title: Names test
displays: [{name: main}]
prompts: [{id: cape, text: A cape}]
cues: [{id: "5", name: "Performance — lights, story, camera", type: note}, {id: "6", type: note}]
""")
CUES = {cue.id: cue.name for cue in SHOW.flat_cues()}


def story(store: Store, who: str, text: str) -> str:
    record_id = str(uuid.uuid4())
    submissions.submit_story(store, who, SHOW.prompts[0], record_id, text)
    return record_id


def test_phones_roles_records_and_cues_are_named_and_the_ids_stay(store):
    ada, _ = participants.join(store, uuid.uuid4().hex, "Ada")
    spam, _ = participants.join(store, uuid.uuid4().hex, "Spammer")
    kept = story(store, ada.id, "The cape flew off the line and over the whole town, twice, before landing.")
    story(store, spam.id, "spoiler spoiler")
    story(store, spam.id, "spoiler again")
    moderation.decide(store, kept, "approve", "moderator:3fa9c2d1")
    moderation.ban(store, spam.id, "host:77aa01bc")
    with store.transaction() as db:
        Store.audit(db, "host:77aa01bc", "go", "5")
        Store.audit(db, "engine", "auto_follow", "6", after="5")
        Store.audit(db, "osc", "osc_sent", "lights", message="/eos/cue/1/12/fire")
    log = {(e["action"], e["actor"]): e for e in audit_log.entries(store, cues=CUES)}

    submitted = log[("submit", f"participant:{ada.id}")]
    assert submitted["who"] == "Ada" and submitted["subject"] == kept  # the id stays, the name is added
    assert submitted["about"] == "story by Ada: “The cape flew off the line and over the…”"
    assert log[("approve", "moderator:3fa9c2d1")]["who"] == "moderator"
    banned = log[("ban", "host:77aa01bc")]
    assert (banned["who"], banned["about"], banned["subject"]) == ("host", "Spammer (2 waiting rejected)", spam.id)
    assert log[("join", f"participant:{spam.id}")]["about"] == "Spammer"
    assert log[("go", "host:77aa01bc")]["about"] == "cue 5 · Performance — lights, story, camera"
    assert (log[("auto_follow", "engine")]["who"], log[("auto_follow", "engine")]["about"]) == ("cue engine", "cue 6")
    assert log[("osc_sent", "osc")]["about"] == "lights /eos/cue/1/12/fire"
    shown = [value for entry in log.values() for value in (entry["who"], entry["about"])]
    assert not [value for value in shown if ada.id in value or spam.id in value or kept in value], shown


def test_a_rename_shows_the_current_name_and_an_unknown_phone_reads_as_a_phone(store):
    key = uuid.uuid4().hex
    ada, _ = participants.join(store, key, "Ada")
    participants.join(store, key, "Ada L.")
    with store.transaction() as db:
        Store.audit(db, f"participant:{uuid.uuid4()}", "recommend", str(uuid.uuid4()))
    entries = audit_log.entries(store)
    assert [e["who"] for e in entries if e["action"] == "rename"] == ["Ada L."]
    assert entries[0]["who"] == "a phone" and entries[0]["about"] == entries[0]["subject"]
    assert ada.id  # the participant keeps one id through the rename


def test_a_take_is_named_by_its_slate_before_and_after_it_is_uploaded(store):
    ada, _ = participants.join(store, uuid.uuid4().hex, "Ada")
    performed = story(store, ada.id, "The cape flew off.")
    take_id = str(uuid.uuid4())
    slate = {"show": "Names test", "cue": "5", "story_id": performed, "story": "The cape flew off.",
             "performer_id": ada.id, "performer": "Ada", "take": 2}
    takes.start(store, take_id, "stage", "5", slate, "host:77aa01bc")
    takes.rig_reported(store, take_id, "stage", "recording", None)
    log = {e["action"]: e for e in audit_log.entries(store)}
    assert log["take_start"]["about"] == "take 2 of “The cape flew off.”"
    recording = log["take_recording"]
    assert (recording["who"], recording["about"]) == ("rig stage", "take 2 of “The cape flew off.”")
    refused = str(uuid.uuid4())
    with store.transaction() as db:
        Store.audit(db, "rig:stage", "take_failed", refused, reason="disk full")
    assert audit_log.entries(store, "take_failed")[0]["about"] == "a take"
