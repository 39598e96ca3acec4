"""Fixtures for the OSC tests: thread-based spawn, senders, remotes, remote clients and peers that are
always stopped."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pythonosc.osc_message import OscMessage as ParsedMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from stage.errors import CueError
from stage.lighting.remote import OscRemote
from stage.lighting.sender import OscSender
from stage.show.models import OscTarget
from tests.lighting.osc_peers import LOOPBACK, OscDump, UdpReceiver, free_udp_port


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


class Recorder:
    """RemoteHandlers that record each call; cue ``bad`` fails like a cue whose part is missing."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def go(self) -> str:
        self.calls.append(("go",))
        return "GO cue 3"

    def back(self) -> str:
        self.calls.append(("back",))
        return "standby cue 2"

    def panic(self) -> str:
        self.calls.append(("panic",))
        return "panic"

    def cue_go(self, cue_id: str) -> str:
        if cue_id == "bad":
            raise CueError("no cue 'bad' in this show")
        self.calls.append(("cue_go", cue_id))
        return f"GO cue {cue_id}"

    def display_scene(self, display: str, scene: str) -> str:
        self.calls.append(("display_scene", display, scene))
        return f"{display} shows {scene}"

    def count(self, name: str) -> int:
        return sum(1 for call in self.calls if call[0] == name)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def make_remote(recorder: Recorder) -> Iterator[Callable[..., OscRemote]]:
    remotes: list[OscRemote] = []

    def make(allow: tuple[str, ...] = ("127.0.0.1",), **kwargs: Any) -> OscRemote:
        remote = OscRemote(0, LOOPBACK, allow, recorder, spawn=thread_spawn, **kwargs)
        remote.start()
        remotes.append(remote)
        return remote

    yield make
    for remote in remotes:
        remote.close()


class Client:
    """A remote-control surface: a UDP socket on a chosen loopback address that reads the replies."""

    def __init__(self, remote: OscRemote, source: str = LOOPBACK) -> None:
        self.remote = remote
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((source, 0))
        self.sock.settimeout(10)

    def send(self, dgram: bytes) -> None:
        self.sock.sendto(dgram, (LOOPBACK, self.remote.port))

    def call(self, address: str, *args: tuple[str, Any]) -> tuple[str, list[Any]]:
        builder = OscMessageBuilder(address)
        for tag, value in args:
            builder.add_arg(value, tag)
        self.send(builder.build().dgram)
        return self.reply()

    def reply(self) -> tuple[str, list[Any]]:
        msg = ParsedMessage(self.sock.recv(65535))
        return msg.address, list(msg.params)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def client_for() -> Iterator[Callable[..., Client]]:
    clients: list[Client] = []

    def make(remote: OscRemote, source: str = LOOPBACK) -> Client:
        clients.append(Client(remote, source))
        return clients[-1]

    yield make
    for client in clients:
        client.close()
