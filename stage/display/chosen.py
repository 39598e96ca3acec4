"""The chosen records: which story, image or media the ``story``/``image``/``media`` scenes show.

A moderator sending a record to a display chooses it; later cues for that scene show it again.
Kept in the store's state table, so a restart shows the same record.
"""

from __future__ import annotations

from stage.display.board import RECORD_SCENES
from stage.records.store import Connection, Store

CHOSEN_KEY = "chosen"  # chosen.story, chosen.image, chosen.media


def record_for(store: Store, scene: str) -> str | None:
    """The record the scene shows, or None (also for scenes that show no record)."""
    return store.get_state(f"{CHOSEN_KEY}.{scene}") if scene in RECORD_SCENES else None


def choose(db: Connection, scene: str, record_id: str) -> None:
    """Within the caller's transaction: ``scene`` shows ``record_id`` from now on."""
    Store.put_state(db, f"{CHOSEN_KEY}.{scene}", record_id)
