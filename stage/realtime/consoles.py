"""``/host`` and ``/crew``: the consoles. Both refuse a connection without a logged-in session."""

from __future__ import annotations

import logging
from typing import Any

from flask import request, session
from flask_socketio import ConnectionRefusedError, emit, join_room

from stage.realtime import payloads
from stage.realtime.audience import prompt_public
from stage.realtime.base import RoleNamespace, handler
from stage.records import moderation

log = logging.getLogger(__name__)

HOSTS = "hosts"
MODERATORS = "moderators"
CREW = "crew"


class ConsoleNamespace(RoleNamespace):
    roles: frozenset[str] = frozenset()
    rooms: tuple[str, ...] = ()

    def on_connect(self, auth: Any = None) -> None:
        role = session.get("role")
        if role not in self.roles:
            log.warning("%s refused a connection from %s without a %s login", self.namespace, request.remote_addr,
                        "/".join(sorted(self.roles)))
            raise ConnectionRefusedError("log in first")
        for room in self.rooms:
            join_room(room)
        log.info("%s console connected (%s)", role, request.sid)
        emit("cues", self.night.engine.snapshot())
        emit("counts", self.hub.counts())

    @property
    def actor(self) -> str:
        return f"{session.get('role')}:{request.sid[:8]}"


class HostNamespace(ConsoleNamespace):
    roles = frozenset({"host"})
    rooms = (HOSTS, MODERATORS)

    def on_connect(self, auth: Any = None) -> None:
        super().on_connect(auth)
        emit("queue", {"records": [r.public() for r in moderation.pending(self.night.store)]})
        emit("prompt", {"prompt": prompt_public(self.night.prompts.current)})
        emit("displays", self.hub.displays())

    @handler(payloads.Moderate)
    def on_moderate(self, payload: payloads.Moderate) -> dict[str, Any]:
        record = self.night.decide(payload.id, payload.decision, self.actor, payload.reason)
        return {"record": record.public()}

    @handler()
    def on_go(self) -> dict[str, Any]:
        return {"fired": self.night.engine.go(self.actor)}


class CrewNamespace(ConsoleNamespace):
    roles = frozenset({"crew", "host"})
    rooms = (CREW,)
