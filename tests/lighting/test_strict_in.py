"""OSC in refuses a whole datagram it cannot read exactly (issue 14, findings 3 and 7), logs one line
for a flood of them, and a button's release is never a second GO, whatever type it is sent as."""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable

import pytest

from stage.lighting.datagrams import MAX_DATAGRAM_BYTES
from stage.lighting.remote import COMMAND_LOG, OscRemote, osc_in_bind
from tests.lighting.conftest import Client, Recorder
from tests.lighting.osc_peers import osc_bytes
from tests.waiting import wait_until

PONG = ("/stage/reply/ping", ["ok", "pong"])
FLOOD = osc_bytes("/stage/ping", "x" * 16_000)  # the reported attack: ",xxxx...": 16,000 unknown tags

# Each fired GO before OSC in decoded strictly (python-osc dropped, padded or ignored the bad part).
FIRED_BEFORE = {
    "unknown tag x with its 4 bytes": osc_bytes("/stage/go", "x", b"\0\0\0\1"),
    "OSC char c": osc_bytes("/stage/go", "c", b"\0\0\0g"),
    "4 bytes no tag describes": osc_bytes("/stage/go", "", b"\0\0\0\1"),
    "a float cut to 2 bytes": osc_bytes("/stage/go", "f", b"\x3f\x80"),
    "unknown tags around a press": osc_bytes("/stage/go", "xf", struct.pack(">f", 1.0)),
    "padding that is not NUL": b"/stage/go\0zz,\0\0\0",
}
# Refused before too, in python-osc's own way; still refused whole, and none of them may fire.
REFUSED_ANYWAY = {
    "type tags without a comma": b"/stage/go\0\0\0xf\0\0" + struct.pack(">f", 1.0),
    "an int32 without its payload": osc_bytes("/stage/go", "i"),
    "a blob longer than the datagram": osc_bytes("/stage/go", "b", struct.pack(">i", 400) + b"ab\0\0"),
    "a negative blob size": osc_bytes("/stage/go", "b", struct.pack(">i", -4)),
    "an oversized datagram": osc_bytes("/stage/go", "T" * (MAX_DATAGRAM_BYTES + 1)),
    "a string that is not UTF-8": osc_bytes("/stage/display/main/scene", "s", b"\xff\xfe\0\0"),
}


def ping(client: Client) -> None:
    """Datagrams from one socket are handled in order: once the ping is answered, all before it were.
    Error replies to what was sent before it (a NaN press) are read past."""
    client.send(osc_bytes("/stage/ping"))
    while client.reply() != PONG:
        pass


@pytest.mark.parametrize("dgram", [*FIRED_BEFORE.values(), *REFUSED_ANYWAY.values()],
                         ids=[*FIRED_BEFORE, *REFUSED_ANYWAY])
def test_a_datagram_it_cannot_read_exactly_fires_nothing(dgram: bytes, make_remote: Callable[..., OscRemote],
                                                         recorder: Recorder, client_for: Callable[..., Client],
                                                         caplog: pytest.LogCaptureFixture) -> None:
    remote = make_remote()
    client = client_for(remote)
    with caplog.at_level(logging.WARNING):
        client.send(dgram)
        ping(client)
    assert recorder.calls == []
    assert remote.counters["malformed"] == 1
    refusals = [r.getMessage() for r in caplog.records if "refused a datagram from 127.0.0.1" in r.getMessage()]
    assert len(refusals) == 1, caplog.text
    assert client.call("/stage/go") == ("/stage/reply/go", ["ok", "GO cue 3"])  # a proper GO still works
    assert recorder.calls == [("go",)]


def test_a_tag_flood_writes_one_log_line_and_go_still_works(make_remote: Callable[..., OscRemote],
                                                            recorder: Recorder, client_for: Callable[..., Client],
                                                            caplog: pytest.LogCaptureFixture) -> None:
    remote = make_remote()
    client = client_for(remote)
    with caplog.at_level(logging.DEBUG):
        for _ in range(5):
            client.send(FLOOD)
        ping(client)
    wait_until(lambda: remote.counters["malformed"] == 5, what="five refused datagrams")
    assert not any("Unhandled parameter type" in r.getMessage() for r in caplog.records)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "refused a datagram from 127.0.0.1" in warnings[0].getMessage(), caplog.text
    assert client.call("/stage/go")[1][0] == "ok"


def test_a_flood_of_refused_commands_logs_a_few_lines(make_remote: Callable[..., OscRemote],
                                                     client_for: Callable[..., Client],
                                                     caplog: pytest.LogCaptureFixture) -> None:
    client = client_for(make_remote(clock=lambda: 100.0))  # time stands still: one window for the whole flood
    with caplog.at_level(logging.INFO, logger="stage.lighting.remote"):
        for _ in range(100):
            client.send(osc_bytes("/stage/cue/bad/go"))  # answered, refused by the night, each time
            assert client.reply()[1][0] == "error"
    refused = [r for r in caplog.records if "refused: no cue 'bad'" in r.getMessage()]
    assert len(refused) == COMMAND_LOG.amount


@pytest.mark.parametrize("release", [
    osc_bytes("/stage/go", "c", b"\0\0\0\0"),  # an OSC char Stage does not take
    osc_bytes("/stage/go", "x", b"\0\0\0\0"),
    osc_bytes("/stage/go", "h", b"\0" * 8),  # int64
    osc_bytes("/stage/go", "N"),  # nil
    osc_bytes("/stage/go", "f", struct.pack(">f", float("nan"))),
    osc_bytes("/stage/go", "f", struct.pack(">f", 0.0)),
    osc_bytes("/stage/go", "F"),
    osc_bytes("/stage/go", "d", struct.pack(">d", 0.0)),
], ids=["char", "x", "int64", "nil", "nan", "float", "false", "double"])
def test_press_and_release_fire_once_whatever_the_release_type(release: bytes, make_remote: Callable[..., OscRemote],
                                                               recorder: Recorder,
                                                               client_for: Callable[..., Client]) -> None:
    client = client_for(make_remote())
    client.send(osc_bytes("/stage/go", "f", struct.pack(">f", 1.0)))  # TouchOSC's press
    assert client.reply() == ("/stage/reply/go", ["ok", "GO cue 3"])
    client.send(release)
    ping(client)
    assert recorder.calls == [("go",)]


def test_every_supported_type_still_decodes(make_remote: Callable[..., OscRemote],
                                            client_for: Callable[..., Client]) -> None:
    feedback: list[tuple[str, list[object]]] = []
    remote = make_remote(on_feedback=lambda address, args: feedback.append((address, args)))
    client = client_for(remote)
    payload = (struct.pack(">i", -7) + struct.pack(">f", 0.5) + struct.pack(">d", 1.25) + b"ab\0\0"
               + struct.pack(">i", 3) + b"xyz\0")
    client.send(osc_bytes("/eos/out/x", "ifdsTFb", payload))
    client.send(b"/stage/go\0\0\0")  # OSC 1.0: a message without a type tag string has no arguments
    assert client.reply() == ("/stage/reply/go", ["ok", "GO cue 3"])
    assert feedback == [("/eos/out/x", [-7, 0.5, 1.25, "ab", True, False, b"xyz"])]
    assert remote.counters["malformed"] == 0


@pytest.mark.parametrize(("explicit", "server", "warns"), [
    (None, "127.0.0.1", False), (None, "0.0.0.0", False), ("10.1.0.5", "127.0.0.1", True),
    ("0.0.0.0", "127.0.0.1", True), ("0.0.0.0", "10.0.0.2", True), ("0.0.0.0", "0.0.0.0", False),
    ("10.1.0.5", "0.0.0.0", False), ("127.0.0.1", "0.0.0.0", False), ("10.1.0.5", "192.168.1.2", False),
])
def test_osc_in_follows_the_server_bind_unless_the_show_names_one(explicit: str | None, server: str, warns: bool,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="stage.lighting.remote"):
        assert osc_in_bind(explicit, server) == (server if explicit is None else explicit)
    assert len(caplog.records) == (1 if warns else 0), caplog.text
