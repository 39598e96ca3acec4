"""What every role's namespace shares: a validated handler decorator and refusal of unknown events.

Every handler answers with an ack: ``{"ok": true, ...}`` or ``{"ok": false, "error": {code, message}}``.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import current_app, request
from flask_socketio import ConnectionRefusedError, Namespace
from limits import RateLimitItem
from limits import parse as parse_limit
from pydantic import BaseModel, ValidationError

from stage import metrics
from stage.errors import StageError, StoreError
from stage.limiter import MovingWindowLimiter, log_sometimes
from stage.night import Night
from stage.realtime import transport

if TYPE_CHECKING:
    from stage.realtime.broadcast import Broadcaster

log = logging.getLogger(__name__)
# Refusals are logged per connection at most this often: a hostile phone sending bad payloads at its
# event limit wrote ~225 lines a second (1.2 MB in 30 s, bench/hostile_phone.py) with one line each.
REFUSAL_LINES = parse_limit("10 per minute")  # per connection (connect refusals: per address)
NOT_CONDUCTOR = "this server process does not run the show now; reconnect"
_FLOOD_LINES = parse_limit("1 per minute")  # "is flooding": one line per flooding connection a minute


def error_ack(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"code": code, "message": message}}


def _validation_message(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "payload"
    return f"{where}: {first['msg']}"


def handler(model: type[BaseModel]) -> Callable:
    """Validate the payload with ``model`` (no payload counts as ``{}``) and turn the outcome into an ack."""

    def decorate(fn: Callable) -> Callable:
        event = fn.__name__.removeprefix("on_")  # a handler's name: metrics labels stay bounded by the code

        @functools.wraps(fn)
        def wrapper(self: "RoleNamespace", *args: Any) -> dict[str, Any]:
            started = time.perf_counter()
            ack = answer(self, *args)
            metrics.observe_ack(current_app.extensions, self.namespace, event, time.perf_counter() - started, ack)
            return ack

        def answer(self: "RoleNamespace", *args: Any) -> dict[str, Any]:
            try:
                result = fn(self, model.model_validate(args[0] if args else {}))
            except ValidationError as exc:
                log_sometimes(log, REFUSAL_LINES, (request.sid,), "%s %s from %s refused: invalid payload",
                              self.namespace, event, request.sid, level=logging.INFO)
                return error_ack("invalid_payload", _validation_message(exc))
            except StageError as exc:
                # A refused phone is routine; a store that cannot save (the database down) is the operator's.
                log_sometimes(log, REFUSAL_LINES, (request.sid,), "%s %s from %s refused: %s", self.namespace, event,
                              request.sid, exc.message,
                              level=logging.WARNING if isinstance(exc, StoreError) else logging.INFO)
                return exc.as_ack()
            except Exception:
                log.exception("%s %s from %s failed", self.namespace, event, request.sid)
                return error_ack("internal", "the server could not do that; the crew has been told in the log")
            return {"ok": True, **(result or {})}

        return wrapper

    return decorate


class RoleNamespace(Namespace):
    """A namespace for one role. Events it does not define are refused with an error ack."""

    event_limit: RateLimitItem | None = None  # per connection, every event
    # Consoles, displays and agents talk to the one process that runs the show (stage/cluster/conductor.py);
    # another process refuses them with ``not_conductor``, and their clients reconnect through the proxy.
    conductor_only = False

    def __init__(self, namespace: str, night: Night, hub: "Broadcaster") -> None:
        super().__init__(namespace)
        self.night = night
        self.hub = hub
        self._connected: set[str] = set()  # sids whose real connect has run (this process's sockets)
        # This namespace's rate windows (not limits.MemoryStorage: see stage/limiter.py); per instance, so
        # two apps in one process (the in-process test tier) never share them.
        self._limiter = MovingWindowLimiter()

    def trigger_event(self, event: str, *args: Any) -> Any:
        # Runs before Flask-SocketIO pushes the request context: the sid is the first argument.
        sid = args[0] if args else "?"
        own = event in ("connect", "disconnect")
        # The event limit comes first, so unknown events count against it too (they were free before).
        if self.event_limit is not None and not own and not self._limiter.hit(self.event_limit, self.namespace, sid):
            log_sometimes(log, _FLOOD_LINES, (sid,), "%s: %s is flooding (over %s); refusing its events",
                          self.namespace, sid, self.event_limit)
            return error_ack("rate_limited", "too many actions at once; wait a moment")
        if self._spoofed(event, sid) or (not own and not hasattr(self, f"on_{event}")):
            log_sometimes(log, REFUSAL_LINES, (sid,), "%s refused unknown event %r from %s", self.namespace,
                          event[:80], sid)
            return error_ack("unknown_event", f"'{event[:80]}' is not an event of {self.namespace}")
        if event == "connect":
            if self.conductor_only and not self.night.conducting():
                raise ConnectionRefusedError(NOT_CONDUCTOR, {"code": "not_conductor", "message": NOT_CONDUCTOR})
            self._connected.add(sid)
        elif event == "disconnect":
            self._connected.discard(sid)
        result = super().trigger_event(event, *args)
        if event == "connect" and result is not False:  # accepted: the namespace's message cap applies
            transport.grant_for_namespace(self.socketio, sid, self.namespace)
        return result

    def reply(self, event: str, data: Any) -> None:
        """Emit to the client whose event or connect is being handled (namespace and room named)."""
        # ignore_queue: the client is this process's own, so the message queue (if any) need not carry it.
        self.socketio.emit(event, data, namespace=self.namespace, to=request.sid, ignore_queue=True)

    def _spoofed(self, event: str, sid: str) -> bool:
        """A client may send events named connect/disconnect; only the server's own ones count.

        A real connect is the first for its sid; during a real disconnect the manager already
        reports the sid as disconnecting.
        """
        if event == "connect":
            return sid in self._connected
        if event == "disconnect":
            return bool(self.socketio.server.manager.is_connected(sid, self.namespace))
        return False
