"""``/display``: projectors, by per-display key (capture agents are in ``capture.py``)."""

from __future__ import annotations

import logging
from typing import Any

from flask import request
from flask_socketio import ConnectionRefusedError, join_room
from pydantic import BaseModel, ValidationError

from stage.realtime import payloads
from stage.realtime.base import RoleNamespace, handler
from stage.realtime.rooms import display_room

log = logging.getLogger(__name__)


def _credentials(model: type[BaseModel], auth: Any) -> Any:
    try:
        return model.model_validate(auth)
    except ValidationError:
        return None


class DisplayNamespace(RoleNamespace):
    def on_connect(self, auth: Any = None) -> None:
        creds = _credentials(payloads.DisplayAuth, auth)
        if creds is None or not self.night.check_display_key(creds.name, creds.key):
            log.warning("/display refused %s: unknown display or wrong key", request.remote_addr)
            raise ConnectionRefusedError("unknown display or wrong key")
        join_room(display_room(creds.name))
        self.hub.presence.display_connected(request.sid, creds.name)
        self.hub.heartbeats.connected(creds.name)
        log.info("display %s online (%s)", creds.name, request.sid)
        scene = self.night.displays.scene(creds.name)
        self.hub.follow_preview(request.sid, scene)
        self.reply("scene", self.hub.scene_for(creds.name))
        self.hub.displays_changed()

    def on_disconnect(self, reason: Any = None) -> None:
        self.hub.presence.left(request.sid)
        self.hub.displays_changed()

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
        was = (self.hub.heartbeats.stale(name), self.hub.heartbeats.showing(name))
        self.hub.heartbeats.beat(name, payload.scene, payload.scene_id)
        if was != (False, payload.scene):
            self.hub.displays_changed()
        return {"scene_id": self.night.displays.scene(name).get("id")}

    @handler(payloads.MediaEnded)
    def on_media_ended(self, payload: payloads.MediaEnded) -> dict[str, Any]:
        """The media scene's clip or take reached its end: the scene's end action runs (once)."""
        name = self.hub.presence.display_of(request.sid)
        if name is None:
            return {}
        scene = self.night.displays.media_ended(name, payload.scene_id, f"display:{name}")
        return {"scene": scene["type"] if scene else None}

