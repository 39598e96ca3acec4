"""python-socketio's client manager with an index of each client's rooms, so a disconnect is O(its rooms).

Why: upstream's ``BaseManager.basic_disconnect`` (python-socketio 5.18.1) copies the namespace's whole
room table and tests the client against every room, and every phone has a room of its own (its sid)
and its participant's: each disconnect is O(phones), so a room emptying at the end of a show (or a
Wi-Fi blip sending every phone away and back) costs O(phones²). In the night scenario on PostgreSQL
(5,000 phones, `py-spy` on the server) 27 % of the server's samples were in ``basic_disconnect``.
Measured side by side (bench/manager_disconnect.py, docs/benchmarks.md): 5,000 phones leaving held the
event loop 3.3 s with upstream's manager and 32 ms with this one (658 against 6 µs a disconnect).

Only the index is new: rooms themselves stay upstream's (``self.rooms[namespace][room]`` bidicts), so
emits, ``get_participants`` and ``enter_room``/``leave_room`` are upstream's code. What
``basic_disconnect`` does besides leaving rooms (callbacks, pending connects and disconnects) is
upstream's, restated here because its loop cannot be skipped; tests/unit/test_manager.py runs random
sequences of operations against upstream's manager and this one and compares every room table, so an
upgrade that changes upstream's behaviour fails there.
"""

from __future__ import annotations

from typing import Any

import socketio


class IndexedRooms:
    """A mixin for any python-socketio manager (the Redis one of issue 17 too): ``_rooms_of[namespace][sid]``
    holds the rooms the client is in (``None``, the namespace's everyone room, included), in entry order."""

    rooms: dict[str, dict[Any, Any]]
    callbacks: dict[str, Any]
    pending_connect: dict[str, list[str]]
    pending_disconnect: dict[str, list[str]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rooms_of: dict[str, dict[str, dict[Any, None]]] = {}

    def basic_enter_room(self, sid: str, namespace: str, room: Any, eio_sid: str | None = None) -> None:
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)  # type: ignore[misc]
        self._rooms_of.setdefault(namespace, {}).setdefault(sid, {})[room] = None

    def basic_leave_room(self, sid: str, namespace: str, room: Any) -> None:
        super().basic_leave_room(sid, namespace, room)  # type: ignore[misc]
        of_namespace = self._rooms_of.get(namespace)
        if of_namespace is not None and sid in of_namespace:
            of_namespace[sid].pop(room, None)
            if not of_namespace[sid]:
                del of_namespace[sid]
                if not of_namespace:
                    del self._rooms_of[namespace]

    def basic_disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:
        if namespace not in self.rooms:
            return
        for room in list(self._rooms_of.get(namespace, {}).get(sid, ())):
            self.basic_leave_room(sid, namespace, room)
        # The rest as upstream's basic_disconnect does it.
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            if namespace in pending and sid in pending[namespace]:
                pending[namespace].remove(sid)
                if not pending[namespace]:
                    del pending[namespace]

    def get_rooms(self, sid: str, namespace: str) -> list[Any]:
        return [room for room in self._rooms_of.get(namespace, {}).get(sid, ()) if room is not None]


class IndexedManager(IndexedRooms, socketio.Manager):
    """The single-process manager ``stage serve`` uses."""
