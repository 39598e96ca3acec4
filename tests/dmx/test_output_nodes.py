"""Node status from real sockets: a node nobody listens on reads down (port unreachable) while the others get
every frame, and comes back after a clean second; host names resolve off the loop, and a name that does not
resolve reads down without holding a tick."""

from __future__ import annotations

import socket
import threading

from tests.dmx.receivers import SacnReceiver, sacn_sequence_ok
from tests.dmx.rig import PERIOD, RATE, T0, Source, free_udp_port, ramp, sacn
from tests.waiting import wait_until


def test_a_node_nobody_listens_on_goes_down_while_the_other_gets_every_frame(rig, receivers) -> None:
    rx = receivers(SacnReceiver)
    gone = free_udp_port()
    source = Source()
    source.fades[1] = (T0, 600.0, ramp)
    out, driver, statuses = rig([sacn("left", rx.port), sacn("gone", gone)], source, rx)

    def ticked_down() -> bool:
        driver.tick()
        return out.status()["gone"]["status"] == "down"

    wait_until(ticked_down, what="the node without a listener to read down")
    driver.tick(40)
    status = out.status()
    assert status["gone"]["error"] == f"nothing listens on udp 127.0.0.1:{gone} (port unreachable)"
    assert status["left"]["status"] == "ok" and status["left"]["frames"] == driver.k
    assert statuses[-1]["gone"]["status"] == "down"
    frames = rx.settle()
    assert len(frames) == driver.k and sacn_sequence_ok([p.sequence for p in frames])
    assert [bytes(p.dmxData) for p in frames] == [ramp(k * PERIOD / 600.0) for k in range(driver.k)]

    # Someone listens now: after a clean second the node reads ok again, and the new listener gets the frames.
    late_rx = receivers(SacnReceiver, gone)
    driver.receivers.append(late_rx)
    came_back = driver.k

    def ticked_ok() -> bool:
        driver.tick()
        return out.status()["gone"]["status"] == "ok"

    wait_until(ticked_ok, what="the node to read ok again")
    assert driver.k - came_back >= RATE  # never before a clean second of sends
    assert statuses[-1]["gone"] == {**out.status()["gone"], "status": "ok", "error": None}
    assert len(late_rx.settle()) >= RATE


def test_a_host_name_is_resolved_off_the_loop_and_retried(rig, receivers) -> None:
    rx, far_rx = receivers(SacnReceiver), receivers(SacnReceiver)
    answer = threading.Event()
    calls: list[str] = []

    def resolve(name: str) -> str:
        calls.append(name)
        answer.wait(10)
        if len(calls) == 1:
            raise socket.gaierror(-2, "Name or service not known")
        return "127.0.0.1"

    source = Source()
    source.fades[1] = (T0, 600.0, ramp)
    nodes = [sacn("left", rx.port), sacn("far", far_rx.port, address="desk.example")]
    out, driver, statuses = rig(nodes, source, rx, far_rx, resolve=resolve, resolve_retry=0.01)
    driver.tick()
    wait_until(lambda: calls, what="the resolver task to ask")
    driver.tick(20)  # while the resolver waits on its DNS answer, the loop goes on
    assert out.status()["left"]["frames"] == 21
    assert out.status()["far"]["status"] == "unknown" and out.status()["far"]["frames"] == 0
    answer.set()
    wait_until(lambda: out.status()["far"]["status"] == "unknown" and len(calls) == 2, what="the retry to resolve")
    far = [(s["far"]["status"], s["far"]["error"]) for s in statuses]
    assert [state for i, state in enumerate(far) if i == 0 or state != far[i - 1]] == [
        ("unknown", None), ("down", "cannot resolve desk.example"), ("unknown", None)]
    driver.tick(2)
    assert out.status()["far"]["status"] == "ok"
    assert [bytes(p.dmxData) for p in far_rx.settle()] == [ramp((21 + k) * PERIOD / 600.0) for k in range(2)]
    assert len(rx.settle()) == 23


def test_a_name_that_does_not_resolve_reads_down_and_the_loop_goes_on(rig, receivers) -> None:
    rx = receivers(SacnReceiver)
    source = Source()
    source.fades[1] = (T0, 600.0, ramp)
    out, driver, _ = rig([sacn("left", rx.port), sacn("nowhere", 5568, address="node.invalid")], source, rx)

    def ticked_down() -> bool:
        driver.tick()
        return out.status()["nowhere"]["status"] == "down"

    wait_until(ticked_down, what="node.invalid to read down")
    assert out.status()["nowhere"]["error"] == "cannot resolve node.invalid"
    assert out.status()["nowhere"]["frames"] == 0
    assert len(rx.settle()) == driver.k == out.status()["left"]["frames"]
