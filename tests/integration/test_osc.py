"""Lighting over OSC through the real server: oscdump hears GO, oscsend drives GO."""

from __future__ import annotations

import socket
import time
import sqlite3
import uuid

import pytest
import requests

from tests.conftest import PeerFactory, demo_show
from tests.lighting.osc_peers import OscDump, free_udp_port, oscsend
from tests.waiting import wait_until
from tests.peers import go
from tests.stage_process import StageProcess


@pytest.fixture
def rig(tmp_path):
    dump = OscDump(free_udp_port())
    osc_in = free_udp_port()
    show = demo_show(tmp_path, dump.port, f"  port: {osc_in}\n  bind: 127.0.0.1\n  allow: [127.0.0.1]")
    started: list[StageProcess] = []

    def start(*extra: str) -> tuple[StageProcess, PeerFactory]:
        server = StageProcess(show, tmp_path / f"data{len(started)}", extra_args=extra).start()
        started.append(server)
        return server, PeerFactory(server)

    yield dump, osc_in, start
    for server in started:
        server.stop()
    dump.stop()


def health(server: StageProcess) -> dict:
    return requests.get(f"{server.url}/healthz").json()


def test_go_sends_the_profile_addresses_to_the_console_and_audits_them(rig):
    dump, _, start = rig
    server, peers = start()
    host = peers.host()
    for _ in range(4):
        go(host)
    fired = go(host)["fired"]
    assert fired["cue"] == "5"
    assert dump.next() == "/eos/cue/1/12/fire"
    go(host)
    assert dump.next() == "/eos/cue/1/13/fire"
    wait_until(lambda: health(server)["osc"] == {"lights": "ok"}, what="lights target ok")
    with sqlite3.connect(server.data_dir / "stage.db") as db:
        sent = db.execute("SELECT subject, detail FROM audit WHERE action = 'osc_sent' ORDER BY seq").fetchall()
    assert [s[0] for s in sent] == ["lights", "lights"] and "/eos/cue/1/12/fire" in sent[0][1]
    assert host.wait_for("osc")["targets"]["lights"]["status"] in ("unknown", "ok")


def test_a_remote_drives_the_cue_list_with_oscsend(rig):
    _, osc_in, start = rig
    server, peers = start()
    display = peers.display()
    oscsend(osc_in, "/stage/go")
    wait_until(lambda: health(server)["cue"] == "2", what="GO from OSC")
    time.sleep(0.25)  # past the show's GO debounce, which applies to remotes too
    oscsend(osc_in, "/stage/cue/3/go")
    assert display.wait_for("scene", lambda s: s["scene"]["type"] == "wall")
    oscsend(osc_in, "/stage/display/main/scene", "s", "blank")
    assert display.wait_for("scene", lambda s: s["scene"]["type"] == "blank")
    oscsend(osc_in, "/stage/back")
    wait_until(lambda: health(server)["cue"] == "3", what="back from OSC")
    with sqlite3.connect(server.data_dir / "stage.db") as db:
        actors = {row[0] for row in db.execute("SELECT actor FROM audit WHERE action IN ('go', 'jump', 'back')")}
    assert actors == {"osc-remote"}


def test_dry_run_logs_and_sends_nothing(rig):
    dump, _, start = rig
    server, peers = start("--osc-dry-run")
    host = peers.host()
    for _ in range(5):
        go(host)
    wait_until(lambda: "OSC dry run: not sent to lights" in server.log_text(), what="dry-run log line")
    assert dump.drain() == []
    assert "OSC dry run" in "\n".join(server.stdout_lines)


def test_a_flood_on_the_osc_port_does_not_stop_the_phones(rig):
    _, osc_in, start = rig
    server, peers = start()
    host = peers.host()
    go(host), go(host)
    phone = peers.phone("Ada")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as flood:
        for _ in range(3000):
            flood.sendto(b"/stage/nothing\x00\x00,\x00\x00\x00", ("127.0.0.1", osc_in))
        flood.sendto(b"\xff garbage", ("127.0.0.1", osc_in))
    ack = phone.call("submit_story", {"id": str(uuid.uuid4()), "prompt": "cape", "text": "Still here."})
    assert ack["ok"] and health(server)["status"] == "ok"
    wait_until(lambda: "127.0.0.1 is over the rate limit (200 per 1 second)" in server.log_text(), what="flood logged")
    assert server.log_text().count("over the rate limit") <= 2, "a flood is logged sometimes, not per datagram"


def test_a_target_that_is_down_and_console_feedback_reach_the_host_console(rig):
    dump, osc_in, start = rig
    dump.stop()  # the lighting console is off: nothing listens on its port any more
    server, peers = start()
    host = peers.host()
    for _ in range(6):
        go(host)  # cues 5 and 6 fire lighting at the silent console
    # UDP hears of a dead port from the ICMP answer to the datagram before: down after the second.
    down = host.wait_for("osc", lambda d: d["targets"]["lights"]["status"] == "down")
    assert "port unreachable" in down["targets"]["lights"]["error"]
    assert health(server)["osc"] == {"lights": "down"}
    assert health(server)["cue"] == "7", "a target that is down never stops the show"
    oscsend(osc_in, "/eos/out/event/cue/1/12/fire")
    assert host.wait_for("osc_feedback") == {"address": "/eos/out/event/cue/1/12/fire", "args": []}
