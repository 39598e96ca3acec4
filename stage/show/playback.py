"""The vocabulary of playback: cue states, a fired cue's runtime, what cues act on, and the snapshot of
the cue list the consoles show."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

import logging

from stage.show.clock import Timer
from stage.show.models import CueBase, GroupCue, LightCue

log = logging.getLogger(__name__)

# How often the engine looks whether a lasting action (a take being recorded) has ended by itself: a
# rig stopped from the crew console, by its agent or by a failure is not reported to the engine.
HOLD_CHECK_SECONDS = 0.5


class State(str, Enum):
    READY = "ready"
    STANDBY = "standby"
    PRE_WAIT = "pre_wait"
    RUNNING = "running"
    POST_WAIT = "post_wait"
    DONE = "done"
    STOPPED = "stopped"
    ERROR = "error"


INTERRUPTED = {State.PRE_WAIT, State.RUNNING, State.POST_WAIT}


def restored(states: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Cue states read back from the store. Timers survive neither a restart nor a takeover by another
    process: a cue that was waiting or running is stopped, and says so."""
    for cue_id, state in states.items():
        if state["state"] in INTERRUPTED:
            states[cue_id] = {"state": "stopped", "error": "interrupted by a server restart"}
    return states


@dataclass(frozen=True)
class Ongoing:
    """What a cue's action returns when it lasts beyond its start (a take being recorded): the cue stays
    ``running``, and its group with it, until ``running()`` answers False. ``detail`` goes into the cue's
    snapshot row meanwhile (a record cue's rig: the consoles show REC on it)."""

    running: Callable[[], bool]
    detail: dict[str, Any] = field(default_factory=dict)
    ends: float | None = None  # when it ends by itself (a light cue's fade), on the engine's clock: looked at then
    stop: Callable[[], None] | None = None  # what a stop, a stop cue or panic does to it (a fade holds where it is)


@dataclass(eq=False)
class Active:
    """A cue between its GO and the end of both its action and its post-wait."""

    cue: CueBase
    actor: str = "engine"  # who fired it: what it fires later (a group's next child, a follow) is theirs too
    timers: list[Timer] = field(default_factory=list)
    action_over: bool = False
    post_wait_over: bool = False
    error: str | None = None
    pending: list[CueBase] = field(default_factory=list)  # a group's children still to end
    failed: list[str] = field(default_factory=list)  # a group's children that ended in error
    ongoing: Ongoing | None = None  # an action that lasts (see Ongoing)

    def cancel(self) -> None:
        for timer in self.timers:
            timer.cancel()
        if self.ongoing is not None and self.ongoing.stop is not None and not self.action_over:
            try:
                self.ongoing.stop()
            except Exception:  # the rest of the stop (other cues, panic) must still happen
                log.exception("cue %s: could not stop its action", self.cue.id)

    def still_going(self) -> bool:
        """Whether its lasting action still runs (False for an action that does not last)."""
        if self.ongoing is None or self.action_over:
            return False
        try:
            return bool(self.ongoing.running())
        except Exception:  # a broken look must not hold the show's group running for the rest of the night
            log.exception("cue %s: could not tell whether its action still runs; ending it", self.cue.id)
            self.error = "could not tell whether it still runs (see the server log)"
            return False


class CueActions(Protocol):
    """What cues act on (``stage.night.cues.CueDispatch``). ``fire`` raises a StageError when a cue cannot
    act, and returns an :class:`Ongoing` for an action that lasts (None: it is over once fired)."""

    def fire(self, cue: CueBase, actor: str) -> Ongoing | None: ...

    def panic(self, actor: str) -> dict[str, Any]: ...


def groups_of(cues: list[CueBase] | tuple[CueBase, ...]) -> dict[str, GroupCue]:
    """Each child cue's group, by the child's id."""
    return {child.id: cue for cue in cues if isinstance(cue, GroupCue) for child in cue.cues}


def snapshot(cues: tuple[CueBase, ...], states: dict[str, dict[str, Any]], standby: str | None,
             running: list[str], now: float) -> dict[str, Any]:
    """Every cue (children after their group, with depth), its state and its timers, for the consoles."""
    rows: list[dict[str, Any]] = []

    def walk(level: tuple[CueBase, ...], depth: int) -> None:
        for cue in level:
            state = dict(states.get(cue.id, {"state": State.READY.value}))
            if "ends" in state:
                state["remaining"] = round(max(state.pop("ends") - now, 0), 3)
            if "started" in state:
                state["elapsed"] = round(now - state.pop("started"), 3)
            if cue.id == standby and state["state"] not in {s.value for s in INTERRUPTED}:
                state["state"] = State.STANDBY.value
            rows.append({"id": cue.id, "name": cue.name, "type": cue.type, "depth": depth,
                         "standby": cue.id == standby, **state})
            if isinstance(cue, LightCue):  # what the fade is, for its progress bar and the operator's eye
                rows[-1]["fade"] = {"to": cue.look or "levels", "seconds": cue.fade, "curve": cue.curve}
            if isinstance(cue, GroupCue):
                walk(cue.cues, depth + 1)

    walk(cues, 0)
    return {"standby": standby, "cues": rows, "running": sorted(running)}
