"""OscSender over UDP: pacing, dry run, callbacks, status of a target nobody listens to."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable

import pytest

from stage.lighting.messages import message
from stage.lighting.sender import OscSender, SenderError
from stage.show.models import OscTarget
from tests.lighting.conftest import StatusLog
from tests.lighting.osc_peers import LOOPBACK, OscDump, UdpReceiver, free_udp_port
from tests.waiting import wait_until


def target(port: int, name: str = "desk") -> OscTarget:
    return OscTarget(name=name, host=LOOPBACK, port=port)


def test_a_burst_of_1000_all_arrive_in_order_with_pacing(receiver: UdpReceiver,
                                                        make_sender: Callable[..., OscSender]) -> None:
    sender = make_sender(target(receiver.port))
    sender.send("desk", [message("/burst", i, 0.5, "abc") for i in range(1000)])  # one call: worst case
    wait_until(lambda: sender.status()["desk"]["queued"] == 0 and sender.status()["desk"]["sent"] == 1000,
               what="the worker to send the burst")
    # The last datagram left the sender; wait for it (or give up: then some were lost).
    try:
        wait_until(lambda: len(receiver.received) >= 1000, timeout=5, what="1000 datagrams")
    finally:
        values = [args[0] for _, args, _ in receiver.received]
    assert values == list(range(1000))


def test_send_returns_before_anything_is_sent(receiver: UdpReceiver, make_sender: Callable[..., OscSender]) -> None:
    # A sleep that blocks until released: if send() waited for the worker, this test would hang.
    release = threading.Event()
    sender = make_sender(target(receiver.port), sleep=lambda _: release.wait(10), burst=1)
    sender.send("desk", [message("/a", i) for i in range(3)])  # the worker pauses after the first
    assert sender.status()["desk"]["queued"] >= 1
    release.set()
    wait_until(lambda: len(receiver.received) == 3, what="3 datagrams")


def test_on_sent_sees_every_message_actually_sent(receiver: UdpReceiver, callbacks: StatusLog,
                                                  make_sender: Callable[..., OscSender]) -> None:
    sender = make_sender(target(receiver.port))
    messages = [message("/one"), message("/two", "x")]
    sender.send("desk", messages)
    wait_until(lambda: len(callbacks.sent) == 2, what="on_sent twice")
    assert callbacks.sent == [("desk", messages[0]), ("desk", messages[1])]
    assert callbacks.states("desk") == ["ok"]


def test_dry_run_sends_nothing_and_logs_each_message(oscdump: OscDump, callbacks: StatusLog,
                                                     make_sender: Callable[..., OscSender],
                                                     caplog: pytest.LogCaptureFixture) -> None:
    dry = make_sender(target(oscdump.port), dry_run=True)
    with caplog.at_level(logging.INFO, logger="stage.lighting.sender"):
        dry.send("desk", [message("/eos/key/go_0"), message("/x", 1, "two")])
    lines = [r.getMessage() for r in caplog.records if "dry run" in r.getMessage()]
    assert len(lines) == 2
    assert "/eos/key/go_0" in lines[0] and '/x ,is 1 "two"' in lines[1]
    # oscdump prints in arrival order: if the dry run had sent anything, it would come before the marker.
    make_sender(target(oscdump.port, "live"), dry_run=False).send("live", [message("/marker")])
    assert oscdump.next() == "/marker"
    wait_until(lambda: callbacks.sent, what="on_sent for the marker")
    assert callbacks.sent == [("live", message("/marker"))]  # nothing for the dry run


def test_unknown_target_raises_but_a_silent_one_does_not(make_sender: Callable[..., OscSender],
                                                         callbacks: StatusLog) -> None:
    port = free_udp_port()  # nobody listens: loopback answers with ICMP port unreachable
    sender = make_sender(target(port))
    with pytest.raises(SenderError, match="unknown OSC target 'nope'"):
        sender.send("nope", [message("/go")])

    def down() -> bool:
        sender.send("desk", [message("/go")])  # the refusal is reported on the next datagram
        return "down" in callbacks.states("desk")

    wait_until(down, what="status down")
    status = sender.status()["desk"]
    assert status["status"] == "down" and "unreachable" in status["error"]

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:  # the console boots
        listener.bind((LOOPBACK, port))

        def back() -> bool:
            sender.send("desk", [message("/go")])
            return callbacks.states("desk")[-1] == "ok"

        wait_until(back, what="status ok again")
    assert sender.status()["desk"]["error"] is None


def test_close_stops_the_workers(receiver: UdpReceiver, make_sender: Callable[..., OscSender]) -> None:
    sender = make_sender(target(receiver.port))
    sender.send("desk", [message("/one")])
    wait_until(lambda: receiver.received, what="one datagram")
    workers = list(sender._workers.values())
    sender.close()
    assert all(w.done.is_set() for w in workers)
    with pytest.raises(SenderError, match="closed"):
        sender.send("desk", [message("/two")])
