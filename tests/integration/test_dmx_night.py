"""Stage's own lights through the real server (issue 21): GO on the demo's performance cue fades the stage look
in on a universe that a receiver on the loopback hears, over sACN and over Art-Net; a later cue takes the fade
over from where it is; PANIC holds or blacks out; a dead node leaves the rest of the night running.

The receivers are real UDP sockets on 127.0.0.1 (sACN decoded by the ``sacn`` package, ArtDmx by the parser in
tests/dmx/receivers.py); everything is sent unicast to 127.0.0.1, never multicast or broadcast.
"""

from __future__ import annotations

import os
import signal
import statistics
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from stage.dmx.mixer import CURVES
from tests.conftest import PeerFactory, demo_show
from tests.dmx.receivers import ArtNetReceiver, SacnReceiver, artnet_sequence_ok, sacn_sequence_ok
from tests.lighting.osc_peers import free_udp_port
from tests.peers import go
from tests.stage_process import DEMO_SHOW, StageProcess, descendants
from tests.waiting import wait_until

DEMO = yaml.safe_load(DEMO_SHOW.read_text())
LOOKS = DEMO["dmx"]["looks"]
FADE = next(c for c in DEMO["cues"][4]["cues"] if c["type"] == "light")  # the performance's light cue
SLOW = 12  # seconds: the stage fade in tests that act in the middle of it


def dmx(level: float) -> int:
    """A 0-100 % level as the slot value the mixer sends (8-bit, rounded)."""
    return int(level / 100 * 255 + 0.5)


def slots(look: dict) -> list[int]:
    """Slots 1-11 of universe 1 for a demo look: two drgbw pars (1-5, 6-10) and the wash dimmer (11)."""
    par = [dmx(look["pars"].get(p, 0)) for p in ("dimmer", "red", "green", "blue", "white")]
    return par + par + [dmx(look["wash"]["dimmer"])]


class Night:
    def __init__(self, tmp_path: Path, protocol: str = "sacn", panic: str = "", dead_node: bool = False,
                 output: str = "process", async_mode: str = "gevent", extra_args: tuple[str, ...] = (),
                 stage_fade: float | None = None) -> None:
        tmp_path.mkdir(parents=True)
        self.receiver = SacnReceiver() if protocol == "sacn" else ArtNetReceiver()
        self.protocol = protocol
        text = demo_show(tmp_path, dmx_port=self.receiver.port).read_text()
        if protocol == "artnet":
            text = text.replace("protocol: sacn", "protocol: artnet")
        if dead_node:  # a second node carrying the same universe, with nothing listening on its port
            text = text.replace("  fixtures:\n    - {name: par-left", f"    - {{name: dead, protocol: {protocol}, "
                                f"address: 127.0.0.1, port: {free_udp_port()}, universes: [1]}}\n"
                                "  fixtures:\n    - {name: par-left", 1)
        if panic:
            text = text.replace("\nrigs:", f"\npanic: {panic}\n\nrigs:", 1)
        if stage_fade is not None:  # a slower stage fade: room for a GO or PANIC mid-fade on a loaded machine
            fade = f"look: stage\n        fade: {FADE['fade']:g}\n"
            assert fade in text, "the demo's stage fade moved: update this test"
            text = text.replace(fade, f"look: stage\n        fade: {stage_fade:g}\n", 1)
        show = tmp_path / "lights.yaml"
        show.write_text(text)
        self.server = StageProcess(show, tmp_path / "data", async_mode=async_mode, extra_args=extra_args,
                                   extra_env={"STAGE_DMX_OUTPUT": output}).start()
        self.peers = PeerFactory(self.server)
        self.host = self.peers.host()

    def data(self) -> list[tuple[float, bytes]]:
        """(kernel stamp, the 512 slots) of every frame so far, in order."""
        self.receiver.drain()
        out = []
        for datagram, frame in zip(self.receiver.datagrams, self.receiver.frames()):
            out.append((datagram.stamp, bytes(frame.dmxData if self.protocol == "sacn" else frame.data)))
        return out

    def go_to(self, cue: str) -> dict:
        while True:
            fired = go(self.host)["fired"]
            if fired["cue"] == cue:
                return fired

    def wait_slots(self, expected: list[int], what: str) -> list[tuple[float, bytes]]:
        return wait_until(lambda: (lambda d: d if d and list(d[-1][1][:11]) == expected else None)(self.data()),
                          timeout=15, what=what)

    def close(self) -> None:
        self.server.stop()
        self.peers.close_all()
        self.receiver.close()


@pytest.fixture
def night(tmp_path: Path) -> Iterator:
    made: list[Night] = []

    def make(**kwargs) -> Night:
        made.append(Night(tmp_path / str(len(made)), **kwargs))
        return made[-1]

    yield make
    for one in made:
        one.close()


def on_the_curve(frames: list[tuple[float, bytes]], start: int, end: int, seconds: float, curve: str) -> None:
    """Each sampled dimmer level lies where the curve puts it at the frame's kernel stamp (the fade's start
    estimated from all of them; the curve's flat ends, where a level says little about time, left out)."""
    shape = CURVES[curve]
    inverse = [(k / 10000, shape(k / 10000)) for k in range(10001)]
    points = []
    for stamp, data in frames:
        fraction = (data[0] - start) / (end - start)
        if 0.1 < fraction < 0.9:
            x = min(inverse, key=lambda p: abs(p[1] - fraction))[0]
            points.append((stamp, x * seconds))
    assert len(points) >= 5, f"only {len(points)} frames inside the fade"
    t0 = statistics.median(stamp - at for stamp, at in points)
    worst = max(abs(stamp - at - t0) for stamp, at in points)
    assert worst < 0.25, f"a frame {worst:.3f} s off the {curve} curve"


@pytest.mark.parametrize("protocol, output, mode", [("sacn", "process", "gevent"), ("artnet", "process", "gevent"),
                                                   ("sacn", "inline", "gevent"), ("sacn", "process", "eventlet")])
def test_go_on_the_performance_fades_the_stage_look_in(night, protocol, output, mode):
    lights = night(protocol=protocol, output=output, async_mode=mode)
    lights.wait_slots([0] * 11, "the keep-alive of a dark universe")
    fired = lights.go_to("5")
    assert fired["cue"] == "5"
    frames = lights.wait_slots(slots(LOOKS["stage"]), "the stage look, after its fade")
    fading = [(stamp, data) for stamp, data in frames if 0 < data[0] < 255]
    on_the_curve(fading, 0, 255, FADE["fade"], FADE["curve"])
    sequences = [f.sequence for f in lights.receiver.frames()]
    assert (sacn_sequence_ok if protocol == "sacn" else artnet_sequence_ok)(sequences)
    if protocol == "sacn":
        packet = lights.receiver.frames()[-1]
        assert packet.universe == 1 and packet.priority == 100 and packet.sourceName == "Stage: " + DEMO["title"]
    cues = lights.host.wait_for("cues", lambda s: any(r["id"] == "5.4" and r["state"] == "done" for r in s["cues"]))
    assert next(r for r in cues["cues"] if r["id"] == "5.4")["fade"]["seconds"] == FADE["fade"]


def test_a_later_cue_takes_over_the_fade_from_where_it_is(night):
    lights = night(stage_fade=SLOW)
    lights.go_to("5")
    wait_until(lambda: any(40 < d[0] < 200 for _, d in lights.data()), what="the stage fade under way")
    lights.go_to("6")  # the house look, from wherever the stage fade had got to
    frames = lights.wait_slots(slots(LOOKS["house"]), "the house look")
    # No jump: from one frame to the next the par's dimmer moves no faster than the steeper of the two fades
    steepest = max(1.5 * 255 / SLOW, 255 / 2) * 1.2  # s_curve's slope peaks at 1.5x; house is linear 2 s
    for (t1, a), (t2, b) in zip(frames, frames[1:]):
        assert abs(b[0] - a[0]) <= steepest * (t2 - t1) + 3, (t1, a[0], t2, b[0])
    assert max(d[0] for _, d in frames) < 255  # it was taken over before the stage look was reached


def test_panic_holds_the_lights_and_a_show_may_black_them_out(night):
    held = night(stage_fade=SLOW)
    held.go_to("5")
    wait_until(lambda: any(60 < d[0] < 200 for _, d in held.data()), what="the stage fade under way")
    ack = held.host.call("panic")
    assert ack["ok"] and ack["panic"]["lights"] == "hold"
    before = len(held.receiver.settle())  # every frame sent before the panic's ack, and maybe one after
    after = wait_until(lambda: (lambda d: d[before:] if len(d) >= before + 4 else None)(held.data()),
                       timeout=15, what="the frames after the panic (the keep-alive)")
    levels = {data[:11] for _, data in after[1:]}
    assert len(levels) == 1, f"the levels moved after a panic that holds: {levels}"
    assert 0 < next(iter(levels))[0] < 255, "held mid-fade"

    dark = night(panic="{lights: blackout}")
    dark.go_to("5")
    dark.wait_slots(slots(LOOKS["stage"]), "the stage look")
    assert dark.host.call("panic")["panic"]["lights"] == "blackout"
    dark.wait_slots([0] * 11, "every intensity out")


def test_a_dead_node_leaves_the_night_running(night):
    lights = night(dead_node=True)
    dead = lights.host.wait_for("dmx", lambda s: s["nodes"].get("dead", {}).get("status") == "down", timeout=15)
    assert "unreachable" in (dead["nodes"]["dead"]["error"] or "")
    assert dead["nodes"]["stage-node"]["status"] == "ok"
    phone = lights.peers.phone("Ada")
    display = lights.peers.display()
    lights.go_to("2")  # the prompt opens on the phone
    assert phone.wait_for("prompt", lambda p: p.get("prompt") is not None)
    story = {"id": str(uuid.uuid4()), "prompt": "cape", "text": "A cape in the dark."}
    assert phone.call("submit_story", story)["ok"]
    lights.go_to("3")
    assert display.wait_for("scene", lambda s: s["scene"]["type"] == "wall")
    lights.go_to("5")
    lights.wait_slots(slots(LOOKS["stage"]), "the stage look on the node that works")
    health = requests.get(f"{lights.server.url}/healthz", timeout=5).json()
    assert health["dmx"] == {"stage-node": "ok", "dead": "down"}


def test_dmx_out_killed_comes_back_with_the_levels_the_room_saw(night):
    lights = night()
    lights.go_to("5")
    lights.wait_slots(slots(LOOKS["stage"]), "the stage look")
    children = [pid for pid in descendants(lights.server.proc.pid)
                if "stage.dmx.child" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")]
    assert len(children) == 1, children
    os.kill(children[0], signal.SIGKILL)
    restarting = lights.host.wait_for("dmx", lambda s: s["nodes"]["stage-node"]["status"] == "restarting")
    assert "starting it again" in restarting["nodes"]["stage-node"]["error"]
    heard = len(lights.receiver.settle())
    # A new DMX out, a new sequence: frames come back, with the stage look held as it was
    back = wait_until(lambda: (lambda d: d[heard:] if len(d) > heard else None)(lights.data()), timeout=15,
                      what="frames from the new DMX out")
    assert all(list(data[:11]) == slots(LOOKS["stage"]) for _, data in back)
    lights.host.wait_for("dmx", lambda s: s["nodes"]["stage-node"]["status"] == "ok")


def test_a_dry_run_logs_the_frames_and_sends_none(night):
    lights = night(extra_args=("--dmx-dry-run",))
    status = lights.host.wait_for("dmx", lambda s: s["nodes"]["stage-node"]["status"] == "dry_run")
    assert status["grand_master"] == 100
    lights.go_to("5")
    lights.host.wait_for("cues", lambda s: any(r["id"] == "5.4" and r["state"] == "done" for r in s["cues"]))
    stage = slots(LOOKS["stage"])
    # the fade's last frame is logged: "u1: 1=255 2=255 3=179 ..." (slot=value, the non-zero ones)
    wanted = "u1: " + " ".join(f"{slot}={value}" for slot, value in enumerate(stage, start=1) if value)
    wait_until(lambda: wanted in lights.server.log_text(), timeout=15, what=f"the dry run's line {wanted!r}")
    assert lights.receiver.settle() == [], "a dry run sent DMX"
