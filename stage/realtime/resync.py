"""After the message queue comes back (issue 17): this process's clients get again what they may have missed.

python-socketio drops an emit it cannot publish (upstream #1411): while Redis was down, an approval made on
the conductor never reached a phone on another process, and a story submitted there never reached the
moderators. When this process hears the queue again:

- its phones get ``resync`` (one emit to the namespace, this process only); each asks for its own standing
  with the read-only ``state`` event, at a random moment within 5 s, and reloads its feed. Not ``join``,
  which writes a row per phone: the whole house at once.
- on the conductor, its consoles and displays are disconnected: they reconnect at once and get their full
  state (cues, queue, displays, scene) as on any connect. There are a handful of them.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask_socketio import SocketIO

    from stage.night import Night

log = logging.getLogger(__name__)

RECONNECTING = ("/host", "/moderation", "/crew", "/display")


class Resync:
    def __init__(self, socketio: "SocketIO", night: "Night") -> None:
        self._socketio, self._night = socketio, night
        self._was_down = False

    def queue_state(self, state: str) -> None:
        """The queue's listener calls this; the work runs in a task of its own, not in the listener."""
        if state == "down":
            self._was_down = True
        elif self._was_down:
            self._was_down = False
            self._socketio.start_background_task(self.run)

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
