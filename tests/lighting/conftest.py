"""Fixtures for the OSC tests: thread-based spawn, senders and peers that are always stopped."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from stage.lighting.sender import OscSender
from stage.show.models import OscTarget
from tests.lighting.osc_peers import OscDump, UdpReceiver, free_udp_port


def thread_spawn(fn: Callable[..., None]) -> threading.Thread:
    thread = threading.Thread(target=fn, daemon=True)
    thread.start()
    return thread


class StatusLog:
    """Collects ``on_status`` and ``on_sent`` callbacks from the workers."""

    def __init__(self) -> None:
        self.statuses: list[tuple[str, dict[str, Any]]] = []
        self.sent: list[tuple[str, Any]] = []

    def on_status(self, name: str, status: dict[str, Any]) -> None:
        self.statuses.append((name, status))

    def on_sent(self, target: OscTarget, message: Any) -> None:
        self.sent.append((target.name, message))

    def states(self, name: str) -> list[str]:
        return [s["status"] for n, s in self.statuses if n == name]


@pytest.fixture
def callbacks() -> StatusLog:
    return StatusLog()


@pytest.fixture
def make_sender(callbacks: StatusLog) -> Iterator[Callable[..., OscSender]]:
    senders: list[OscSender] = []

    def make(*targets: OscTarget, **kwargs: Any) -> OscSender:
        kwargs.setdefault("on_status", callbacks.on_status)
        kwargs.setdefault("on_sent", callbacks.on_sent)
        kwargs.setdefault("sleep", time.sleep)
        sender = OscSender(targets, spawn=thread_spawn, **kwargs)
        senders.append(sender)
        return sender

    yield make
    for sender in senders:
        sender.close()


@pytest.fixture
def oscdump() -> Iterator[OscDump]:
    dump = OscDump(free_udp_port())
    yield dump
    dump.stop()


@pytest.fixture
def receiver() -> Iterator[UdpReceiver]:
    rx = UdpReceiver()
    yield rx
    rx.stop()
