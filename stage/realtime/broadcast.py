"""The night's listener: turns what the domain reports into emits, each naming namespace and room."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_socketio import SocketIO

from stage.records.models import Record
from stage.realtime.audience import prompt_public
from stage.realtime.presence import Presence
from stage.realtime.rooms import (CREW, DISPLAYS, HOSTS, MODERATORS, PHONE_ROOMS, PREVIEW_PREFIX, display_room,
                                  participant_room, preview_room)
from stage.show.models import Prompt

class Broadcaster:
    """The night's listener (``stage.night.listener.NightListener``): every report arrives with its
    payload, built by ``stage.night.reports.Reporter``; this only picks namespace and room."""

    def __init__(self, socketio: SocketIO, presence: Presence) -> None:
        self.socketio = socketio
        self.presence = presence  # to reach the sockets of one display (its preview room)

    def record_submitted(self, record: Record, view: dict[str, Any]) -> None:
        self.socketio.emit("queue_add", {"record": view}, namespace="/moderation", to=MODERATORS)

    def record_decided(self, record: Record, view: dict[str, Any] | None) -> None:
        self.socketio.emit("queue_remove", {"id": record.id, "status": record.status}, namespace="/moderation",
                           to=MODERATORS)
        self.socketio.emit("approved_add" if view is not None else "approved_remove",
                           {"record": view} if view is not None else {"id": record.id},
                           namespace="/moderation", to=MODERATORS)
        if record.participant_id:
            self.socketio.emit("record_status", {"record": record.public()}, namespace="/audience",
                               to=participant_room(record.participant_id))

    def wall_add(self, card: dict[str, Any]) -> None:
        self._to_displays("wall_add", {"record": card})

    def wall_remove(self, ids: Sequence[str]) -> None:
        for record_id in ids:
            self._to_displays("wall_remove", {"id": record_id})

    def _to_displays(self, event: str, data: dict[str, Any]) -> None:
        self.socketio.emit(event, data, namespace="/display", to=DISPLAYS)

    def prompt_changed(self, prompt: Prompt | None) -> None:
        data = {"prompt": prompt_public(prompt)}
        self._to_phones("prompt", data)
        self.socketio.emit("prompt", data, namespace="/host", to=HOSTS)
        self._to_displays("prompt", data)  # an empty wall asks the room for the prompt that is open

    def scene_changed(self, display: str, scene: dict[str, Any], payload: dict[str, Any]) -> None:
        for sid in self.presence.display_sids(display):
            self.follow_preview(sid, scene)
        self.socketio.emit("scene", payload, namespace="/display", to=display_room(display))

    def follow_preview(self, sid: str, scene: dict[str, Any]) -> None:
        """A display in the live scene receives its rig's preview frames (room ``preview:<rig>``); any
        other scene receives none, so a projector never decodes frames it does not show."""
        server = self.socketio.server
        for room in list(server.rooms(sid, namespace="/display")):
            if isinstance(room, str) and room.startswith(PREVIEW_PREFIX) and room != preview_room(scene.get("rig")):
                server.leave_room(sid, room, namespace="/display")
        if scene.get("type") == "live":
            server.enter_room(sid, preview_room(scene["rig"]), namespace="/display")

    def cues_changed(self, snapshot: dict[str, Any]) -> None:
        self.socketio.emit("cues", snapshot, namespace="/host", to=HOSTS)
        self.socketio.emit("cues", snapshot, namespace="/crew", to=CREW)

    def feed_update(self, items: list[dict[str, Any]], removed: list[str]) -> None:
        self._to_phones("feed_update", {"records": items, "removed": removed})

    def _to_phones(self, event: str, data: dict[str, Any]) -> None:
        """One emit per slice of the phones (encoded once per slice), yielding between slices: the writes
        of a slice go out before the next is queued, and acks and other events interleave with them
        instead of waiting behind thousands of writes."""
        for room in PHONE_ROOMS:
            self.socketio.emit(event, data, namespace="/audience", to=room)
            self.socketio.sleep(0)

    def upload_progress(self, participant_id: str, record_id: str, fraction: float) -> None:
        self.socketio.emit("upload_progress", {"id": record_id, "fraction": round(fraction, 3)},
                           namespace="/audience", to=participant_room(participant_id))

    def volunteers_changed(self, listing: list[dict[str, Any]]) -> None:
        self.socketio.emit("volunteers", {"volunteers": listing}, namespace="/host", to=HOSTS)

    def osc_status(self, targets: dict[str, Any]) -> None:
        """An OSC target went up or down (called from the sender's worker task, with every target's state)."""
        self.socketio.emit("osc", {"targets": targets}, namespace="/host", to=HOSTS)
        self.socketio.emit("osc", {"targets": targets}, namespace="/crew", to=CREW)

    def osc_feedback(self, address: str, args: list[Any]) -> None:
        """What a console reports back (Eos /eos/out/...), shown on the host console."""
        data = {"address": address, "args": [a if isinstance(a, (int, float, str, bool)) else str(a) for a in args]}
        self.socketio.emit("osc_feedback", data, namespace="/host", to=HOSTS)

    def counts_changed(self, counts: dict[str, Any]) -> None:
        self.socketio.emit("counts", counts, namespace="/host", to=HOSTS)
        self.socketio.emit("counts", counts, namespace="/moderation", to=MODERATORS)
        self.socketio.emit("counts", counts, namespace="/crew", to=CREW)
        self._to_displays("phones", {"count": counts["phones"]})

    def displays_changed(self, displays: list[dict[str, Any]]) -> None:
        self.socketio.emit("displays", {"displays": displays}, namespace="/host", to=HOSTS)

    def display_problem(self, display: str, message: str) -> None:
        self.socketio.emit("display_problem", {"display": display, "message": message}, namespace="/host", to=HOSTS)

    def rigs_changed(self, listing: list[dict[str, Any]]) -> None:
        self.socketio.emit("rigs", {"rigs": listing}, namespace="/crew", to=CREW)

    def takes_changed(self, library: list[dict[str, Any]]) -> None:
        self.socketio.emit("takes", {"takes": library}, namespace="/crew", to=CREW)

    def take_upload_progress(self, take_id: str, rig: str, received: int) -> None:
        """A chunk of a take arrived: the crew sees the upload move (and stall, if the agent's link does)."""
        self.socketio.emit("take_upload", {"take_id": take_id, "rig": rig, "received": received}, namespace="/crew",
                           to=CREW)

    def dmx_changed(self, status: dict[str, Any]) -> None:
        """Stage's DMX out: a node went up or down, or the grand master moved (never per frame)."""
        self.socketio.emit("dmx", status, namespace="/host", to=HOSTS)

    def book_changed(self, book: dict[str, Any]) -> None:
        self.socketio.emit("book", book, namespace="/crew", to=CREW)

    def archive_progress(self, progress: dict[str, Any]) -> None:
        """The night's archive for the host console: one event per step read (a few a second at most)."""
        self.socketio.emit("archive_progress", progress, namespace="/host", to=HOSTS)
