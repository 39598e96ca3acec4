"""The night's listener: turns what the domain reports into emits, each naming namespace and room."""

from __future__ import annotations

import logging
from typing import Any

from flask_socketio import SocketIO

from stage.display.heartbeats import BEAT_SECONDS, Heartbeats
from stage.display.scenes import scene_payload
from stage.night import Night
from stage.records import curation, submissions, volunteers
from stage.records.models import Record
from stage.realtime.audience import prompt_public
from stage.realtime.presence import Presence
from stage.realtime.rooms import (CREW, HOSTS, MODERATORS, PHONE_ROOMS, PREVIEW_PREFIX, display_room,
                                  participant_room, preview_room)
from stage.realtime.takes import TakesBroadcast
from stage.show.models import Prompt

log = logging.getLogger(__name__)

COUNTS_INTERVAL = 0.5
FEED_INTERVAL = 1.0


class Broadcaster(TakesBroadcast):
    def __init__(self, socketio: SocketIO, join_url: str) -> None:
        self.socketio = socketio
        self.join_url = join_url
        self._counts_due = False
        self._feed_due = False
        self._feed_dirty: set[str] = set()
        self._feed_removed: set[str] = set()
        self.night: Night | None = None  # set once the night exists (it needs this listener first)
        self.heartbeats = Heartbeats()
        self.presence = Presence()  # this process's sockets: the namespaces fill it, the night reads its counts
        self._stale: dict[str, bool] = {}
        self._closed = False

    def close(self) -> None:
        """The server is stopping (or a test's app is done): batched broadcasts still waiting send
        nothing and read nothing, so none of them reads the store after it closed."""
        self._closed = True

    @property
    def _night(self) -> Night:
        assert self.night is not None, "Broadcaster used before the night was attached"
        return self.night

    # -- NightListener ------------------------------------------------------------------------------

    def record_submitted(self, record: Record) -> None:
        view = curation.moderation_view(self._night.store, record)
        self.socketio.emit("queue_add", {"record": view}, namespace="/moderation", to=MODERATORS)
        self.counts_changed()

    def record_decided(self, record: Record) -> None:
        public = record.public()
        approved = record.status == "approved"
        self.socketio.emit("queue_remove", {"id": record.id, "status": record.status}, namespace="/moderation",
                           to=MODERATORS)
        self.socketio.emit("approved_add" if approved else "approved_remove",
                           {"record": curation.moderation_view(self._night.store, record)} if approved else {"id": record.id},
                           namespace="/moderation", to=MODERATORS)
        if record.participant_id:
            self.socketio.emit("record_status", {"record": public}, namespace="/audience",
                               to=participant_room(record.participant_id))
        if record.kind == "comment":  # comments travel with their record on phones, never to displays
            self.feed_changed(record.sources[0])
        else:
            self._walls_and_feeds(record, approved)
        if not approved:  # crew remixes made from it now read as withdrawn: they leave every screen too
            for remix in curation.remixes_of(self._night.store, record.id):
                self._walls_and_feeds(remix, False)
        self.counts_changed()

    def _walls_and_feeds(self, record: Record, approved: bool) -> None:
        if approved:
            self.feed_changed(record.id)
        else:
            self._feed_removed.add(record.id)
            self.feed_changed(None)
        if approved and record.kind not in curation.WALL_KINDS:
            return
        event, data = (("wall_add", {"record": curation.public_with_lineage(self._night.store, record)}) if approved
                       else ("wall_remove", {"id": record.id}))
        for name, scene in self._night.displays.scenes().items():
            self.socketio.emit(event, data, namespace="/display", to=display_room(name))
            if not approved and scene.get("record") == record.id:  # it leaves a showing display at once
                self.socketio.emit("scene", self.scene_for(name), namespace="/display", to=display_room(name))

    def prompt_changed(self, prompt: Prompt | None) -> None:
        data = {"prompt": prompt_public(prompt)}
        self._to_phones("prompt", data)
        self.socketio.emit("prompt", data, namespace="/host", to=HOSTS)

    def scene_changed(self, display: str, scene: dict[str, Any]) -> None:
        night = self._night
        payload = scene_payload(display, scene, night.store, self.join_url, self.presence.phones, night.show.wifi)
        for sid in self.presence.display_sids(display):
            self.follow_preview(sid, scene)
        self.socketio.emit("scene", payload, namespace="/display", to=display_room(display))
        self.displays_changed()

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

    def feed_changed(self, record_id: str | None) -> None:
        """Phones get feed changes batched, at most every FEED_INTERVAL seconds, one encoded broadcast."""
        if record_id is not None:
            self._feed_dirty.add(record_id)
        if not self._feed_due:
            self._feed_due = True
            self.socketio.start_background_task(self._send_feed)

    def _send_feed(self) -> None:
        self.socketio.sleep(FEED_INTERVAL)
        self._feed_due = False
        if self._closed:
            return
        dirty, removed = self._feed_dirty - self._feed_removed, self._feed_removed
        self._feed_dirty, self._feed_removed = set(), set()
        store = self._night.store
        records = [submissions.get(store, record_id) for record_id in dirty]
        shown = [r for r in records if r is not None and r.status == "approved" and r.kind in curation.FEED_KINDS]
        recs = curation.counts(store, [r.id for r in shown])
        talk = curation.comments(store, [r.id for r in shown])
        # approved_at (server time): how a rehearsal times update delivery from approval to arrival.
        items = [{**curation.public_with_lineage(store, r), "recommendations": recs.get(r.id, 0),
                  "comments": talk.get(r.id, []), "approved_at": r.updated_at} for r in shown]
        gone = sorted(removed | {r.id for r in records if r is not None and r.status != "approved"})
        if items or gone:  # a change to records phones never see (a take, a display-only card) sends nothing
            self._to_phones("feed_update", {"records": items, "removed": gone})

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

    def volunteers_changed(self) -> None:
        self.socketio.emit("volunteers", self.volunteers(), namespace="/host", to=HOSTS)

    def volunteers(self) -> dict[str, Any]:
        return {"volunteers": volunteers.listing(self._night.store)}

    def osc_status(self, target: str, status: dict[str, Any]) -> None:
        """An OSC target went up or down (called from the sender's worker task)."""
        self.socketio.emit("osc", {"targets": self._night.osc.status()}, namespace="/host", to=HOSTS)
        self.socketio.emit("osc", {"targets": self._night.osc.status()}, namespace="/crew", to=CREW)

    def osc_feedback(self, address: str, args: list[Any]) -> None:
        """What a console reports back (Eos /eos/out/...), shown on the host console."""
        data = {"address": address, "args": [a if isinstance(a, (int, float, str, bool)) else str(a) for a in args]}
        self.socketio.emit("osc_feedback", data, namespace="/host", to=HOSTS)

    # -- derived views the namespaces send on connect ----------------------------------------------

    def counts(self) -> dict[str, Any]:
        health = self._night.health()
        return {key: health[key] for key in ("phones", "pending", "displays", "rigs")}

    def counts_changed(self) -> None:
        """Counters change with every join and leave: send them at most every COUNTS_INTERVAL seconds."""
        if self._counts_due:
            return
        self._counts_due = True
        self.socketio.start_background_task(self._send_counts)

    def _send_counts(self) -> None:
        self.socketio.sleep(COUNTS_INTERVAL)
        self._counts_due = False
        if self._closed:
            return
        counts = self.counts()
        self.socketio.emit("counts", counts, namespace="/host", to=HOSTS)
        self.socketio.emit("counts", counts, namespace="/moderation", to=MODERATORS)
        self.socketio.emit("counts", counts, namespace="/crew", to=CREW)
        for display in self._night.show.displays:
            self.socketio.emit("phones", {"count": counts["phones"]}, namespace="/display", to=display_room(display.name))

    def displays(self) -> dict[str, Any]:
        """Each display: connected, answering its heartbeats, the scene it should show and the one it
        says it shows (they differ for a moment after a GO, and for good when a page is stuck)."""
        night = self._night
        out = []
        for name, scene in night.displays.scenes().items():
            online = self.presence.displays_online(name) > 0
            out.append({"name": name, "online": online, "scene": scene["type"],
                        "responding": online and not self.heartbeats.stale(name),
                        "showing": self.heartbeats.showing(name) if online else None})
        return {"displays": out}

    def watch_displays(self) -> None:
        """Background task: tell the host when a connected display stops (or starts again) answering."""
        while True:
            self.socketio.sleep(BEAT_SECONDS)
            night = self._night
            now = {d.name: self.presence.displays_online(d.name) > 0 and self.heartbeats.stale(d.name)
                   for d in night.show.displays}
            if now != self._stale:
                for name in (n for n, stale in now.items() if stale and not self._stale.get(n)):
                    log.warning("display %s is connected but has not answered for %.0f s", name, BEAT_SECONDS * 3)
                self._stale = now
                self.displays_changed()

    def displays_changed(self) -> None:
        self.socketio.emit("displays", self.displays(), namespace="/host", to=HOSTS)
        self.counts_changed()

    def display_problem(self, display: str, message: str) -> None:
        self.socketio.emit("display_problem", {"display": display, "message": message}, namespace="/host", to=HOSTS)

    def scene_for(self, display: str) -> dict[str, Any]:
        night = self._night
        return scene_payload(display, night.displays.scene(display), night.store, self.join_url, self.presence.phones,
                             night.show.wifi)
