"""Stage's websocket frame reader under gevent (stage.realtime.ws_gevent), on bytes in memory."""

from __future__ import annotations

import io
import logging
import struct
from types import SimpleNamespace

import pytest
from geventwebsocket.exceptions import ProtocolError
from geventwebsocket.websocket import WebSocket
from hypothesis import given, settings, strategies as st

from stage.realtime.transport import MessageTooBig
from stage.realtime.ws_gevent import read_message

MASK = b"\x0f\xf0\x55\xaa"


class CountingStream:
    """What gevent-websocket reads from: counts how much of the input was consumed."""

    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)
        self.written: list[bytes] = []

    def read(self, n: int) -> bytes:
        return self.buffer.read(n)

    def write(self, data: bytes) -> None:
        self.written.append(data)


def socket_over(data: bytes) -> tuple[WebSocket, CountingStream]:
    stream = CountingStream(data)
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
