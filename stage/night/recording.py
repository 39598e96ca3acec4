"""Recording takes on the show's rigs (``night.recording``): which rigs have an agent online (this
process), their health, and record/stop.

No Flask, no Socket.IO: ``realtime.capture`` gives it a :class:`RigLink` that sends a command to an
agent and waits for its ack. Record cues, the crew console's buttons and panic all come through here.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from stage.errors import CueError, NotFound, StageError
from stage.records import lookup, takes
from stage.records.text import clean_line
from stage.records.store import Store
from stage.show.models import GroupCue, RecordCue, Show

log = logging.getLogger(__name__)

COMMAND_TIMEOUT = 2.0  # seconds an agent has to ack record/stop before the cue ends in error (the
# agent keeps its camera open for the preview, so a healthy one acks in milliseconds; GO waits meanwhile)
REPORT_GRACE = 3.0  # seconds after a record during which a "not recording" health report may be stale


class RigLink(Protocol):
    def call(self, sid: str, event: str, data: dict[str, Any], timeout: float) -> Any:
        """Send ``event`` to one agent socket and return its ack; raise TimeoutError without one."""


class Recording:
    def __init__(self, show: Show, store: Store, chosen_story: Callable[[], str | None]) -> None:
        self._show = show
        self._store = store
        self._chosen_story = chosen_story
        self._sids: dict[str, str] = {}  # agent sid -> rig name
        self._health: dict[str, dict[str, Any]] = {}  # rig -> last health report
        self._current: dict[str, str] = {}  # rig -> take id being recorded
        self._since: dict[str, float] = {}  # rig -> when this server last started a take on it
        self.link: RigLink | None = None  # set by realtime once Socket.IO exists

    # -- presence and health ----------------------------------------------------------------------

    def known(self, rig: str) -> bool:
        return any(r.name == rig for r in self._show.rigs)

    def connected(self, sid: str, rig: str) -> None:
        self._sids[sid] = rig

    def left(self, sid: str) -> str | None:
        rig = self._sids.pop(sid, None)
        if rig is not None and self.sid_of(rig) is None:
            self._health.pop(rig, None)
        return rig

    def rig_of(self, sid: str) -> str | None:
        return self._sids.get(sid)

    def sid_of(self, rig: str) -> str | None:
        """The newest agent socket of this rig (a restarted agent may overlap its old socket)."""
        return next((sid for sid, name in reversed(self._sids.items()) if name == rig), None)

    def report(self, rig: str, health: dict[str, Any]) -> None:
        """The agent's own word wins (after a server restart, or an agent that restarted mid-take), except
        for a report sent before it acked a record just now."""
        self._health[rig] = health
        if health.get("recording") and health.get("take_id"):
            self._current[rig] = health["take_id"]
        elif rig in self._current and time.monotonic() - self._since.get(rig, 0) > REPORT_GRACE:
            self._current.pop(rig)

    def take_state(self, rig: str, take_id: str, state: str, reason: str | None = None) -> None:
        """What the rig's agent reports about a take: kept for the rig's status, and audited."""
        if state == "recording":
            self._current[rig] = take_id
        elif self._current.get(rig) == take_id:
            self._current.pop(rig)
        takes.rig_reported(self._store, take_id, rig, state, reason)

    def status(self, rig: str) -> str:
        if self.sid_of(rig) is None:
            return "offline"
        return "recording" if self._health.get(rig, {}).get("recording") or rig in self._current else "online"

    def statuses(self) -> dict[str, str]:
        return {r.name: self.status(r.name) for r in self._show.rigs}

    def listing(self) -> list[dict[str, Any]]:
        """What the crew console shows per rig: its state, last health and the command to start an agent."""
        return [{"name": r.name, "status": self.status(r.name), "local": r.local, "camera": r.camera,
                 "microphone": r.microphone, "health": self._health.get(r.name), "take_id": self._current.get(r.name),
                 "operator": self.operator(r.name)}
                for r in self._show.rigs]

    def operator(self, rig: str) -> str | None:
        """Who films with this rig now (the credit its next take gets): the crew's choice, else the show's."""
        default = next((r.operator for r in self._show.rigs if r.name == rig), None)
        return takes.operator(self._store, rig, default)

    def set_operator(self, rig: str, name: str | None, actor: str) -> str | None:
        """The crew names a rig's camera operator for the rest of the night (blank: nobody films with it)."""
        if not self.known(rig):
            raise NotFound(f"the show has no rig '{rig}'", code="unknown_rig")
        name = clean_line(name or "") or None  # the same cleaning as any display name
        takes.set_operator(self._store, rig, name, actor)
        return name

    # -- commands -----------------------------------------------------------------------------------

    def cue(self, cue: RecordCue, actor: str) -> dict[str, Any]:
        if cue.action != "start":
            return self.stop(cue.rig, actor)
        return self.record(cue.rig, self._performance(cue.id), actor, record_cue=cue.id)

    def _performance(self, cue_id: str) -> str:
        """The top-level cue a record cue belongs to: the performance the crew looks for a take by (cue 5,
        not the record cue 5.3 inside its group)."""
        def holds(cue: Any) -> bool:
            return cue.id == cue_id or (isinstance(cue, GroupCue) and any(holds(c) for c in cue.cues))
        return next((cue.id for cue in self._show.cues if holds(cue)), cue_id)

    def record(self, rig: str, cue_id: str | None, actor: str, record_cue: str | None = None) -> dict[str, Any]:
        """Start a take on ``rig`` with a slate; raises (the cue ends in error) if the agent cannot."""
        sid = self._online(rig)
        story_id = self._chosen_story()
        story = lookup.record(self._store, story_id) if story_id else None
        if story is not None and story.status != "approved":
            story = None  # a story withdrawn since it was chosen is not slated
        performer = takes.performer_for(self._store, story.id if story else None)
        slate = {"show": self._show.title, "cue": cue_id, "story_id": story.id if story else None,
                 "story": story.text if story else None, "performer_id": performer["id"] if performer else None,
                 "performer": performer["name"] if performer else None, "operator": self.operator(rig),
                 "take": takes.next_number(self._store, story.id if story else None)}
        take_id = str(uuid.uuid4())
        # Stored before the command: an agent that starts recording but acks too late can still upload.
        takes.start(self._store, take_id, rig, cue_id, slate, actor, record_cue=record_cue)
        try:
            self._command(rig, sid, "record", {"take_id": take_id, "slate": slate})
        except CueError as exc:
            if exc.code != "rig_timeout":  # refused: no take was made, its number is free again
                takes.forget(self._store, take_id, f"rig:{rig}", exc.message)
            raise
        self._current[rig] = take_id
        self._since[rig] = time.monotonic()
        return {"take_id": take_id, "slate": slate}

    def stop(self, rig: str, actor: str) -> dict[str, Any]:
        sid = self._online(rig)
        take_id = self._current.get(rig)
        ack = self._command(rig, sid, "stop", {"take_id": take_id})
        stopped = ack.get("take_id") or take_id
        self._current.pop(rig, None)
        takes.stopped(self._store, stopped, rig, actor)
        log.info("rig %s stopped take %s (%s)", rig, stopped, actor)
        return {"take_id": stopped}

    def panic(self, actor: str) -> list[str]:
        """Stop every recording rig; the agent keeps and uploads what it recorded (recording-safe)."""
        problems = []
        for rig in [name for name, state in self.statuses().items() if state == "recording"]:
            try:
                self.stop(rig, actor)
            except StageError as exc:
                problems.append(f"rig {rig}: {exc.message}")
        return problems

    def _online(self, rig: str) -> str:
        if not self.known(rig):
            raise NotFound(f"the show has no rig '{rig}'", code="unknown_rig")
        sid = self.sid_of(rig)
        if sid is None or self.link is None:
            raise CueError(f"rig '{rig}' is offline: no capture agent is connected", code="rig_offline")
        return sid

    def _command(self, rig: str, sid: str, event: str, data: dict[str, Any]) -> dict[str, Any]:
        assert self.link is not None
        try:
            ack = self.link.call(sid, event, data, COMMAND_TIMEOUT)
        except TimeoutError:
            raise CueError(f"rig '{rig}' did not answer '{event}' within {COMMAND_TIMEOUT:g} s",
                           code="rig_timeout") from None
        if not isinstance(ack, dict) or not ack.get("ok"):
            error = (ack or {}).get("error") if isinstance(ack, dict) else None
            error = error if isinstance(error, dict) else {}
            raise CueError(f"rig '{rig}' refused {event}: {error.get('message') or error.get('code') or 'no reason'}",
                           code=str(error.get("code") or "rig_refused"))
        return ack
