"""Stage's own lights: light cues into the mixer, panic and the grand master, and the frames DMX out sends.

A light cue fades each parameter it names from where it is to its look (latest takes precedence: a later
cue takes over a running fade from the level reached). Its action lasts as long as its fade
(:class:`~stage.show.playback.Ongoing` with ``ends``), so follows fire as the fade ends; a stop holds the
levels where they are. Levels go to the store after every change, so a restart or a takeover (issue 17)
comes back holding what the room saw. Nothing here sends: :mod:`stage.dmx.output` reads :meth:`frame`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from stage.dmx.mixer import Mixer, aged
from stage.dmx.patch import build_patch
from stage.records import lights as light_records
from stage.records.store import Store
from stage.show.clock import Clock
from stage.show.models import LightCue, Show
from stage.show.playback import Ongoing

log = logging.getLogger(__name__)


class Output(Protocol):
    def poke(self) -> None: ...

    def status(self) -> dict[str, dict[str, Any]]: ...


class Lights:
    def __init__(self, show: Show, store: Store, clock: Clock, base: Path,
                 on_change: Callable[[dict[str, Any]], None] = lambda status: None,
                 wall: Callable[[], float] = time.time) -> None:
        assert show.dmx is not None
        self._show, self._store, self._clock, self._on_change, self._wall = show, store, clock, on_change, wall
        self.patch = build_patch(show.dmx, base)
        self.mixer = Mixer(self.patch)
        self.output: Output | None = None  # DMX out, where this process runs the show (stage/server.py)
        self.reload()

    def reload(self) -> None:
        """Levels and the grand master from the store (at start, and at a takeover): every parameter holds
        the level it had by now (a fade that was running is taken to where it would be, then stops there)."""
        self.grand_master = light_records.grand_master(self._store)
        levels = light_records.saved_levels(self._store)
        if levels is not None:
            # The clock of the process that saved them is not ours: the wall clock says how far its fades got.
            state, at = levels
            self.mixer.restore(aged(state, max(0.0, self._wall() - at)), self._clock.now())

    def cid(self) -> bytes:
        return light_records.cid(self._store)

    # -- the cue engine's actions ---------------------------------------------------------------------

    def fire(self, cue: LightCue, actor: str) -> Ongoing | None:
        now = self._clock.now()
        looks = (self._show.dmx.looks[cue.look],) if cue.look else ()  # type: ignore[union-attr]
        targets = self.patch.targets(*looks, cue.levels)
        self.mixer.fire(cue.id, targets, cue.fade, cue.curve, now)
        self._saved(actor, "light_fired", cue.id, look=cue.look, fade=cue.fade, curve=cue.curve,
                    parameters=len(targets))
        log.info("light cue %s: %s over %gs (%s), %d parameters", cue.id, cue.look or "levels", cue.fade, cue.curve,
                 len(targets))
        if cue.fade == 0:
            return None
        ends = now + cue.fade
        return Ongoing(running=lambda: self.mixer.running(cue.id, self._clock.now()),
                       detail={"ends": ends}, ends=ends, stop=lambda: self.hold(cue.id))

    def hold(self, cue_id: str) -> None:
        """A stop, a stop cue or panic: the cue's fade stays where it is."""
        self.mixer.freeze(cue_id, self._clock.now())
        self._saved(None, None, cue_id)

    def panic(self, actor: str) -> str:
        """After every cue stopped (and held): the show's panic for the lights, ``hold`` or ``blackout``."""
        if self._show.panic.lights == "blackout":
            self.mixer.blackout(self._clock.now(), self._show.panic.lights_fade)
            log.warning("PANIC: lights black out over %gs", self._show.panic.lights_fade)
        self._saved(actor, "light_panic", None, lights=self._show.panic.lights)
        return self._show.panic.lights

    def set_grand_master(self, level: float, actor: str) -> float:
        light_records.set_grand_master(self._store, float(level), actor)  # kept first: a refusal changes nothing
        self.grand_master = float(level)
        log.info("grand master %g %% by %s", self.grand_master, actor)
        self._poke()
        self.report()
        return self.grand_master

    # -- what DMX out reads (stage.dmx.output.FrameSource) and what the consoles see ----------------------

    def frame(self, universe: int, now: float) -> bytes:
        return self.mixer.frame(universe, now, self.grand_master / 100)

    def changing(self, universe: int, now: float) -> bool:
        return self.mixer.changing(universe, now)

    def snapshot(self) -> dict[str, Any]:
        """Everything DMX out in its own process needs to render frames from now on (stage/dmx/child.py)."""
        now = self._clock.now()
        return {"levels": self.mixer.state(now), "at": now, "grand_master": self.grand_master}

    def status(self) -> dict[str, Any]:
        """What the host console shows (``dmx``): each node's status and the grand master."""
        nodes = self.output.status() if self.output is not None else {}
        return {"nodes": nodes, "grand_master": self.grand_master}

    def report(self) -> None:
        """A node's status or the grand master changed: the consoles hear it."""
        self._on_change(self.status())

    def _saved(self, actor: str | None, action: str | None, subject: str | None, **detail: Any) -> None:
        now = self._clock.now()
        try:
            light_records.save_levels(self._store, self.mixer.state(now), self._wall(), actor, action, subject,
                                      **detail)
        finally:  # the mixer already moved: DMX out follows it even when the store could not keep it
            self._poke()

    def _poke(self) -> None:
        if self.output is not None:
            self.output.poke()
