"""What each display last said it shows, and when: a projector whose page froze (a hung tab, a
sleeping machine) keeps its socket open, so a connection alone does not prove the room sees the show."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

BEAT_SECONDS = 5.0  # the display page's heartbeat interval (display.js)
STALE_AFTER = 3 * BEAT_SECONDS + 1  # three missed beats: the host is told the display is not answering


@dataclass(frozen=True)
class Beat:
    at: float
    scene: str
    scene_id: str | None


class Heartbeats:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last: dict[str, Beat] = {}  # display name -> its newest beat

    def beat(self, display: str, scene: str, scene_id: str | None) -> None:
        self._last[display] = Beat(self._clock(), scene, scene_id)

    def showing(self, display: str) -> str | None:
        beat = self._last.get(display)
        return beat.scene if beat else None

    def stale(self, display: str) -> bool:
        """No heartbeat for STALE_AFTER seconds (or none yet, once the grace of one interval is over)."""
        beat = self._last.get(display)
        return beat is None or self._clock() - beat.at > STALE_AFTER

    def connected(self, display: str) -> None:
        """A (re)connect counts as a beat: the page is alive and will report its scene soon."""
        previous = self._last.get(display) or Beat(0, "", None)
        self._last[display] = Beat(self._clock(), previous.scene, previous.scene_id)
