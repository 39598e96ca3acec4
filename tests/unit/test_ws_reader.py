"""Stage's websocket frame reader under gevent (stage.realtime.ws_gevent), on bytes in memory, and the
per-connection byte budget (stage.realtime.transport) it charges."""

from __future__ import annotations

import io
import logging
import struct
import warnings
from types import SimpleNamespace

import gevent
import pytest
from geventwebsocket.exceptions import ProtocolError
from geventwebsocket.websocket import WebSocket
from hypothesis import given, settings, strategies as st

from stage.realtime.allowances import MIN_CHARGE, Allowance, ByteBudget, MessageCaps
from stage.realtime.transport import MAX_FRAGMENTS, MessageTooBig
from stage.realtime.ws_gevent import guarded_websocket_class, read_message

MASK = b"\x0f\xf0\x55\xaa"


class MemorySocket:
    """What both websocket libraries read from and write to, in memory: gevent-websocket's stream
    (``read``/``write``) and eventlet's socket (``recv``/``sendall``)."""

    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)
        self.written: list[bytes] = []

    def read(self, n: int) -> bytes:
        return self.buffer.read(n)

    recv = read

    def write(self, data: bytes) -> None:
        self.written.append(data)

    sendall = write

    def shutdown(self, how: int) -> None:
        pass

    def close(self) -> None:
        pass


def socket_over(data: bytes) -> tuple[WebSocket, MemorySocket]:
    stream = MemorySocket(data)
    handler = SimpleNamespace(logger=logging.getLogger("test"), server=SimpleNamespace(application=None))
    return WebSocket({}, stream, handler), stream


def frame(payload: bytes, opcode: int = 1, fin: bool = True) -> bytes:
    n = len(payload)
    if n < 126:
        length = bytes([0x80 | n])
    elif n < 65536:
        length = bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        length = bytes([0x80 | 127]) + struct.pack("!Q", n)
    masked = bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))
    return bytes([(0x80 if fin else 0) | opcode]) + length + MASK + masked


def test_text_binary_and_fragmented_messages_are_read_whole():
    text = "42/audience,[\"feed\",{\"limit\":1}] \U0001F9B8".encode()
    data = frame(text) + frame(b"\x00\x01\x02", opcode=2) + frame(b"ab", fin=False) + frame(b"cd", opcode=0)
    ws, _ = socket_over(data)
    assert read_message(ws, 1024) == text.decode()
    assert read_message(ws, 1024) == b"\x00\x01\x02"
    assert read_message(ws, 1024) == "abcd"


def test_a_ping_between_fragments_is_answered_and_the_message_still_arrives():
    ws, stream = socket_over(frame(b"ab", fin=False) + frame(b"hi", opcode=9) + frame(b"cd", opcode=0))
    assert read_message(ws, 1024) == "abcd"
    assert stream.written and stream.written[0][0] == 0x8A  # a pong went out


def test_an_oversized_frame_is_refused_before_its_payload_is_read():
    announced = bytes([0x81, 0x80 | 127]) + struct.pack("!Q", 16 * 1024 * 1024) + MASK
    ws, stream = socket_over(announced + b"x" * 1000)
    with pytest.raises(MessageTooBig):
        read_message(ws, 128 * 1024)
    assert stream.buffer.tell() == len(announced)  # nothing of the payload was consumed


def test_fragments_are_capped_together():
    ws, stream = socket_over(frame(b"a" * 600, fin=False) + frame(b"a" * 600, opcode=0))
    with pytest.raises(MessageTooBig):
        read_message(ws, 1000)


@pytest.mark.parametrize("data, error", [
    (bytes([0x81, 0x02]) + b"ab", ProtocolError),  # unmasked client frame
    (bytes([0xC1, 0x81]) + MASK + b"a", ProtocolError),  # RSV1 without an extension
    (frame(b"x", opcode=3), ProtocolError),  # reserved opcode
    (frame(b"x", opcode=0), ProtocolError),  # a continuation of nothing
    (frame(b"\xff\xfe"), UnicodeError),  # text that is not UTF-8
    (frame(b"a" * 10)[:-3], OSError),  # the stream ends inside the payload
])
def test_malformed_input_raises_only_what_the_transport_turns_into_a_close(data, error):
    ws, _ = socket_over(data)
    with pytest.raises(error):
        read_message(ws, 1024)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise_past_the_reader(data):
    ws, _ = socket_over(data)
    try:
        while read_message(ws, 128) is not None:
            pass
    except (MessageTooBig, UnicodeError, OSError):  # OSError covers gevent-websocket's WebSocketError
        pass


class Session:
    """Stands in for python-engineio's Socket: the guard finds it as its handler's ``__self__``."""

    def __init__(self, loop) -> None:
        self.loop = loop

    def handler(self, ws) -> None:
        self.loop(ws)


def guarded_reader(data: bytes, caps: MessageCaps, loop) -> MemorySocket:
    """Run python-engineio's side of one connection (``loop(ws)``) over Stage's gevent websocket class."""
    ws, stream = socket_over(data)
    reader = guarded_websocket_class(caps)(Session(loop).handler, server=None)
    reader({"wsgi.websocket": ws, "REMOTE_ADDR": "203.0.113.9"}, start_response=None)
    return stream


def test_the_reader_yields_to_other_greenlets_between_messages_of_a_full_buffer():
    """A socket whose data is always buffered never blocks in recv: without a yield its read loop
    held the hub, and the greenlets of the events it read (and every other phone) waited."""
    order: list[str] = []

    def other_phone() -> None:
        for _ in range(3):
            order.append("other")
            gevent.sleep(0)

    def engineio_loop(ws) -> None:
        gevent.spawn(other_phone)
        while (message := ws.wait()) is not None:
            order.append(message)

    guarded_reader(frame(b"m") * 3, MessageCaps(Allowance(1024), {}), engineio_loop)
    assert order[:2] == ["other", "m"] and order.count("other") == 3 and order.index("other", 1) < order.index("m", 2)


def test_a_connection_over_its_byte_budget_is_closed_with_1008_and_the_message_not_handed_on():
    messages: list[str] = []

    def engineio_loop(ws) -> None:
        while (message := ws.wait()) is not None:
            messages.append(message)

    caps = MessageCaps(Allowance(1024, 2000, 1), {})
    stream = guarded_reader(frame(b"a" * 900) * 5, caps, engineio_loop)
    assert messages == ["a" * 900] * 2  # the third went over: read (under the cap), never dispatched
    close = stream.written[-1]
    assert close[0] == 0x88 and struct.unpack("!H", close[2:4])[0] == 1008


def test_a_budget_refills_at_its_rate_and_charges_tiny_messages_their_minimum():
    now = [0.0]
    budget = ByteBudget(burst=4 * MIN_CHARGE, rate=MIN_CHARGE, clock=lambda: now[0])
    assert all(budget.take(1) for _ in range(4))  # four one-byte frames cost the whole burst
    assert not budget.take(1)
    now[0] = 2.0  # two seconds: two minimum charges back, never more than the burst
    assert budget.take(MIN_CHARGE) and budget.take(MIN_CHARGE) and not budget.take(1)
    now[0] = 1000.0
    assert budget.take(4 * MIN_CHARGE) and not budget.take(1)


def eventlet_socket(data: bytes, caps: MessageCaps):
    with warnings.catch_warnings():  # eventlet's deprecation notice at import: not this test's subject
        warnings.simplefilter("ignore")
        from stage.realtime.ws_eventlet import CappedWebSocket

    from stage.realtime.ws_eventlet import capped

    sock = MemorySocket(data)
    ws = capped(CappedWebSocket(sock, {"REMOTE_ADDR": "203.0.113.9"}), caps, SimpleNamespace())
    return ws, sock


def test_under_eventlet_the_reader_yields_between_messages_and_closes_over_budget_with_1008():
    ws, sock = eventlet_socket(frame(b"m") * 3 + frame(b"a" * 900) * 3, MessageCaps(Allowance(1024, 2500, 1), {}))
    import eventlet

    order: list[str] = []

    def other_phone() -> None:
        for _ in range(3):
            order.append("other")
            eventlet.sleep(0)

    eventlet.spawn(other_phone)
    while (message := ws.wait()) is not None:
        order.append(message)
    assert order[:4] == ["other", "m", "other", "m"]  # the other greenlet ran between messages
    assert order.count("a" * 900) == 1  # 3 x 512 + 900 of 2500 spent: the next 900 went over
    close = sock.written[-1]
    assert close[0] == 0x88 and struct.unpack("!H", close[2:4])[0] == 1008


# Per frame, in both modes: control frames and empty fragments never end a message, so a reader that
# yielded and charged once per message let an endless stream of them hold the hub for free.

def read_in(mode: str, data: bytes, caps: MessageCaps, other=None) -> tuple[list, list[bytes]]:
    """Every message python-engineio's loop gets from ``data`` in ``mode``, and what went back out.
    ``other`` (if given) is spawned first in that mode's hub and appends to the same list."""
    order: list = []
    if mode == "gevent":
        def engineio_loop(ws) -> None:
            if other:
                gevent.spawn(other, order, gevent.sleep)
            while (message := ws.wait()) is not None:
                order.append(message)

        return order, guarded_reader(data, caps, engineio_loop).written
    import eventlet

    ws, sock = eventlet_socket(data, caps)
    if other:
        eventlet.spawn(other, order, eventlet.sleep)
    while (message := ws.wait()) is not None:
        order.append(message)
    return order, sock.written


def close_code(written: list[bytes]) -> int | None:
    """The code of the close frame the reader sent last, None if its last frame was not a close."""
    last = written[-1] if written else b""
    return struct.unpack("!H", last[2:4])[0] if last[:1] == b"\x88" and len(last) >= 4 else None


MODES = ["gevent", "eventlet"]
PONG, PING = frame(b"", opcode=10), frame(b"hi", opcode=9)


@pytest.mark.parametrize("mode", MODES)
def test_a_stream_of_pongs_is_charged_per_frame_and_closes_its_sender_with_1008(mode):
    caps = MessageCaps(Allowance(1024, 10 * MIN_CHARGE, 1), {})  # ten frames' worth, no refill to speak of
    messages, written = read_in(mode, PONG * 100 + frame(b"m"), caps)
    assert messages == [] and close_code(written) == 1008  # the message after the flood is never handed on


@pytest.mark.parametrize("mode", MODES)
def test_empty_non_final_fragments_are_capped_in_number_and_close_with_1008(mode):
    endless = frame(b"", fin=False) + frame(b"", opcode=0, fin=False) * (4 * MAX_FRAGMENTS) + frame(b"x", opcode=0)
    messages, written = read_in(mode, endless, MessageCaps(Allowance(1024), {}))  # no budget: the count alone refuses
    assert messages == [] and close_code(written) == 1008


@pytest.mark.parametrize("mode", MODES)
def test_the_reader_yields_to_other_greenlets_between_control_frames(mode):
    def other_phone(order: list, sleep) -> None:
        for _ in range(3):
            order.append("other")
            sleep(0)

    order, _ = read_in(mode, PING + PONG + PONG + frame(b"m"), MessageCaps(Allowance(1024), {}), other_phone)
    assert order == ["other", "other", "other", "m"]  # one turn for the other greenlet per frame read


@pytest.mark.parametrize("mode", MODES)
def test_the_budget_is_charged_bytes_on_the_wire_not_characters(mode):
    text = "\U0001F9B8" * 300  # 300 characters, 1,200 bytes of UTF-8: 1,208 with the frame's header
    messages, written = read_in(mode, frame(text.encode()) * 3, MessageCaps(Allowance(4096, 2000, 1), {}))
    assert messages == [text] and close_code(written) == 1008  # by characters all three cost 512 each
