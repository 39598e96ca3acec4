"""Long-polling POSTs over a session's message cap: answered at once with 413, the session ended.

python-engineio 4.15.1 (``Server.handle_request``) turns a too-large POST into ``disconnect(sid)``,
which calls ``Socket.close(wait=True)``: that waits in ``queue.join()`` for a poll that takes the
queued CLOSE packet. A client that sends the POST and never polls (a hostile phone) gets no answer,
and its descriptor and session stay until the ping timeout, or forever. Upstream's tracker has the same
hang for another path (python-engineio#60, ``close(wait=True)`` after the writer ended) but nothing
for this one, and no release changes it; so the guard answers before python-engineio sees the body.

It refuses from ``Content-Length`` alone (nothing of the body is read), closes the Engine.IO session
without waiting (a pending poll still gets its CLOSE packet) and tells the server to drop the TCP
connection after the answer (``Connection: close``).

A POST under the cap of a live session is read here (at most the cap: ``Content-Length`` was checked)
and handed on as a ``BytesIO`` ``wsgi.input``. One EIO4 body holds many ``\x1e``-separated packets,
each an event with a handler greenlet of its own, so each packet is charged like a websocket frame:
its bytes, at least ``MIN_CHARGE``, to the session's byte budget (the same bucket its websocket would
use, stage/realtime/transport.py). Charged once per POST by ``Content-Length``, a body of tiny events
cost one minimum charge whatever the number of packets. Past the budget: 429 ``over_budget`` and the
session closed the same way, so a phone cannot flood by long-polling what its websocket may not send.

python-engineio itself decodes at most ``Payload.max_decode_packets`` (16) packets per body (added in
3.10 against this flood, python-engineio#142); on more it raises ValueError only after reading the
body, logs a traceback for every such POST and still answers "OK" (``Server.handle_request``, 4.15.1).
The guard answers such a body 400 ``too_many_packets`` and ends the session.
"""

from __future__ import annotations

import io
import json
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any

from engineio.payload import Payload

from stage.realtime.allowances import MIN_CHARGE, MessageCaps, OverBudget
from stage.realtime.transport import note_refusal

WSGIApp = Callable[[dict[str, Any], Callable], Iterable[bytes]]


def disconnect_without_waiting(eio: Any) -> None:
    """Make ``eio.disconnect(sid)`` close the session without waiting for its queue to drain.

    python-engineio 4.15.1 ``Server.disconnect(sid)`` calls ``Socket.close()`` with ``wait=True``, which
    blocks in ``queue.join()`` until a poll or the websocket writer takes the queued CLOSE packet. It
    is called from ``handle_request`` for every ``EngineIOError`` of a POST or GET, e.g. a long-polling
    POST holding a packet type the server does not take (``2``, a PING: ``UnknownPacketError``): when
    no poll comes (the phone left, or never polls), the request's greenlet and its descriptor stay
    forever, ping timeout or not (reproduced: five such POSTs left five greenlets in ``queue.join``).
    Upstream knows the pattern (python-engineio#60, ``close(wait=True)`` after the writer ended) and
    fixed that path only; no release changes ``disconnect``. The CLOSE packet still goes to a pending
    poll or the websocket writer; a later poll with the sid gets 400 (the session is gone).
    ``disconnect()`` of every session (shutdown) keeps upstream's behaviour.
    """
    every = eio.disconnect

    def disconnect(sid: str | None = None) -> None:
        if sid is None:
            return every()
        session = eio.sockets.get(sid)
        if session is not None:
            session.close(wait=False, abort=False, reason=eio.reason.SERVER_DISCONNECT)
        eio.sockets.pop(sid, None)

    eio.disconnect = disconnect


class PollingGuard:
    def __init__(self, app: WSGIApp, eio: Any, caps: MessageCaps) -> None:
        self.app = app
        self.eio = eio
        self.caps = caps
        self.prefix = "/socket.io"  # Flask-SocketIO's path: Stage never changes it

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST" and self._is_engineio(environ.get("PATH_INFO", "")):
            refused = self._refusal(environ, start_response)
            if refused is not None:
                return refused
        return self.app(environ, start_response)

    def _is_engineio(self, path: str) -> bool:
        return path == self.prefix or path.startswith(self.prefix + "/")

    def _refusal(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes] | None:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return self._answer(start_response, "400 Bad Request", "bad_request", "Content-Length is not a number")
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
        sid = (query.get("sid") or [""])[0]
        session = self.eio.sockets.get(sid) if sid else None
        cap = self.caps.of(session)
        if length <= cap:
            return self._charge(environ, start_response, sid, session, length)
        peer = environ.get("REMOTE_ADDR", "?")
        note_refusal(peer, "polling POST of %d bytes from %s refused (cap %d); session %s closed", length, peer, cap,
                     sid or "-")
        if session is not None:
            self.eio.disconnect(sid)  # disconnect_without_waiting's: never blocks on a poll
        return self._answer(start_response, "413 Payload Too Large", "too_large",
                            f"a message may have at most {cap} bytes on this connection")

    def _charge(self, environ: dict[str, Any], start_response: Callable, sid: str, session: Any,
                length: int) -> Iterable[bytes] | None:
        if session is None:  # python-engineio refuses an unknown sid itself; nothing to charge
            return None
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)  # python-engineio reads the same bytes
        packets = body.split(b"\x1e")
        peer = environ.get("REMOTE_ADDR", "?")
        try:
            self.caps.charge(session, sum(max(len(packet), MIN_CHARGE) for packet in packets))
        except OverBudget as exc:
            note_refusal(peer, "polling POST from %s refused: %s; session %s closed", peer, exc, sid)
            self.eio.disconnect(sid)  # disconnect_without_waiting's: never blocks on a poll
            return self._answer(start_response, "429 Too Many Requests", "over_budget",
                                f"this connection sent more than it may ({exc}); reconnect later")
        if len(packets) > Payload.max_decode_packets:
            note_refusal(peer, "polling POST from %s refused: %d packets (at most %d); session %s closed",
                         peer, len(packets), Payload.max_decode_packets, sid)
            self.eio.disconnect(sid)  # disconnect_without_waiting's: never blocks on a poll
            return self._answer(start_response, "400 Bad Request", "too_many_packets",
                                f"a POST may hold at most {Payload.max_decode_packets} packets")
        return None

    @staticmethod
    def _answer(start_response: Callable, status: str, code: str, message: str) -> Iterable[bytes]:
        body = json.dumps({"ok": False, "error": {"code": code, "message": message}}).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                                ("Connection", "close")])
        return [body]
