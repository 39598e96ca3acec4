"""Message caps per connection, enforced by the transport before a message is read.

Why here and not with ``max_http_buffer_size`` alone: python-engineio compares a message with that one
cap only after the websocket library read, unmasked and UTF-8-checked all of it (gevent-websocket
does both byte by byte in Python: ~170 ms of one core for a 320 KiB frame, measured below), and it
has one cap for every client. A phone never sends more than a 10,000-character story, so a phone's
connection gets a small cap; a connection earns the large one (``CAPTURE``) only by an
authenticated connect to a namespace that needs it (the capture agent's previews on ``/capture``).

The allowance lives on python-engineio's own ``Socket`` object (attribute ``stage_allowed``), so it goes
away with the session and every transport (websocket under gevent or eventlet, long-polling POSTs)
reads the same number. Measured on this machine (2 cores, Python 3.11), one 320 KiB frame:
gevent-websocket's ``unmask_payload`` 66 ms and ``Utf8Validator`` 52 ms (run twice); the C
``websockets.speedups.apply_mask`` 0.017 ms and ``bytes.decode`` 0.019 ms. wsaccel (which
gevent-websocket would use for UTF-8 only) is unmaintained and not needed once masks and UTF-8 go
through C code; the header cap bounds what is read at all. End to end (gevent, one phone asking for
its feed every 100 ms while another sends 30 frames back to back): before, 30 frames of 131 KB held
the asking phone's ack up to 1.4 s, and of 320 KB up to 3.1 s; now 30 frames at the phone cap (128 KiB)
leave it at 7.5 ms at most (3.8 ms median), and a 320 KB frame closes its sender from the header.

A cap bounds one message, not a stream of them. Under gevent a socket whose kernel buffer always holds
data never blocks in ``recv``, so its read loop never yields to the hub: python-engineio decodes each
message in that loop and python-socketio spawns one greenlet per event that cannot run until the loop
yields. A phone sending 128 KiB frames back to back (bench/hostile_phone.py, 200 phones) stalled every
other phone (193 of 200 could not connect) and grew the server to 4 GB of queued greenlets (py-spy:
the one busy stack was ``Packet.decode`` under ``_websocket_handler``). So each connection also has a
**byte budget** (``ByteBudget``, charged per websocket frame and per long-polling packet before
python-engineio sees it, nothing of it decoded): over it, the connection is closed with 1008; and the
readers yield to the hub between frames (``FrameMeter``), so one socket never holds it for more than
one frame.

Upstream has neither (python-engineio 4.15.1, python-socketio 5.18.1, the newest that resolve here):
no per-client byte or message rate, and ``async_handlers`` is all or nothing; the maintainer's answer
to a similar report is that large transfers are the websocket servers' business (python-socketio#531).
``async_handlers=False`` would serialise a client's events but forbids ``call()``, which the rig
commands use (stage/realtime/capture.py), so Stage bounds what enters instead.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from limits import parse as parse_limit

from stage.limiter import log_sometimes
from stage.realtime.allowances import MessageCaps

if TYPE_CHECKING:
    from flask import Flask
    from flask_socketio import SocketIO

log = logging.getLogger(__name__)

CLOSE_TOO_BIG = 1009  # RFC 6455 7.4.1: "a message that is too big for it to process"
CLOSE_POLICY = 1008  # RFC 6455 7.4.1: "a message that violates its policy" (here: over its byte budget)
# Browsers and python-socketio's client send every message as one frame; RFC 6455 lets intermediaries
# fragment, never into more than a few pieces. Past this a message's list of fragments stops growing.
MAX_FRAGMENTS = 64
_NOTE_LIMIT = parse_limit("20 per minute")  # per peer: a reconnecting attacker must not flood the log either
_installed: "weakref.WeakKeyDictionary[Any, MessageCaps]" = weakref.WeakKeyDictionary()  # engine.io server -> caps


def note_refusal(peer: str, what: str, *args: Any) -> None:
    """One warning line per refused connection, at most 20 a minute per peer address (one server-wide
    bucket let one attacker hide every other connection's refusals for the minute)."""
    log_sometimes(log, _NOTE_LIMIT, (peer,), what, *args)


class MessageTooBig(Exception):
    """A frame header announced more than the connection's cap; nothing of the payload was read."""

    def __init__(self, size: int, cap: int) -> None:
        super().__init__(f"message of {size} bytes is over this connection's cap of {cap} bytes")
        self.size = size
        self.cap = cap


class TooFragmented(Exception):
    """A websocket message came in more fragments than ``MAX_FRAGMENTS``; it is not dispatched."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"a message in more than {limit} fragments")


def frame_bytes(payload: int) -> int:
    """A client frame's size on the wire: 2 header bytes, the extended length (as a minimal encoder
    writes it: a padded one is up to 8 bytes more, far under ``MIN_CHARGE``), the 4-byte mask, the payload."""
    return 2 + (0 if payload < 126 else 2 if payload < 65536 else 8) + 4 + payload


class FrameMeter:
    """What both websocket readers (ws_gevent.py, ws_eventlet.py) do for every frame they read, control
    frames and empty fragments included: yield to the hub, refuse a message of too many fragments, and
    charge the frame's bytes on the wire to the connection's budget.

    Per frame, not per message: PING/PONG frames and empty non-FIN fragments never end a message, so a
    per-message yield and charge let an endless stream of them hold the hub at no cost.
    """

    __slots__ = ("caps", "session", "sleep")

    def __init__(self, caps: "MessageCaps", session: Any, sleep: Callable[[float], Any]) -> None:
        self.caps, self.session, self.sleep = caps, session, sleep

    def __call__(self, payload: int, fragment: int = 0) -> None:
        """One frame of ``payload`` bytes, the ``fragment``-th of its message (0: a control frame).
        Raises TooFragmented or OverBudget."""
        self.sleep(0)  # the handlers of what was read (and every other socket) run first
        if fragment > MAX_FRAGMENTS:
            raise TooFragmented(MAX_FRAGMENTS)
        self.caps.charge(self.session, frame_bytes(payload))


def install(app: "Flask", socketio: "SocketIO", async_mode: str) -> MessageCaps:
    """Put the guards in front of python-engineio: its websocket class for the async mode, and a WSGI
    guard for long-polling POSTs."""
    from stage.web.polling_guard import PollingGuard, disconnect_without_waiting

    caps = MessageCaps()
    eio = socketio.server.eio
    eio.max_http_buffer_size = caps.largest  # engine.io's own after-the-fact check: the largest cap
    if async_mode == "gevent":
        from stage.realtime.ws_gevent import guarded_websocket_class
    else:
        from stage.realtime.ws_eventlet import guarded_websocket_class
    # python-engineio looks the websocket class up in the server's own ``_async`` table for every
    # upgrade; a copy with ours leaves the module's table (and other servers in the process) alone.
    eio._async = {**eio._async, "websocket": guarded_websocket_class(caps)}
    disconnect_without_waiting(eio)  # no request's greenlet waits forever for a poll that never comes
    app.wsgi_app = PollingGuard(app.wsgi_app, eio, caps)  # type: ignore[method-assign]
    _installed[eio] = caps
    return caps


def grant_for_namespace(socketio: "SocketIO", sid: str, namespace: str) -> None:
    """After an accepted connect: the session of ``sid`` gets ``namespace``'s cap if that is larger."""
    server = socketio.server
    caps = _installed.get(server.eio)
    if caps is None or namespace not in caps.earned:
        return
    eio_sid = server.manager.eio_sid_from_sid(sid, namespace)
    caps.grant(server.eio.sockets.get(eio_sid), namespace)


def owning_socket(handler: Any) -> Any:
    """python-engineio hands the websocket class its ``Socket._websocket_handler`` bound method: the
    Engine.IO session whose cap applies is that method's ``__self__``."""
    return getattr(handler, "__self__", None)
