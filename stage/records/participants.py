"""Participants: one phone identity, keyed by a hash of the random device key the phone keeps."""

from __future__ import annotations

import hashlib
import logging
import time
import uuid

from stage.errors import Forbidden, InvalidInput
from stage.records.models import Participant
from stage.records.store import Store
from stage.records.text import clean_line, is_blank

log = logging.getLogger(__name__)

NAME_MAX = 40


def device_key_hash(device_key: str) -> str:
    return hashlib.sha256(device_key.encode("utf-8")).hexdigest()


def join(store: Store, device_key: str, name: str, simulated: bool = False) -> tuple[Participant, bool]:
    """The participant for this device key, created on first join; returns (participant, is_new).

    ``simulated`` (a rehearsal phone) is stored on creation only: a real phone never becomes one later.
    """
    name = clean_line(name)
    if is_blank(name):  # zero-width-only names would be a blank author on the wall
        raise InvalidInput("pick a display name", code="name_empty")
    if len(name) > NAME_MAX:
        raise InvalidInput(f"a display name has at most {NAME_MAX} characters", code="name_too_long")
    key_hash = device_key_hash(device_key)
    now = time.time()
    with store.transaction() as db:
        row = db.execute("SELECT * FROM participants WHERE device_key_hash = ?", (key_hash,)).fetchone()
        if row is None:
            participant_id = str(uuid.uuid4())
            db.execute_later(  # read by nobody: with the audit entry and the commit, one round trip
                "INSERT INTO participants (id, device_key_hash, name, simulated, created_at, last_seen) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (participant_id, key_hash, name, int(simulated), now, now),
            )
            Store.audit(db, f"participant:{participant_id}", "join", participant_id, name=name,
                        **({"simulated": True} if simulated else {}))
            return Participant(participant_id, name, consent=False, banned=False), True
        db.execute_later("UPDATE participants SET name = ?, last_seen = ? WHERE id = ?", (name, now, row["id"]))
        if row["name"] != name:
            Store.audit(db, f"participant:{row['id']}", "rename", row["id"], name=name)
    # As written, not read back: a read fewer per join (a round trip on PostgreSQL)
    return Participant(row["id"], name, consent=bool(row["consent"]), banned=bool(row["banned"])), False


def known(store: Store, device_key: str) -> bool:
    """This device joined before (a returning phone always gets back in, even when the show is full)."""
    return bool(store.query("SELECT 1 FROM participants WHERE device_key_hash = ?", (device_key_hash(device_key),)))


def uploader(store: Store, device_key: str) -> str:
    """The id of the participant this phone is, if it may upload; Forbidden when unknown or banned."""
    rows = store.query("SELECT id, banned FROM participants WHERE device_key_hash = ?", (device_key_hash(device_key),))
    if not rows:
        raise Forbidden("join the show first", code="unknown_phone")
    if rows[0]["banned"]:
        raise Forbidden("this phone cannot submit", code="banned")
    return rows[0]["id"]
