"""Broadcasts to phones go out slice by slice with a yield between slices, so an ack that becomes
ready during a fan-out to thousands of phones waits for one slice of writes, not for all of them."""

from __future__ import annotations

import collections
import uuid

from stage.realtime.rooms import PHONE_ROOMS, phone_room
from stage.realtime.broadcast import Broadcaster
from stage.realtime.presence import Presence


class RecordingSocketIO:
    """Records the order of emits and yields: the part of Flask-SocketIO this check is about."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def emit(self, event, data, namespace=None, to=None):
        self.calls.append(("emit", event, namespace, to))

    def sleep(self, seconds):
        self.calls.append(("sleep", seconds))


def test_every_slice_gets_the_broadcast_with_a_yield_after_each():
    socketio = RecordingSocketIO()
    Broadcaster(socketio, Presence()).feed_update([], [])
    emits = [c for c in socketio.calls if c[0] == "emit"]
    assert [c[3] for c in emits] == list(PHONE_ROOMS), "each slice room once, none missed"
    assert all(c[1:3] == ("feed_update", "/audience") for c in emits)
    assert socketio.calls == [c for e in emits for c in (e, ("sleep", 0))], "a yield after every slice"


def test_phones_spread_over_the_slices():
    counts = collections.Counter(phone_room(uuid.uuid4().hex[:20]) for _ in range(16_000))
    assert set(counts) == set(PHONE_ROOMS)
    assert max(counts.values()) < 2 * min(counts.values()), f"uneven slices: {counts}"
