"""What the output tests drive: a tiny FrameSource, a Driver that ticks an output at exact times (as FakeClock
drives the engine), and DmxNode builders pointing at loopback receivers."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable
from typing import Any

from stage.dmx.output import DmxOutput
from stage.show.dmx import DmxNode
from tests.dmx.receivers import Receiver

T0 = 1000.0
RATE = 40
PERIOD = 1 / RATE
CID = uuid.UUID("0f5e8a1c-7d2b-4c3e-9f10-a1b2c3d4e5f6").bytes
NAME = "Stage: Test Night"


def s_curve(x: float) -> float:
    return 3 * x * x - 2 * x * x * x


def frame_of(slots: dict[int, int]) -> bytes:
    data = bytearray(512)
    for slot, value in slots.items():
        data[slot - 1] = value
    return bytes(data)


class Source:
    """A tiny FrameSource: a static frame per universe, or a fade of some slots from ``start`` for ``seconds``."""

    def __init__(self) -> None:
        self.static: dict[int, bytes] = {}
        self.fades: dict[int, tuple[float, float, Callable[[float], bytes]]] = {}
        self.broken: set[int] = set()

    def frame(self, universe: int, now: float) -> bytes:
        if universe in self.broken:
            raise RuntimeError(f"universe {universe} is broken")
        fade = self.fades.get(universe)
        if fade is not None and now >= fade[0]:
            start, seconds, shape = fade
            return shape(min(1.0, (now - start) / seconds))
        return self.static.get(universe, bytes(512))

    def changing(self, universe: int, now: float) -> bool:
        fade = self.fades.get(universe)
        return fade is not None and fade[0] <= now < fade[0] + fade[1] - 1e-9


def ramp(x: float) -> bytes:
    """Slot 1 fades up along an s-curve, slot 2 down, slot 512 stays at 7."""
    level = int(s_curve(x) * 255 + 0.5)
    return frame_of({1: level, 2: 255 - level, 512: 7})


class Driver:
    """Ticks an output at T0 + k·period, as its loop would, and drains the receivers after each tick (their
    socket buffers hold about a hundred frames)."""

    def __init__(self) -> None:
        self.k = 0
        self.now = T0
        self.out: DmxOutput | None = None
        self.receivers: list[Receiver] = []

    def clock(self) -> float:
        return self.now

    def tick(self, count: int = 1) -> None:
        assert self.out is not None
        for _ in range(count):
            self.now = T0 + self.k * PERIOD
            self.out.tick(self.now)
            self.k += 1
            for rx in self.receivers:
                rx.drain()


def sacn(name: str, port: int, universes: tuple[int, ...] = (1,), **fields: Any) -> DmxNode:
    return DmxNode(name=name, protocol="sacn", address=fields.pop("address", "127.0.0.1"), port=port,
                   universes=universes, **fields)


def artnet(name: str, port: int, universes: tuple[int, ...] = (0,)) -> DmxNode:
    return DmxNode(name=name, protocol="artnet", address="127.0.0.1", port=port, universes=universes)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def sent_at(out: DmxOutput, driver: Driver, node: str, ticks: int) -> list[int]:
    """The ticks (k) at which the output sent ``node`` a frame."""
    ticks_sent = []
    for _ in range(ticks):
        before = out.status()[node]["frames"]
        driver.tick()
        if out.status()[node]["frames"] > before:
            ticks_sent.append(driver.k - 1)
    return ticks_sent
