"""The websocket reader under gevent: gevent-websocket's handshake and sockets, Stage's frame reader.

gevent-websocket 0.10.1 (2017, no release since; its tracker has no fix for either problem) reads a
whole frame whatever its header announces, then unmasks it byte by byte in Python and validates its
UTF-8 in Python, per frame and again per message. This reader keeps its handshake, ``Header`` parser,
``send`` and ``close``, and replaces only the read path (``WebSocket.read_message``):

- the message's running size is checked against the connection's cap from each frame *header*; an
  oversized message is refused before its payload is read, with close code 1009, and the socket
  closed (python-engineio then ends the session);
- masks are removed by ``websockets.speedups.apply_mask`` (C, from the pinned ``websockets``) and
  UTF-8 is checked once, by ``bytes.decode``: a max-size frame costs microseconds, not ~170 ms.

Before each frame's payload is read, control frames and empty fragments included, the reader yields
to the hub, charges the frame's bytes to the connection's byte budget and counts the message's
fragments (``FrameMeter``, transport.py): a socket whose data is always buffered never blocks in
``recv``, so without it one flooding phone held the hub while its events' greenlets piled up unrun,
and a stream of PONG frames or empty non-FIN fragments, which never end a message, held it for free.
Over the budget or ``MAX_FRAGMENTS``, the connection is closed with 1008.

Every frame-level failure (bad opcode, bad UTF-8, truncated frame, reset) ends only that connection,
with one throttled log line, never a traceback.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import gevent
from geventwebsocket.exceptions import ProtocolError, WebSocketError
from geventwebsocket.websocket import Header, WebSocket
from websockets.speedups import apply_mask

from stage.realtime.allowances import MessageCaps, OverBudget
from stage.realtime.transport import (CLOSE_POLICY, CLOSE_TOO_BIG, FrameMeter, MessageTooBig, TooFragmented,
                                      note_refusal, owning_socket)

TEXT, BINARY, CONTINUATION = WebSocket.OPCODE_TEXT, WebSocket.OPCODE_BINARY, WebSocket.OPCODE_CONTINUATION
CLOSE, PING, PONG = WebSocket.OPCODE_CLOSE, WebSocket.OPCODE_PING, WebSocket.OPCODE_PONG
CLOSE_REASONS = {CLOSE_TOO_BIG: b"message too big", CLOSE_POLICY: b"over the byte budget", 1007: b"invalid UTF-8",
                 1002: b"protocol error"}


def read_payload(ws: WebSocket, header: Header) -> bytes:
    if not header.length:
        return b""
    payload = ws.raw_read(header.length)
    if len(payload) != header.length:
        raise WebSocketError("unexpected end of stream in a frame's payload")
    return apply_mask(payload, header.mask) if header.mask else payload


def no_meter(payload: int, fragment: int = 0) -> None:
    """A reader without a budget (tests of the frame parsing alone)."""


def read_message(ws: WebSocket, cap: int, meter: Callable[[int, int], None] = no_meter) -> str | bytes | None:
    """The next text or binary message, None when the peer closed. Raises MessageTooBig from a header;
    ``meter(payload length, fragment number or 0)`` is called for every frame before its payload is read."""
    opcode = 0
    size = 0
    parts: list[bytes] = []
    while True:
        header = Header.decode_header(ws.stream)
        if header.flags or not header.mask:  # no extension is negotiated; RFC 6455 5.1: clients mask
            raise ProtocolError("reserved bits set or unmasked client frame")
        if header.opcode in (CLOSE, PING, PONG):  # control frames: at most 125 bytes (decode_header)
            meter(header.length, 0)
            payload = read_payload(ws, header)
            if header.opcode == CLOSE:
                ws.handle_close(header, payload)
                return None
            if header.opcode == PING:
                ws.handle_ping(header, payload)
            continue
        if header.opcode in (TEXT, BINARY) and not opcode:
            opcode = header.opcode
        elif header.opcode != CONTINUATION or not opcode:
            raise ProtocolError(f"unexpected opcode {header.opcode}")
        size += header.length
        if size > cap:
            raise MessageTooBig(size, cap)
        meter(header.length, len(parts) + 1)
        parts.append(read_payload(ws, header))
        if header.fin:
            break
    data = b"".join(parts)
    return data.decode("utf-8") if opcode == TEXT else data


def guarded_websocket_class(caps: MessageCaps) -> type:
    """python-engineio's ``_async["websocket"]`` for gevent, reading with the caps of ``caps``."""

    class GuardedWebSocketWSGI:
        """Same interface as ``engineio.async_drivers.gevent.WebSocketWSGI``."""

        def __init__(self, handler: Callable[[Any], Any], server: Any) -> None:
            self.app = handler
            self.session = owning_socket(handler)
            self.meter = FrameMeter(caps, self.session, gevent.sleep)

        def __call__(self, environ: dict[str, Any], start_response: Callable) -> Any:
            if "wsgi.websocket" not in environ:
                raise RuntimeError("gevent-websocket's WebSocketHandler is not serving this request")
            self._sock: WebSocket = environ["wsgi.websocket"]
            self.environ = environ
            self.peer = environ.get("REMOTE_ADDR", "?")
            return self.app(self)

        def close(self) -> None:
            """python-engineio's writer calls this once the session ended (a ping timeout, a disconnect)."""
            if not self._sock.closed:
                self._sock.close()
            # The reader may still wait in ``recv`` on a peer that is gone without a FIN (a phone off the
            # Wi-Fi): python-engineio 4.15.1 means to bound that wait with a socket timeout, but sets it
            # only on a ``_sock`` or ``socket`` attribute that has ``settimeout``, and gevent-websocket's
            # socket (here and in python-engineio's own gevent driver) has none. Reproduced: 20 frozen
            # phones left 20 readers in ``recv`` and 20 descriptors after their sessions timed out.
            # Shutting the TCP connection down wakes the reader with end-of-stream.
            self._drop_connection()

        def send(self, message: str | bytes) -> None:
            self._sock.send(message)

        def wait(self) -> str | bytes | None:
            ws = self._sock
            if ws.closed:
                return None
            try:
                return read_message(ws, caps.of(self.session), self.meter)
            except OverBudget as exc:
                note_refusal(self.peer, "websocket from %s closed: %s", self.peer, exc)
                self._close(CLOSE_POLICY)
            except TooFragmented as exc:
                note_refusal(self.peer, "websocket from %s closed: %s", self.peer, exc)
                self._close(CLOSE_POLICY, b"too many fragments")
            except MessageTooBig as exc:
                note_refusal(self.peer, "websocket from %s closed: %s", self.peer, exc)
                self._close(CLOSE_TOO_BIG)
            except UnicodeError:
                note_refusal(self.peer, "websocket from %s closed: a text message is not valid UTF-8", self.peer)
                self._close(1007)
            except ProtocolError as exc:
                note_refusal(self.peer, "websocket from %s closed: protocol error (%s)", self.peer, exc)
                self._close(1002)
            except OSError:  # WebSocketError is an OSError: truncated frame, reset, timeout
                self._close(None)
            return None

        def _close(self, code: int | None, reason: bytes | None = None) -> None:
            # gevent-websocket's close(code) drops the code (it sends an empty close frame): send our own.
            ws = self._sock
            try:
                if code is not None and not ws.closed:
                    ws.send_frame(struct.pack("!H", code) + (reason or CLOSE_REASONS.get(code, b"")), CLOSE)
            except (OSError, AttributeError):  # the peer is gone already
                pass
            ws.closed = True
            self._drop_connection()

        def _drop_connection(self) -> None:
            """Close the TCP connection now: the peer may still be sending the refused payload."""
            handler = getattr(self._sock, "handler", None)
            sock = getattr(handler, "socket", None)
            if sock is not None:
                try:
                    sock.shutdown(2)
                except OSError:
                    pass

    return GuardedWebSocketWSGI
