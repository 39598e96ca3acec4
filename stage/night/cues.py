"""Cue actions: what a fired cue does to the night (``stage.show.playback.CueActions``).

The cue engine owns timing and states; this dispatches each cue's action to the board that acts
on it (prompts, displays, OSC out, Stage's own lights, recording on the rigs) and runs the show's panic
actions. A light cue lasts as long as its fade. A record
cue that starts a take lasts as long as the take (``Ongoing``): its group reads running, not done,
while the camera rolls.
"""

from __future__ import annotations

from typing import Any

from stage.display import chosen
from stage.display.board import DisplayBoard
from stage.errors import CueError, StageError
from stage.lighting.sender import OscSender
from stage.records.store import Store
from stage.night.recording import Recording
from stage.night.lights import Lights
from stage.show.models import CueBase, DisplayCue, LightCue, OscCue, PromptCue, RecordCue, Show
from stage.show.playback import Ongoing
from stage.show.prompts import PromptBoard


class CueDispatch:
    def __init__(self, show: Show, store: Store, prompts: PromptBoard, displays: DisplayBoard, osc: OscSender,
                 recording: Recording, lights: Lights | None = None) -> None:
        self._show = show
        self._store = store
        self._prompts = prompts
        self._displays = displays
        self._osc = osc
        self._recording = recording
        self._lights = lights

    def fire(self, cue: CueBase, actor: str) -> Ongoing | None:
        if isinstance(cue, PromptCue):
            if cue.action == "open":
                self._prompts.open(cue.prompt, actor)
            else:
                self._prompts.close(cue.prompt, actor)
        elif isinstance(cue, DisplayCue):
            self._displays.set_scene(cue.display, cue.scene, actor, text=cue.text, record=self.chosen_for(cue.scene),
                                     transition=cue.transition, fade=cue.fade, rig=cue.rig, end=cue.end)
        elif isinstance(cue, OscCue):
            self._osc.send_cue(cue)
        elif isinstance(cue, LightCue) and self._lights is not None:  # the loader refuses one without dmx:
            return self._lights.fire(cue, actor)
        elif isinstance(cue, RecordCue):
            started = self._recording.cue(cue, actor)
            if cue.action == "start":
                return Ongoing(lambda: self.recording(cue.rig, started["take_id"]), {"recording": cue.rig})
        else:
            raise CueError(f"'{cue.type}' cues cannot fire")
        return None

    def recording(self, rig: str, take_id: str) -> bool:
        """Whether ``rig`` is still recording this take: a stop cue, the crew console, panic or the agent
        itself (a failure, a lost connection) may have ended it."""
        return any(r["name"] == rig and r["status"] == "recording" and r["take_id"] == take_id
                   for r in self._recording.listing())

    def panic(self, actor: str) -> dict[str, Any]:
        """The show's panic: displays to the panic scene (unless it holds), panic OSC, takes stopped."""
        panic = self._show.panic
        problems: list[str] = []
        if panic.scene != "hold":
            for display in self._show.displays:
                self._displays.set_scene(display.name, panic.scene, actor, text=panic.text)
        for cue in panic.osc:
            try:
                self.fire(cue, actor)
            except StageError as exc:
                problems.append(f"{cue.id}: {exc.message}")
        problems += self._recording.panic(actor)
        lights = self._lights.panic(actor) if self._lights is not None else None
        return {"scene": panic.scene, "problems": problems, **({"lights": lights} if lights else {})}

    def chosen_for(self, scene: str) -> str | None:
        """The record a story, image or media scene shows (what a moderator last sent there)."""
        return chosen.record_for(self._store, scene)
