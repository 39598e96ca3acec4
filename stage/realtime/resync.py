"""After the message queue comes back (issue 17): this process's clients get again what they may have missed.

python-socketio drops an emit it cannot publish (upstream #1411): while Redis was down, an approval made on
the conductor never reached a phone on another process, and a story submitted there never reached the
moderators. When this process may have missed emits (realtime/queue.py ``on_missed``: it hears the queue
again after it went deaf, or another process says its emits were lost), at most once every ``EVERY_S``:

- its phones get ``resync`` (one emit to the namespace, this process only); each asks for its own standing
  with the read-only ``state`` event, at a random moment within 5 s, and reloads its feed. Not ``join``,
  which writes a row per phone: the whole house at once.
- on the conductor, its consoles and displays are disconnected: they reconnect by themselves (common.js)
  and get their full state (cues, queue, displays, scene) as on any connect. There are a handful of them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask_socketio import SocketIO

    from stage.night import Night

log = logging.getLogger(__name__)

RECONNECTING = ("/host", "/moderation", "/crew", "/display")
EVERY_S = 10.0  # a Redis restarting over and over must not send the house asking again and again


class Resync:
    def __init__(self, socketio: "SocketIO", night: "Night", clock: Callable[[], float] = time.monotonic) -> None:
        self._socketio, self._night, self._clock = socketio, night, clock
        self._last = float("-inf")
        self._pending = False

    def missed(self) -> None:
        """The queue's listener calls this: the work runs in a task of its own, after the cool-down if one runs."""
        if self._pending:
            return
        self._pending = True
        self._socketio.start_background_task(self._after_cooldown)

    def _after_cooldown(self) -> None:
        wait = self._last + EVERY_S - self._clock()
        if wait > 0:
            self._socketio.sleep(wait)
        self._pending = False
        self._last = self._clock()
        self.run()

    def run(self) -> None:
        server = self._socketio.server
        self._socketio.emit("resync", {}, namespace="/audience", ignore_queue=True)
        consoles = 0
        if self._night.conducting():
            for namespace in RECONNECTING:
                for sid, _ in list(server.manager.get_participants(namespace, None)):
                    server.disconnect(sid, namespace=namespace, ignore_queue=True)
                    consoles += 1
        log.info("message queue back: phones here re-sync; %d console and display sockets reconnect", consoles)
