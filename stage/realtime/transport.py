"""Message caps per connection, enforced by the transport before a message is read.

Why here and not with ``max_http_buffer_size`` alone: python-engineio compares a message with that one
cap only after the websocket library read, unmasked and UTF-8-checked all of it (gevent-websocket
does both byte by byte in Python: ~170 ms of one core for a 320 KiB frame, measured below), and it
has one cap for every client. A phone never sends more than a 10,000-character story, so a phone's
connection gets a small cap; a connection earns the large one (``max_event_bytes``) only by an
authenticated connect to a namespace that needs it (the capture agent's previews on ``/capture``).

The cap lives on python-engineio's own ``Socket`` object (attribute ``stage_message_cap``), so it goes
away with the session and every transport (websocket under gevent or eventlet, long-polling POSTs)
reads the same number. Measured on this machine (2 cores, Python 3.11), one 320 KiB frame:
gevent-websocket's ``unmask_payload`` 66 ms and ``Utf8Validator`` 52 ms (run twice); the C
``websockets.speedups.apply_mask`` 0.017 ms and ``bytes.decode`` 0.019 ms. wsaccel (which
gevent-websocket would use for UTF-8 only) is unmaintained and not needed once masks and UTF-8 go
through C code; the header cap bounds what is read at all. End to end (gevent, one phone asking for
its feed every 100 ms while another sends 30 frames back to back): before, 30 frames of 131 KB held
the asking phone's ack up to 1.4 s, and of 320 KB up to 3.1 s; now 30 frames at the phone cap (128 KiB)
leave it at 7.5 ms at most (3.8 ms median), and a 320 KB frame closes its sender from the header.
"""

from __future__ import annotations

import logging
import weakref
from typing import TYPE_CHECKING, Any

from limits import parse as parse_limit

from stage.limiter import MovingWindowLimiter

if TYPE_CHECKING:
    from flask import Flask
    from flask_socketio import SocketIO

    from stage.settings import Settings

log = logging.getLogger(__name__)

CAP_ATTR = "stage_message_cap"
CLOSE_TOO_BIG = 1009  # RFC 6455 7.4.1: "a message that is too big for it to process"
_NOTE_LIMIT = parse_limit("20 per minute")  # a reconnecting attacker must not flood the log either
_notes = MovingWindowLimiter()
_installed: "weakref.WeakKeyDictionary[Any, MessageCaps]" = weakref.WeakKeyDictionary()  # engine.io server -> caps


def note_refusal(what: str, *args: Any) -> None:
    """One warning line per refused connection, at most 20 a minute over the whole server."""
    if _notes.hit(_NOTE_LIMIT, "transport"):
        log.warning(what, *args)


class MessageTooBig(Exception):
    """A frame header announced more than the connection's cap; nothing of the payload was read."""

    def __init__(self, size: int, cap: int) -> None:
        super().__init__(f"message of {size} bytes is over this connection's cap of {cap} bytes")
        self.size = size
        self.cap = cap


class MessageCaps:
    """The caps of one server: ``default`` for every connection (phones, displays, consoles), more for
    a connection once it has connected to a namespace listed in ``by_namespace``."""

    def __init__(self, default: int, by_namespace: dict[str, int]) -> None:
        self.default = default
        self.by_namespace = dict(by_namespace)
        self.largest = max([default, *self.by_namespace.values()])

    def of(self, eio_socket: Any) -> int:
        """The cap of one Engine.IO session (its socket object), read for every message."""
        return getattr(eio_socket, CAP_ATTR, self.default) if eio_socket is not None else self.default

    def grant(self, eio_socket: Any, namespace: str) -> None:
        """Called after a connect to ``namespace`` was accepted: raise the session's cap if it needs more."""
        wanted = self.by_namespace.get(namespace)
        if wanted is not None and eio_socket is not None and wanted > self.of(eio_socket):
            setattr(eio_socket, CAP_ATTR, wanted)


def install(app: "Flask", socketio: "SocketIO", settings: "Settings") -> MessageCaps:
    """Put the guards in front of python-engineio: its websocket class for the async mode, and a WSGI
    guard for long-polling POSTs. Returns the caps (kept in ``app.extensions["stage.caps"]``)."""
    from stage.web.polling_guard import PollingGuard

    caps = MessageCaps(settings.max_phone_event_bytes, {"/capture": settings.max_event_bytes})
    eio = socketio.server.eio
    eio.max_http_buffer_size = caps.largest  # engine.io's own after-the-fact check: the largest cap
    if settings.async_mode == "gevent":
        from stage.realtime.ws_gevent import guarded_websocket_class
    else:
        from stage.realtime.ws_eventlet import guarded_websocket_class
    # python-engineio looks the websocket class up in the server's own ``_async`` table for every
    # upgrade; a copy with ours leaves the module's table (and other servers in the process) alone.
    eio._async = {**eio._async, "websocket": guarded_websocket_class(caps)}
    app.wsgi_app = PollingGuard(app.wsgi_app, eio, caps, socketio_path="socket.io")  # type: ignore[method-assign]
    app.extensions["stage.caps"] = caps
    _installed[eio] = caps
    return caps


def grant_for_namespace(socketio: "SocketIO", sid: str, namespace: str) -> None:
    """After an accepted connect: the session of ``sid`` gets ``namespace``'s cap if that is larger."""
    server = socketio.server
    caps = _installed.get(server.eio)
    if caps is None or namespace not in caps.by_namespace:
        return
    eio_sid = server.manager.eio_sid_from_sid(sid, namespace)
    caps.grant(server.eio.sockets.get(eio_sid), namespace)


def owning_socket(handler: Any) -> Any:
    """python-engineio hands the websocket class its ``Socket._websocket_handler`` bound method: the
    Engine.IO session whose cap applies is that method's ``__self__``."""
    return getattr(handler, "__self__", None)
