"""``/host``, ``/moderation`` and ``/crew``: the consoles. Each refuses a connection without its login.

The host may do everything (its page uses ``/host`` and ``/moderation``); a moderator has only
``/moderation``, so cannot GO; the crew has ``/crew``, so cannot approve.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import request, session
from flask_socketio import ConnectionRefusedError, join_room

from stage.realtime import payloads
from stage.realtime.audience import prompt_public
from stage.realtime.base import RoleNamespace, handler
from stage.realtime.remix import RemixEvents
from stage.realtime.takes import TakesMixin
from stage.records import audit_log, curation, moderation
from stage.web.auth import current_role

log = logging.getLogger(__name__)

HOSTS = "hosts"
MODERATORS = "moderators"
CREW = "crew"


class ConsoleNamespace(RoleNamespace):
    roles: frozenset[str] = frozenset()
    room = ""

    def on_connect(self, auth: Any = None) -> None:
        role = current_role()
        if role not in self.roles:
            log.warning("%s refused a connection from %s without a %s login", self.namespace, request.remote_addr,
                        "/".join(sorted(self.roles)))
            raise ConnectionRefusedError("log in first")
        join_room(self.room)
        log.info("%s console connected to %s (%s)", role, self.namespace, request.sid)
        self.reply("counts", self.hub.counts())
        self.send_state()

    def send_state(self) -> None:
        """What this console needs on (re)connect, to be in sync with every other console."""

    @property
    def actor(self) -> str:
        return f"{session.get('role')}:{request.sid[:8]}"


class HostNamespace(ConsoleNamespace):
    roles = frozenset({"host"})
    room = HOSTS

    def send_state(self) -> None:
        self.reply("cues", self.night.engine.snapshot())
        self.reply("prompt", {"prompt": prompt_public(self.night.prompts.current)})
        self.reply("displays", self.hub.displays())
        self.reply("osc", {"targets": self.night.osc.status()})
        self.reply("volunteers", self.hub.volunteers())

    @handler(payloads.Empty)
    def on_go(self, _: payloads.Empty) -> dict[str, Any]:
        return {"fired": self.night.engine.go(self.actor)}

    @handler(payloads.Empty)
    def on_back(self, _: payloads.Empty) -> dict[str, Any]:
        return {"standby": self.night.engine.back(self.actor)}

    @handler(payloads.Jump)
    def on_jump(self, payload: payloads.Jump) -> dict[str, Any]:
        return {"standby": self.night.engine.jump(payload.cue, self.actor)}

    @handler(payloads.Empty)
    def on_stop(self, _: payloads.Empty) -> dict[str, Any]:
        return {"stopped": self.night.engine.stop(self.actor)}

    @handler(payloads.Empty)
    def on_panic(self, _: payloads.Empty) -> dict[str, Any]:
        return {"panic": self.night.engine.panic(self.actor)}

    @handler(payloads.SendToDisplay)
    def on_send_to_display(self, payload: payloads.SendToDisplay) -> dict[str, Any]:
        return {"scene": self.night.send_to_display(payload.display, payload.record, self.actor)}

    @handler(payloads.AuditQuery)
    def on_audit(self, payload: payloads.AuditQuery) -> dict[str, Any]:
        return {"entries": audit_log.entries(self.night.store, payload.action, payload.limit)}


class ModerationNamespace(ConsoleNamespace):
    roles = frozenset({"host", "moderator"})
    room = MODERATORS

    def send_state(self) -> None:
        store = self.night.store
        self.reply("queue", {"records": [curation.moderation_view(store, r) for r in moderation.pending(store)]})
        self.reply("approved", {"records": [curation.moderation_view(store, r) for r in moderation.approved(store)]})

    @handler(payloads.Moderate)
    def on_moderate(self, payload: payloads.Moderate) -> dict[str, Any]:
        record = self.night.decide(payload.id, payload.decision, self.actor, payload.reason)
        return {"record": curation.moderation_view(self.night.store, record)}

    @handler(payloads.Ban)
    def on_ban(self, payload: payloads.Ban) -> dict[str, Any]:
        return {"rejected": self.night.ban(payload.participant, self.actor)}


class CrewNamespace(RemixEvents, TakesMixin, ConsoleNamespace):
    roles = frozenset({"crew", "host"})
    room = CREW

    def send_state(self) -> None:
        self.reply("cues", self.night.engine.snapshot())
        self.send_takes_state()
