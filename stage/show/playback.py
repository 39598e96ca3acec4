"""The vocabulary of playback: cue states, a fired cue's runtime, and what cues act on."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

from stage.show.clock import Timer
from stage.show.models import CueBase


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
    for state in states.values():
        if state["state"] in INTERRUPTED:
            state.update(state="stopped", error="interrupted by a server restart")
    return states


@dataclass(eq=False)
class Active:
    """A cue between its GO and the end of both its action and its post-wait."""

    cue: CueBase
    timers: list[Timer] = field(default_factory=list)
    action_over: bool = False
    post_wait_over: bool = False
    error: str | None = None
    pending: list[CueBase] = field(default_factory=list)  # a group's children still to end
    failed: list[str] = field(default_factory=list)  # a group's children that ended in error


class CueActions(Protocol):
    """What cues act on (``stage.night.cues.CueDispatch``). ``fire`` raises a StageError when a cue cannot act."""

    def fire(self, cue: CueBase, actor: str) -> None: ...

    def panic(self, actor: str) -> dict[str, Any]: ...
