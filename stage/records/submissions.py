"""Audience submissions: validated against the prompt, stored once per client-made id."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from stage.errors import Conflict, Forbidden, InvalidInput
from stage.records import lookup
from stage.records.models import RECORD_COLUMNS, RECORD_FROM, Record
from stage.records.store import Store
from stage.records.text import clean_text, is_blank, word_count
from stage.show.models import Prompt

log = logging.getLogger(__name__)


COMMENT_MAX_CHARS = 280
MAX_SOURCES = 4  # a remix of at most four records: stories (Socket.IO) and uploads (HTTP) alike


def sources_problem(sources: Sequence[str]) -> str | None:
    """The one rule for a submission's sources, before anything is looked up: why they are refused, or None.

    The payload models use it as a validator (an ``invalid_payload`` ack) and :func:`check_sources`
    applies it to uploads; a duplicate would otherwise reach the store as a UNIQUE constraint error.
    """
    if len(sources) > MAX_SOURCES:
        return f"at most {MAX_SOURCES} sources"
    if len(set(sources)) != len(sources):
        return "a source is listed twice"
    return None


def check_sources(store: Store, sources: Sequence[str]) -> None:
    """Refuse sources before any work is done on a submission (an upload is checked before its worker runs)."""
    problem = sources_problem(sources)
    if problem is not None:
        raise InvalidInput(f"sources: {problem}", code="invalid_payload")
    for source_id in sources:  # nothing unapproved (pending, rejected, unknown) may be built upon or commented on
        source = lookup.record(store, source_id)
        if source is None or source.status != "approved":
            raise Conflict("that record is not on the wall (yet)", code="source_not_approved")


def submit_story(store: Store, participant_id: str, prompt: Prompt, record_id: str, text: str,
                 flagger: Callable[[str], list[str]] = lambda text: [], sources: tuple[str, ...] = ()
                 ) -> tuple[Record, bool]:
    """Store a story (a remix when it has sources) as pending. Returns (record, created)."""
    existing = lookup.resent(store, participant_id, record_id)
    if existing is not None:
        return existing, False
    if "story" not in prompt.kinds:
        raise InvalidInput(f"the prompt '{prompt.id}' does not take stories", code="kind_not_open")
    text = _checked_text(text, "story", prompt.max_chars, prompt.max_words)
    return _insert(store, participant_id, record_id, "story", text, prompt.id, flagger(text), sources)


def submit_comment(store: Store, participant_id: str, record_id: str, on: str, text: str,
                   flagger: Callable[[str], list[str]] = lambda text: []) -> tuple[Record, bool]:
    """A comment on an approved record: a record of its own, moderated like any other."""
    existing = lookup.resent(store, participant_id, record_id)
    if existing is not None:
        return existing, False
    text = _checked_text(text, "comment", COMMENT_MAX_CHARS, None)
    return _insert(store, participant_id, record_id, "comment", text, None, flagger(text), (on,))


def submit_media(store: Store, participant_id: str, record_id: str, kind: str, media: str, prompt: Prompt,
                 sources: tuple[str, ...] = (), flags: tuple[str, ...] = ()) -> tuple[Record, bool]:
    """A drawing, photo or clip already ingested into the media library, as a pending record."""
    existing = lookup.resent(store, participant_id, record_id)
    if existing is not None:
        return existing, False
    if kind not in prompt.kinds:
        raise InvalidInput(f"the prompt '{prompt.id}' does not take a {kind}", code="kind_not_open")
    return _insert(store, participant_id, record_id, kind, None, prompt.id, list(flags), sources, media)


def _checked_text(text: str, what: str, max_chars: int, max_words: int | None) -> str:
    text = clean_text(text)
    if is_blank(text):  # also a text of zero-width characters only
        raise InvalidInput(f"the {what} is empty", code="empty")
    if len(text) > max_chars:
        raise InvalidInput(f"the {what} is {len(text)} characters; at most {max_chars}", code="too_long")
    if max_words is not None and word_count(text) > max_words:
        raise InvalidInput(f"the {what} is {word_count(text)} words; at most {max_words}", code="too_long")
    return text


def _insert(store: Store, participant_id: str, record_id: str, kind: str, text: str | None, prompt_id: str | None,
            flags: list[str], sources: tuple[str, ...], media: str | None = None) -> tuple[Record, bool]:
    check_sources(store, sources)  # again: a source may have been rejected while an upload was ingested
    now = time.time()
    with store.transaction() as db:
        # One statement where a banned author or a retry that raced the first copy inserts nothing (the
        # first copy stands); the author's name comes back with it. On PostgreSQL the transaction's opening
        # goes with it and the rest with the commit: a stored story is two round trips.
        inserted = db.execute(
            "INSERT INTO records (id, kind, status, participant_id, author_name, text, media, prompt_id, flags,"
            " created_at, updated_at) SELECT ?, ?, 'pending', id, name, ?, ?, ?, ?, ?, ? FROM participants"
            " WHERE id = ? AND banned = 0 ON CONFLICT(id) DO NOTHING RETURNING author_name",
            (record_id, kind, text, media, prompt_id, json.dumps(flags), now, now, participant_id),
        ).fetchone()
        created = inserted is not None
        if created:
            author_name = inserted["author_name"]
            db.executemany("INSERT INTO record_sources (record_id, source_id) VALUES (?, ?)",
                           [(record_id, source_id) for source_id in sources])
            Store.audit(db, f"participant:{participant_id}", "submit", record_id, kind=kind, prompt=prompt_id,
                        sources=list(sources))
        else:  # banned (or unknown), or the id is taken: the ban wins, as it did before the insert was one
            author = db.execute("SELECT banned FROM participants WHERE id = ?", (participant_id,)).fetchone()
            if author is None or author["banned"]:
                raise Forbidden("this phone cannot submit", code="banned")
    if not created:  # the racing first copy stands: answer with it, as stored
        record = lookup.record(store, record_id)
        assert record is not None
        return lookup.same_author(record, participant_id), False
    log.info("%s %s submitted by participant %s%s", kind, record_id, participant_id,
             f" (sources {', '.join(sources)})" if sources else "")
    # What was just committed, without reading it back: two queries fewer per story, which on PostgreSQL
    # are two round trips (a new pending record reads as pending: the view changes only takes and remixes).
    return Record(id=record_id, kind=kind, status="pending", author=author_name, participant_id=participant_id,
                  text=text, media=media, prompt_id=prompt_id, reason=None, created_at=now, updated_at=now,
                  sources=tuple(sources), flags=tuple(flags)), True


def media_in_use(store: Store, name: str) -> bool:
    """True when a record (of any status) points at the media file ``name``: it must stay."""
    return bool(store.query("SELECT 1 FROM records WHERE media = ? LIMIT 1", (name,)))


def by_participant(store: Store, participant_id: str, limit: int = 200) -> list[Record]:
    rows = store.query(
        f"SELECT {RECORD_COLUMNS} FROM {RECORD_FROM} WHERE r.participant_id = ? ORDER BY r.created_at DESC LIMIT ?",
        (participant_id, limit),
    )
    return lookup.with_sources(store, rows)


@dataclass(frozen=True)
class MediaUse:
    """How the records that use one media file stand (for who may fetch the file)."""

    approved: bool  # some record with this file is approved: everyone may see it
    hidden_take: bool  # every record with it is a hidden take (deleted or consent withdrawn): nobody may


def media_use(store: Store, name: str) -> MediaUse | None:
    """How the records that use media file ``name`` stand; None when no stored record uses it."""
    rows = store.query("SELECT status, kind FROM shown_records WHERE media = ?", (name,))
    if not rows:
        return None
    return MediaUse(approved=any(row["status"] == "approved" for row in rows),
                    hidden_take=all(row["kind"] == "take" and row["status"] == "withdrawn" for row in rows))
