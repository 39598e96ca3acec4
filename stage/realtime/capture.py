"""``/capture``: capture agents (one per rig) connect with the crew passphrase and their rig's name.

payloads.Health and take states are relayed to the crew console (room ``crew`` on ``/crew``); previews go
to whoever watches the rig (room ``preview:<rig>`` on ``/crew`` and ``/display``). The contract is
``docs/capture.md``.
"""

from __future__ import annotations

import logging
from typing import Any, NoReturn

import socketio as python_socketio
from flask import request
from flask_socketio import ConnectionRefusedError, SocketIO, join_room
from pydantic import ValidationError

from stage.realtime import payloads
from stage.errors import RateLimited
from stage.limiter import log_sometimes
from stage.realtime.base import REFUSAL_LINES, RoleNamespace, handler
from stage.realtime.rooms import CREW, preview_room, rig_room
from stage.web.auth import check_guess

log = logging.getLogger(__name__)

class SocketRigLink:
    """``Recording.link``: a command to one agent socket, waiting (cooperatively) for its ack."""

    def __init__(self, socketio: SocketIO) -> None:
        self._socketio = socketio

    def call(self, sid: str, event: str, data: dict[str, Any], timeout: float) -> Any:
        try:
            return self._socketio.call(event, data, namespace="/capture", to=sid, timeout=timeout, ignore_queue=True)
        except python_socketio.exceptions.TimeoutError:
            raise TimeoutError(event) from None


class CaptureNamespace(RoleNamespace):
    conductor_only = True

    def on_connect(self, auth: Any = None) -> None:
        address = request.remote_addr or "?"
        try:
            creds = payloads.CaptureAuth.model_validate(auth)
        except ValidationError:
            creds = None
        try:
            # The crew passphrase: its guesses count toward /login/crew's lockout from this address (connects
            # are exempt from the event limits, so this path could guess without limit otherwise).
            right = creds is not None and check_guess(address, "crew", creds.token,
                                                      self.night.settings.passphrase("crew"))
        except RateLimited as exc:
            self._refuse(address, exc.code, exc.message)
        if creds is None or not right:  # a missing or malformed auth is refused but is no guess: not counted
            self._refuse(address, "unauthorized", "missing or wrong crew token")
        if not self.night.recording.known(creds.rig):
            self._refuse(address, "unknown_rig", f"the show has no rig '{creds.rig}'")
        join_room(rig_room(creds.rig))
        self.night.recording.connected(request.sid, creds.rig)
        log.info("capture agent for rig %s online (%s)", creds.rig, request.sid)
        self.night.reports.rigs_changed()

    @staticmethod
    def _refuse(address: str, code: str, message: str) -> NoReturn:
        # Throttled per address: an agent (or a guesser) retrying a refused connect is not a log line each.
        log_sometimes(log, REFUSAL_LINES, (address,), "/capture refused %s: %s", address, message)
        raise ConnectionRefusedError(message, {"code": code, "message": message})

    def on_disconnect(self, reason: Any = None) -> None:
        rig = self.night.recording.left(request.sid)
        if rig is not None:
            log.warning("capture agent for rig %s went away (%s); rig is %s", rig, request.sid,
                        self.night.recording.status(rig))
            self.night.reports.rigs_changed()

    def _rig(self) -> str:
        rig = self.night.recording.rig_of(request.sid)
        assert rig is not None, "an agent socket without a rig passed connect"
        return rig

    @handler(payloads.Health)
    def on_health(self, payload: payloads.Health) -> dict[str, Any]:
        rig = self._rig()
        before = self.night.recording.status(rig)
        health = payload.model_dump()
        self.night.recording.report(rig, health)
        self.socketio.emit("rig_health", {"rig": rig, **health}, namespace="/crew", to=CREW, ignore_queue=True)
        if self.night.recording.status(rig) != before:
            self.night.reports.rigs_changed()
        return {}

    @handler(payloads.TakeState)
    def on_take_state(self, payload: payloads.TakeState) -> dict[str, Any]:
        rig = self._rig()
        self.night.recording.take_state(rig, payload.take_id, payload.state, payload.reason)
        because = f" ({payload.reason})" if payload.reason else ""
        (log.warning if payload.state == "failed" else log.info)("rig %s: take %s %s%s", rig, payload.take_id,
                                                                  payload.state, because)
        self.socketio.emit("take_state", {"rig": rig, **payload.model_dump()}, namespace="/crew", to=CREW,
                           ignore_queue=True)
        self.night.reports.rigs_changed()
        return {}

    @handler(payloads.Preview)
    def on_preview(self, payload: payloads.Preview) -> dict[str, Any]:
        rig = self._rig()
        data = {"rig": rig, "jpeg": payload.jpeg}
        # ignore_queue: agents, crew and displays all talk to the conductor (stage/cluster/conductor.py), so a
        # preview (up to 256 KiB, base64'd into JSON by the message queue) need not reach another process.
        self.socketio.emit("preview", data, namespace="/crew", to=preview_room(rig), ignore_queue=True)
        self.socketio.emit("preview", data, namespace="/display", to=preview_room(rig), ignore_queue=True)
        return {}
