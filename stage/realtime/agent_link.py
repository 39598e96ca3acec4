"""The capture agent's Socket.IO link to the server: a threaded python-socketio client on ``/capture``.

It lives with the rest of the Socket.IO code so that ``stage/capture/`` holds none: the agent gives
it handlers for the server's commands and calls :meth:`emit`; this module owns connecting (retried
until the server answers, because ``stage serve`` may start the agent before it listens),
python-socketio's own reconnects after a drop, and dropping current-state events while reconnecting.
It imports nothing of the server (no Flask, no gevent): the agent is a plain threaded process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import socketio

log = logging.getLogger(__name__)

NS = "/capture"


class AgentLink:
    def __init__(self, server: str, rig_name: str, token: str, commands: dict[str, Callable[[Any], Any]]) -> None:
        self.server = server
        self._auth = {"token": token, "rig": rig_name}
        self._client = socketio.Client(reconnection=True, reconnection_delay=0.5, reconnection_delay_max=5)
        for event, handler in commands.items():  # their return value is the ack
            self._client.on(event, handler, namespace=NS)
        self._client.on("connect", lambda: log.info("connected to %s as rig %r", server, rig_name), namespace=NS)
        self._client.on("disconnect", lambda *a: log.warning("disconnected from %s", server), namespace=NS)

    @property
    def connected(self) -> bool:
        return self._client.connected

    def connect(self, stop: threading.Event) -> None:
        """Connect, retrying with backoff until the server answers or ``stop`` is set."""
        delay = 0.5
        while not stop.is_set():
            try:
                self._client.connect(self.server, namespaces=[NS], transports=["websocket", "polling"],
                                     auth=self._auth, wait_timeout=10)
                return
            except socketio.exceptions.ConnectionError as exc:
                log.warning("cannot connect to %s (%s); retrying in %.0f s", self.server, exc, delay)
                stop.wait(delay)
                delay = min(delay * 2, 10)

    def emit(self, event: str, data: dict[str, Any]) -> None:
        if self._client.connected:
            try:
                self._client.emit(event, data, namespace=NS)
            except socketio.exceptions.BadNamespaceError:
                pass  # reconnecting: health and previews are current-state, losing one is fine

    def close(self) -> None:
        self._client.disconnect()
