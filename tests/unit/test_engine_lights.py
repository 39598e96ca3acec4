"""Light cues in the cue engine (issue 21), on a fake clock with a real store and the real mixer: pre-wait, the fade
as the cue's running time, a follow exactly at the fade's end, a later cue taking over a running fade, stop and
panic holding (or blacking out when the show says), a restart holding the levels, and the audit."""

from __future__ import annotations

from pathlib import Path

import pytest

from stage.night.lights import Lights
from stage.records import audit_log
from stage.records.sqlite_store import SqliteStore
from stage.show.clock import FakeClock
from stage.show.engine import CueEngine
from stage.show.loader import parse_show

SHOW = """
title: Lights test
displays: [{name: main}]
PANIC
dmx:
  nodes: [{name: node, protocol: sacn, address: 127.0.0.1, universes: [1]}]
  fixtures:
    - {name: par, type: drgbw, universe: 1, address: 1}
    - {name: wash, type: dct, universe: 1, address: 6}
  looks:
    up: {par: {dimmer: 100, red: 100}, wash: {dimmer: 100, ct: 40}}
    down: {par: {dimmer: 0}}
cues:
  - {id: "1", type: light, look: up, fade: 2, pre_wait: 1, continue: auto_follow}
  - {id: "2", type: note, name: after the fade}
  - {id: "3", type: light, look: down, fade: 2}
  - {id: "4", type: light, levels: {par: {red: 50}}}
  - {id: "5", type: light, look: up, fade: 2}
"""


class Actions:
    """What CueDispatch does for these cues: light cues to the night's Lights, panic to its lights' panic."""

    def __init__(self, lights: Lights) -> None:
        self.lights = lights

    def fire(self, cue, actor):
        return self.lights.fire(cue, actor) if cue.type == "light" else None

    def panic(self, actor):
        return {"lights": self.lights.panic(actor)}


@pytest.fixture
def night(tmp_path: Path):
    def make(panic: str = "", store: SqliteStore | None = None, clock: FakeClock | None = None, later: float = 0):
        show = parse_show(SHOW.replace("PANIC", panic), str(tmp_path / "show.yaml"))
        store = store or SqliteStore(tmp_path / "stage.db")
        clock = clock or FakeClock()
        # The wall clock is the fake one, `later` seconds on: the store's levels are dated by it across a restart.
        lights = Lights(show, store, clock, tmp_path, wall=lambda: clock.now() + later)
        engine = CueEngine(show, store, Actions(lights), lambda snapshot: None, clock)
        return engine, lights, clock, store

    return make


def state(engine: CueEngine, cue_id: str) -> dict:
    return next(row for row in engine.snapshot()["cues"] if row["id"] == cue_id)


def test_a_fade_is_the_cue_running_and_its_follow_fires_at_its_end(night):
    engine, lights, clock, _ = night()
    engine.go("host")
    clock.advance(0.5)
    assert state(engine, "1")["state"] == "pre_wait"
    assert lights.mixer.levels(clock.now()).get("par", {}).get("dimmer", 0) == 0
    clock.advance(1.5)  # 1 s into the 2 s fade
    row = state(engine, "1")
    assert row["state"] == "running" and row["remaining"] == 1.0
    assert row["fade"] == {"to": "up", "seconds": 2, "curve": "linear"}
    assert lights.frame(1, clock.now())[:2] == bytes([int(0.5 * 255 + 0.5)] * 2)  # par dimmer and red at 50 %
    clock.advance(0.999)
    assert state(engine, "2")["state"] != "done"
    clock.advance(0.001)  # exactly pre_wait + fade: the follow, not up to half a second later
    assert state(engine, "1")["state"] == "done"
    assert state(engine, "2")["state"] == "done"
    frame = lights.frame(1, clock.now())
    assert list(frame[:7]) == [255, 255, 0, 0, 0, 255, 102]  # par d r g b w, wash dimmer and ct 40 %


def test_a_later_cue_takes_over_a_running_fade_from_where_it_is(night):
    engine, lights, clock, _ = night()
    engine.jump("3", "host")
    lights.mixer.fire("setup", {("par", "dimmer"): 1.0}, 0, "linear", clock.now())
    engine.go("host")  # cue 3: par dimmer 100 -> 0 over 2 s
    clock.advance(1)
    assert lights.mixer.levels(clock.now())["par"]["dimmer"] == 50
    engine.go("host")  # cue 4 touches only par red: cue 3 keeps its fade
    assert state(engine, "3")["state"] == "running"
    clock.advance(0.5)
    engine.go("host")  # cue 5 takes par dimmer over from the 25 % cue 3 had reached
    assert state(engine, "3")["state"] == "done"  # taken over entirely: it ends in the GO that took it
    assert state(engine, "5")["state"] == "running"
    assert lights.mixer.levels(clock.now())["par"]["dimmer"] == 25
    clock.advance(1)  # halfway from 25 % to 100 %
    assert lights.mixer.levels(clock.now())["par"]["dimmer"] == pytest.approx(62.5)


def test_stop_and_panic_hold_the_levels(night):
    engine, lights, clock, store = night()
    engine.go("host")
    clock.advance(1.5)
    engine.stop("host")
    held = lights.frame(1, clock.now())
    clock.advance(5)
    assert lights.frame(1, clock.now()) == held and held[0] == int(0.25 * 255 + 0.5)
    assert state(engine, "1")["state"] == "stopped"
    engine.jump("1", "host")
    engine.go("host")
    clock.advance(1.5)  # after its 1 s pre-wait, a quarter of the way from 25 % to 100 %: 43.75 %
    assert engine.panic("host")["lights"] == "hold"
    clock.advance(5)
    assert lights.frame(1, clock.now())[0] == int(0.4375 * 255 + 0.5)
    assert state(engine, "1")["state"] == "stopped"
    actions = [entry["action"] for entry in audit_log.entries(store)]
    assert actions.count("light_fired") == 2 and "light_panic" in actions


def test_panic_blacks_out_intensity_when_the_show_says(night):
    engine, lights, clock, _ = night(panic="panic: {lights: blackout, lights_fade: 1}")
    engine.go("host")
    clock.advance(3)
    assert engine.panic("host")["lights"] == "blackout"
    clock.advance(0.5)
    assert lights.frame(1, clock.now())[0] == int(0.5 * 255 + 0.5)  # halfway out
    clock.advance(0.5)
    frame = lights.frame(1, clock.now())
    assert frame[0] == frame[1] == frame[5] == 0  # dimmers and colour out
    assert frame[6] == 102  # colour temperature is not light: it stays


def test_a_restart_holds_what_the_room_saw(night, tmp_path):
    engine, lights, clock, store = night()
    engine.go("host")
    clock.advance(3)
    lights.set_grand_master(40, "host")
    seen = lights.mixer.levels(clock.now())
    engine2, lights2, clock2, _ = night(store=store, clock=FakeClock(start=clock.now() + 30), later=-30)
    assert lights2.mixer.levels(clock2.now()) == seen
    assert lights2.grand_master == 40
    assert lights2.frame(1, clock2.now())[0] == int(255 * 0.4 + 0.5)  # the grand master scales intensity only
    assert lights2.frame(1, clock2.now())[6] == 102
    assert lights2.cid() == lights.cid()  # one sACN source all night, across restarts
