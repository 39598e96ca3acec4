"""The crew console's rigs and take library, mixed into ``CrewNamespace``.

Record/stop go to the rig's agent through ``Night.rigs``; circle, trim and delete change the take
in the store, and every crew console gets the new library (``takes``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import request
from flask_socketio import join_room, leave_room
from pydantic import Field

from stage.realtime import payloads
from stage.realtime.base import handler
from stage.realtime.rooms import display_room, preview_room
from stage.errors import NotFound
from stage.records import curation, takes


class RigName(payloads.Payload):
    rig: str = Field(max_length=40)


class WatchPreview(payloads.Payload):
    rig: str = Field(max_length=40)
    on: bool = True


class TakeId(payloads.Payload):
    id: payloads.Uuid


class Circle(payloads.Payload):
    id: payloads.Uuid
    circled: bool = True


class Trim(payloads.Payload):
    id: payloads.Uuid
    in_point: float | int | None = Field(default=None, ge=0)
    out_point: float | int | None = Field(default=None, ge=0)


class TakesMixin:
    """Crew events for rigs and takes (``self`` is a ``CrewNamespace``)."""

    night: Any
    hub: Any
    actor: str

    def send_takes_state(self) -> None:
        self.reply("rigs", self.hub.rigs())  # type: ignore[attr-defined]
        self.reply("takes", self.hub.takes())  # type: ignore[attr-defined]

    @handler(RigName)
    def on_record(self, payload: RigName) -> dict[str, Any]:
        started = self.night.rigs.record(payload.rig, None, self.actor)
        self.hub.rigs_changed()
        return started

    @handler(RigName)
    def on_stop_recording(self, payload: RigName) -> dict[str, Any]:
        stopped = self.night.rigs.stop(payload.rig, self.actor)
        self.hub.rigs_changed()
        return stopped

    @handler(WatchPreview)
    def on_watch_preview(self, payload: WatchPreview) -> dict[str, Any]:
        """Previews cost bandwidth: a console gets a rig's only while it has that preview open."""
        if not self.night.rigs.known(payload.rig):
            raise NotFound(f"the show has no rig '{payload.rig}'", code="unknown_rig")
        (join_room if payload.on else leave_room)(preview_room(payload.rig), sid=request.sid, namespace="/crew")
        return {"watching": payload.on}

    @handler(payloads.Empty)
    def on_takes(self, _: payloads.Empty) -> dict[str, Any]:
        return self.hub.takes()

    @handler(Circle)
    def on_circle_take(self, payload: Circle) -> dict[str, Any]:
        take = takes.circle(self.night.store, payload.id, payload.circled, self.actor)
        self.hub.takes_changed()
        return {"take": take}

    @handler(Trim)
    def on_trim_take(self, payload: Trim) -> dict[str, Any]:
        take = takes.set_points(self.night.store, payload.id, _seconds(payload.in_point), _seconds(payload.out_point),
                                self.actor)
        self.hub.takes_changed()
        return {"take": take}

    @handler(TakeId)
    def on_delete_take(self, payload: TakeId) -> dict[str, Any]:
        takes.delete(self.night.store, payload.id, self.actor)
        self.hub.takes_changed(hidden=[payload.id])
        return {"deleted": payload.id}


def _seconds(value: float | int | None) -> float | None:
    return None if value is None else float(value)


class TakesBroadcast:
    """Broadcaster methods for rigs and takes (mixed into ``Broadcaster``)."""

    socketio: Any
    _night: Any

    def rigs(self) -> dict[str, Any]:
        return {"rigs": self._night.rigs.listing()}

    def rigs_changed(self) -> None:
        self.socketio.emit("rigs", self.rigs(), namespace="/crew", to="crew")
        self.counts_changed()  # type: ignore[attr-defined]

    def takes(self) -> dict[str, Any]:
        return {"takes": takes.library(self._night.store)}

    def take_upload_progress(self, take_id: str, rig: str, received: int) -> None:
        """A chunk of a take arrived: the crew sees the upload move (and stall, if the agent's link does)."""
        self.socketio.emit("take_upload", {"take_id": take_id, "rig": rig, "received": received}, namespace="/crew",
                           to="crew")

    def takes_changed(self, hidden: Sequence[str] = ()) -> None:
        """A take was stored, edited or hidden: crew libraries update; the takes just ``hidden`` (a
        deletion, a withdrawn consent), and the remixes made from them, leave walls, feeds and any
        display showing one."""
        self.socketio.emit("takes", self.takes(), namespace="/crew", to="crew")
        if not hidden:
            return
        store = self._night.store
        hidden = [*hidden, *(r.id for take_id in hidden for r in curation.remixes_of(store, take_id))]
        for name, scene in self._night.displays.scenes().items():
            for take_id in hidden:
                self.socketio.emit("wall_remove", {"id": take_id}, namespace="/display", to=display_room(name))
            if scene.get("record") in hidden:
                self.socketio.emit("scene", self.scene_for(name), namespace="/display",  # type: ignore[attr-defined]
                                   to=display_room(name))
        self._feed_removed.update(hidden)  # type: ignore[attr-defined]
        self.feed_changed(None)  # type: ignore[attr-defined]
