"""DMX nodes for the tests: an E1.31 (sACN) and an Art-Net receiver, each a UDP socket on 127.0.0.1:0.

Every datagram is kept with its kernel receive stamp (SO_TIMESTAMPNS), so a test that wants timing reads the
kernel's time, never its own scheduling. E1.31 packets are decoded by the ``sacn`` package (an implementation
that is not Stage's); ArtDmx by the small parser here, written from the Art-Net 4 specification. Reading is
non-blocking (:meth:`Receiver.drain`), so the receivers work alike in a test's thread and under gevent or
eventlet monkey-patching, and a test that ticks an output by hand drains after each tick.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sacn.messages.data_packet import DataPacket

from tests.waiting import wait_until

LOOPBACK = "127.0.0.1"
SO_TIMESTAMPNS = 35  # <asm-generic/socket.h>; missing from Python's socket module. Its cmsg is SCM_TIMESTAMPNS.
TIMESPEC = struct.Struct("@qq")
MARKER = b"stage-test-marker"
F = TypeVar("F")


@dataclass(frozen=True)
class Datagram:
    stamp: float  # kernel receive time, seconds of CLOCK_REALTIME
    data: bytes


@dataclass(frozen=True)
class ArtDmx:
    sequence: int
    physical: int
    universe: int  # the 15-bit Port-Address: Net << 8 | SubUni
    data: bytes


def parse_artdmx(data: bytes) -> ArtDmx:
    """An ArtDmx packet, checked field by field (ValueError on anything else)."""
    if len(data) < 18 or data[:8] != b"Art-Net\x00":
        raise ValueError("not an Art-Net packet")
    opcode, = struct.unpack_from("<H", data, 8)
    version, sequence, physical, sub_uni, net, length = struct.unpack_from("!HBBBBH", data, 10)
    if opcode != 0x5000:
        raise ValueError(f"not ArtDmx: OpCode {opcode:#06x}")
    if version < 14 or net > 0x7F or not 2 <= length <= 512 or length % 2 or len(data) != 18 + length:
        raise ValueError(f"a bad ArtDmx header: {data[:18].hex()} ({len(data)} bytes)")
    return ArtDmx(sequence, physical, net << 8 | sub_uni, bytes(data[18:]))


class Receiver(Generic[F]):
    """A UDP socket on the loopback keeping every datagram; ``frames()`` decodes them."""

    def __init__(self, port: int = 0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)  # capped by rmem_max: best effort
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.bind((LOOPBACK, port))
        self.sock.setblocking(False)
        self.port: int = self.sock.getsockname()[1]
        self.datagrams: list[Datagram] = []
        self.markers = 0

    def drain(self) -> int:
        """Read whatever has arrived, without waiting; how many datagrams that was."""
        count = 0
        while True:
            try:
                data, ancdata, _flags, _addr = self.sock.recvmsg(2048, socket.CMSG_SPACE(TIMESPEC.size))
            except (BlockingIOError, InterruptedError):
                return count
            count += 1
            if data == MARKER:
                self.markers += 1
                continue
            stamp = time.time()
            for level, kind, payload in ancdata:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    seconds, nanoseconds = TIMESPEC.unpack(payload[:TIMESPEC.size])
                    stamp = seconds + nanoseconds / 1e9
            self.datagrams.append(Datagram(stamp, data))

    def frames(self) -> list[F]:
        return [self.decode(d.data) for d in self.datagrams]

    def decode(self, data: bytes) -> F:
        raise NotImplementedError

    def wait_for(self, predicate: Callable[[list[F]], object], timeout: float = 10, what: str = "DMX frames",
                 sleep: Callable[[float], object] = time.sleep) -> list[F]:
        """Drain until ``predicate(frames)`` holds; the frames then."""
        def check() -> list[F] | None:
            self.drain()
            frames = self.frames()
            return frames if predicate(frames) else None
        return wait_until(check, timeout=timeout, what=what, sleep=sleep)  # type: ignore[return-value]

    def settle(self, timeout: float = 10) -> list[F]:
        """Every frame sent before this call: a marker datagram goes through the loopback after them and is
        waited for (loopback delivers in order), so "nothing arrived" can be checked without a fixed sleep."""
        seen = self.markers
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.sendto(MARKER, (LOOPBACK, self.port))
        wait_until(lambda: self.drain() is not None and self.markers > seen, timeout=timeout,
                   what="the marker datagram")
        return self.frames()

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "Receiver[F]":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SacnReceiver(Receiver[DataPacket]):
    def decode(self, data: bytes) -> DataPacket:
        return DataPacket.make_data_packet(data)


class ArtNetReceiver(Receiver[ArtDmx]):
    def decode(self, data: bytes) -> ArtDmx:
        return parse_artdmx(data)


def sacn_sequence_ok(sequences: list[int]) -> bool:
    """E1.31: each packet's sequence is the last one plus one, wrapping 255 to 0."""
    return all(b == (a + 1) & 0xFF for a, b in zip(sequences, sequences[1:]))


def artnet_sequence_ok(sequences: list[int]) -> bool:
    """ArtDmx: 1-255, 255 followed by 1 (0 would switch the node's reordering off)."""
    return 0 not in sequences and all(b == a % 255 + 1 for a, b in zip(sequences, sequences[1:]))
