"""The websocket reader under eventlet (``--async-mode eventlet``), by eventlet's own means.

eventlet 0.41.3's ``RFC6455WebSocket`` already refuses a *frame* from its header
(``max_frame_length``, close 1009), which python-engineio sets to its one ``max_http_buffer_size``.
What it lacks: the cap is the same for every client, a message of many frames is never capped in
total, and ``_apply_mask`` unmasks byte by byte in Python (as slow as gevent-websocket's). Here each
connection's socket reads its cap from the Engine.IO session for every frame, a message's fragments
are capped together, and masks go through ``websockets.speedups.apply_mask`` (C). As under gevent
(ws_gevent.py), every frame (``_recv_frame``: control frames and empty fragments too, which eventlet's
``_iter_frames`` reads in a loop that ends only with a message) goes through the shared ``FrameMeter``:
a yield to the hub, the fragment count and the frame's bytes charged to the connection's byte budget,
before python-engineio sees the message. Over either, eventlet's own ``FailedConnectionError`` path
closes the connection with 1008. eventlet 0.41.3 has no limit of its own on control frames or fragments.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import eventlet
from engineio.async_drivers.eventlet import WebSocketWSGI
from eventlet.websocket import FailedConnectionError, RFC6455WebSocket
from websockets.speedups import apply_mask

from stage.realtime.allowances import MessageCaps, OverBudget
from stage.realtime.transport import (CLOSE_POLICY, CLOSE_TOO_BIG, FrameMeter, TooFragmented, note_refusal,
                                      owning_socket)


class CappedMessage(RFC6455WebSocket.Message):
    """A message whose fragments together stay under the frame cap (eventlet checks each alone)."""

    size = 0  # bytes of all fragments so far
    frames = 0  # fragments so far (``push`` runs once per ``recv``, not per frame)

    def push(self, data: bytes, final: bool = False) -> None:
        self.size += len(data)
        if self.size > self.max_frame_length:
            raise FailedConnectionError(CLOSE_TOO_BIG, f"message over this connection's cap of "
                                                       f"{self.max_frame_length} bytes")
        super().push(data, final)


class CappedWebSocket(RFC6455WebSocket):
    """eventlet's socket with a per-session cap and a C unmasker (swapped in after the handshake)."""

    caps: MessageCaps
    session: Any
    meter: FrameMeter
    Message = CappedMessage

    @property  # type: ignore[override]
    def max_frame_length(self) -> int:
        return self.caps.of(self.session)

    @max_frame_length.setter
    def max_frame_length(self, value: int) -> None:  # eventlet's __init__ sets it; the session decides
        pass

    @staticmethod
    def _apply_mask(data: bytes, mask: tuple[int, ...], length: int | None = None, offset: int = 0) -> bytes:
        shift = offset % 4
        key = bytes(mask[shift:] + mask[:shift])
        return apply_mask(bytes(data[:length] if length is not None else data), key)

    def _recv_frame(self, message: Any = None) -> Any:
        peer = self.environ.get("REMOTE_ADDR", "?")
        try:
            return self._metered_frame(message)
        except (OverBudget, TooFragmented) as exc:  # _iter_frames closes with this code and reason
            note_refusal(peer, "websocket from %s closed: %s", peer, exc)
            reason = "over the byte budget" if isinstance(exc, OverBudget) else "too many fragments"
            raise FailedConnectionError(CLOSE_POLICY, reason) from None
        except FailedConnectionError as exc:
            note_refusal(peer, "websocket from %s closed: %s", peer, exc.message)
            raise

    def _metered_frame(self, message: Any) -> Any:
        before = message.size if message is not None else 0
        frame = super()._recv_frame(message)
        if frame.opcode & 8:  # a control frame: a message of its own, never a fragment
            self.meter(frame.size, 0)
        else:
            frame.frames += 1
            self.meter(frame.size - (before if frame is message else 0), frame.frames)
        return frame


def capped(ws: RFC6455WebSocket, caps: MessageCaps, session: Any) -> CappedWebSocket:
    """eventlet's socket after the handshake, turned into Stage's (the class swapped, the meter set)."""
    ws.__class__ = CappedWebSocket
    ws.caps, ws.session = caps, session  # type: ignore[attr-defined]
    ws.meter = FrameMeter(caps, session, eventlet.sleep)  # type: ignore[attr-defined]
    return ws  # type: ignore[return-value]


def guarded_websocket_class(caps: MessageCaps) -> type:
    """python-engineio's ``_async["websocket"]`` for eventlet, reading with the caps of ``caps``."""

    class GuardedWebSocketWSGI(WebSocketWSGI):
        def __init__(self, handler: Callable[[Any], Any], server: Any) -> None:
            session = owning_socket(handler)

            def guarded(ws: RFC6455WebSocket) -> Any:
                if isinstance(ws, RFC6455WebSocket):  # not the old hixie protocol (no browser speaks it)
                    ws = capped(ws, caps, session)
                return handler(ws)

            super().__init__(guarded, server)

    return GuardedWebSocketWSGI
