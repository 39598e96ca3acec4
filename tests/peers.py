"""Socket.IO peers for tests: a python-socketio client that records every event it receives."""

from __future__ import annotations

import queue
import socket
import time
import uuid
from collections import defaultdict
from typing import Any, Callable

import socketio


class Peer:
    def __init__(self, url: str, namespace: str, *, headers: dict[str, str] | None = None,
                 auth: Any = None, transport: str = "websocket", http_session: Any = None) -> None:
        self.namespace = namespace
        # http_session: a requests.Session whose ``verify`` names a CA (HTTPS tests); its websocket uses it too.
        self.client = socketio.Client(reconnection=False, http_session=http_session)
        self.events: dict[str, queue.Queue] = defaultdict(queue.Queue)
        self.client.on("*", self._record, namespace=namespace)
        self.client.on("connect_error", lambda data=None: self._record("connect_error", data), namespace=namespace)
        self.client.on("disconnect", lambda reason=None: self._record("disconnect", reason), namespace=namespace)
        try:
            self.client.connect(url, namespaces=[namespace], headers=headers or {}, auth=auth,
                                transports=[transport], wait_timeout=10)
        except socketio.exceptions.ConnectionError as exc:
            reasons = self.drain("connect_error")
            raise socketio.exceptions.ConnectionError(f"{exc}: {reasons}") from exc

    def _record(self, event: str, data: Any = None) -> None:
        self.events[event].put(data)

    def call(self, event: str, data: Any = None, timeout: float = 10) -> Any:
        return self.client.call(event, data, namespace=self.namespace, timeout=timeout)

    def wait_for(self, event: str, predicate: Callable[[Any], bool] = lambda _: True, timeout: float = 10) -> Any:
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                others = {name: q.qsize() for name, q in self.events.items() if q.qsize()}
                raise AssertionError(f"no {event!r} event matching on {self.namespace} within {timeout}s; "
                                     f"{event!r} seen: {seen[-3:]}; other events waiting: {others}")
            try:
                data = self.events[event].get(timeout=remaining)
            except queue.Empty:
                continue
            if predicate(data):
                return data
            seen.append(data)

    def drain(self, event: str) -> list[Any]:
        out = []
        while not self.events[event].empty():
            out.append(self.events[event].get_nowait())
        return out

    def drop(self) -> None:
        """Lose the connection the way Wi-Fi does: the socket goes away without a close handshake."""
        # shutdown, not close: close() waits for this client's own reader thread before the FIN goes out.
        self.client.eio.ws.sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.client.disconnect()


def go(host: Peer, attempts: int = 20) -> dict:
    """Press GO on a host console, pressing again after the show's debounce if the press was ignored."""
    for _ in range(attempts):
        ack = host.call("go")
        assert ack["ok"], ack
        if not ack["fired"].get("debounced"):
            return ack
        time.sleep(0.05)
    raise AssertionError("GO stayed debounced")


def approved_stories(peers: Any, moderator: Any, count: int) -> list[str]:
    """``count`` stories by a new phone "Bo", each approved by ``moderator``: their ids. ``peers`` is
    either tier's factory (``PeerFactory`` or the in-process ``Consoles``): both open phones alike."""
    author = peers.phone("Bo")
    ids = [str(uuid.uuid4()) for _ in range(count)]
    for record_id in ids:
        assert author.call("submit_story", {"id": record_id, "prompt": "cape", "text": "A cape."})["ok"]
        assert moderator.call("moderate", {"id": record_id, "decision": "approve"})["ok"]
    return ids
