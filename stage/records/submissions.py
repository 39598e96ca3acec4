"""Audience submissions: validated against the prompt, stored once per client-made id."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

from stage.errors import Conflict, Forbidden, InvalidInput
from stage.records.models import RECORD_COLUMNS, RECORD_FROM, Record
from stage.records.store import Store
from stage.records.text import clean_text, word_count
from stage.show.models import Prompt

log = logging.getLogger(__name__)


def submit_story(store: Store, participant_id: str, prompt: Prompt, record_id: str, text: str,
                 flagger: Callable[[str], list[str]] = lambda text: []) -> tuple[Record, bool]:
    """Store a story as pending. Returns (record, created); a repeated id returns the first record."""
    existing = retry(store, participant_id, record_id)
    if existing is not None:
        return existing, False
    if "story" not in prompt.kinds:
        raise InvalidInput(f"the prompt '{prompt.id}' does not take stories", code="kind_not_open")
    text = clean_text(text)
    if not text:
        raise InvalidInput("the story is empty", code="empty")
    if len(text) > prompt.max_chars:
        raise InvalidInput(f"the story is {len(text)} characters; at most {prompt.max_chars}", code="too_long")
    if prompt.max_words is not None and word_count(text) > prompt.max_words:
        raise InvalidInput(f"the story is {word_count(text)} words; at most {prompt.max_words}", code="too_long")
    flags = json.dumps(flagger(text))
    now = time.time()
    with store.transaction() as db:
        author = db.execute("SELECT name, banned FROM participants WHERE id = ?", (participant_id,)).fetchone()
        if author is None or author["banned"]:
            raise Forbidden("this phone cannot submit", code="banned")
        # A retry that raced the first copy inserts nothing: the first one stands.
        created = db.execute(
            "INSERT INTO records (id, kind, status, participant_id, author_name, text, prompt_id, flags, created_at,"
            " updated_at) VALUES (?, 'story', 'pending', ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING",
            (record_id, participant_id, author["name"], text, prompt.id, flags, now, now),
        ).rowcount == 1
        if created:
            Store.audit(db, f"participant:{participant_id}", "submit", record_id, kind="story", prompt=prompt.id)
    record = get(store, record_id)
    assert record is not None
    if created:
        log.info("story %s submitted by participant %s for prompt %s", record_id, participant_id, prompt.id)
    return _same_author(record, participant_id), created


def retry(store: Store, participant_id: str, record_id: str) -> Record | None:
    """The record this id already made, if any (a phone's retry); another phone's id is a conflict."""
    existing = get(store, record_id)
    return None if existing is None else _same_author(existing, participant_id)


def _same_author(record: Record, participant_id: str) -> Record:
    if record.participant_id != participant_id:
        raise Conflict("that id belongs to another record", code="id_conflict")
    return record


def get(store: Store, record_id: str) -> Record | None:
    rows = store.query(f"SELECT {RECORD_COLUMNS} FROM {RECORD_FROM} WHERE r.id = ?", (record_id,))
    if not rows:
        return None
    sources = tuple(r["source_id"] for r in store.query("SELECT source_id FROM record_sources WHERE record_id = ?", (record_id,)))
    return Record.from_row(rows[0], sources)


def by_participant(store: Store, participant_id: str, limit: int = 200) -> list[Record]:
    rows = store.query(
        f"SELECT {RECORD_COLUMNS} FROM {RECORD_FROM} WHERE r.participant_id = ? ORDER BY r.created_at DESC LIMIT ?",
        (participant_id, limit),
    )
    return [Record.from_row(r) for r in rows]
