"""OscRemote driven by liblo's oscsend and by plain sockets: commands, replies, allow-list, floods."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

import pytest
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

from stage.lighting.remote import OscRemote, RemoteError
from tests.lighting.conftest import Client, Recorder, thread_spawn
from tests.lighting.osc_peers import LOOPBACK, osc_bytes, oscsend
from tests.waiting import wait_until


def test_oscsend_drives_go_cue_and_scene(make_remote: Callable[..., OscRemote], recorder: Recorder) -> None:
    remote = make_remote()
    oscsend(remote.port, "/stage/go")
    oscsend(remote.port, "/stage/cue/5/go")
    oscsend(remote.port, "/stage/display/main/scene", "s", "wall")
    oscsend(remote.port, "/stage/back")
    oscsend(remote.port, "/stage/panic", "i", "1")
    wait_until(lambda: len(recorder.calls) == 5, what="five handled commands")
    assert recorder.calls == [("go",), ("cue_go", "5"), ("display_scene", "main", "wall"), ("back",), ("panic",)]
    assert remote.counters["handled"] == 5


def test_a_button_release_is_not_a_second_go(make_remote: Callable[..., OscRemote], recorder: Recorder) -> None:
    remote = make_remote()
    oscsend(remote.port, "/stage/go", "f", "1.0")  # TouchOSC: press ...
    oscsend(remote.port, "/stage/go", "f", "0.0")  # ... and release
    oscsend(remote.port, "/stage/go", "F")
    oscsend(remote.port, "/stage/cue/9/go", "T")
    wait_until(lambda: remote.counters["received"] == 4, what="four datagrams")
    wait_until(lambda: recorder.count("cue_go") == 1, what="the cue go")
    assert recorder.calls == [("go",), ("cue_go", "9")]


def test_replies_go_to_the_sender(make_remote: Callable[..., OscRemote], client_for: Callable[..., Client]) -> None:
    client = client_for(make_remote())
    assert client.call("/stage/go") == ("/stage/reply/go", ["ok", "GO cue 3"])
    assert client.call("/stage/cue/bad/go") == ("/stage/reply/cue/bad/go", ["error", "no cue 'bad' in this show"])
    assert client.call("/stage/ping") == ("/stage/reply/ping", ["ok", "pong"])
    address, [status, detail] = client.call("/stage/nope")
    assert (address, status) == ("/stage/reply/nope", "error") and "unknown address" in detail
    address, [status, detail] = client.call("/stage/display/main/scene", ("i", 3))
    assert (address, status) == ("/stage/reply/display/main/scene", "error") and "one string" in detail


def test_a_sender_outside_the_allow_list_is_dropped(make_remote: Callable[..., OscRemote], recorder: Recorder,
                                                    client_for: Callable[..., Client]) -> None:
    remote = make_remote(allow=("127.0.0.1", "10.0.0.0/8"))
    outsider = client_for(remote, "127.0.0.2")  # the whole 127/8 is loopback on Linux
    outsider.send(osc_bytes("/stage/go"))
    wait_until(lambda: remote.counters["dropped"] == 1, what="the outsider's datagram dropped")
    assert recorder.calls == []
    assert client_for(remote).call("/stage/go")[1][0] == "ok"
    assert recorder.calls == [("go",)]


def test_a_cidr_network_in_the_allow_list_admits_its_hosts(make_remote: Callable[..., OscRemote],
                                                          client_for: Callable[..., Client]) -> None:
    remote = make_remote(allow=("127.0.0.0/29",))
    assert client_for(remote, "127.0.0.5").call("/stage/ping") == ("/stage/reply/ping", ["ok", "pong"])


def test_malformed_datagrams_are_counted_and_the_loop_goes_on(make_remote: Callable[..., OscRemote],
                                                              recorder: Recorder,
                                                              client_for: Callable[..., Client]) -> None:
    remote = make_remote()
    client = client_for(remote)
    client.send(b"not osc at all")
    client.send(b"/stage/go")  # no NUL padding
    client.send(osc_bytes("/stage/go", "i"))  # a type tag without its payload
    client.send(osc_bytes("/stage/cue/5/go", "s", b"x\0\0\0"))  # wrong type tag (answered with an error)
    assert client.reply()[1][0] == "error"
    client.send(b"#bundle\0garbage")
    wait_until(lambda: remote.counters["malformed"] == 5, what="five malformed datagrams")
    assert client.call("/stage/go") == ("/stage/reply/go", ["ok", "GO cue 3"])
    assert recorder.calls == [("go",)]
    assert remote.counters["received"] == 6


def test_a_bundle_runs_each_message(make_remote: Callable[..., OscRemote], recorder: Recorder,
                                    client_for: Callable[..., Client]) -> None:
    bundle = OscBundleBuilder(IMMEDIATELY)
    bundle.add_content(OscMessageBuilder("/stage/cue/1/go").build())
    bundle.add_content(OscMessageBuilder("/stage/cue/2/go").build())
    client = client_for(make_remote())
    client.send(bundle.build().dgram)
    assert {client.reply()[0], client.reply()[0]} == {"/stage/reply/cue/1/go", "/stage/reply/cue/2/go"}
    assert recorder.calls == [("cue_go", "1"), ("cue_go", "2")]


def test_console_feedback_goes_to_on_feedback(make_remote: Callable[..., OscRemote]) -> None:
    feedback: list[tuple[str, list[Any]]] = []
    remote = make_remote(on_feedback=lambda address, args: feedback.append((address, args)))
    oscsend(remote.port, "/eos/out/active/cue/text", "s", "1/2 Opening 0:05 75%")
    wait_until(lambda: feedback, what="feedback")
    assert feedback == [("/eos/out/active/cue/text", ["1/2 Opening 0:05 75%"])]


def test_a_flood_is_rate_limited_and_go_still_works_after(make_remote: Callable[..., OscRemote],
                                                          recorder: Recorder,
                                                          client_for: Callable[..., Client]) -> None:
    remote = make_remote(allow=("127.0.0.1", "127.0.0.2"), rate="50 per second")
    flooder = client_for(remote)
    go = osc_bytes("/stage/go")
    for _ in range(5000):
        flooder.send(go)
    # Datagrams are read in order: once a probe from another address is answered, the flood is behind
    # us. Probes sent while the socket buffer is full are lost in the kernel, so probe until answered.
    probe = client_for(remote, "127.0.0.2")
    probe.sock.settimeout(0.2)

    def answered() -> bool:
        probe.send(osc_bytes("/stage/ping"))
        try:
            return probe.reply() == ("/stage/reply/ping", ["ok", "pong"])
        except socket.timeout:
            return False

    wait_until(answered, what="the probe after the flood")
    assert remote.counters["rate_limited"] > 0
    assert 1 <= recorder.count("go") <= 50
    flooder.sock.settimeout(0.01)
    with pytest.raises(socket.timeout):
        while True:  # drop the replies to the admitted GOs
            flooder.sock.recv(65535)
    before = recorder.count("go")
    time.sleep(1.1)  # the one-second window moves past the flood
    oscsend(remote.port, "/stage/go")
    wait_until(lambda: recorder.count("go") == before + 1, what="a GO after the flood")


def test_bad_settings_and_a_taken_port_raise_remote_error(recorder: Recorder) -> None:
    with pytest.raises(RemoteError, match="not an IP address"):
        OscRemote(0, LOOPBACK, ["not-an-ip"], recorder, spawn=thread_spawn)
    with pytest.raises(RemoteError, match="not a limit"):
        OscRemote(0, LOOPBACK, ["127.0.0.1"], recorder, spawn=thread_spawn, rate="lots")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind((LOOPBACK, 0))
        remote = OscRemote(taken.getsockname()[1], LOOPBACK, ["127.0.0.1"], recorder, spawn=thread_spawn)
        with pytest.raises(RemoteError, match="cannot listen"):
            remote.start()


def test_close_stops_the_loop(make_remote: Callable[..., OscRemote]) -> None:
    remote = make_remote()
    remote.close()
    assert remote._done.is_set()

