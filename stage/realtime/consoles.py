"""``/host``, ``/moderation`` and ``/crew``: the consoles. Each refuses a connection without its login.

The host may do everything (its page uses ``/host`` and ``/moderation``); a moderator has only
``/moderation``, so cannot GO; the crew has ``/crew``, so cannot approve.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, NoReturn

from flask import request
from flask_socketio import ConnectionRefusedError, SocketIO, join_room

from stage.errors import NotFound
from stage.realtime import payloads
from stage.realtime.audience import prompt_public
from stage.limiter import log_sometimes
from stage.realtime.base import REFUSAL_LINES, RoleNamespace, error_ack, handler
from stage.realtime.book import BookEvents
from stage.realtime.remix import RemixEvents
from stage.realtime.rooms import CREW, HOSTS, MODERATORS
from stage.realtime.takes import TakesMixin
from stage.records import audit_log, curation, moderation, volunteers
from stage.records.sessions import ConsoleSession, ConsoleSessions
from stage.web.auth import console_session, has_session_cookie

log = logging.getLogger(__name__)

SESSION_ENDED = "your session has ended (logged out, expired or the passphrase changed); log in again"
SWEEP_SECONDS = 5  # how often connected consoles' sessions are re-checked (a handful of indexed reads)


class ConsoleNamespace(RoleNamespace):
    conductor_only = True
    roles: frozenset[str] = frozenset()
    room = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._consoles: dict[str, ConsoleSession] = {}  # sid -> the session it connected with

    def on_connect(self, auth: Any = None) -> None:
        console = console_session()
        if console is None or console.role not in self.roles:
            self._refuse(console)
        join_room(self.room)
        self._consoles[request.sid] = console
        log.info("%s console connected to %s (%s)", console.role, self.namespace, request.sid)
        self.reply("counts", self.night.counts())
        self.send_state()

    def _refuse(self, console: ConsoleSession | None) -> NoReturn:
        # The message stays "log in first" (the pages send the browser to the login form on it); the
        # data says why, for a console that wants to tell "logged out" from "never logged in".
        wanted = "/".join(sorted(self.roles))
        if console is not None:
            code, message = "wrong_role", f"{self.namespace} needs a {wanted} login"
        elif has_session_cookie():
            code, message = "session_ended", SESSION_ENDED
        else:
            code, message = "not_logged_in", f"{self.namespace} needs a {wanted} login"
        # Throttled per remote address (a refused connect has no connection to key by): a page reloading
        # or a script reconnecting in a loop wrote one WARNING per try.
        address = request.remote_addr or "?"
        log_sometimes(log, REFUSAL_LINES, (address,), "%s refused a connection from %s without a %s login (%s)",
                      self.namespace, address, wanted, code)
        raise ConnectionRefusedError("log in first", {"code": code, "message": message})

    def on_disconnect(self, reason: Any = None) -> None:
        self._consoles.pop(request.sid, None)

    def trigger_event(self, event: str, *args: Any) -> Any:
        # Every console event re-checks the session in the store: a socket that logout could not reach
        # (another process) or whose session expired while connected can do nothing more.
        sid = args[0] if args else "?"
        if event in ("connect", "disconnect"):
            return super().trigger_event(event, *args)
        console = self._consoles.get(sid)
        if console is None:  # its end is already under way: refused, without ending it again
            return error_ack("session_ended", SESSION_ENDED)
        if self.night.sessions.by_key(console.key) is None:
            log.warning("%s refused %r from %s: its session has ended; disconnecting", self.namespace, event, sid)
            self._consoles.pop(sid, None)
            self.socketio.start_background_task(self._end, sid)  # after the ack, so the console reads why
            return error_ack("session_ended", SESSION_ENDED)
        return super().trigger_event(event, *args)

    def end_sessions(self, ended: Callable[[ConsoleSession], bool]) -> int:
        """Tell and disconnect every socket of this process whose session ``ended``; how many."""
        sids = [sid for sid, console in list(self._consoles.items()) if ended(console)]
        for sid in sids:
            self._consoles.pop(sid, None)
            self._end(sid)
        return len(sids)

    def _end(self, sid: str) -> None:
        self.socketio.emit("session_ended", {"message": SESSION_ENDED}, namespace=self.namespace, to=sid,
                          ignore_queue=True)  # the sid is this process's own
        self.socketio.server.disconnect(sid, namespace=self.namespace)

    def send_state(self) -> None:
        """What this console needs on (re)connect, to be in sync with every other console."""

    @property
    def actor(self) -> str:
        console = self._consoles.get(request.sid)
        return f"{console.role if console else '?'}:{request.sid[:8]}"


class SessionLink:
    """Ends console sockets whose session ended: at once on this process's logouts
    (``ConsoleSessions.on_revoked``), and within ``SWEEP_SECONDS`` for a session that expired while
    connected or was revoked by another process sharing the store (``watch``)."""

    def __init__(self, socketio: SocketIO, sessions: ConsoleSessions, consoles: list[ConsoleNamespace]) -> None:
        self.socketio = socketio
        self.sessions = sessions
        self.consoles = consoles

    def revoked(self, keys: list[str]) -> None:
        gone = set(keys)
        self._end(lambda console: console.key in gone, "logged out")

    def watch(self) -> None:
        while True:
            self.socketio.sleep(SWEEP_SECONDS)
            try:
                self._end(lambda console: self.sessions.by_key(console.key) is None, "ended")
            except Exception:  # a store hiccup must not end the watch for the rest of the night
                log.exception("checking the console sessions failed; trying again in %ds", SWEEP_SECONDS)

    def _end(self, ended: Callable[[ConsoleSession], bool], why: str) -> None:
        for namespace in self.consoles:
            count = namespace.end_sessions(ended)
            if count:
                log.info("%s: %d socket(s) of a session that %s disconnected", namespace.namespace, count, why)


class HostNamespace(ConsoleNamespace):
    roles = frozenset({"host"})
    room = HOSTS

    def send_state(self) -> None:
        self.reply("cues", self.night.engine.snapshot())
        self.reply("prompt", {"prompt": prompt_public(self.night.prompts.current)})
        self.reply("displays", {"displays": self.night.reports.display_states()})
        self.reply("osc", {"targets": self.night.osc.status()})
        if self.night.lights is not None:
            self.reply("dmx", self.night.lights.status())
        self.reply("volunteers", {"volunteers": volunteers.listing(self.night.store)})

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

    @handler(payloads.GrandMaster)
    def on_grand_master(self, payload: payloads.GrandMaster) -> dict[str, Any]:
        if self.night.lights is None:
            raise NotFound("this show has no dmx: section: Stage drives no lights itself")
        return {"grand_master": self.night.lights.set_grand_master(payload.level, self.actor)}

    @handler(payloads.SendToDisplay)
    def on_send_to_display(self, payload: payloads.SendToDisplay) -> dict[str, Any]:
        return {"scene": self.night.moderation.send_to_display(payload.display, payload.record, self.actor)}

    @handler(payloads.AuditQuery)
    def on_audit(self, payload: payloads.AuditQuery) -> dict[str, Any]:
        # Names for the ids the log keeps (phones, records, takes, cues): the host reads who did what.
        cues = {cue.id: cue.name for cue in self.night.show.flat_cues()}
        return {"entries": audit_log.entries(self.night.store, payload.action, payload.limit, cues)}


class ModerationNamespace(ConsoleNamespace):
    roles = frozenset({"host", "moderator"})
    room = MODERATORS

    def send_state(self) -> None:
        store = self.night.store
        self.reply("queue", {"records": [curation.moderation_view(store, r) for r in moderation.pending(store)]})
        self.reply("approved", {"records": [curation.moderation_view(store, r) for r in moderation.approved(store)]})

    @handler(payloads.Moderate)
    def on_moderate(self, payload: payloads.Moderate) -> dict[str, Any]:
        record = self.night.moderation.decide(payload.id, payload.decision, self.actor, payload.reason)
        return {"record": curation.moderation_view(self.night.store, record)}

    @handler(payloads.Ban)
    def on_ban(self, payload: payloads.Ban) -> dict[str, Any]:
        return {"rejected": self.night.moderation.ban(payload.participant, self.actor)}


class CrewNamespace(BookEvents, RemixEvents, TakesMixin, ConsoleNamespace):
    roles = frozenset({"crew", "host"})
    room = CREW

    def send_state(self) -> None:
        self.reply("cues", self.night.engine.snapshot())
        self.send_takes_state()
