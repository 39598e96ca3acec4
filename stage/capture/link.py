"""The capture agent's Socket.IO link to the server: a threaded python-socketio client on ``/capture``.

It lives with the agent, a separate process that imports nothing of the server (``stage/capture/``
never imports ``stage.realtime``, ``stage.web`` or ``stage.server``): the agent gives it handlers for
the server's commands and calls :meth:`emit`; this module owns connecting (retried
until the server answers, because ``stage serve`` may start the agent before it listens),
python-socketio's own reconnects after a drop, and what happens to events sent while not connected:
current-state ones (health, previews) are dropped, take states are kept and sent on connecting, in order.
Only python-socketio's threaded client (no Flask, no gevent): the agent is a plain threaded process.
"""

from __future__ import annotations

import logging
import threading
import urllib.parse
import warnings
from collections import deque
from collections.abc import Callable
from typing import Any

import socketio
import urllib3

log = logging.getLogger(__name__)

NS = "/capture"
KEPT_EVENTS = 1000  # take states waiting for a connection; far more than a night's takes


LOOPBACK = ("127.0.0.1", "::1", "localhost")


def verifies_tls(server: str) -> bool:
    """Whether to check the server's certificate: always, except HTTPS over loopback. A local agent
    (stage/local_rigs.py) talks to its own ``stage serve`` at https://127.0.0.1, which the venue's
    certificate (made for its domain or LAN address) does not name; nothing off this machine can sit in
    that path. The warning urllib3 would print on every unverified request is silenced for that case only."""
    parsed = urllib.parse.urlsplit(server)
    if parsed.scheme != "https" or parsed.hostname not in LOOPBACK:
        return True
    warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
    return False


def conductor_url(server: str) -> str:
    """The server's URL asking the proxy (if any) for the process that runs the show."""
    return server + ("&" if "?" in server else "?") + "conductor=1"


class AgentLink:
    def __init__(self, server: str, rig_name: str, token: str, commands: dict[str, Callable[[Any], Any]]) -> None:
        self.server = server
        self._auth = {"token": token, "rig": rig_name}
        # Capped at 1 s: after a failover the agent must find the new conductor within the show's 5 s.
        self._client = socketio.Client(reconnection=True, reconnection_delay=0.5, reconnection_delay_max=1,
                                       ssl_verify=verifies_tls(server))
        for event, handler in commands.items():  # their return value is the ack
            self._client.on(event, handler, namespace=NS)
        self._kept: deque[tuple[str, dict[str, Any]]] = deque(maxlen=KEPT_EVENTS)
        self._sending = threading.Lock()  # kept events go out before any newer one
        self._client.on("connect", self._connected, namespace=NS)
        self._client.on("disconnect", lambda *a: log.warning("disconnected from %s", server), namespace=NS)

    @property
    def connected(self) -> bool:
        return self._client.connected

    def connect(self, stop: threading.Event) -> None:
        """Connect, retrying with backoff until the server answers or ``stop`` is set."""
        delay = 0.5
        while not stop.is_set():
            try:
                # ?conductor=1: with several serve processes the proxy sends the agent to the one running the show.
                self._client.connect(conductor_url(self.server), namespaces=[NS], transports=["websocket", "polling"],
                                     auth=self._auth, wait_timeout=10)
                return
            except socketio.exceptions.ConnectionError as exc:
                log.warning("cannot connect to %s (%s); retrying in %.0f s", self.server, exc, delay)
                stop.wait(delay)
                delay = min(delay * 2, 2)  # a refused not_conductor is a failover under way: look again soon

    def emit(self, event: str, data: dict[str, Any], keep: bool = False) -> None:
        """Send now if connected. Otherwise ``keep`` events (a take's state: the crew's library depends
        on each) wait for the next connection; others (health, previews: current state) are dropped."""
        with self._sending:
            self._send_kept()
            if not self._kept and self._send(event, data):
                return
            if keep:
                self._kept.append((event, data))

    def _send(self, event: str, data: dict[str, Any]) -> bool:
        # The namespace, not ``connected``: the client sets that only after the connect handler has run.
        if NS not in self._client.namespaces:
            return False
        try:
            self._client.emit(event, data, namespace=NS)
            return True
        except socketio.exceptions.BadNamespaceError:  # the connection dropped meanwhile
            return False

    def _send_kept(self) -> None:
        while self._kept and self._send(*self._kept[0]):
            self._kept.popleft()

    def _connected(self) -> None:
        log.info("connected to %s as rig %r", self.server, self._auth["rig"])
        with self._sending:
            if self._kept:
                log.info("sending %d take state(s) kept while not connected", len(self._kept))
            self._send_kept()

    def close(self) -> None:
        self._client.disconnect()
