"""OscSender over TCP: both framings into python-osc's own TCP server, reconnects with backoff."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_tcp_server import MODE_1_0, MODE_1_1, ThreadingOSCTCPServer

from stage.lighting.messages import OscMessage, message
from stage.lighting.sender import OscSender
from stage.show.models import OscTarget
from tests.lighting.conftest import StatusLog
from tests.lighting.osc_peers import LOOPBACK, TcpReceiver, free_tcp_port
from tests.waiting import wait_until


def target(port: int, transport: str) -> OscTarget:
    return OscTarget(name="desk", host=LOOPBACK, port=port, transport=transport)  # type: ignore[arg-type]


@pytest.fixture
def pythonosc_server(request: pytest.FixtureRequest) -> Iterator[tuple[ThreadingOSCTCPServer, list[Any]]]:
    received: list[Any] = []
    dispatcher = Dispatcher()
    dispatcher.set_default_handler(lambda address, *args: received.append((address, list(args))))
    server = ThreadingOSCTCPServer((LOOPBACK, 0), dispatcher, mode=request.param)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server, received
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.mark.parametrize(("pythonosc_server", "transport"), [(MODE_1_0, "tcp"), (MODE_1_1, "tcp-slip")],
                         indirect=["pythonosc_server"], ids=["osc1.0-length-prefix", "osc1.1-slip"])
def test_both_framings_decode_in_python_osc(pythonosc_server: tuple[ThreadingOSCTCPServer, list[Any]],
                                            transport: str, make_sender: Callable[..., OscSender]) -> None:
    server, received = pythonosc_server
    sender = make_sender(target(server.server_address[1], transport))
    # 0xC0 and 0xDB are SLIP's END and ESC bytes: the blob checks the escaping.
    blob = OscMessage("/blob", (("b", b"\xc0\xdb\x00\xc0"),))
    sender.send("desk", [message("/eos/cue/1/2/fire"), message("/x", 1, 0.5, "s"), blob])
    wait_until(lambda: len(received) == 3, what="3 messages over tcp")
    assert received == [("/eos/cue/1/2/fire", []), ("/x", [1, 0.5, "s"]), ("/blob", [b"\xc0\xdb\x00\xc0"])]


@pytest.mark.parametrize("transport", ["tcp", "tcp-slip"])
def test_a_target_that_is_down_is_reported_then_recovers(transport: str, callbacks: StatusLog,
                                                         make_sender: Callable[..., OscSender]) -> None:
    port = free_tcp_port()
    sender = make_sender(target(port, transport))
    sender.send("desk", [message("/early")])  # returns at once although nothing listens
    wait_until(lambda: "down" in callbacks.states("desk"), what="status down")
    assert "Refused" in sender.status()["desk"]["error"]

    console = TcpReceiver(transport, port)
    try:
        wait_until(lambda: callbacks.states("desk")[-1] == "ok", what="reconnect with backoff")
        sender.send("desk", [message("/after", 1)])
        wait_until(lambda: ("/after", [1]) in console.received, what="a message after the reconnect")
    finally:
        sender.close()
        console.stop()


@pytest.mark.parametrize("transport", ["tcp", "tcp-slip"])
def test_a_target_that_hangs_up_mid_show_gets_the_next_message(transport: str,
                                                               make_sender: Callable[..., OscSender]) -> None:
    console = TcpReceiver(transport)
    try:
        sender = make_sender(target(console.port, transport))
        sender.send("desk", [message("/one", 1)])
        wait_until(lambda: console.received == [("/one", [1])], what="the first message")
        console.hang_up()
        sender.send("desk", [message("/two", 2)])
        wait_until(lambda: len(console.received) == 2, what="the message after the hang-up")
        assert console.received == [("/one", [1]), ("/two", [2])]
        assert console.connections == 2
        assert sender.status()["desk"]["sent"] == 2
    finally:
        sender.close()
        console.stop()


def test_a_go_that_could_not_be_sent_in_time_is_dropped_not_sent_late(callbacks: StatusLog,
                                                                      make_sender: Callable[..., OscSender]) -> None:
    port = free_tcp_port()
    sender = make_sender(target(port, "tcp"), stale_after=0.2)
    sender.send("desk", [message("/late")])
    wait_until(lambda: sender.status()["desk"]["dropped"] == 1, what="the stale message dropped")
    console = TcpReceiver("tcp", port)
    try:
        wait_until(lambda: callbacks.states("desk")[-1] == "ok", what="reconnect")
        sender.send("desk", [message("/fresh")])
        wait_until(lambda: console.received, what="the fresh message")
        assert console.received == [("/fresh", [])]
        assert [m.address for _, m in callbacks.sent] == ["/fresh"]
    finally:
        sender.close()
        console.stop()
