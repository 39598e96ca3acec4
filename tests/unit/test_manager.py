"""The indexed client manager (stage/realtime/manager.py) keeps upstream's rooms exactly: random sequences of
connects, room entries, leaves, closed rooms and disconnects give the same room tables as python-socketio's own
manager, and each client's rooms read the same; and a disconnect no longer walks every room of the namespace."""

from __future__ import annotations

import socketio
from hypothesis import given, settings
from hypothesis import strategies as st

from stage.realtime.manager import IndexedManager

SIDS = [f"s{i}" for i in range(6)]
ROOMS = ["wall", "participant:a", "participant:b", "host"]
NAMESPACES = ["/audience", "/host"]

operation = st.one_of(
    st.tuples(st.just("connect"), st.sampled_from(SIDS), st.sampled_from(NAMESPACES)),
    st.tuples(st.just("enter"), st.sampled_from(SIDS), st.sampled_from(NAMESPACES), st.sampled_from(ROOMS)),
    st.tuples(st.just("leave"), st.sampled_from(SIDS), st.sampled_from(NAMESPACES), st.sampled_from(ROOMS)),
    st.tuples(st.just("close"), st.sampled_from(ROOMS), st.sampled_from(NAMESPACES)),
    st.tuples(st.just("disconnect"), st.sampled_from(SIDS), st.sampled_from(NAMESPACES)),
    st.tuples(st.just("callback"), st.sampled_from(SIDS)),
)


def apply(manager: socketio.Manager, op: tuple) -> None:
    kind = op[0]
    if kind == "connect":  # as pre_connect does it, with a fixed sid
        _, sid, ns = op
        if sid in manager.rooms.get(ns, {}).get(None, {}):
            return
        manager.basic_enter_room(sid, ns, None, eio_sid=f"e-{sid}")
        manager.basic_enter_room(sid, ns, sid, eio_sid=f"e-{sid}")
        manager.pending_connect.setdefault(ns, []).append(sid)
    elif kind == "enter":
        _, sid, ns, room = op
        if sid in manager.rooms.get(ns, {}).get(None, {}):
            manager.basic_enter_room(sid, ns, room)
    elif kind == "leave":
        manager.basic_leave_room(op[1], op[2], op[3])
    elif kind == "close":
        manager.basic_close_room(op[1], op[2])
    elif kind == "disconnect":
        manager.basic_disconnect(op[1], op[2])
    else:
        manager.callbacks[op[1]] = {1: print}


def table(manager: socketio.Manager) -> dict:
    return {ns: {room: dict(members) for room, members in rooms.items()} for ns, rooms in manager.rooms.items()}


@settings(max_examples=300, deadline=None)
@given(st.lists(operation, max_size=40))
def test_every_sequence_leaves_the_same_rooms_as_upstream_s_manager(ops):
    upstream, indexed = socketio.Manager(), IndexedManager()
    for op in ops:
        apply(upstream, op)
        apply(indexed, op)
        assert table(indexed) == table(upstream), op
        assert indexed.callbacks == upstream.callbacks and indexed.pending_connect == upstream.pending_connect
        for ns in NAMESPACES:
            for sid in SIDS:
                assert sorted(indexed.get_rooms(sid, ns), key=str) == sorted(upstream.get_rooms(sid, ns), key=str)


class CountingRooms(dict):
    """A namespace's room table that counts the walks over all of it (upstream copies it per disconnect)."""

    walks = 0

    def copy(self):
        CountingRooms.walks += 1
        return super().copy()

    def items(self):
        CountingRooms.walks += 1
        return super().items()


def test_a_disconnect_does_not_walk_every_room_of_the_namespace():
    manager = IndexedManager()
    for i in range(200):
        apply(manager, ("connect", f"p{i}", "/audience"))
        apply(manager, ("enter", f"p{i}", "/audience", f"participant:{i}"))
    manager.rooms["/audience"] = CountingRooms(manager.rooms["/audience"])
    CountingRooms.walks = 0
    for i in range(200):
        manager.basic_disconnect(f"p{i}", "/audience")
        manager.get_rooms(f"p{(i + 1) % 200}", "/audience")
    assert CountingRooms.walks == 0
    assert "/audience" not in manager.rooms or not manager.rooms["/audience"]
