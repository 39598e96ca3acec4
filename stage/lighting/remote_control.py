"""What an OSC remote (TouchOSC, Companion, a console) may do to the show: ``RemoteHandlers``.

:class:`stage.lighting.remote.OscRemote` parses and polices datagrams; this adapter turns each
command into a call on the cue engine or a display board, as the ``osc-remote`` actor, and answers
with the reply text the remote shows.
"""

from __future__ import annotations

from collections.abc import Callable

from stage.display.board import DisplayBoard
from stage.show.engine import CueEngine

ChosenFor = Callable[[str], "str | None"]  # scene -> the record it shows (stage.display.chosen)


class RemoteControl:
    ACTOR = "osc-remote"

    def __init__(self, engine: CueEngine, displays: DisplayBoard, chosen_for: ChosenFor) -> None:
        self._engine = engine
        self._displays = displays
        self._chosen_for = chosen_for

    def go(self) -> str:
        fired = self._engine.go(self.ACTOR)
        return "debounced" if fired.get("debounced") else f"GO cue {fired['cue']}: {fired['state']}"

    def back(self) -> str:
        return f"standby {self._engine.back(self.ACTOR)}"

    def panic(self) -> str:
        self._engine.panic(self.ACTOR)
        return "panic"

    def cue_go(self, cue_id: str) -> str:
        self._engine.jump(cue_id, self.ACTOR)
        return self.go()

    def display_scene(self, display: str, scene: str) -> str:
        self._displays.set_scene(display, scene, self.ACTOR, record=self._chosen_for(scene))
        return f"{display}: {scene}"
