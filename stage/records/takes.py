"""Takes: what was recorded on which rig, for which story and performer, and the crew's edits to it.

A take starts on the server (a record cue or the crew's record button): its slate is stored as a
*started* take in the state table, so the number is counted and a later upload is tied to the
server's own slate, not to what an agent claims. When its file is complete it becomes a record
(kind ``take``, crew-authored, approved, source: the story) plus a row in ``takes``.

Hidden takes (soft-deleted, or whose performer withdrew consent) are hidden by the ``shown_records``
view every record query reads (``RECORD_FROM``), so walls, feeds and displays never see them.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from stage.errors import Conflict, InvalidInput, NotFound
from stage.records.credits import CREW
from stage.records.store import Store

log = logging.getLogger(__name__)

STARTED = "take.started."  # state key prefix: a take that was started and not committed yet
NUMBER = "take.number."  # state key prefix: the last take number per story ("-" without a story)
OPERATOR = "rig.operator."  # state key prefix: the camera operator the crew set for a rig tonight
# The library: takes the crew may see (not deleted, not covered by a withdrawn consent).
VISIBLE = "t.deleted_at IS NULL AND t.consent_withdrawn_at IS NULL"


def performer_for(store: Store, story_id: str | None) -> dict[str, Any] | None:
    """Who performs: the newest standing volunteer for this story, else the newest standing volunteer."""
    rows = store.query(
        "SELECT p.id, p.name FROM volunteers v JOIN participants p ON p.id = v.participant_id"
        " WHERE v.withdrawn_at IS NULL AND p.banned = 0 AND p.consent = 1"
        " ORDER BY (v.story_id IS NOT DISTINCT FROM ?) DESC, v.given_at DESC LIMIT 1", (story_id,))
    return dict(rows[0]) if rows else None


def operator(store: Store, rig: str, default: str | None) -> str | None:
    """Who films with ``rig``: the crew console's choice for tonight if it made one, else the show file's."""
    chosen = store.get_state(OPERATOR + rig)
    return chosen["operator"] if isinstance(chosen, dict) else default


def set_operator(store: Store, rig: str, name: str | None, actor: str) -> None:
    """The crew names (or clears: nobody) the camera operator of a rig for the rest of the night; audited.
    Takes already made keep the operator they were slated with."""
    with store.transaction() as db:
        Store.put_state(db, OPERATOR + rig, {"operator": name})
        Store.audit(db, actor, "rig_operator", rig, operator=name)
    log.info("rig %s: camera operator is now %s (%s)", rig, name or "nobody", actor)


def start(store: Store, take_id: str, rig: str, cue_id: str | None, slate: dict[str, Any], actor: str,
          record_cue: str | None = None) -> None:
    """Remember a take the agent accepted; its number is now used. ``cue_id`` is the cue the take is filed
    under (the performance); ``record_cue`` the record cue inside it that rolled the camera."""
    with store.transaction() as db:
        Store.put_state(db, STARTED + take_id, {"rig": rig, "cue_id": cue_id, "slate": slate, "at": time.time()})
        Store.put_state(db, NUMBER + (slate.get("story_id") or "-"), slate["take"])
        Store.audit(db, actor, "take_start", take_id, rig=rig, cue=cue_id, record_cue=record_cue or cue_id,
                    take=slate["take"], story=slate.get("story_id"), performer=slate.get("performer_id"),
                    operator=slate.get("operator"))
    log.info("take %s started on rig %s (cue %s, take %d)", take_id, rig, cue_id, slate["take"])


def forget(store: Store, take_id: str, actor: str, reason: str) -> None:
    """A take the agent refused to start: drop it, and give its number back if no later take took one."""
    begun = started(store, take_id)
    if begun is None:
        return
    key = NUMBER + (begun["slate"].get("story_id") or "-")
    with store.transaction() as db:
        db.execute("DELETE FROM state WHERE key = ?", (STARTED + take_id,))
        last = db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        if last is not None and json.loads(last["value"]) == begun["slate"]["take"]:
            Store.put_state(db, key, begun["slate"]["take"] - 1)
        Store.audit(db, actor, "take_refused", take_id, reason=reason)


def stopped(store: Store, take_id: str | None, rig: str, actor: str) -> None:
    """Audit the stop command a rig acknowledged (the take itself is stored when its file arrives)."""
    with store.transaction() as db:
        Store.audit(db, actor, "take_stop", take_id, rig=rig)


def rig_reported(store: Store, take_id: str, rig: str, state: str, reason: str | None) -> None:
    """Audit a state the rig's agent reported for a take (``take_recording``, ``take_failed``...)."""
    with store.transaction() as db:
        Store.audit(db, f"rig:{rig}", f"take_{state}", take_id, reason=reason)


def of_performer(store: Store, participant_id: str) -> list[str]:
    """The ids of every stored take this participant performed."""
    return [row["record_id"] for row in store.query("SELECT record_id FROM takes WHERE performer_id = ?",
                                                    (participant_id,))]


def next_number(store: Store, story_id: str | None) -> int:
    return int(store.get_state(NUMBER + (story_id or "-"), 0)) + 1


def started(store: Store, take_id: str) -> dict[str, Any] | None:
    return store.get_state(STARTED + take_id)


def commit(store: Store, take_id: str, media: str, meta: dict[str, Any], actor: str) -> dict[str, Any]:
    """Make the take record; a retried commit returns the record the first one made."""
    existing = get(store, take_id, hidden=True)
    if existing is not None:
        if existing["sha256"] not in (None, meta.get("sha256")):
            raise Conflict("this take was already stored with other content", code="take_conflict")
        return existing
    begun = started(store, take_id)
    if begun is None:
        raise NotFound("the server never started this take", code="unknown_take")
    slate, now = begun["slate"], time.time()
    story_id, performer_id = slate.get("story_id"), slate.get("performer_id")
    with store.transaction() as db:
        performer = performer_id if performer_id and db.execute(
            "SELECT 1 FROM participants WHERE id = ?", (performer_id,)).fetchone() else None
        # Its author, for every reader of `author`: the performer ("a take by Chloé"), else the crew.
        db.execute("INSERT INTO records (id, kind, status, crew_author, author_name, text, media, created_at,"
                   " updated_at) VALUES (?, 'take', 'approved', ?, ?, ?, ?, ?, ?)",
                   (take_id, CREW, slate.get("performer") if performer else None, _label(slate), media, now, now))
        if story_id and not db.execute("SELECT 1 FROM records WHERE id = ?", (story_id,)).fetchone():
            story_id = None  # the slate names a story this store does not hold: keep the take, unlinked
        if story_id:
            db.execute("INSERT INTO record_sources (record_id, source_id, role) VALUES (?, ?, 'performed')",
                       (take_id, story_id))
        db.execute("INSERT INTO takes (record_id, rig, cue_id, story_id, performer_id, number, duration, frames,"
                   " width, height, sha256, slate, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (take_id, begun["rig"], begun["cue_id"], story_id, performer,
                    slate["take"], meta.get("duration"), meta.get("frames"), meta.get("width"), meta.get("height"),
                    meta.get("sha256"), json.dumps(slate, ensure_ascii=False), now))
        # A performer who withdrew while the take was uploading: the withdrawal covers this take too.
        db.execute("UPDATE takes SET consent_withdrawn_at = ? WHERE record_id = ? AND EXISTS("
                   "SELECT 1 FROM participants p WHERE p.id = takes.performer_id AND p.consent = 0)", (now, take_id))
        db.execute("DELETE FROM state WHERE key = ?", (STARTED + take_id,))
        Store.audit(db, actor, "take", take_id, rig=begun["rig"], media=media, duration=meta.get("duration"),
                    sha256=meta.get("sha256"), story=story_id, performer=performer)
    log.info("take %s stored: %s (%.1f s)", take_id, media, meta.get("duration") or 0)
    take = get(store, take_id, hidden=True)
    assert take is not None
    return take


def _label(slate: dict[str, Any]) -> str:
    """The take's text: the slate as a clapperboard would read it (its cue and rig are in ``takes``)."""
    return " · ".join(p for p in (f"Take {slate['take']}", slate.get("performer")) if p)


TAKE_COLUMNS = ("t.record_id, t.rig, t.cue_id, t.story_id, t.performer_id, t.number, t.duration, t.frames, t.width,"
                " t.height, t.in_point, t.out_point, t.circled, t.slate, t.sha256, t.created_at, r.media,"
                " s.text AS story_text")
TAKE_FROM = "takes t JOIN records r ON r.id = t.record_id LEFT JOIN records s ON s.id = t.story_id"


def get(store: Store, take_id: str, hidden: bool = False) -> dict[str, Any] | None:
    where = "t.record_id = ?" if hidden else f"t.record_id = ? AND {VISIBLE}"
    rows = store.query(f"SELECT {TAKE_COLUMNS} FROM {TAKE_FROM} WHERE {where}", (take_id,))
    return _view(rows[0]) if rows else None


def library(store: Store, limit: int = 500) -> list[dict[str, Any]]:
    """Visible takes grouped the way the crew looks for them: by story, then cue, then number."""
    rows = store.query(f"SELECT {TAKE_COLUMNS} FROM {TAKE_FROM} WHERE {VISIBLE}"
                       " ORDER BY t.story_id IS NULL, t.story_id, t.cue_id IS NULL, t.cue_id, t.number LIMIT ?",
                       (limit,))
    return [_view(row) for row in rows]


def _view(row: Any) -> dict[str, Any]:
    slate = json.loads(row["slate"])
    return {"id": row["record_id"], "rig": row["rig"], "cue": row["cue_id"], "story_id": row["story_id"],
            "story": row["story_text"], "performer_id": row["performer_id"], "performer": slate.get("performer"),
            "operator": slate.get("operator"), "take": row["number"], "duration": row["duration"],
            "frames": row["frames"], "width": row["width"], "height": row["height"], "in_point": row["in_point"],
            "out_point": row["out_point"], "circled": bool(row["circled"]), "sha256": row["sha256"],
            "media": f"/media/{row['media']}", "mime": "video/mp4", "created_at": row["created_at"]}


def circle(store: Store, take_id: str, circled: bool, actor: str) -> dict[str, Any]:
    _require(store, take_id)
    with store.transaction() as db:
        db.execute("UPDATE takes SET circled = ? WHERE record_id = ?", (int(circled), take_id))
        Store.audit(db, actor, "take_circle", take_id, circled=circled)
    return _require(store, take_id)


def set_points(store: Store, take_id: str, in_point: float | None, out_point: float | None,
               actor: str) -> dict[str, Any]:
    """Non-destructive trim: seconds into the file, ``in < out``, both within the take's duration."""
    take = _require(store, take_id)
    duration = take["duration"] or 0.0
    for name, value in (("in", in_point), ("out", out_point)):
        if value is not None and not 0 <= value <= duration:
            raise InvalidInput(f"the {name} point {value:g} s is outside the take (0 to {duration:g} s)",
                               code="out_of_range")
    if in_point is not None and out_point is not None and in_point >= out_point:
        raise InvalidInput(f"the in point ({in_point:g} s) must come before the out point ({out_point:g} s)",
                           code="in_after_out")
    with store.transaction() as db:
        db.execute("UPDATE takes SET in_point = ?, out_point = ? WHERE record_id = ?", (in_point, out_point, take_id))
        Store.audit(db, actor, "take_trim", take_id, in_point=in_point, out_point=out_point)
    return _require(store, take_id)


def delete(store: Store, take_id: str, actor: str) -> None:
    """Soft delete: the file and row stay (an undo is a database edit), the take leaves every list."""
    _require(store, take_id)
    with store.transaction() as db:
        db.execute("UPDATE takes SET deleted_at = ? WHERE record_id = ?", (time.time(), take_id))
        Store.audit(db, actor, "take_delete", take_id)
    log.info("take %s deleted by %s", take_id, actor)


def _require(store: Store, take_id: str) -> dict[str, Any]:
    take = get(store, take_id)
    if take is None:
        raise NotFound("no such take (it may have been deleted)", code="unknown_take")
    return take

