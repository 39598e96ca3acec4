"""The moderators' and operators' use cases: decide on records, ban a phone, send a record to a display.

Each reports what changed through the night's reporter (``realtime`` turns it into emits).
"""

from __future__ import annotations

from typing import Any

from stage.display import chosen
from stage.display.board import RECORD_SCENES, DisplayBoard
from stage.errors import InvalidInput
from stage.night.reports import Reporter
from stage.records import lookup, moderation
from stage.records.models import Record
from stage.records.store import Store


class ModerationUseCases:
    def __init__(self, store: Store, displays: DisplayBoard, reports: Reporter) -> None:
        self._store = store
        self._displays = displays
        self._reports = reports

    def decide(self, record_id: str, decision: str, actor: str, reason: str | None = None) -> Record:
        record, changed = moderation.decide(self._store, record_id, decision, actor, reason)  # type: ignore[arg-type]
        if changed:
            self._reports.decided(record)
        return record

    def ban(self, participant_id: str, actor: str) -> list[str]:
        rejected = moderation.ban(self._store, participant_id, actor)
        for record_id in rejected:
            record = lookup.record(self._store, record_id)
            if record is not None:
                self._reports.decided(record)
        return rejected

    def send_to_display(self, display: str, record_id: str, actor: str) -> dict[str, Any]:
        """Show an approved record on a display now, in the scene for its kind; it also becomes the
        chosen record for that scene's cues (story, image or media)."""
        record = lookup.record(self._store, record_id)
        if record is None or record.status != "approved":
            raise InvalidInput("only an approved record can go to a display", code="not_approved")
        scene = next((s for s, kinds in RECORD_SCENES.items() if record.kind in kinds), None)
        if scene is None:
            raise InvalidInput(f"a {record.kind} is not shown on its own", code="not_showable")
        with self._store.transaction() as db:
            chosen.choose(db, scene, record_id)
        return self._displays.set_scene(display, scene, actor, record=record_id, transition="crossfade", fade=0.6)
