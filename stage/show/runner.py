"""The cue runner: a playhead over the top-level cue list; GO fires the cue in standby.

This is the foundation's runner: cues fire at once (groups fire their children together). Timed
behaviour (pre/post-wait, auto-continue/follow, debounce) belongs to the cue-engine issue; the show
schema refuses those fields until then. A cue whose part is not built ends in the ``error`` state
with the reason, never silently.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from enum import Enum
from typing import Any, Protocol

from stage.errors import CueError, StageError
from stage.records.store import Store
from stage.show.models import CueBase, DisplayCue, GroupCue, NoteCue, PromptCue, Show, StopCue

log = logging.getLogger(__name__)

PLAYHEAD_KEY = "cues.playhead"
STATES_KEY = "cues.states"


class CueState(str, Enum):
    STANDBY = "standby"
    READY = "ready"
    RUNNING = "running"
    DONE = "done"
    ERROR = "error"


class CueActions(Protocol):
    """What cues act on; the night provides it."""

    def prompt(self, cue: PromptCue, actor: str) -> None: ...

    def display(self, cue: DisplayCue, actor: str) -> None: ...


_MISSING_PART = {
    "osc": "OSC sending is not available in this version of Stage",
    "record": "capture rigs are not available in this version of Stage",
    "wait": "timed cues are not available in this version of Stage",
}


class Runner:
    def __init__(self, show: Show, store: Store, actions: CueActions, on_change: Callable[[dict[str, Any]], None]) -> None:
        self._show = show
        self._store = store
        self._actions = actions
        self._on_change = on_change
        self._lock = threading.RLock()
        self._ids = [cue.id for cue in show.cues]
        saved = store.get_state(PLAYHEAD_KEY, self._ids[0])
        self._standby: str | None = saved if saved in self._ids or saved is None else self._ids[0]
        self._states: dict[str, dict[str, str]] = store.get_state(STATES_KEY, {})

    @property
    def standby(self) -> str | None:
        return self._standby

    def go(self, actor: str) -> dict[str, Any]:
        """Fire the cue in standby and move standby to the next cue. Returns the fired cue's state."""
        with self._lock:
            if self._standby is None:
                raise CueError("the cue list has ended; nothing is in standby", code="end_of_list")
            cue = self._show.cues[self._ids.index(self._standby)]
            log.info("GO cue %s (%s) by %s", cue.id, cue.name or cue.type, actor)
            self._fire(cue, actor)
            index = self._ids.index(cue.id) + 1
            self._standby = self._ids[index] if index < len(self._ids) else None
            with self._store.transaction() as db:
                Store.put_state(db, PLAYHEAD_KEY, self._standby)
                Store.put_state(db, STATES_KEY, self._states)
                Store.audit(db, actor, "go", cue.id, state=self._states[cue.id]["state"], standby=self._standby)
            snapshot = self.snapshot()
        self._on_change(snapshot)
        return {"cue": cue.id, **self._states[cue.id]}

    def _fire(self, cue: CueBase, actor: str) -> None:
        self._states[cue.id] = {"state": CueState.RUNNING.value}
        try:
            if isinstance(cue, GroupCue):
                for child in cue.cues:
                    self._fire(child, actor)
                failed = [c.id for c in cue.cues if self._states[c.id]["state"] == CueState.ERROR.value]
                if failed:
                    raise CueError(f"child cue(s) {', '.join(failed)} failed")
            elif isinstance(cue, PromptCue):
                self._actions.prompt(cue, actor)
            elif isinstance(cue, DisplayCue):
                self._actions.display(cue, actor)
            elif isinstance(cue, (NoteCue, StopCue)):
                pass  # nothing runs over time in this runner, so a stop has nothing to stop
            else:
                raise CueError(_MISSING_PART.get(cue.type, f"'{cue.type}' cues cannot fire"))
        except StageError as exc:
            self._states[cue.id] = {"state": CueState.ERROR.value, "error": exc.message}
            log.error("cue %s failed: %s", cue.id, exc.message)
            return
        self._states[cue.id] = {"state": CueState.DONE.value}

    def snapshot(self) -> dict[str, Any]:
        """Every cue (children after their group, with depth) and its state, for the consoles."""
        with self._lock:
            rows: list[dict[str, Any]] = []

            def walk(cues: tuple, depth: int) -> None:
                for cue in cues:
                    state = self._states.get(cue.id, {"state": CueState.READY.value})
                    if cue.id == self._standby:
                        state = {**state, "state": CueState.STANDBY.value}
                    rows.append({"id": cue.id, "name": cue.name, "type": cue.type, "depth": depth, **state})
                    if isinstance(cue, GroupCue):
                        walk(cue.cues, depth + 1)

            walk(self._show.cues, 0)
            return {"standby": self._standby, "cues": rows}
