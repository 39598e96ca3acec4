"""What the store keeps of Stage's own lights (stage/night/lights.py): the levels the room saw, dated by the
wall clock so a restart can age a running fade; the grand master; and the night's sACN source id (CID)."""

from __future__ import annotations

import uuid
from typing import Any

from stage.records.store import Store

LEVELS_KEY = "dmx.state"
GRAND_MASTER_KEY = "dmx.grand_master"
CID_KEY = "dmx.cid"  # one sACN source for the whole night: a restart must not look like a second desk


def save_levels(store: Store, levels: dict[str, Any], saved_at: float, actor: str | None = None,
                action: str | None = None, subject: str | None = None, **detail: Any) -> None:
    """The mixer's state, and in the same transaction the audit row of what changed it (a light cue, panic)."""
    with store.transaction() as db:
        Store.put_state(db, LEVELS_KEY, {"saved_at": saved_at, "mixer": levels})
        if action is not None:
            Store.audit(db, actor or "engine", action, subject, **detail)


def saved_levels(store: Store) -> tuple[dict[str, Any], float] | None:
    """The mixer's state and when it was saved (wall-clock seconds), or None."""
    saved = store.get_state(LEVELS_KEY)
    if not isinstance(saved, dict) or not isinstance(saved.get("mixer"), dict):
        return None
    at = saved.get("saved_at")
    return saved["mixer"], float(at) if isinstance(at, int | float) else 0.0


def set_grand_master(store: Store, level: float, actor: str) -> None:
    with store.transaction() as db:
        Store.put_state(db, GRAND_MASTER_KEY, level)
        Store.audit(db, actor, "grand_master", None, level=level)


def grand_master(store: Store) -> float:
    level = store.get_state(GRAND_MASTER_KEY, 100)
    return float(level) if isinstance(level, int | float) and 0 <= level <= 100 else 100.0


def cid(store: Store) -> bytes:
    saved = store.get_state(CID_KEY)
    if not isinstance(saved, str) or len(saved) != 32:
        saved = uuid.uuid4().hex
        with store.transaction() as db:
            Store.put_state(db, CID_KEY, saved)
    return bytes.fromhex(saved)
