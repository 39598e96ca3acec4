"""``/display``: projectors, by per-display key (capture agents are in ``capture.py``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import request
from flask_socketio import ConnectionRefusedError, SocketIO, join_room
from pydantic import BaseModel, ValidationError

from stage.display.heartbeats import BEAT_SECONDS
from stage.errors import StoreError
from stage.night import Night
from stage.realtime import payloads
from stage.realtime.base import RoleNamespace, handler
from stage.realtime.rooms import DISPLAYS, display_room

log = logging.getLogger(__name__)


def _credentials(model: type[BaseModel], auth: Any) -> Any:
    try:
        return model.model_validate(auth)
    except ValidationError:
        return None


class DisplayNamespace(RoleNamespace):
    conductor_only = True

    def on_connect(self, auth: Any = None) -> None:
        creds = _credentials(payloads.DisplayAuth, auth)
        if creds is None or not self.night.check_display_key(creds.name, creds.key):
            log.warning("/display refused %s: unknown display or wrong key", request.remote_addr)
            raise ConnectionRefusedError("unknown display or wrong key")
        join_room(display_room(creds.name))
        join_room(DISPLAYS)
        self.hub.presence.display_connected(request.sid, creds.name)
        self.night.reports.heartbeats.connected(creds.name)
        log.info("display %s online (%s)", creds.name, request.sid)
        scene = self.night.displays.scene(creds.name)
        self.hub.follow_preview(request.sid, scene)
        self.reply("scene", self.night.reports.scene_payload(creds.name, scene))
        self.night.reports.displays_changed()

    def on_disconnect(self, reason: Any = None) -> None:
        self.hub.presence.left(request.sid)
        self.night.reports.displays_changed()

    @handler(payloads.DisplayProblem)
    def on_problem(self, payload: payloads.DisplayProblem) -> dict[str, Any]:
        """A display could not show something (a media file that fails to load): tell the host."""
        name = self.hub.presence.display_of(request.sid)
        if name is None:
            return {}
        log.warning("display %s reports: %s", name, payload.message)
        self.hub.display_problem(name, payload.message)
        return {}

    @handler(payloads.DisplayHeartbeat)
    def on_heartbeat(self, payload: payloads.DisplayHeartbeat) -> dict[str, Any]:
        """Every few seconds: the page is alive and shows this scene (the host sees both)."""
        name = self.hub.presence.display_of(request.sid)
        if name is None:
            return {}
        was = (self.night.reports.heartbeats.stale(name), self.night.reports.heartbeats.showing(name))
        self.night.reports.heartbeats.beat(name, payload.scene, payload.scene_id)
        if was != (False, payload.scene):
            self.night.reports.displays_changed()
        return {"scene_id": self.night.displays.scene(name).get("id")}

    @handler(payloads.MediaEnded)
    def on_media_ended(self, payload: payloads.MediaEnded) -> dict[str, Any]:
        """The media scene's clip or take reached its end: the scene's end action runs (once)."""
        name = self.hub.presence.display_of(request.sid)
        if name is None:
            return {}
        scene = self.night.displays.media_ended(name, payload.scene_id, f"display:{name}")
        return {"scene": scene["type"] if scene else None}


def display_watcher(socketio: SocketIO, night: Night) -> Callable[[], None]:
    """A loop that runs while the server serves: tell the host when a connected display stops (or
    starts again) answering its heartbeats."""

    def watch() -> None:
        stale: dict[str, bool] = {}
        while True:
            socketio.sleep(BEAT_SECONDS)
            now = night.reports.stale_displays()
            if now != stale:
                for name in (n for n, is_stale in now.items() if is_stale and not stale.get(n)):
                    log.warning("display %s is connected but has not answered for %.0f s", name, BEAT_SECONDS * 3)
                try:
                    night.reports.displays_changed()  # reads the scenes: the store may be away for a while
                except StoreError as exc:
                    log.warning("display states not sent: %s", exc.message)
                    continue  # stale stays as it was: the next beat tries again
                stale = now

    return watch
